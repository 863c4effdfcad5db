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
from typing import Any

from .patterns import compile_regex, ref_chars


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
