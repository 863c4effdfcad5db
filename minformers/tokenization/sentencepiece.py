"""SentencePiece stages: the ``Precompiled`` normaliser, ``Metaspace`` and the string edits around them.

* ``Precompiled`` interprets the ``precompiled_charsmap`` a SentencePiece model
  embeds (a Darts double-array trie over UTF-8 bytes + a blob of NUL-terminated
  replacements), as upstream ``normalizers::Precompiled`` does: text is cut into
  extended grapheme clusters; a cluster shorter than 6 bytes is looked up whole
  (the *shortest* trie prefix wins, upstream's quirk), otherwise char by char.
* ``Metaspace`` (pre-tokeniser and decoder): spaces become ``▁``, a ``▁`` is
  prepended (``always``/``first``/``never``), words start at every ``▁``.
* ``Replace``/``Prepend``/``Strip`` normalisers and ``Replace``/``ByteFallback``/
  ``Fuse``/``Strip`` decoders (Llama-2 style pipelines).

Alignments follow upstream ``NormalizedString::transform``: every output char
points at one original char; an inserted char shares the previous one's.
"""

from __future__ import annotations

import base64
import functools
import re
import struct
import unicodedata
from typing import Any

from .normalizers import Normalizer

# ---------------------------------------------------------------------------------------------
# alignment helpers
# ---------------------------------------------------------------------------------------------


def _replace(trans: list[list], old: str, new: str) -> None:
    """Append `new` replacing `old` to a list of [char, change] (upstream precompiled ``replace``)."""
    diff = len(new) - len(old)
    trans.extend([c, 0] for c in new)
    if diff > 0:
        for t in trans[-diff:]:
            t[1] = 1
    elif diff < 0 and trans:
        trans[-1][1] += diff


def _apply(trans: list[list]) -> tuple[str, list[int]]:
    """[char, change] -> (text, align): change 0 replaces the next original char, >0 inserts, <0 also removes."""
    align: list[int] = []
    pos = 0
    for _, change in trans:
        if change > 0:
            align.append(pos - 1 if pos else 0)
        else:
            align.append(pos)
            pos += 1 - change
    return "".join(c for c, _ in trans), align


# ---------------------------------------------------------------------------------------------
# extended grapheme clusters (UAX #29), enough of it for the < 6-byte clusters that matter here
# ---------------------------------------------------------------------------------------------

_OTHER_EXTEND = {0x09BE, 0x09D7, 0x0B3E, 0x0B57, 0x0BBE, 0x0BD7, 0x0CC2, 0x0CD5, 0x0CD6, 0x0D3E, 0x0D57, 0x0DCF,
                 0x0DDF, 0x1B35, 0x200C, 0x302E, 0x302F, 0xFF9E, 0xFF9F, 0x1133E, 0x11357, 0x114B0, 0x114BD,
                 0x115AF, 0x11930, 0x1D165, 0x1D16E, 0x1D16F, 0x1D170, 0x1D171, 0x1D172}
_PREPEND = {0x0600, 0x0601, 0x0602, 0x0603, 0x0604, 0x0605, 0x06DD, 0x070F, 0x0890, 0x0891, 0x08E2, 0x0D4E, 0x110BD,
            0x110CD, 0x111C2, 0x111C3, 0x1193F, 0x11941, 0x11A3A, 0x11A84, 0x11A85, 0x11A86, 0x11A87, 0x11A88,
            0x11A89, 0x11D46}
_NOT_SPACING = {0x102B, 0x102C, 0x1038, 0x1062, 0x1063, 0x1064, 0x1067, 0x1068, 0x1069, 0x106A, 0x106B, 0x106C,
                0x106D, 0x1083, 0x1087, 0x1088, 0x1089, 0x108A, 0x108B, 0x108C, 0x108F, 0x109A, 0x109B, 0x109C,
                0x1A61, 0x1A63, 0x1A64, 0xAA7B, 0xAA7D, 0x11720, 0x11721}


