"""Stage 1 of 5: normalisation (the ``normalizer`` entry of tokenizer.json).

A normaliser maps ``text -> (normalized, align)``. ``align`` is ``None`` when the
normalised string is aligned 1:1 with the input (the common, fast case), else a
list giving, for every normalised character, the index of the original character
it came from. Offsets are therefore always spans of the ORIGINAL text, as in
huggingface/tokenizers' ``NormalizedString``.

Every transform here is character-local (like the Rust implementation, which
maps char by char), so a normaliser is a per-character table applied with
``str.translate`` in C; the table is filled lazily. The SentencePiece pipelines'
string edits (``Replace``, ``Prepend``, ``Strip``) are at the end; their
``Precompiled`` charsmap is :mod:`.precompiled`.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from typing import Any, Callable

from .patterns import compile_regex, match_pieces, ref_chars, ref_class

Align = "list[int] | None"

_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ASCII_WS = str.maketrans("\t\n\r", "   ")


def is_chinese_char(cp: int) -> bool:
    """CJK Unified Ideographs blocks, as BERT defines "Chinese character" (not Hangul/Kana)."""
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2A6DF
        or 0x2A700 <= cp <= 0x2B73F
        or 0x2B740 <= cp <= 0x2B81F
        or 0x2B920 <= cp <= 0x2CEAF  # sic: upstream `tokenizers` starts this block at 0x2B920 (BERT: 0x2B820)
        or 0xF900 <= cp <= 0xFAFF
        or 0x2F800 <= cp <= 0x2FA1F
    )


# ---- where the reference's Unicode tables disagree with Python 3.11's unicodedata (Unicode 14.0) ----
# Its NFD/NFKD and combining-mark tables (the unicode-normalization-alignments crate) predate these code
# points and leave them as they are; its lowercasing (Rust's char::to_lowercase, Unicode 16) knows letters
# added since. Found by running every code point through `tokenizers` 0.22's normalizers; expressed as the
# reference's own behaviour, so they stay right on a newer Python (which may add differences of its own).


def _chars(ranges: tuple[tuple[int, int], ...]) -> frozenset[str]:
    return frozenset(chr(c) for a, b in ranges for c in range(a, b + 1))


_REF_NO_DECOMPOSITION = _chars((  # NFD/NFKD leave these alone
    (0x32FF, 0x32FF), (0xA7F2, 0xA7F4), (0xAB69, 0xAB69), (0x10781, 0x10785), (0x10787, 0x107B0), (0x107B2, 0x107BA),
    (0x11938, 0x11938), (0x1F16C, 0x1F16C), (0x1FBF0, 0x1FBF9),
))
_REF_NOT_MARKS = _chars((  # StripAccents keeps these (marks added after its tables)
    (0x07FD, 0x07FD), (0x0898, 0x089F), (0x08CA, 0x08D3), (0x09FE, 0x09FE), (0x0AFA, 0x0AFF), (0x0B55, 0x0B55),
    (0x0C04, 0x0C04), (0x0C3C, 0x0C3C), (0x0D00, 0x0D00), (0x0D3B, 0x0D3C), (0x0D81, 0x0D81), (0x0EBA, 0x0EBA),
    (0x1715, 0x1715), (0x180F, 0x180F), (0x1ABF, 0x1ACE), (0x1CF7, 0x1CF7), (0x1DF6, 0x1DFA), (0xA82C, 0xA82C),
    (0xA8FF, 0xA8FF), (0x10D24, 0x10D27), (0x10EAB, 0x10EAC), (0x10F46, 0x10F50), (0x10F82, 0x10F85), (0x11070, 0x11070),
    (0x11073, 0x11074), (0x110C2, 0x110C2), (0x11145, 0x11146), (0x111C9, 0x111C9), (0x111CE, 0x111CF), (0x1133B, 0x1133B),
    (0x1145E, 0x1145E), (0x1182C, 0x1183A), (0x11930, 0x11935), (0x11937, 0x11938), (0x1193B, 0x1193E), (0x11940, 0x11940),
    (0x11942, 0x11943), (0x119D1, 0x119D7), (0x119DA, 0x119E0), (0x119E4, 0x119E4), (0x11A01, 0x11A0A), (0x11A33, 0x11A39),
    (0x11A3B, 0x11A3E), (0x11A47, 0x11A47), (0x11A51, 0x11A5B), (0x11A8A, 0x11A99), (0x11D31, 0x11D36), (0x11D3A, 0x11D3A),
    (0x11D3C, 0x11D3D), (0x11D3F, 0x11D45), (0x11D47, 0x11D47), (0x11D8A, 0x11D8E), (0x11D90, 0x11D91), (0x11D93, 0x11D97),
    (0x11EF3, 0x11EF6), (0x16F4F, 0x16F4F), (0x16F7F, 0x16F87), (0x16FE4, 0x16FE4), (0x16FF0, 0x16FF1), (0x1CF00, 0x1CF2D),
    (0x1CF30, 0x1CF46), (0x1E130, 0x1E136), (0x1E2AE, 0x1E2AE), (0x1E2EC, 0x1E2EF),
))
_REF_MARKS = frozenset(("\u1cf2", "\u1cf3"))  # ... and drops these (marks in its tables, letters since Unicode 14)
_REF_LOWER = {chr(c): chr(c + d) for a, b, d in (  # lowercase mappings newer than Unicode 14
    (0x1C89, 0x1C89, +0x1), (0xA7CB, 0xA7CB, -0xa567), (0xA7CC, 0xA7CC, +0x1), (0xA7CE, 0xA7CE, +0x1),
    (0xA7D2, 0xA7D2, +0x1), (0xA7D4, 0xA7D4, +0x1), (0xA7DA, 0xA7DA, +0x1), (0xA7DC, 0xA7DC, -0xa641),
    (0x10D50, 0x10D65, +0x20), (0x16EA0, 0x16EB8, +0x1b),
) for c in range(a, b + 1)}


class _CharTable(dict):
    """ord -> replacement string, computed on first use (str.translate calls __missing__).

    Bounded: text that runs through all of Unicode would otherwise keep ~1.1M entries (~280 MB); at
    ``max_entries`` the table empties and ``generation`` moves on, so a caller that read ``irregular``
    across a translate knows it may have missed a character."""

    max_entries = 65_536

    def __init__(self, fn: Callable[[str], str]):
        super().__init__()
        self.fn = fn
        self.irregular: set[str] = set()  # chars (among those kept) whose output is not exactly one char
        self.generation = 0

    def __missing__(self, cp: int) -> str:
        ch = chr(cp)
        out = self.fn(ch)
        if len(self) >= self.max_entries:
            self.clear()
            self.irregular.clear()
            self.generation += 1
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
        generation = table.generation
        out = text.translate(table)
        if table.generation == generation and table.irregular.isdisjoint(text):
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
        # which characters are controls, whitespace and non-spacing marks: the reference's tables (measured)
        if self.clean_text:
            if ch in ref_chars("bert:control"):
                return ""
            if ch in ref_chars("bert:whitespace"):
                return " "
        s = ch
        if self._strip:
            if ch not in _REF_NO_DECOMPOSITION:
                s = unicodedata.normalize("NFD", s)
            marks = ref_chars("bert:strip")
            s = "".join(c for c in s if c not in marks)
        if self.lowercase:
            s = "".join(_REF_LOWER.get(c) or c.lower() for c in s)
        if self.handle_chinese_chars and is_chinese_char(ord(ch)):  # padded, then normalised like the rest
            return f" {s} "
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
    """Unicode normalisation in the reference's three steps: char-local decomposition (the table),
    canonical ordering of marks, then -- for NFC/NFKC -- canonical composition."""

    form = "NFD"
    decomposition = "NFD"

    def map_char(self, ch: str) -> str:
        return ch if ch in _REF_NO_DECOMPOSITION else unicodedata.normalize(self.decomposition, ch)

    def normalize(self, text: str) -> tuple[str, list[int] | None]:
        if text.isascii():
            return text, None
        composing = self.form in ("NFC", "NFKC")
        if composing and unicodedata.is_normalized(self.form, text):  # the common case, in C
            return text, None
        out, align = super().normalize(text)
        moves = _unordered_runs(out)
        if not moves and not composing:
            return out, align
        items = _items(out, align)
        for start, order in moves:  # canonical ordering: characters move with their changes
            items[start:start + len(order)] = [items[start + i] for i in order]
        return _aligned(_compose(items) if composing else items)


# Alignments follow the reference's NormalizedString. Each character carries a change: 0 if it begins an
# original character's decomposition ("takes" the next original character), +1 if it continues one, -n
# for a composite that absorbed n characters that took (it takes one and drops n). Canonical ordering
# moves characters with their changes; the original characters are then taken in order (`_aligned`).
def _items(out: str, align: list[int] | None) -> list[list]:
    """[character, change] for each character of a char-local decomposition and its alignment."""
    if align is None:
        return [[ch, 0] for ch in out]
    return [[ch, 0 if k == 0 or align[k] != align[k - 1] else 1] for k, ch in enumerate(out)]


def _aligned(items: list[list]) -> tuple[str, list[int]]:
    """The string and its alignment: a character that takes points at the next original character, one
    that continues at the last original character taken or dropped."""
    chars, align = [], []
    original = last = 0  # the next original character to take; the last one taken or dropped
    for ch, change in items:
        if change <= 0:
            align.append(original)
            last = original - change
            original = last + 1
        else:
            align.append(last)
        chars.append(ch)
    return "".join(chars), align


@functools.lru_cache(maxsize=None)
def _mark_runs() -> re.Pattern:
    return re.compile(f"[{ref_class('regex:M')}]{{2,}}")  # every mark with a combining class is in \p{M}


def _ccc(ch: str) -> int:
    """Canonical combining class as the reference knows it: marks newer than its tables count as 0."""
    return 0 if ch in _REF_NOT_MARKS else unicodedata.combining(ch)


def _unordered_runs(text: str) -> list[tuple[int, list[int]]]:
    """Canonical ordering, decomposition's last step (not char-local): (start, order) for every run of marks
    that a stable sort by combining class changes. A class-0 mark is a barrier: it starts a new segment."""
    moves = []
    for m in _mark_runs().finditer(text):
        keys = [_ccc(ch) for ch in m.group()]
        segment = list(itertools.accumulate(k == 0 for k in keys))
        order = sorted(range(len(keys)), key=lambda i: (segment[i], keys[i]))
        if order != list(range(len(keys))):
            moves.append((m.start(), order))
    return moves


def _compose(items: list[list]) -> list[list]:
    """Canonical composition of decomposed, canonically ordered [character, change] items: each character
    joins the last starter when a primary composite exists and nothing between them blocks it (a starter,
    or a mark of the same or a higher class); the composite's change absorbs the character's."""
    result: list[list] = []
    starter = -1  # index in result of the last starter
    last_ccc = -1  # class of the last character kept after that starter (-1: none)
    for ch, change in items:
        ccc = _ccc(ch)
        if starter >= 0 and (last_ccc == -1 or 0 < last_ccc < ccc):
            composite = _primary_composite(result[starter][0], ch)
            if composite is not None:
                result[starter] = [composite, result[starter][1] + change - 1]
                continue
        if ccc == 0:
            starter, last_ccc = len(result), -1
        else:
            last_ccc = ccc
        result.append([ch, change])
    return result


@functools.lru_cache(maxsize=4096)
def _primary_composite(a: str, b: str) -> str | None:
    """The character a + b composes to (NFC), or None; never one the reference's older tables lack."""
    if a in _REF_NOT_MARKS or b in _REF_NOT_MARKS:
        return None
    c = unicodedata.normalize("NFC", a + b)
    if len(c) != 1 or c in _REF_NO_DECOMPOSITION:
        return None
    return c


