"""Shim (issue 15): the old import path of the byte-level BPE and Llama tokenizers; the code is in :mod:`.gpt2`, :mod:`.llama` and :mod:`.gguf`. To be removed after the merge."""

from __future__ import annotations

from .gguf import gguf_tokenizer  # noqa: F401
from .gpt2 import (  # noqa: F401
    GPT2TokenizerFast,
    RobertaTokenizerFast,
    byte_level_bpe,
    read_merges,
    read_vocab_json,
)
from .llama import LlamaTokenizerFast  # noqa: F401
