"""Old path of :mod:`minformers.weights.safetensors` and :mod:`minformers.weights.loading` (a plain re-export)."""

from .weights import SAFE_WEIGHTS_INDEX_NAME, SAFE_WEIGHTS_NAME, WEIGHTS_INDEX_NAME, WEIGHTS_NAME  # noqa: F401
from .weights.loading import load_checkpoint, load_torch_file  # noqa: F401
from .weights.safetensors import (DTYPE_NAMES, DTYPES, MAX_HEADER_BYTES, SafetensorsError, load_file,  # noqa: F401
                                  load_metadata, read_header, save_file, shared_groups)
