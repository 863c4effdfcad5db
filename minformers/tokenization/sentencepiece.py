"""SentencePiece stages, as the converters write them into tokenizer.json, and the library's own pipeline.

Along the data flow, one module per stage:

* :mod:`.sp_normalizers` — ``Precompiled`` (the model's ``precompiled_charsmap``)
  and the ``Replace``/``Prepend``/``Strip`` normalisers;
* :mod:`.sp_pre_tokenizers` — ``Metaspace``: spaces become ``▁``, a ``▁`` is
  prepended, words start at every ``▁``;
* stage 3, the models: :mod:`.unigram` (Unigram) and :mod:`.sp_bpe` (BPE with
  ``byte_fallback``);
* :mod:`.sp_decoders` — ``Metaspace``/``Replace``/``ByteFallback``/``Fuse``/
  ``Strip`` decoders and their ``Sequence``;
* :mod:`.sp_library` — the SentencePiece library's own normaliser, word split
  and ``DecodePieces``, for tokenizers that run it (Marian).

The names stay importable from here, as before the split; ``NORMALIZERS``,
``PRE_TOKENIZERS`` and ``DECODERS`` map a tokenizer.json ``type`` to a builder.
"""

from __future__ import annotations

from .sp_decoders import (  # noqa: F401
    DECODERS,
    ByteFallback,
    ChainDecoder,
    DecoderSequence,
    Fuse,
    MetaspaceDecoder,
    ReplaceDecoder,
    StripDecoder,
)
from .sp_library import SPACE, SentencePieceDecoder, SentencePieceNormalizer, SentencePieceSplit  # noqa: F401
from .sp_normalizers import (  # noqa: F401
    NORMALIZERS,
    RUST_WHITESPACE,
    Precompiled,
    Prepend,
    Replace,
    Strip,
    compile_pattern,
    graphemes,
)
from .sp_pre_tokenizers import PRE_TOKENIZERS, PREPEND_SCHEMES, Metaspace  # noqa: F401

__all__ = [
    "DECODERS", "NORMALIZERS", "PRE_TOKENIZERS", "PREPEND_SCHEMES", "RUST_WHITESPACE", "SPACE",
    "ByteFallback", "ChainDecoder", "DecoderSequence", "Fuse", "Metaspace", "MetaspaceDecoder", "Precompiled",
    "Prepend", "Replace", "ReplaceDecoder", "SentencePieceDecoder", "SentencePieceNormalizer", "SentencePieceSplit",
    "Strip", "StripDecoder", "compile_pattern", "graphemes",
]