class NFD(_Unicode):
    form = "NFD"


class NFKD(_Unicode):
    form = decomposition = "NFKD"


class NFC(_Unicode):
    form = "NFC"


class NFKC(_Unicode):
    form, decomposition = "NFKC", "NFKD"


class Lowercase(Normalizer):
    def map_char(self, ch: str) -> str:
        return _REF_LOWER.get(ch) or ch.lower()

    def normalize(self, text: str) -> tuple[str, list[int] | None]:
        if text.isascii():
            return text.lower(), None
        return super().normalize(text)


class StripAccents(Normalizer):
    """Drop combining marks (any Mark: Mn, Mc, Me — upstream ``is_combining_mark``); meant to follow NFD."""

    def map_char(self, ch: str) -> str:
        if ch in _REF_MARKS:
            return ""
        return "" if unicodedata.category(ch)[0] == "M" and ch not in _REF_NOT_MARKS else ch

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


# ---------------------------------------------------------------------------------------------
# Replace / Prepend / Strip normalisers
# ---------------------------------------------------------------------------------------------


def compile_pattern(p: dict[str, str] | str) -> re.Pattern:
    """A tokenizer.json ``pattern`` (``{"String": …}``, ``{"Regex": …}`` or a plain string) as a regex;
    a ``Regex`` is Oniguruma syntax, translated as the ``Split`` pre-tokeniser's is."""
    if isinstance(p, str):
        return re.compile(re.escape(p))
    if "String" in p:
        return re.compile(re.escape(p["String"]))
    if "Regex" in p:
        return compile_regex(p["Regex"])
    raise ValueError(f"Replace: pattern must be {{'String': …}} or {{'Regex': …}}, got {p!r}")


