"""Stage 1 of 5: normalisation (the ``normalizer`` entry of tokenizer.json).

A normaliser maps ``text -> (normalized, align)``. ``align`` is ``None`` when the
normalised string is aligned 1:1 with the input (the common, fast case), else a
list giving, for every normalised character, the index of the original character
it came from. Offsets are therefore always spans of the ORIGINAL text, as in
huggingface/tokenizers' ``NormalizedString``.

Every transform here is character-local (like the Rust implementation, which
maps char by char), so a normaliser is a per-character table applied with
``str.translate`` in C; the table is filled lazily.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Callable

Align = "list[int] | None"

# Rust `is_control`: Unicode "Other" categories, but \t \n \r count as whitespace.
_CONTROL_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}
_EXTRA_WHITESPACE = "\t\n\r\u2028\u2029"  # Rust char::is_whitespace beyond Zs (Cc ones are removed first)
_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ASCII_WS = str.maketrans("\t\n\r", "   ")


def is_whitespace(ch: str) -> bool:
    return ch in _EXTRA_WHITESPACE or ch == " " or unicodedata.category(ch) == "Zs"


def is_control(ch: str) -> bool:
    return ch not in "\t\n\r" and unicodedata.category(ch) in _CONTROL_CATEGORIES


def is_chinese_char(cp: int) -> bool:
    """CJK Unified Ideographs blocks, as BERT defines "Chinese character" (not Hangul/Kana)."""
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2A6DF
        or 0x2A700 <= cp <= 0x2B73F
        or 0x2B740 <= cp <= 0x2B81F
        or 0x2B820 <= cp <= 0x2CEAF
        or 0xF900 <= cp <= 0xFAFF
        or 0x2F800 <= cp <= 0x2FA1F
    )


class _CharTable(dict):
    """ord -> replacement string, computed on first use (str.translate calls __missing__)."""

    def __init__(self, fn: Callable[[str], str]):
        super().__init__()
        self.fn = fn
        self.irregular: set[str] = set()  # chars whose output is not exactly one char

    def __missing__(self, cp: int) -> str:
        ch = chr(cp)
        out = self.fn(ch)
        if len(out) != 1:
            self.irregular.add(ch)
        self[cp] = out
        return out


class Normalizer:
    """Base class: a char-local map applied with an alignment."""

    def __init__(self) -> None:
        self._table = _CharTable(self.map_char)

    def map_char(self, ch: str) -> str:  # pragma: no cover - overridden
        return ch

    def normalize(self, text: str) -> tuple[str, list[int] | None]:
        table = self._table
        out = text.translate(table)
        if table.irregular.isdisjoint(text):
            return out, None
        align: list[int] = []
        for i, ch in enumerate(text):
            n = len(table[ord(ch)])
            if n == 1:
                align.append(i)
            elif n:
                align.extend([i] * n)
        return out, align

    def normalize_str(self, text: str) -> str:
        return self.normalize(text)[0]

    def to_dict(self) -> dict[str, Any]:
        return {"type": type(self).__name__}


class BertNormalizer(Normalizer):
    """clean_text, CJK spacing, accent stripping (NFD + drop Mn), lowercasing.

    ``strip_accents=None`` follows ``lowercase`` (upstream BertNormalizer).
    """

    def __init__(
        self,
        clean_text: bool = True,
        handle_chinese_chars: bool = True,
        strip_accents: bool | None = None,
        lowercase: bool = True,
    ) -> None:
        self.clean_text = clean_text
        self.handle_chinese_chars = handle_chinese_chars
        self.strip_accents = strip_accents
        self.lowercase = lowercase
        self._strip = lowercase if strip_accents is None else strip_accents
        super().__init__()

    def map_char(self, ch: str) -> str:
        if self.clean_text:
            if ch == "\x00" or ch == "\ufffd" or is_control(ch):
                return ""
            if is_whitespace(ch):
                return " "
        if self.handle_chinese_chars and is_chinese_char(ord(ch)):
            return f" {ch} "
        s = ch
        if self._strip:
            s = "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn")
        if self.lowercase:
            s = s.lower()
        return s

    def normalize(self, text: str) -> tuple[str, list[int] | None]:
        if text.isascii():  # fast path: only controls and case change
            if self.clean_text:
                if _ASCII_CONTROL.search(text) is not None:
                    return super().normalize(text)
                text = text.translate(_ASCII_WS)
            return (text.lower() if self.lowercase else text), None
        return super().normalize(text)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "BertNormalizer",
            "clean_text": self.clean_text,
            "handle_chinese_chars": self.handle_chinese_chars,
            "strip_accents": self.strip_accents,
            "lowercase": self.lowercase,
        }


class _Unicode(Normalizer):
    form = "NFD"

    def map_char(self, ch: str) -> str:
        return unicodedata.normalize(self.form, ch)

    def normalize(self, text: str) -> tuple[str, list[int] | None]:
        if text.isascii():
            return text, None
        if self.form in ("NFC", "NFKC"):  # composition is not char-local
            out = unicodedata.normalize(self.form, text)
            if out == text:
                return text, None
            return _align_by_nfd(text, out, self.form)
        return super().normalize(text)


def _align_by_nfd(text: str, out: str, form: str) -> tuple[str, list[int] | None]:
    """Alignment for composed forms: compose per base character cluster."""
    clusters: list[tuple[int, str]] = []  # (start index, cluster text)
    for i, ch in enumerate(text):
        if clusters and unicodedata.combining(ch):
            s, c = clusters[-1]
            clusters[-1] = (s, c + ch)
        else:
            clusters.append((i, ch))
    pieces, align = [], []
    for s, c in clusters:
        n = unicodedata.normalize(form, c)
        pieces.append(n)
        align.extend([s] * len(n))
    return "".join(pieces), align


class NFD(_Unicode):
    form = "NFD"


class NFKD(_Unicode):
    form = "NFKD"


class NFC(_Unicode):
    form = "NFC"


class NFKC(_Unicode):
    form = "NFKC"


class Lowercase(Normalizer):
    def map_char(self, ch: str) -> str:
        return ch.lower()

    def normalize(self, text: str) -> tuple[str, list[int] | None]:
        if text.isascii():
            return text.lower(), None
        return super().normalize(text)


class StripAccents(Normalizer):
    """Drop combining marks (any Mark: Mn, Mc, Me — upstream ``is_combining_mark``); meant to follow NFD."""

    def map_char(self, ch: str) -> str:
        return "" if unicodedata.category(ch)[0] == "M" else ch

    def normalize(self, text: str) -> tuple[str, list[int] | None]:
        if text.isascii():
            return text, None
        return super().normalize(text)


class Sequence(Normalizer):
    def __init__(self, normalizers: list[Normalizer]) -> None:
        self.normalizers = list(normalizers)
        super().__init__()

    def normalize(self, text: str) -> tuple[str, list[int] | None]:
        align: list[int] | None = None
        for n in self.normalizers:
            text, a = n.normalize(text)
            if a is not None:
                align = a if align is None else [align[i] for i in a]
        return text, align

    def to_dict(self) -> dict[str, Any]:
        return {"type": "Sequence", "normalizers": [n.to_dict() for n in self.normalizers]}


_SIMPLE = {"NFD": NFD, "NFKD": NFKD, "NFC": NFC, "NFKC": NFKC, "Lowercase": Lowercase, "StripAccents": StripAccents}


def from_dict(d: dict[str, Any] | None) -> Normalizer | None:
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
        return Sequence([from_dict(x) for x in d["normalizers"]])
    if kind in _SIMPLE:
        return _SIMPLE[kind]()
    from .sentencepiece import NORMALIZERS as _SP  # Precompiled, Replace, Prepend, Strip

    if kind in _SP:
        return _SP[kind](d)
    raise ValueError(f"unsupported normalizer type {kind!r}; supported: BertNormalizer, Sequence, {', '.join(_SIMPLE)}")