@functools.lru_cache(maxsize=65536)
def _gcb(ch: str) -> str:
    cp = ord(ch)
    if ch == "\r":
        return "CR"
    if ch == "\n":
        return "LF"
    if cp == 0x200D:
        return "ZWJ"
    if cp in _PREPEND:
        return "Prepend"
    if 0x1F1E6 <= cp <= 0x1F1FF:
        return "RI"
    if 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F or cp in _OTHER_EXTEND:
        return "Extend"
    if 0x1100 <= cp <= 0x115F or 0xA960 <= cp <= 0xA97C:
        return "L"
    if 0x1160 <= cp <= 0x11A7 or 0xD7B0 <= cp <= 0xD7C6:
        return "V"
    if 0x11A8 <= cp <= 0x11FF or 0xD7CB <= cp <= 0xD7FB:
        return "T"
    if 0xAC00 <= cp <= 0xD7A3:
        return "LV" if (cp - 0xAC00) % 28 == 0 else "LVT"
    cat = unicodedata.category(ch)
    if cat in ("Mn", "Me"):
        return "Extend"
    if cat in ("Cc", "Zl", "Zp", "Cs") or cat == "Cf":
        return "Control"
    if cat == "Mc" and cp not in _NOT_SPACING or cp in (0x0E33, 0x0EB3):
        return "SpacingMark"
    return "Other"


def graphemes(text: str) -> list[str]:
    """Extended grapheme clusters (GB3–GB9b, GB12/13; emoji ZWJ sequences are ≥ 6 bytes and need no rule)."""
    out: list[str] = []
    start = 0
    prev = None
    ri = 0
    for i, ch in enumerate(text):
        cur = _gcb(ch)
        if i:
            join = False
            if prev == "CR" and cur == "LF":
                join = True
            elif prev in ("Control", "CR", "LF") or cur in ("Control", "CR", "LF"):
                join = False
            elif prev == "L" and cur in ("L", "V", "LV", "LVT"):
                join = True
            elif prev in ("LV", "V") and cur in ("V", "T"):
                join = True
            elif prev in ("LVT", "T") and cur == "T":
                join = True
            elif cur in ("Extend", "ZWJ", "SpacingMark") or prev == "Prepend":
                join = True
            elif prev == "RI" and cur == "RI" and ri % 2 == 1:
                join = True
            if not join:
                out.append(text[start:i])
                start = i
                ri = 0
        ri = ri + 1 if cur == "RI" else 0
        prev = cur
    if start < len(text):
        out.append(text[start:])
    return out


# ---------------------------------------------------------------------------------------------
# Precompiled
# ---------------------------------------------------------------------------------------------


