"""Old path of :mod:`minformers.weights.gguf` and :mod:`minformers.weights.gguf_tensors` (a plain re-export)."""

from .weights.gguf import (GGUF_CONFIG_KEYS, TOKEN_ID_KEYS, gguf_config_dict, read_gguf_metadata,  # noqa: F401
                           read_gguf_tokenizer)
from .weights.gguf_tensors import (DEQUANTIZERS, SKIPPED_TENSORS, TENSOR_NAMES, dequantize,  # noqa: F401
                                   load_gguf_checkpoint, unpermute_qk)
