"""Stage 2 of 5: pre-tokenisation (the ``pre_tokenizer`` entry of tokenizer.json).

A pre-tokeniser cuts the normalised string into words. ``split(text)`` returns
the words and their ``(start, end)`` spans in the normalised string. The BERT
rule (upstream ``BertPreTokenizer``): split on whitespace (dropped) and isolate
every punctuation character — ASCII punctuation (which includes symbols such as
``$ + < = > ^ ` | ~``) plus Unicode punctuation. Which characters are whitespace,
punctuation, word or digit characters is taken from the reference's own tables,
measured once (``unicode_tables.py``), not from this Python's ``unicodedata``.
"""

from __future__ import annotations

import functools
import re
import string
from typing import Any


def runs(chars: list[int]) -> list[tuple[int, int]]:
    """A sorted list of code points -> its runs of consecutive code points, as (first, last) pairs."""
    out, i = [], 0
    while i < len(chars):
        j = i
        while j + 1 < len(chars) and chars[j + 1] == chars[j] + 1:
            j += 1
        out.append((chars[i], chars[j]))
        i = j + 1
    return out


def class_body(pairs: list[tuple[int, int]] | tuple[tuple[int, int], ...]) -> str:
    """(first, last) code-point runs -> the body of a regex character class."""
    return "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in pairs)


@functools.lru_cache(maxsize=None)
def _ref_runs(name: str) -> tuple[tuple[int, int], ...]:
    """One of the reference's measured classes (``unicode_tables.py``: hex ranges) as (first, last) runs."""
    from .unicode_tables import TABLES

    out = []
    for r in TABLES[name].split():
        a, _, b = r.partition("-")
        out.append((int(a, 16), int(b or a, 16)))
    return tuple(out)


@functools.lru_cache(maxsize=None)
def ref_class(name: str) -> str:
    """A regex character-class body for one of the reference's measured classes."""
    return class_body(_ref_runs(name))


@functools.lru_cache(maxsize=None)
def ref_chars(name: str) -> frozenset[str]:
    """The characters of one of the reference's measured classes, as a set."""
    return frozenset(chr(c) for a, b in _ref_runs(name) for c in range(a, b + 1))


_ASCII_WS = "\t\n\x0b\x0c\r "  # Rust char::is_whitespace restricted to ASCII
_ASCII_PUNCT = re.escape(string.punctuation)


class PreTokenizer:
    pattern: re.Pattern
    ascii_pattern: re.Pattern  # same rule with small character classes: ~3x faster on ASCII text

    def split(self, text: str) -> list[str]:
        """The words of `text` (fast path: no spans)."""
        return (self.ascii_pattern if text.isascii() else self.pattern).findall(text)

    def split_spans(self, text: str) -> list[tuple[str, int, int]]:
        rx = self.ascii_pattern if text.isascii() else self.pattern
        return [(m.group(), m.start(), m.end()) for m in rx.finditer(text)]

    def to_dict(self) -> dict[str, Any]:
        return {"type": type(self).__name__}


class BertPreTokenizer(PreTokenizer):
    def __init__(self) -> None:
        ws, p = ref_class("bert:split_whitespace"), ref_class("bert:punctuation")
        self.pattern = re.compile(f"[^{ws}{p}]+|[{p}]")
        self.ascii_pattern = re.compile(f"[^{_ASCII_WS}{_ASCII_PUNCT}]+|[{_ASCII_PUNCT}]")


class WhitespaceSplit(PreTokenizer):
    def __init__(self) -> None:
        self.pattern = re.compile(f"[^{ref_class('whitespace_split')}]+")
        self.ascii_pattern = re.compile(f"[^{_ASCII_WS}]+")


class Whitespace(PreTokenizer):
    """Upstream ``Whitespace``: the regex ``\\w+|[^\\w\\s]+`` (Rust's ``\\s`` has no \\x1c-\\x1f, unlike Python's)."""

    def __init__(self) -> None:
        w, s = ref_class("whitespace:w"), ref_class("whitespace:s")
        self.pattern = re.compile(f"[{w}]+|[^{w}{s}]+")
        self.ascii_pattern = re.compile(f"[A-Za-z0-9_]+|[^A-Za-z0-9_{_ASCII_WS}]+")