class Precompiled(Normalizer):
    """SentencePiece's compiled normalisation rules (e.g. ``nmt_nfkc``), from the model's charsmap."""

    def __init__(self, precompiled_charsmap: bytes | str | None) -> None:
        if isinstance(precompiled_charsmap, str):
            precompiled_charsmap = base64.b64decode(precompiled_charsmap)
        self.charsmap = bytes(precompiled_charsmap or b"")
        cm = self.charsmap
        if cm:
            if len(cm) < 4:
                raise ValueError("Precompiled: precompiled_charsmap is shorter than its 4-byte header")
            (size,) = struct.unpack_from("<I", cm, 0)
            if size % 4 or 4 + size > len(cm):
                raise ValueError(f"Precompiled: precompiled_charsmap declares a {size}-byte trie in {len(cm)} bytes")
            self.trie = struct.unpack_from(f"<{size // 4}I", cm, 4)
            self.blob = cm[4 + size:]
        else:
            self.trie, self.blob = (), b""
        self._cache: dict[str, str | None] = {}
        ascii_changed = {chr(c) for c in range(128) if self.transform(chr(c)) not in (None, chr(c))}
        self._ascii_changed = frozenset(ascii_changed)
        super().__init__()

    def _prefix_values(self, key: bytes) -> list[int]:
        """Darts-clone ``commonPrefixSearch``: values of every trie key that is a prefix of `key`, shortest first."""
        trie = self.trie
        out: list[int] = []
        if not trie:
            return out
        try:
            unit = trie[0]
            pos = (unit >> 10) << ((unit & 0x200) >> 6)
            for c in key:
                if c == 0:
                    break
                pos ^= c
                unit = trie[pos]
                if (unit & 0x800000FF) != c:
                    return out
                pos ^= (unit >> 10) << ((unit & 0x200) >> 6)
                if (unit >> 8) & 1:
                    out.append(trie[pos] & 0x7FFFFFFF)
        except IndexError:
            raise ValueError("Precompiled: corrupt precompiled_charsmap (trie index out of range)") from None
        return out

    def longest_match(self, data: bytes, start: int) -> tuple[int, int]:
        """(blob offset, byte length) of the longest trie key that `data[start:]` starts with, or (-1, 0):
        the SentencePiece library's own ``NormalizePrefix`` rule (the converters' ``Precompiled`` takes the shortest)."""
        trie = self.trie
        best = (-1, 0)
        if not trie:
            return best
        try:
            unit = trie[0]
            pos = (unit >> 10) << ((unit & 0x200) >> 6)
            for i in range(start, len(data)):
                c = data[i]
                if c == 0:
                    break
                pos ^= c
                unit = trie[pos]
                if (unit & 0x800000FF) != c:
                    break
                pos ^= (unit >> 10) << ((unit & 0x200) >> 6)
                if (unit >> 8) & 1:
                    best = (trie[pos] & 0x7FFFFFFF, i + 1 - start)
        except IndexError:
            raise ValueError("Precompiled: corrupt precompiled_charsmap (trie index out of range)") from None
        return best

    def replacement(self, value: int) -> str:
        """The NUL-terminated replacement string at blob offset `value`."""
        end = self.blob.find(b"\0", value)
        return self.blob[value: end if end >= 0 else len(self.blob)].decode("utf-8", "replace")

    def transform(self, chunk: str) -> str | None:
        """The replacement for `chunk` (its shortest trie prefix's), or None when no rule applies."""
        hit = self._cache.get(chunk, False)
        if hit is not False:
            return hit  # type: ignore[return-value]
        values = self._prefix_values(chunk.encode("utf-8", "surrogatepass"))
        out = None
        if values:
            start = values[0]
            end = self.blob.find(b"\0", start)
            out = self.blob[start: end if end >= 0 else len(self.blob)].decode("utf-8", "replace")
        if len(self._cache) < 200_000:
            self._cache[chunk] = out
        return out

    def normalize(self, text: str) -> tuple[str, list[int] | None]:
        if not self.trie or (text.isascii() and self._ascii_changed.isdisjoint(text)):
            return text, None
        trans: list[list] = []
        modified = False
        transform = self.transform
        for g in graphemes(text):
            if len(g) == 1 or len(g.encode("utf-8", "surrogatepass")) < 6:
                norm = transform(g)
                if norm is not None:
                    modified = True
                    _replace(trans, g, norm)
                    continue
                if len(g) == 1:
                    trans.append([g, 0])
                    continue
            for c in g:
                norm = transform(c)
                if norm is not None:
                    modified = True
                    _replace(trans, c, norm)
                else:
                    trans.append([c, 0])
        if not modified:
            return text, None
        return _apply(trans)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "Precompiled", "precompiled_charsmap": base64.b64encode(self.charsmap).decode("ascii")}


# ---------------------------------------------------------------------------------------------
# Replace / Prepend / Strip normalisers
# ---------------------------------------------------------------------------------------------


def _pattern(p: dict[str, str] | str) -> re.Pattern:
    if isinstance(p, str):
        return re.compile(re.escape(p))
    if "String" in p:
        return re.compile(re.escape(p["String"]))
    if "Regex" in p:
        return re.compile(p["Regex"])
    raise ValueError(f"Replace: pattern must be {{'String': …}} or {{'Regex': …}}, got {p!r}")


