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

import re
import string
from typing import Any

from .patterns import compile_regex, match_pieces, ref_class

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


# -- SentencePiece's pre-tokeniser: Metaspace -----------------------------------------------------

PREPEND_SCHEMES = ("always", "first", "never")


class Metaspace:
    """Spaces -> ``▁``, a ``▁`` prepended, words cut before every ``▁`` (upstream ``pre_tokenizers::Metaspace``).

    ``prepend_scheme``: ``always`` prepends to every piece of text (each run between
    added tokens), ``first`` only to the piece that starts the input, ``never``
    never; nothing is prepended to a piece that already starts with ``▁``.
    The rewrite happens in :meth:`rewrite` (it changes the text and its alignment),
    the cut in :meth:`split`/:meth:`split_spans`.
    """

    def __init__(self, replacement: str = "\u2581", prepend_scheme: str = "always", split: bool = True) -> None:
        if len(replacement) != 1:
            raise ValueError(f"Metaspace: replacement must be one character, got {replacement!r}")
        if prepend_scheme not in PREPEND_SCHEMES:
            raise ValueError(f"Metaspace: prepend_scheme must be one of {PREPEND_SCHEMES}, got {prepend_scheme!r}")
        self.replacement = replacement
        self.prepend_scheme = prepend_scheme
        self.split_words = split
        r = re.escape(replacement)
        self._rx = re.compile(f"[^{r}]+|{r}[^{r}]*")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Metaspace":
        scheme = d.get("prepend_scheme")
        if scheme is None:  # files written before prepend_scheme existed
            scheme = "always" if d.get("add_prefix_space", True) else "never"
        return cls(d.get("replacement", "\u2581"), scheme, d.get("split", True))

    def to_dict(self) -> dict[str, Any]:
        return {"type": "Metaspace", "replacement": self.replacement, "prepend_scheme": self.prepend_scheme,
                "split": self.split_words}

    def rewrite(self, text: str, align: list[int] | None, at_start: bool) -> tuple[str, list[int] | None]:
        r = self.replacement
        text = text.replace(" ", r)
        if text and not text.startswith(r) and (
            self.prepend_scheme == "always" or (self.prepend_scheme == "first" and at_start)
        ):
            text = r + text
            align = [align[0] if align else 0] + (align if align is not None else list(range(len(text) - 1)))
        return text, align

    def split(self, text: str) -> list[str]:
        if not self.split_words:
            return [text] if text else []
        return self._rx.findall(text)

    def split_spans(self, text: str) -> list[tuple[str, int, int]]:
        if not self.split_words:
            return [(text, 0, len(text))] if text else []
        return [(m.group(), m.start(), m.end()) for m in self._rx.finditer(text)]