# -- generic splitting (tokenizer.json ``Split``, ``Digits``, ``Punctuation``, ``Sequence``) ------------

BEHAVIORS = ("removed", "isolated", "merged_with_previous", "merged_with_next", "contiguous")


def match_pieces(text: str, rx: re.Pattern, invert: bool) -> list[tuple[int, int, bool]]:
    """Cover `text` with (start, end, is_match) pieces. Empty matches count (a pattern that matches the
    empty string splits between characters), except one right where the previous match ended, as
    upstream's match iterator skips it; the empty pieces are dropped after the behaviour is applied."""
    out, pos, last_end = [], 0, -1
    for m in rx.finditer(text):
        s, e = m.span()
        if s == e == last_end:
            continue
        if s > pos:
            out.append((pos, s, invert))
        out.append((s, e, not invert))
        pos = last_end = e
    if pos < len(text):
        out.append((pos, len(text), invert))
    return out


def apply_behavior(pieces: list[tuple[int, int, bool]], behavior: str) -> list[tuple[int, int]]:
    """Upstream ``SplitDelimiterBehavior`` over (start, end, is_match) pieces."""
    if behavior == "removed":
        return [(s, e) for s, e, m in pieces if not m]
    if behavior == "isolated":
        return [(s, e) for s, e, _ in pieces]
    out: list[list[int]] = []
    prev = False
    if behavior == "merged_with_previous":
        for s, e, m in pieces:
            if m and not prev and out:
                out[-1][1] = e
            else:
                out.append([s, e])
            prev = m
    elif behavior == "merged_with_next":
        for s, e, m in reversed(pieces):
            if m and not prev and out:
                out[-1][0] = s
            else:
                out.append([s, e])
            prev = m
        out.reverse()
    elif behavior == "contiguous":
        for s, e, m in pieces:
            if m == prev and out:
                out[-1][1] = e
            else:
                out.append([s, e])
            prev = m
    else:
        raise ValueError(f"unknown split behavior {behavior!r}; use one of {BEHAVIORS}")
    return [(s, e) for s, e in out]


class _RuleSplit:
    """A regex + a delimiter behaviour; ``split_spans`` gives (word, start, end)."""

    rx: re.Pattern
    behavior: str = "isolated"
    invert: bool = False

    def split_spans(self, text: str) -> list[tuple]:
        return [(text[s:e], s, e) for s, e in apply_behavior(match_pieces(text, self.rx, self.invert), self.behavior)
                if e > s]

    def split(self, text: str) -> list[str]:
        return [w for w, *_ in self.split_spans(text)]


class Split(_RuleSplit):
    """Upstream ``pre_tokenizers::Split``: pattern ``{"String": ...}`` or ``{"Regex": ...}`` (Oniguruma syntax)."""

    def __init__(self, pattern: dict[str, str] | str, behavior: str = "isolated", invert: bool = False) -> None:
        from .byte_level import compile_regex

        self.pattern = pattern if isinstance(pattern, dict) else {"String": pattern}
        self.behavior = _snake(behavior)
        self.invert = invert
        if "Regex" in self.pattern:
            self.rx = compile_regex(self.pattern["Regex"])
        else:
            self.rx = re.compile(re.escape(self.pattern["String"]))

    def to_dict(self) -> dict[str, Any]:
        return {"type": "Split", "pattern": self.pattern, "behavior": _camel(self.behavior), "invert": self.invert}


class CharDelimiterSplit(Split):
    """Upstream ``CharDelimiterSplit``: split on one character, which is removed."""

    def __init__(self, delimiter: str) -> None:
        if len(delimiter) != 1:
            raise ValueError(f"CharDelimiterSplit: delimiter must be one character, got {delimiter!r}")
        super().__init__({"String": delimiter}, "removed")
        self.delimiter = delimiter

    def to_dict(self) -> dict[str, Any]:
        return {"type": "CharDelimiterSplit", "delimiter": self.delimiter}