class Replace(Normalizer):
    """Replace every match of a string/regex with `content` (upstream ``NormalizedString::replace``)."""

    def __init__(self, pattern: dict[str, str] | str, content: str) -> None:
        self.pattern = pattern if isinstance(pattern, dict) else {"String": pattern}
        self.content = content
        self._rx = _pattern(self.pattern)
        self._literal = self.pattern.get("String")
        super().__init__()

    def normalize(self, text: str) -> tuple[str, list[int] | None]:
        lit = self._literal
        if lit is not None:
            if lit not in text:
                return text, None
            if len(lit) == len(self.content) == 1:
                return text.replace(lit, self.content), None
        # upstream: the match is removed, then `content` inserted; every inserted char shares the
        # alignment of the match's last char
        pieces: list[str] = []
        align: list[int] = []
        pos = 0
        k = len(self.content)
        for m in self._rx.finditer(text):
            a, b = m.span()
            if a == b:
                continue
            pieces.append(text[pos:a])
            align.extend(range(pos, a))
            pieces.append(self.content)
            align.extend([b - 1] * k)
            pos = b
        pieces.append(text[pos:])
        align.extend(range(pos, len(text)))
        return "".join(pieces), align

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


NORMALIZERS = {
    "Precompiled": lambda d: Precompiled(d.get("precompiled_charsmap")),
    "Replace": lambda d: Replace(d["pattern"], d["content"]),
    "Prepend": lambda d: Prepend(d["prepend"]),
    "Strip": lambda d: Strip(d.get("strip_left", True), d.get("strip_right", True)),
}


# ---------------------------------------------------------------------------------------------
# Metaspace pre-tokeniser
# ---------------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------
# decoders: each maps a list of tokens to a list of strings (``decode_chain``); decode joins them
# ---------------------------------------------------------------------------------------------


class _Decoder:
    def decode_chain(self, tokens: list[str]) -> list[str]:  # pragma: no cover - overridden
        return tokens

    def decode(self, tokens: list[str]) -> str:
        return "".join(self.decode_chain(list(tokens)))


class MetaspaceDecoder(_Decoder):
    """``▁`` -> space; in the first token every ``▁`` is dropped unless ``prepend_scheme`` is ``never`` (upstream)."""

    def __init__(self, replacement: str = "\u2581", prepend_scheme: str = "always", split: bool = True) -> None:
        self.replacement, self.prepend_scheme, self.split_words = replacement, prepend_scheme, split

    def to_dict(self) -> dict[str, Any]:
        return {"type": "Metaspace", "replacement": self.replacement, "prepend_scheme": self.prepend_scheme,
                "split": self.split_words}

    def decode_chain(self, tokens: list[str]) -> list[str]:
        r = self.replacement
        out = [t.replace(r, " ") for t in tokens]
        if out and self.prepend_scheme != "never":
            out[0] = tokens[0].replace(r, "")
        return out


class ReplaceDecoder(_Decoder):
    def __init__(self, pattern: dict[str, str] | str, content: str) -> None:
        self.pattern = pattern if isinstance(pattern, dict) else {"String": pattern}
        self.content = content
        self._rx = _pattern(self.pattern)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "Replace", "pattern": self.pattern, "content": self.content}

    def decode_chain(self, tokens: list[str]) -> list[str]:
        lit = self.pattern.get("String")
        if lit is not None:
            return [t.replace(lit, self.content) for t in tokens]
        return [self._rx.sub(self.content.replace("\\", "\\\\"), t) for t in tokens]


_BYTE_TOKEN = re.compile(r"<0x([0-9A-F]{2})>")