def find_matches(text: str, rx: re.Pattern) -> list[tuple[int, int, bool]]:
    """Upstream ``Pattern::find_matches``: `text` covered by (start, end, is_match) pieces. An empty match
    counts (it inserts between characters) unless it sits where the previous match ended; an empty
    text has no match at all."""
    return match_pieces(text, rx, False) if text else []


def replace_matches(text: str, rx: re.Pattern, content: str) -> tuple[str, list[int]]:
    """Every match of `rx` in `text` replaced by `content` (upstream ``NormalizedString::replace``): the
    match is removed, then `content` inserted, each inserted char aligned with the char before it (the
    match's last char; for an empty match the previous char -- at the very start upstream gives the
    empty span (0, 0), which an index alignment cannot express: the first char's is used)."""
    pieces: list[str] = []
    align: list[int] = []
    k = len(content)
    for a, b, is_match in find_matches(text, rx):
        if is_match:
            pieces.append(content)
            align.extend([max(b - 1, 0)] * k)
        else:
            pieces.append(text[a:b])
            align.extend(range(a, b))
    return "".join(pieces), align


class Replace(Normalizer):
    """Replace every match of a string/regex with `content` (upstream ``NormalizedString::replace``)."""

    def __init__(self, pattern: dict[str, str] | str, content: str) -> None:
        self.pattern = pattern if isinstance(pattern, dict) else {"String": pattern}
        self.content = content
        self._rx = compile_pattern(self.pattern)
        self._literal = self.pattern.get("String")
        super().__init__()

    def normalize(self, text: str) -> tuple[str, list[int] | None]:
        lit = self._literal
        if lit is not None:
            if lit not in text:
                return text, None
            if len(lit) == len(self.content) == 1:
                return text.replace(lit, self.content), None
        if not text:
            return text, None
        return replace_matches(text, self._rx, self.content)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "Replace", "pattern": self.pattern, "content": self.content}