class Digits(_RuleSplit):
    """Numbers (Unicode ``N*``) split from the rest; each digit alone with ``individual_digits``."""

    def __init__(self, individual_digits: bool = False) -> None:
        self.individual_digits = individual_digits
        self.rx = re.compile(f"[{ref_class('digits')}]" + ("" if individual_digits else "+"))

    def to_dict(self) -> dict[str, Any]:
        return {"type": "Digits", "individual_digits": self.individual_digits}


class Punctuation(_RuleSplit):
    """Each punctuation char (ASCII punctuation + Unicode ``P*``) is a match, handled by ``behavior``."""

    def __init__(self, behavior: str = "isolated") -> None:
        self.behavior = _snake(behavior)
        self.rx = re.compile(f"[{ref_class('punctuation')}]")

    def to_dict(self) -> dict[str, Any]:
        return {"type": "Punctuation", "behavior": _camel(self.behavior)}


class Sequence:
    """Each pre-tokeniser splits the pieces of the previous one; a byte-level step maps the final words."""

    def __init__(self, pretokenizers: list[Any]) -> None:
        self.pretokenizers = list(pretokenizers)
        maps = [p.map_word for p in self.pretokenizers if getattr(p, "map_word", None) is not None]
        if maps:
            self.map_word = maps[-1]

    def to_dict(self) -> dict[str, Any]:
        return {"type": "Sequence", "pretokenizers": [p.to_dict() for p in self.pretokenizers]}

    def split_spans(self, text: str, at_start: bool = True) -> list[tuple]:
        """`at_start`: `text` begins the input (a Metaspace step with ``prepend_scheme="first"`` prepends
        only to the piece there)."""
        pieces: list[tuple] = [(text, 0, len(text), None)] if text else []
        for pre in self.pretokenizers:
            nxt: list[tuple] = []
            for word, start, _, pos in pieces:
                for item in _split_rewritten(pre, word, at_start and start == 0):
                    w, s, e = item[0], item[1], item[2]
                    sub = item[3] if len(item) > 3 else None
                    if pos is None and sub is None:
                        nxt.append((w, start + s, start + e, None))
                        continue
                    idx = sub if sub is not None else range(s, e)
                    new = [pos[j] for j in idx] if pos is not None else [start + j for j in idx]
                    nxt.append((w, new[0] if new else start + s, (new[-1] + 1) if new else start + e, new))
            pieces = nxt
        return pieces

    def split(self, text: str) -> list[str]:
        return [p[0] for p in self.split_spans(text)]


def _split_rewritten(pre: Any, word: str, at_start: bool) -> list[tuple]:
    """``pre.split_spans(word)``; a pre-tokeniser that rewrites its text first (Metaspace: spaces -> ``▁``,
    a ``▁`` prepended) does so on each piece, as upstream's does inside a ``Sequence``. Every item then
    carries its chars' indices in `word`."""
    if not hasattr(pre, "rewrite"):
        return pre.split_spans(word)
    text, align = pre.rewrite(word, None, at_start)
    items = pre.split_spans(text)
    if align is None:
        return items
    return [(w, s, e, [align[j] for j in range(s, e)]) for w, s, e, *_ in items]


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _camel(name: str) -> str:
    return "".join(p.capitalize() for p in name.split("_"))


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
        return Sequence([from_dict(x) for x in d["pretokenizers"]])
    from .byte_level import ByteLevel

    return ByteLevel.from_dict(d)


_SPLIT_KINDS = ("Split", "CharDelimiterSplit", "Digits", "Punctuation", "Sequence", "ByteLevel")


_KINDS = {"BertPreTokenizer": BertPreTokenizer, "WhitespaceSplit": WhitespaceSplit, "Whitespace": Whitespace}


def from_dict(d: dict[str, Any] | None) -> PreTokenizer | None:
    if d is None:
        return None
    kind = d.get("type")
    if kind in _KINDS:
        return _KINDS[kind]()
    if kind in _SPLIT_KINDS:
        return _split_from_dict(d)
    from .sp_pre_tokenizers import PRE_TOKENIZERS as _SP  # Metaspace

    if kind in _SP:
        return _SP[kind](d)
    raise ValueError(f"unsupported pre_tokenizer type {kind!r}; supported: {', '.join([*_KINDS, *_SPLIT_KINDS, *_SP])}")
