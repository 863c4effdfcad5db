"""tokenizer.json's stage entries both ways: every ``"type"`` -> the class that implements it.

Each stage class writes itself back (``to_dict``); reading is here, one
function per stage (``normalizer_from_dict`` … ``decoder_from_dict``), so that
no stage module needs to know its siblings: a base module never imports its
subclasses. Also the small JSON file helpers every writer uses (written atomically
through :func:`minformers.files.write_atomic`). The composed :class:`.tokenizer.Tokenizer` reads and
writes its own top level (``added_tokens``, ``truncation``, ``padding``).
"""

from __future__ import annotations

import json
import os
from typing import Any

from ...files import write_atomic
from .byte_level import ByteLevel, ByteLevelDecoder
from .decoders import (
    CTC,
    BPEDecoder,
    ByteFallback,
    DecoderSequence,
    Fuse,
    MetaspaceDecoder,
    ReplaceDecoder,
    StripDecoder,
)
from .decoders import (
    WordPiece as WordPieceDecoder,
)
from .models.bpe import BPE
from .models.unigram import Unigram
from .models.wordlevel import WordLevel
from .models.wordpiece import WordPiece
from .normalizers import (
    NFC,
    NFD,
    NFKC,
    NFKD,
    BertNormalizer,
    Lowercase,
    Normalizer,
    Prepend,
    Replace,
    Strip,
    StripAccents,
)
from .normalizers import (
    Sequence as NormalizerSequence,
)
from .pre_tokenizers import (
    BertPreTokenizer,
    CharDelimiterSplit,
    Digits,
    Metaspace,
    PreTokenizer,
    Punctuation,
    Split,
    Whitespace,
    WhitespaceSplit,
)
from .pre_tokenizers import (
    Sequence as PreTokenizerSequence,
)
from .precompiled import Precompiled
from .processors import Described, TemplateProcessing

# ----------------------------------------------------------------------------------------------
# files
# ----------------------------------------------------------------------------------------------


