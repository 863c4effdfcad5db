"""Tokenizers: the ``transformers`` API over a tokenizer engine of five swappable stages.

Two floors. :mod:`.core` is the engine, laid out as huggingface/tokenizers lays
it out (normalizers -> pre_tokenizers -> models -> processors, + decoders; the
composed ``Tokenizer``; tokenizer.json both ways); it never imports this floor.
This floor is the ``transformers`` API on top: ``PreTrainedTokenizerFast``
(:mod:`.tokenization_utils`), ``BatchEncoding``, loading a folder
(:mod:`.loading`: tokenizer.json, vocab files, SentencePiece models, GGUF), the
per-model factories (:mod:`.bert`, :mod:`.gpt2`, :mod:`.llama`,
:mod:`.sentencepiece_unigram`, :mod:`.marian`) and chat templates.
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
from .tokenization_utils import PreTrainedTokenizer, PreTrainedTokenizerFast

__all__ = [
    "AddedToken", "BatchEncoding", "BertTokenizer", "BertTokenizerFast", "DistilBertTokenizer",
    "DistilBertTokenizerFast", "Encoding", "PreTrainedTokenizer", "PreTrainedTokenizerFast", "Tokenizer",
]
