"""Byte-level stages (GPT-2, RoBERTa, Llama-3, SmolLM2): every UTF-8 byte is one printable character.

GPT-2 (Radford et al. 2019, ``encoder.py``) maps the 256 byte values to 256
printable characters (``bytes_to_unicode``: a space becomes ``Ġ``, a newline
``Ċ``), so a BPE over those characters never meets an unknown symbol. Here:

* :class:`ByteLevel` pre-tokeniser (upstream ``pre_tokenizers::ByteLevel``):
  optional prefix space, the GPT-2 split regex, then the byte mapping. The split
  returns the *raw* words; :meth:`ByteLevel.map_word` does the byte mapping, so
  the composed tokenizer can cache ids per raw word (one dict hit per word).
* :class:`ByteLevelDecoder`: characters back to bytes, then UTF-8 with U+FFFD
  for invalid sequences (Rust's ``from_utf8_lossy``).
* :func:`trim_offsets`: the ``trim_offsets`` option of the ``ByteLevel`` and
  ``RobertaProcessing`` post-processors (leading/trailing spaces are left out
  of a token's offsets).

The upstream regexes are Oniguruma's: ``\\s`` and ``\\p{L}``-style classes are
translated to explicit ranges holding exactly the code points Oniguruma (in the
reference) puts in them (``unicode_tables.py``; see :func:`compile_regex`).
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
from typing import Any

from .pre_tokenizers import class_body, ref_chars, ref_class, runs


@functools.lru_cache(maxsize=None)
def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte -> character table: printable Latin-1 bytes map to themselves, the rest to 256+n."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    table, n = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + n)
            n += 1
    return table


BYTE_CHARS = bytes_to_unicode()
CHAR_BYTES = {c: b for b, c in BYTE_CHARS.items()}
_TO_BYTE_CHARS = str.maketrans({b: c for b, c in BYTE_CHARS.items()})  # latin-1 char -> byte char

def unicode_class(name: str) -> str | None:
    """The character-class body for ``\\p{name}``: the reference's (Oniguruma's) class as measured in
    ``unicode_tables.py``; a class not measured there comes from this Python's ``unicodedata``."""
    from .unicode_tables import TABLES

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
        try:
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


GPT2_PATTERN = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
# The same rule for ASCII-only text, with small classes (several times faster).
_GPT2_ASCII = re.compile(r"'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\t\n\x0b\x0c\r A-Za-z0-9]+|[\t\n\x0b\x0c\r ]+(?![^\t\n\x0b\x0c\r ])|[\t\n\x0b\x0c\r ]+")


@functools.lru_cache(maxsize=None)
def _gpt2_regex() -> re.Pattern:
    return compile_regex(GPT2_PATTERN)


def map_word(word: str) -> str:
    """A word -> its byte-level characters (one per UTF-8 byte)."""
    if word.isascii():
        return word.translate(_TO_BYTE_CHARS)
    return word.encode("utf-8", "surrogatepass").decode("latin-1").translate(_TO_BYTE_CHARS)


def byte_positions(word: str, start: int) -> list[int]:
    """For each byte-level character of `word`, the index (from `start`) of the character it came from."""
    if word.isascii():
        return list(range(start, start + len(word)))
    out: list[int] = []
    for i, ch in enumerate(word):
        o = ord(ch)
        n = 1 if o < 0x80 else 2 if o < 0x800 else 3 if o < 0x10000 else 4
        out += [start + i] * n
    return out