def read_json(path: str | os.PathLike) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_json(path: str | os.PathLike, data: Any) -> None:
    write_atomic(path, json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n")


# ----------------------------------------------------------------------------------------------
# stage 1: normalizers
# ----------------------------------------------------------------------------------------------

_SIMPLE_NORMALIZERS = {"NFD": NFD, "NFKD": NFKD, "NFC": NFC, "NFKC": NFKC, "Lowercase": Lowercase, "StripAccents": StripAccents}
# the SentencePiece pipelines' normalisers
NORMALIZERS = {
    "Precompiled": lambda d: Precompiled(d.get("precompiled_charsmap")),
    "Replace": lambda d: Replace(d["pattern"], d["content"]),
    "Prepend": lambda d: Prepend(d["prepend"]),
    "Strip": lambda d: Strip(d.get("strip_left", True), d.get("strip_right", True)),
}


def normalizer_from_dict(d: dict[str, Any] | None) -> Normalizer | None:
    """Build a normaliser from its tokenizer.json entry."""
    if d is None:
        return None
    kind = d.get("type")
    if kind == "BertNormalizer":
        return BertNormalizer(
            clean_text=d.get("clean_text", True),
            handle_chinese_chars=d.get("handle_chinese_chars", True),
            strip_accents=d.get("strip_accents"),
            lowercase=d.get("lowercase", True),
        )
    if kind == "Sequence":
        return NormalizerSequence([normalizer_from_dict(x) for x in d["normalizers"]])
    if kind in _SIMPLE_NORMALIZERS:
        return _SIMPLE_NORMALIZERS[kind]()
    if kind in NORMALIZERS:
        return NORMALIZERS[kind](d)
    raise ValueError(f"unsupported normalizer type {kind!r}; supported: BertNormalizer, Sequence, {', '.join(_SIMPLE_NORMALIZERS)}")


# ----------------------------------------------------------------------------------------------
# stage 2: pre-tokenizers
# ----------------------------------------------------------------------------------------------


def _split_from_dict(d: dict[str, Any]) -> Any:
    kind = d["type"]
    if kind == "Split":
        return Split(d["pattern"], d.get("behavior", "Isolated"), d.get("invert", False))
    if kind == "CharDelimiterSplit":
        return CharDelimiterSplit(d["delimiter"])
    if kind == "Digits":
        return Digits(d.get("individual_digits", False))
    if kind == "Punctuation":
        return Punctuation(d.get("behavior", "Isolated"))
    if kind == "Sequence":
        return PreTokenizerSequence([pre_tokenizer_from_dict(x) for x in d["pretokenizers"]])
    return ByteLevel.from_dict(d)


_SPLIT_KINDS = ("Split", "CharDelimiterSplit", "Digits", "Punctuation", "Sequence", "ByteLevel")
_PRE_TOKENIZER_KINDS = {"BertPreTokenizer": BertPreTokenizer, "WhitespaceSplit": WhitespaceSplit, "Whitespace": Whitespace}
# the SentencePiece pipelines' pre-tokeniser
PRE_TOKENIZERS = {"Metaspace": Metaspace.from_dict}


def pre_tokenizer_from_dict(d: dict[str, Any] | None) -> PreTokenizer | None:
    if d is None:
        return None
    kind = d.get("type")
    if kind in _PRE_TOKENIZER_KINDS:
        return _PRE_TOKENIZER_KINDS[kind]()
    if kind in _SPLIT_KINDS:
        return _split_from_dict(d)
    if kind in PRE_TOKENIZERS:
        return PRE_TOKENIZERS[kind](d)
    raise ValueError(f"unsupported pre_tokenizer type {kind!r}; supported: "
                     f"{', '.join([*_PRE_TOKENIZER_KINDS, *_SPLIT_KINDS, *PRE_TOKENIZERS])}")


# ----------------------------------------------------------------------------------------------
# stage 3: models
# ----------------------------------------------------------------------------------------------


def model_from_dict(d: dict[str, Any]) -> WordPiece:
    kind = d.get("type")
    if kind == "WordPiece" or (kind is None and "continuing_subword_prefix" in d):
        return WordPiece.from_dict(d)
    if kind == "Unigram" or (kind is None and isinstance(d.get("vocab"), list)):
        return Unigram.from_dict(d)
    if kind == "WordLevel":
        return WordLevel.from_dict(d)
    if kind == "BPE" or (kind is None and "merges" in d):
        return BPE.from_dict(d)
    raise ValueError(f"unsupported tokenizer model type {kind!r}; supported: WordPiece")


# ----------------------------------------------------------------------------------------------
# stage 4: post-processors
# ----------------------------------------------------------------------------------------------


def _described(d: dict[str, Any]) -> TemplateProcessing:
    kind = d["type"]
    if kind == "ByteLevel":
        plain = TemplateProcessing([("seq", "A", 0)], [("seq", "A", 0), ("seq", "B", 1)], {})
        return Described(d, plain, d.get("add_prefix_space", True) if d.get("trim_offsets", True) else None)
    if kind == "RobertaProcessing":
        (c, ci), (sp, si) = d["cls"], d["sep"]
        t = TemplateProcessing(
            [("special", c, 0), ("seq", "A", 0), ("special", sp, 0)],
            [("special", c, 0), ("seq", "A", 0), ("special", sp, 0), ("special", sp, 0), ("seq", "B", 0), ("special", sp, 0)],
            {c: ([ci], [c]), sp: ([si], [sp])},
        )
        return Described(d, t, d.get("add_prefix_space", True) if d.get("trim_offsets", True) else None)
    # Sequence
    parts = [processor_from_dict(x) for x in d["processors"]]
    templates = [p for p in parts if p is not None and not (isinstance(p, Described) and p.spec["type"] == "ByteLevel")]
    if len(templates) > 1:
        raise ValueError("a post_processor Sequence with more than one template is not supported")
    base = templates[0] if templates else _described({"type": "ByteLevel", "trim_offsets": False})
    trims = [p.trim for p in parts if p is not None and p.trim is not None]
    return Described(d, base, trims[0] if trims else base.trim)


def processor_from_dict(d: dict[str, Any] | None) -> TemplateProcessing | None:
    if d is None:
        return None
    kind = d.get("type")
    if kind == "TemplateProcessing":
        return TemplateProcessing.from_dict(d)
    if kind == "BertProcessing":
        return TemplateProcessing.bert(tuple(d["cls"]), tuple(d["sep"]))
    if kind in ("ByteLevel", "RobertaProcessing", "Sequence"):
        return _described(d)
    raise ValueError(
        f"unsupported post_processor type {kind!r}; supported: TemplateProcessing, BertProcessing, "
        "RobertaProcessing, ByteLevel, Sequence"
    )


# ----------------------------------------------------------------------------------------------
# stage 5: decoders
# ----------------------------------------------------------------------------------------------

# the SentencePiece pipelines' decoders
DECODERS = {
    "Metaspace": lambda d: MetaspaceDecoder(d.get("replacement", "\u2581"), d.get("prepend_scheme") or (
        "always" if d.get("add_prefix_space", True) else "never"), d.get("split", True)),
    "Replace": lambda d: ReplaceDecoder(d["pattern"], d["content"]),
    "ByteFallback": lambda d: ByteFallback(),
    "Fuse": lambda d: Fuse(),
    "Strip": lambda d: StripDecoder(d.get("content", " "), d.get("start", 0), d.get("stop", 0)),
}


def decoder_from_dict(d: dict[str, Any] | None) -> WordPieceDecoder | None:
    if d is None:
        return None
    if d.get("type") == "WordPiece":
        return WordPieceDecoder.from_dict(d)
    if d.get("type") == "CTC":
        return CTC(d.get("pad_token", "<pad>"), d.get("word_delimiter_token", "|"), d.get("cleanup", True))
    if d.get("type") == "Sequence":
        return DecoderSequence([decoder_from_dict(x) for x in d["decoders"]])
    if d.get("type") in DECODERS:
        return DECODERS[d["type"]](d)
    if d.get("type") == "ByteLevel":
        return ByteLevelDecoder(d.get("add_prefix_space", True), d.get("trim_offsets", True), d.get("use_regex", True))
    if d.get("type") == "BPEDecoder":
        return BPEDecoder(d.get("suffix", "</w>"))
    raise ValueError(
        f"unsupported decoder type {d.get('type')!r}; supported: WordPiece, CTC, ByteLevel, BPEDecoder, Sequence, "
        f"{', '.join(DECODERS)}"
    )
