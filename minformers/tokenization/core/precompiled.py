"""Stage 1, SentencePiece's normaliser: ``Precompiled`` (the model's ``precompiled_charsmap``).

``Precompiled`` interprets the ``precompiled_charsmap`` a SentencePiece model
embeds (a Darts double-array trie over UTF-8 bytes + a blob of NUL-terminated
replacements), as upstream ``normalizers::Precompiled`` does: text is cut into
extended grapheme clusters; a cluster shorter than 6 bytes is looked up whole
(the *shortest* trie prefix wins, upstream's quirk), otherwise char by char.
The ``Replace``/``Prepend``/``Strip`` string edits that go with it are in :mod:`.normalizers`.

Alignments follow upstream ``NormalizedString::transform``: every output char
points at one original char; an inserted char shares the previous one's.
The pre-tokeniser that follows is ``Metaspace`` (:mod:`.pre_tokenizers`).
"""

from __future__ import annotations

import base64
import functools
import struct
import unicodedata
from typing import Any

from .models.base import WordCache
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
        # grapheme -> replacement; bounded (a zalgo cluster can be any length): see models.WordCache
        self._cache = WordCache(self._transform, 20_000, 32, 100_000)
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
        return self._cache[chunk]

    def _transform(self, chunk: str) -> str | None:
        values = self._prefix_values(chunk.encode("utf-8", "surrogatepass"))
        out = None
        if values:
            start = values[0]
            end = self.blob.find(b"\0", start)
            out = self.blob[start: end if end >= 0 else len(self.blob)].decode("utf-8", "replace")
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
