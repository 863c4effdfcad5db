"""Unicode character classes as the reference measures them, and its (Oniguruma) regexes compiled for ``re``.

The reference decides which characters are whitespace, punctuation, letters or
digits from its own tables (Rust's ``char`` methods, Oniguruma's ``\\p{..}``
classes); they differ from this Python's ``unicodedata`` on code points assigned
since. They were measured once into :mod:`.unicode_tables`; this module turns
them into regex class bodies and character sets, and translates a tokenizer.json
regex into an equivalent Python ``re`` pattern (:func:`compile_regex`). Used by
the normalisers, the pre-tokenisers and the byte-level stage alike.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata

from .unicode_tables import TABLES


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



def unicode_class(name: str) -> str | None:
    """The character-class body for ``\\p{name}``: the reference's (Oniguruma's) class as measured in
    ``unicode_tables.py``; a class not measured there comes from this Python's ``unicodedata``."""
    if f"regex:{name}" in TABLES:
        return ref_class(f"regex:{name}")
    return _unicodedata_classes().get(name)


@functools.lru_cache(maxsize=None)
def _unicodedata_classes() -> dict[str, str]:
    groups: dict[str, list[int]] = {}
    cat = unicodedata.category
    for cp in range(sys.maxunicode + 1):
        groups.setdefault(cat(chr(cp)), []).append(cp)
    out = {c: class_body(runs(cps)) for c, cps in groups.items()}
    for major in "LNPSZMC":
        out[major] = class_body(runs(sorted(cp for c, cps in groups.items() if c[0] == major for cp in cps)))
    return out


_PROP = re.compile(r"\\p\{(\w+)\}|\\P\{(\w+)\}|\\[sS]|\[|\]|\\.", re.S)


def compile_regex(pattern: str) -> "re.Pattern":
    """Compile an upstream (Oniguruma) pattern with ``re``, its Unicode classes made explicit (see
    :func:`translate_regex`); the ``regex`` module, when installed, takes syntax ``re`` lacks.

    Multi-line: in Oniguruma's Ruby syntax (upstream's) ``^`` and ``$`` always match at line starts/ends."""
    translated = translate_regex(pattern)
    try:
        return re.compile(translated, re.M)
    except re.error:
        try:  # lazy: the optional `regex` package, only for syntax `re` lacks
            import regex
        except ImportError:
            raise ValueError(f"cannot compile the tokenizer regex {pattern!r} (install `regex` for more syntax)") from None
        return regex.compile(translated, regex.V0 | regex.M)


# Oniguruma escapes whose Python spelling differs (outside a character class / inside one)
_ONIG_ESCAPES = {
    r"\z": (r"\Z", None),  # end of string
    r"\Z": (r"(?=\n?\Z)", None),  # end of string or before a final newline
    r"\h": ("[0-9a-fA-F]", "0-9a-fA-F"),  # hex digit
    r"\H": ("[^0-9a-fA-F]", None),
}


def translate_regex(pattern: str) -> str:
    """An Oniguruma pattern (as in tokenizer.json) -> an equivalent Python ``re`` pattern.

    ``\\p{L}``-style classes and ``\\s``/``\\S`` become explicit ranges of the code points
    the reference puts in them (Python's ``\\s`` also matches U+001C..U+001F, Oniguruma's does not);
    ``\\d``/``\\D`` use its ``Nd`` table; ``\\z``, ``\\Z``, ``\\h`` and ``\\H`` get their Python spellings
    (``_ONIG_ESCAPES``). Not translated: ``\\w``/``\\b`` (Oniguruma's word class is wider than Python's).
    """
    ws = ref_class("regex:s")
    out, pos, depth = [], 0, 0
    for m in _PROP.finditer(pattern):
        out.append(pattern[pos:m.start()])
        pos = m.end()
        tok = m.group(0)
        if tok == "[":
            depth += 1
            out.append(tok)
        elif tok == "]":
            depth = max(0, depth - 1)
            out.append(tok)
        elif m.group(1) or m.group(2):
            name = m.group(1) or m.group(2)
            body = unicode_class(name)
            if body is None:
                raise ValueError(f"regex {pattern!r}: unsupported Unicode class \\p{{{name}}}")
            if m.group(2):
                if depth:
                    raise ValueError(f"regex {pattern!r}: \\P{{..}} inside a character class is not supported")
                out.append(f"[^{body}]")
            else:
                out.append(body if depth else f"[{body}]")
        elif tok == r"\s":
            out.append(ws if depth else f"[{ws}]")
        elif tok == r"\S":
            if depth:
                raise ValueError(f"regex {pattern!r}: \\S inside a character class is not supported")
            out.append(f"[^{ws}]")
        elif tok == r"\d":  # Oniguruma's \d is its Nd table (Python's differs by ~100 code points)
            nd = ref_class("regex:Nd")
            out.append(nd if depth else f"[{nd}]")
        elif tok == r"\D":
            if depth:
                raise ValueError(f"regex {pattern!r}: \\D inside a character class is not supported")
            out.append(f"[^{ref_class('regex:Nd')}]")
        elif tok in _ONIG_ESCAPES and (not depth or _ONIG_ESCAPES[tok][1] is not None):
            outside, inside = _ONIG_ESCAPES[tok]
            out.append(inside if depth else outside)
        else:
            out.append(tok)
    out.append(pattern[pos:])
    return "".join(out)


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