class ByteFallback(_Decoder):
    """Runs of ``<0xXX>`` tokens -> their UTF-8 text; invalid UTF-8 gives one ``�`` per byte (upstream)."""

    def to_dict(self) -> dict[str, Any]:
        return {"type": "ByteFallback"}

    def decode_chain(self, tokens: list[str]) -> list[str]:
        out: list[str] = []
        run = bytearray()

        def flush() -> None:
            if run:
                try:
                    out.append(run.decode("utf-8"))
                except UnicodeDecodeError:
                    out.extend("\ufffd" for _ in run)
                run.clear()

        for t in tokens:
            m = _BYTE_TOKEN.fullmatch(t) if len(t) == 6 else None
            if m is not None:
                run.append(int(m.group(1), 16))
            else:
                flush()
                out.append(t)
        flush()
        return out


class Fuse(_Decoder):
    def to_dict(self) -> dict[str, Any]:
        return {"type": "Fuse"}

    def decode_chain(self, tokens: list[str]) -> list[str]:
        return ["".join(tokens)]


class StripDecoder(_Decoder):
    """Remove up to `start` leading and `stop` trailing `content` chars from every token."""

    def __init__(self, content: str = " ", start: int = 0, stop: int = 0) -> None:
        self.content, self.start, self.stop = content, start, stop

    def to_dict(self) -> dict[str, Any]:
        return {"type": "Strip", "content": self.content, "start": self.start, "stop": self.stop}

    def decode_chain(self, tokens: list[str]) -> list[str]:
        out = []
        for t in tokens:
            chars = list(t)
            a = 0
            while a < min(self.start, len(chars)) and chars[a] == self.content:
                a += 1
            b = len(chars)
            n = 0
            while n < self.stop and b > a and chars[b - 1] == self.content:
                b -= 1
                n += 1
            out.append("".join(chars[a:b]))
        return out


class DecoderSequence(_Decoder):
    def __init__(self, decoders: list[Any]) -> None:
        self.decoders = list(decoders)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "Sequence", "decoders": [d.to_dict() for d in self.decoders]}

    def decode_chain(self, tokens: list[str]) -> list[str]:
        for d in self.decoders:
            tokens = d.decode_chain(tokens) if hasattr(d, "decode_chain") else [d.decode(tokens)]
        return tokens


# ---------------------------------------------------------------------------------------------
# the SentencePiece library's own pipeline, for tokenizers that run it rather than a converted
# tokenizer.json (Marian): normaliser, word split and DecodePieces, as sentencepiece 0.2's C++ does
# ---------------------------------------------------------------------------------------------

SPACE = "\u2581"


