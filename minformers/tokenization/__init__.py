"""Tokenizers as five swappable stages mirroring tokenizer.json.

normalizers -> pre_tokenizers -> models -> processors (+ decoders), composed in
:mod:`.tokenizer`; files are read and written by :mod:`.loading`.
"""

from __future__ import annotations

from .tokenizer import (  # noqa: F401
    AddedToken,
    BatchEncoding,
    BertTokenizer,
    BertTokenizerFast,
    DistilBertTokenizer,
    DistilBertTokenizerFast,
    Encoding,
    PreTrainedTokenizer,
    PreTrainedTokenizerFast,
    Tokenizer,
)

__all__ = [
    "AddedToken", "BatchEncoding", "BertTokenizer", "BertTokenizerFast", "DistilBertTokenizer",
    "DistilBertTokenizerFast", "Encoding", "PreTrainedTokenizer", "PreTrainedTokenizerFast", "Tokenizer",
]
