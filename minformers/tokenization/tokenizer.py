"""The public names of ``minformers.tokenization``, importable from one module as before the split into floors.

A plain re-export (``minformers``' lazy API and ``AutoTokenizer`` name it):
the engine is :mod:`.core`, the ``transformers`` API the modules beside this one.
"""

from __future__ import annotations

from .batch_encoding import BatchEncoding
from .bert import (
    BertTokenizer,
    BertTokenizerFast,
    DistilBertTokenizer,
    DistilBertTokenizerFast,
)
from .core.encoding import Encoding
from .core.tokenizer import AddedToken, Tokenizer
from .gpt2 import (
    GPT2Tokenizer,
    GPT2TokenizerFast,
    RobertaTokenizer,
    RobertaTokenizerFast,
)
from .llama import LlamaTokenizer, LlamaTokenizerFast
from .tokenization_utils import PreTrainedTokenizer, PreTrainedTokenizerFast

__all__ = [
    "AddedToken", "BatchEncoding", "BertTokenizer", "BertTokenizerFast", "DistilBertTokenizer",
    "DistilBertTokenizerFast", "Encoding", "PreTrainedTokenizer", "PreTrainedTokenizerFast", "Tokenizer",
    "GPT2Tokenizer", "GPT2TokenizerFast", "RobertaTokenizer", "RobertaTokenizerFast", "LlamaTokenizer", "LlamaTokenizerFast",
]
