"""Read a SentencePiece ``.model`` file (spiece.model, sentencepiece.bpe.model, tokenizer.model).

The file is a serialised ``ModelProto`` (sentencepiece_model.proto). Only a few
fields matter for building the tokenizer, so this is a small protobuf
wire-format reader rather than a dependency on ``protobuf``:

    ModelProto      1 pieces (repeated: 1 piece, 2 score, 3 type)   2 trainer_spec   3 normalizer_spec
    TrainerSpec     3 model_type (1 UNIGRAM, 2 BPE, 3 WORD, 4 CHAR) 35 byte_fallback
                    40 unk_id 41 bos_id 42 eos_id 43 pad_id  44 unk_surface 45 unk_piece ...
    NormalizerSpec  1 name 2 precompiled_charsmap 3 add_dummy_prefix 4 remove_extra_whitespaces
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field

from .core.sentencepiece import BYTE, CONTROL, NORMAL, UNKNOWN, UNUSED, USER_DEFINED  # noqa: F401 (the piece types)

MODEL_TYPES = {1: "unigram", 2: "bpe", 3: "word", 4: "char"}


@dataclass
class SentencePieceModel:
    pieces: list[tuple[str, float, int]] = field(default_factory=list)  # (piece, score, type)
    model_type: str = "unigram"
    byte_fallback: bool = False
    unk_id: int = 0
    bos_id: int = 1
    eos_id: int = 2
    pad_id: int = -1
    unk_piece: str = "<unk>"
    unk_surface: str = " \u2047 "  # what the library's decoder writes for <unk>
    normalizer_name: str = ""
    precompiled_charsmap: bytes = b""
    add_dummy_prefix: bool = True
    remove_extra_whitespaces: bool = True


class _Corrupt(ValueError):
    pass


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    out = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise _Corrupt("truncated varint")
        b = buf[pos]
        pos += 1
        out |= (b & 0x7F) << shift
        if not b & 0x80:
            return out, pos
        shift += 7


def _fields(buf: bytes):
    """(field number, wire type, value) for each field of one message."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        num, wt = key >> 3, key & 7
        if num == 0:
            raise _Corrupt("field number 0")
        if wt == 0:
            val, pos = _varint(buf, pos)
        elif wt == 1:
            if pos + 8 > len(buf):
                raise _Corrupt("truncated fixed64")
            val, pos = buf[pos:pos + 8], pos + 8
        elif wt == 2:
            n, pos = _varint(buf, pos)
            if pos + n > len(buf):
                raise _Corrupt("length-delimited field runs past the end")
            val, pos = buf[pos:pos + n], pos + n
        elif wt == 5:
            if pos + 4 > len(buf):
                raise _Corrupt("truncated fixed32")
            val, pos = buf[pos:pos + 4], pos + 4
        else:
            raise _Corrupt(f"unsupported wire type {wt}")
        yield num, wt, val


def _int32(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def parse_model(data: bytes) -> SentencePieceModel:
    m = SentencePieceModel()
    for num, wt, val in _fields(data):
        if num == 1 and wt == 2:
            piece, score, kind = "", 0.0, NORMAL
            for n, w, v in _fields(val):
                if n == 1 and w == 2:
                    piece = v.decode("utf-8")
                elif n == 2 and w == 5:
                    (score,) = struct.unpack("<f", v)
                elif n == 3 and w == 0:
                    kind = v
            m.pieces.append((piece, float(score), kind))
        elif num == 2 and wt == 2:
            for n, w, v in _fields(val):
                if n == 3 and w == 0:
                    m.model_type = MODEL_TYPES.get(v, str(v))
                elif n == 35 and w == 0:
                    m.byte_fallback = bool(v)
                elif n in (40, 41, 42, 43) and w == 0:
                    setattr(m, {40: "unk_id", 41: "bos_id", 42: "eos_id", 43: "pad_id"}[n], _int32(v))
                elif n == 45 and w == 2:
                    m.unk_piece = v.decode("utf-8")
                elif n == 44 and w == 2:
                    m.unk_surface = v.decode("utf-8")
        elif num == 3 and wt == 2:
            for n, w, v in _fields(val):
                if n == 1 and w == 2:
                    m.normalizer_name = v.decode("utf-8")
                elif n == 2 and w == 2:
                    m.precompiled_charsmap = bytes(v)
                elif n == 3 and w == 0:
                    m.add_dummy_prefix = bool(v)
                elif n == 4 and w == 0:
                    m.remove_extra_whitespaces = bool(v)
    return m


def read_model(path: str | os.PathLike) -> SentencePieceModel:
    """Parse a .model file; a file that is not a SentencePiece model raises ValueError naming it."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        m = parse_model(data)
    except (_Corrupt, UnicodeDecodeError, struct.error) as e:
        raise ValueError(f"{os.fspath(path)}: not a valid SentencePiece model file ({e})") from None
    if not m.pieces:
        raise ValueError(f"{os.fspath(path)}: not a valid SentencePiece model file (no pieces)")
    if not 0 <= m.unk_id < len(m.pieces):
        raise ValueError(f"{os.fspath(path)}: unk_id {m.unk_id} is outside the {len(m.pieces)} pieces")
    return m


def bpe_merges(vocab: dict[str, int], scores: dict[str, float]) -> list[tuple[str, str]]:
    """Merges recovered from a SentencePiece BPE vocabulary, ordered as the reference's extractor orders them:
    every split of a piece into two pieces, by the piece's score (best first), then the left and right lengths."""
    merges = []
    for piece, score in scores.items():
        local = [(piece[:i], piece[i:], score) for i in range(1, len(piece)) if piece[:i] in vocab and piece[i:] in vocab]
        local.sort(key=lambda x: (vocab[x[0]], vocab[x[1]]))
        merges.extend(local)
    merges.sort(key=lambda x: (x[2], len(x[0]), len(x[1])), reverse=True)
    return [(a, b) for a, b, _ in merges]