class SentencePieceNormalizer(Normalizer):
    """``normalizer.cc``'s ``Normalizer::Normalize``, rule for rule.

    At each position the longest user-defined piece is kept as it is, else the
    charsmap's *longest* rule applies (the converters' ``Precompiled`` cuts
    graphemes and takes the shortest), else the character stays. With
    ``remove_extra_whitespaces`` leading and trailing spaces go and a run of
    them becomes one; ``add_dummy_prefix`` puts a ``▁`` in front of non-empty
    text; every space is written ``▁``. ``language_code``: a leading
    ``>>xx<<`` (Marian's target-language tag) is kept verbatim before the rest.
    The alignment maps each output char to the input char it came from.
    """

    def __init__(self, precompiled_charsmap: bytes | str | None = None, add_dummy_prefix: bool = True,
                 remove_extra_whitespaces: bool = True, user_defined: list[str] | tuple[str, ...] = (),
                 language_code: bool = False) -> None:
        self.rules = Precompiled(precompiled_charsmap)
        self.add_dummy_prefix = add_dummy_prefix
        self.remove_extra_whitespaces = remove_extra_whitespaces
        self.user_defined = tuple(user_defined)
        self.language_code = language_code
        by_first: dict[str, list[str]] = {}
        for p in sorted(self.user_defined, key=len, reverse=True):
            if p:
                by_first.setdefault(p[0], []).append(p)
        self._user_defined = by_first
        # ASCII chars no rule or user-defined piece starts with: copied as they are
        self._plain = frozenset(chr(c) for c in range(1, 128) if chr(c) not in by_first and not self._rule_starts_with(c))
        super().__init__()

    def _rule_starts_with(self, byte: int) -> bool:
        """Whether some charsmap key starts with `byte` (so a walk is needed)."""
        trie = self.rules.trie
        if not trie:
            return False
        unit = trie[0]
        pos = ((unit >> 10) << ((unit & 0x200) >> 6)) ^ byte
        return pos < len(trie) and (trie[pos] & 0x800000FF) == byte

    def _step(self, text: str, data: bytes, i: int, b: int) -> tuple[str, int, int]:
        """``NormalizePrefix`` at char `i` / byte `b`: (replacement, chars consumed, bytes consumed)."""
        ch = text[i]
        if ch in self._plain:
            return ch, 1, 1
        for p in self._user_defined.get(ch, ()):
            if text.startswith(p, i):
                return p, len(p), len(p.encode("utf-8"))
        value, n = self.rules.longest_match(data, b)
        if n:
            chars, got = 0, 0
            while got < n:
                got += len(text[i + chars].encode("utf-8"))
                chars += 1
            return self.rules.replacement(value), chars, n
        return ch, 1, len(ch.encode("utf-8"))

    def normalize(self, text: str) -> tuple[str, list[int] | None]:
        code = ""
        if self.language_code and text.startswith(">>"):
            end = text.find("<<")
            if end != -1:
                code = text[: end + 2]
        out, align = self._normalize(text, len(code))
        if code:
            return code + out, list(range(len(code))) + align
        return out, align

    def _normalize(self, text: str, i: int) -> tuple[str, list[int]]:
        data = text.encode("utf-8")
        b = len(text[:i].encode("utf-8"))
        n = len(text)
        strip = self.remove_extra_whitespaces
        if strip:  # leading whitespace (after normalisation) is dropped
            while i < n:
                rep, k, nb = self._step(text, data, i, b)
                if rep != " ":
                    break
                i, b = i + k, b + nb
        if i >= n:
            return "", []
        out: list[str] = []
        align: list[int] = []
        if self.add_dummy_prefix:
            out.append(SPACE)
            align.append(i)
        prev_space = strip
        while i < n:
            rep, k, nb = self._step(text, data, i, b)
            if prev_space:
                rep = rep.lstrip(" ")
            if rep:
                out.append(rep.replace(" ", SPACE))
                align.extend([i] * len(rep))
                prev_space = rep.endswith(" ")
            i, b = i + k, b + nb
            if not strip:
                prev_space = False
        norm = "".join(out)
        if strip:
            cut = len(norm.rstrip(SPACE))
            norm, align = norm[:cut], align[:cut]
        return norm, align

    def to_dict(self) -> dict[str, Any]:
        return {"type": "SentencePieceNormalizer", "precompiled_charsmap": base64.b64encode(self.rules.charsmap).decode("ascii"),
                "add_dummy_prefix": self.add_dummy_prefix, "remove_extra_whitespaces": self.remove_extra_whitespaces,
                "user_defined": list(self.user_defined), "language_code": self.language_code}


class SentencePieceSplit:
    """Words for the SentencePiece model: a cut before every ``▁`` (no piece holds an inner ``▁``, so the
    library's whole-sentence Viterbi decomposes at them); a leading ``>>xx<<`` tag is a word of its own."""

    def __init__(self, language_code: bool = False, split: bool = True) -> None:
        self.language_code = language_code
        self.split_words = split
        self._rx = re.compile(f"[^{SPACE}]+|{SPACE}[^{SPACE}]*" if split else ".+", re.DOTALL)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "SentencePieceSplit", "language_code": self.language_code, "split": self.split_words}

    def _code_end(self, text: str) -> int:
        if self.language_code and text.startswith(">>"):
            end = text.find("<<")
            if end != -1:
                return end + 2
        return 0

    def split(self, text: str) -> list[str]:
        k = self._code_end(text)
        words = self._rx.findall(text, k)
        return [text[:k]] + words if k else words

    def split_spans(self, text: str) -> list[tuple[str, int, int]]:
        k = self._code_end(text)
        spans = [(m.group(), m.start(), m.end()) for m in self._rx.finditer(text, k)]
        return [(text[:k], 0, k)] + spans if k else spans


