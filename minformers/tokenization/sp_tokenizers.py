"""Shim (issue 15): the old import path of the SentencePiece tokenizers; the code is in :mod:`.sentencepiece_unigram`, :mod:`.llama` and :mod:`.marian`. To be removed after the merge."""

from __future__ import annotations

from .llama import llama_tokenizer  # noqa: F401
from .marian import MarianTokenizer, marian_tokenizer, sentencepiece_unigram  # noqa: F401
from .sentencepiece_unigram import (  # noqa: F401
    AlbertTokenizer,
    AlbertTokenizerFast,
    T5Tokenizer,
    T5TokenizerFast,
    XLMRobertaTokenizer,
    XLMRobertaTokenizerFast,
    unigram_tokenizer,
)
