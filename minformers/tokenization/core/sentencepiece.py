"""The SentencePiece library's own pipeline, for tokenizers that run it rather than a converted tokenizer.json.

Marian's tokenizer runs ``sentencepiece`` itself, so its normaliser, word split
and ``DecodePieces`` follow sentencepiece 0.2's C++ rather than the converters'
stages (:mod:`.precompiled`, :mod:`.normalizers`, :mod:`.pre_tokenizers`' ``Metaspace``, :mod:`.decoders`):
``SentencePieceNormalizer`` (stage 1), ``SentencePieceSplit`` (stage 2) and
``SentencePieceDecoder`` (stage 5); stage 3 is :class:`.models.unigram.PieceVocab`
over a Unigram model with the library's lattice.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from .decoders import ChainDecoder
from .normalizers import Normalizer
from .precompiled import Precompiled

SPACE = "\u2581"
# A SentencePiece model's piece types (sentencepiece_model.proto, ``ModelProto.SentencePiece.Type``)
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6


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


class SentencePieceDecoder(ChainDecoder):
    """``SentencePieceProcessor::DecodePieces``: control pieces vanish; runs of ``<0xXX>`` byte pieces are read
    as UTF-8 (U+FFFD per bad byte); the first piece that yields text loses its leading ``▁``; ``▁`` -> space;
    ``<unk>`` reads `unk_surface`, and a string that is no piece of the model is copied as it is."""

    def __init__(self, pieces: list[tuple[str, float, int]], unk_id: int, add_dummy_prefix: bool = True,
                 remove_extra_whitespaces: bool = True, unk_surface: str = " \u2047 ") -> None:
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