def _utf8_char_len(data: bytes, i: int) -> int:
    """Length of the valid UTF-8 char at `i`, or 0 (the library then writes U+FFFD and moves one byte)."""
    lead = data[i]
    n = 1 if lead < 0x80 else 2 if 0xC2 <= lead < 0xE0 else 3 if 0xE0 <= lead < 0xF0 else 4 if 0xF0 <= lead < 0xF5 else 0
    if not n or i + n > len(data):
        return 0
    try:
        data[i:i + n].decode("utf-8")
    except UnicodeDecodeError:
        return 0
    return n


class SentencePieceDecoder(_Decoder):
    """``SentencePieceProcessor::DecodePieces``: control pieces vanish; runs of ``<0xXX>`` byte pieces are read
    as UTF-8 (U+FFFD per bad byte); the first piece that yields text loses its leading ``▁``; ``▁`` -> space;
    ``<unk>`` reads `unk_surface`, and a string that is no piece of the model is copied as it is."""

    def __init__(self, pieces: list[tuple[str, float, int]], unk_id: int, add_dummy_prefix: bool = True,
                 remove_extra_whitespaces: bool = True, unk_surface: str = " \u2047 ") -> None:
        from .sp_model import BYTE, CONTROL

        self.ids = {}
        for i, (p, _, _) in enumerate(pieces):
            self.ids.setdefault(p, i)
        self.kinds = [k for _, _, k in pieces]
        self.unk_id, self.unk_piece = unk_id, pieces[unk_id][0]
        self.add_dummy_prefix, self.remove_extra_whitespaces = add_dummy_prefix, remove_extra_whitespaces
        self.unk_surface = unk_surface
        self._byte, self._control = BYTE, CONTROL

    def to_dict(self) -> dict[str, Any]:
        return {"type": "SentencePieceDecoder"}

    def decode_chain(self, tokens: list[str]) -> list[str]:
        out: list[str] = []
        queue = bytearray()
        bos = True  # the library's is_bos_ws: the first piece with text loses its leading ▁

        def flush() -> None:
            i = 0
            while i < len(queue):
                n = _utf8_char_len(queue, i)
                out.append(queue[i:i + n].decode("utf-8") if n else "\ufffd")
                i += n or 1
            queue.clear()

        strip_bos = self.add_dummy_prefix or self.remove_extra_whitespaces
        for piece in tokens:
            idx = self.ids.get(piece, self.unk_id)
            kind = self.kinds[idx]
            if kind == self._byte:
                queue.append(int(piece[3:5], 16))
                continue
            flush()
            if out:  # only non-empty strings are appended
                bos = False
            if kind == self._control:
                continue
            p = piece
            had_ws = False
            if bos and strip_bos and p.startswith(SPACE):
                p = p[1:]
                had_ws = not self.remove_extra_whitespaces
            text = (self.unk_surface if piece == self.unk_piece else piece) if idx == self.unk_id else p.replace(SPACE, " ")
            if text:
                out.append(text)
            if had_ws or out:
                bos = False
        flush()
        return ["".join(out)]


PRE_TOKENIZERS = {"Metaspace": Metaspace.from_dict}

DECODERS = {
    "Metaspace": lambda d: MetaspaceDecoder(d.get("replacement", "\u2581"), d.get("prepend_scheme") or (
        "always" if d.get("add_prefix_space", True) else "never"), d.get("split", True)),
    "Replace": lambda d: ReplaceDecoder(d["pattern"], d["content"]),
    "ByteFallback": lambda d: ByteFallback(),
    "Fuse": lambda d: Fuse(),
    "Strip": lambda d: StripDecoder(d.get("content", " "), d.get("start", 0), d.get("stop", 0)),
}