class ByteLevel:
    """Upstream ``pre_tokenizers::ByteLevel``: prefix space, GPT-2 split (``use_regex``), byte mapping."""

    def __init__(self, add_prefix_space: bool = True, trim_offsets: bool = True, use_regex: bool = True) -> None:
        self.add_prefix_space = add_prefix_space
        self.trim_offsets = trim_offsets
        self.use_regex = use_regex

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ByteLevel":
        return cls(d.get("add_prefix_space", True), d.get("trim_offsets", True), d.get("use_regex", True))

    def to_dict(self) -> dict[str, Any]:
        return {"type": "ByteLevel", "add_prefix_space": self.add_prefix_space, "trim_offsets": self.trim_offsets,
                "use_regex": self.use_regex}

    map_word = staticmethod(map_word)

    def split(self, text: str) -> list[str]:
        if self.add_prefix_space and text and text[0] != " ":
            text = " " + text
        if not self.use_regex:
            return [text] if text else []
        return (_GPT2_ASCII if text.isascii() else _gpt2_regex()).findall(text)

    def split_spans(self, text: str) -> list[tuple]:
        """(raw word, start, end, positions or None): positions give each word char's index in `text`."""
        prefixed = self.add_prefix_space and text and text[0] != " "
        if prefixed:
            text = " " + text
        if not self.use_regex:
            items = [(text, 0, len(text))] if text else []
        else:
            rx = _GPT2_ASCII if text.isascii() else _gpt2_regex()
            items = [(m.group(), m.start(), m.end()) for m in rx.finditer(text)]
        if not prefixed:
            return items
        out = []
        for w, s, e in items:  # the inserted space shares the first character's position
            pos = [max(0, i - 1) for i in range(s, e)]
            out.append((w, pos[0], pos[-1] + 1, pos))
        return out


class ByteLevelDecoder:
    """Byte-level characters -> bytes -> text; a token with other characters contributes its own UTF-8."""

    def __init__(self, add_prefix_space: bool = True, trim_offsets: bool = True, use_regex: bool = True) -> None:
        self.add_prefix_space, self.trim_offsets, self.use_regex = add_prefix_space, trim_offsets, use_regex

    def to_dict(self) -> dict[str, Any]:
        return {"type": "ByteLevel", "add_prefix_space": self.add_prefix_space, "trim_offsets": self.trim_offsets,
                "use_regex": self.use_regex}

    def decode_chain(self, tokens: list[str]) -> list[str]:
        data = bytearray()
        cb = CHAR_BYTES
        for t in tokens:
            try:
                data += bytes(cb[c] for c in t)
            except KeyError:
                data += t.encode("utf-8", "surrogatepass")
        return [data.decode("utf-8", "replace")]

    def decode(self, tokens: list[str]) -> str:
        return "".join(self.decode_chain(list(tokens)))


class BPEDecoder:
    """Upstream ``decoders::BPEDecoder``: the end-of-word suffix becomes a space (nothing after the last token)."""

    def __init__(self, suffix: str = "</w>") -> None:
        self.suffix = suffix

    def to_dict(self) -> dict[str, Any]:
        return {"type": "BPEDecoder", "suffix": self.suffix}

    def decode_chain(self, tokens: list[str]) -> list[str]:
        n = len(tokens)
        return [t.replace(self.suffix, "" if i == n - 1 else " ") for i, t in enumerate(tokens)]

    def decode(self, tokens: list[str]) -> str:
        return "".join(self.decode_chain(list(tokens)))


def _is_space(c: str) -> bool:
    return c == "\u0120" or c in ref_chars("whitespace_split")  # Rust char::is_whitespace


def trim_offsets(tokens: list[str], offsets: list[tuple[int, int]], add_prefix_space: bool) -> list[tuple[int, int]]:
    """Upstream ``process_offsets``: leave leading/trailing (byte-level) spaces out of each token's offsets."""
    out = []
    for i, (tok, (s, e)) in enumerate(zip(tokens, offsets)):
        if tok and (_is_space(tok[0]) or _is_space(tok[-1])):
            lead = 0
            while lead < len(tok) and _is_space(tok[lead]):
                lead += 1
            trail = 0
            while trail < len(tok) and _is_space(tok[-1 - trail]):
                trail += 1
            if lead:
                if (i == 0 or s == 0) and add_prefix_space and lead == 1:
                    lead = 0  # keep the space we added ourselves
                s = min(s + lead, e)
            if trail and e >= trail:
                e = max(e - trail, s)
        out.append((s, e))
    return out