class Prepend(Normalizer):
    """Prepend `prepend` to a non-empty text; the new chars align with the first char."""

    def __init__(self, prepend: str) -> None:
        self.prepend = prepend
        super().__init__()

    def normalize(self, text: str) -> tuple[str, list[int] | None]:
        if not text:
            return text, None
        return self.prepend + text, [0] * len(self.prepend) + list(range(len(text)))

    def to_dict(self) -> dict[str, Any]:
        return {"type": "Prepend", "prepend": self.prepend}


# Rust ``char::is_whitespace`` (Unicode White_Space); Python's str.strip() also strips \x1c-\x1f
RUST_WHITESPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


class Strip(Normalizer):
    """Strip whitespace on the left and/or right."""

    def __init__(self, left: bool = True, right: bool = True) -> None:
        self.left, self.right = left, right
        super().__init__()

    def normalize(self, text: str) -> tuple[str, list[int] | None]:
        s = text.lstrip(RUST_WHITESPACE) if self.left else text
        lead = len(text) - len(s)
        s = s.rstrip(RUST_WHITESPACE) if self.right else s
        if len(s) == len(text):
            return text, None
        return s, list(range(lead, lead + len(s)))

    def to_dict(self) -> dict[str, Any]:
        return {"type": "Strip", "strip_left": self.left, "strip_right": self.right}
