"""Stage 5 of 5: decoding (the ``decoder`` entry of tokenizer.json): tokens -> text."""

from __future__ import annotations

from typing import Any


def cleanup(text: str) -> str:
    """Undo the spaces tokenisation put before punctuation and English contractions (upstream ``cleanup``)."""
    return (
        text.replace(" .", ".")
        .replace(" ?", "?")
        .replace(" !", "!")
        .replace(" ,", ",")
        .replace(" ' ", "'")
        .replace(" n't", "n't")
        .replace(" 'm", "'m")
        .replace(" do not", " don't")
        .replace(" 's", "'s")
        .replace(" 've", "'ve")
        .replace(" 're", "'re")
    )


class ChainDecoder:
    """A decoder defined by ``decode_chain`` (tokens -> strings); ``decode`` joins what it returns."""

    def decode_chain(self, tokens: list[str]) -> list[str]:  # pragma: no cover - overridden
        return tokens

    def decode(self, tokens: list[str]) -> str:
        return "".join(self.decode_chain(list(tokens)))


class WordPiece(ChainDecoder):
    """Glue ``##`` continuations to the previous token, put a space before every other token."""

    def __init__(self, prefix: str = "##", cleanup: bool = True) -> None:
        self.prefix = prefix
        self.cleanup = cleanup

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "WordPiece":
        return cls(prefix=d.get("prefix", "##"), cleanup=d.get("cleanup", True))

    def to_dict(self) -> dict[str, Any]:
        return {"type": "WordPiece", "prefix": self.prefix, "cleanup": self.cleanup}

    def decode_chain(self, tokens: list[str]) -> list[str]:
        """Each token on its own (upstream ``decode_chain``), so a decoder after it in a ``Sequence`` sees them."""
        parts = []
        p, n = self.prefix, len(self.prefix)
        for i, tok in enumerate(tokens):
            if i:
                tok = tok[n:] if tok.startswith(p) else " " + tok
            if self.cleanup:
                tok = cleanup(tok)
            parts.append(tok)
        return parts


class CTC(ChainDecoder):
    """Upstream ``decoders::CTC``: repeated tokens collapsed, `pad_token` removed; with `cleanup`, the
    WordPiece cleanup and `word_delimiter_token` -> space. Tokens left empty are dropped."""

    def __init__(self, pad_token: str = "<pad>", word_delimiter_token: str = "|", cleanup: bool = True) -> None:
        self.pad_token, self.word_delimiter_token, self.cleanup = pad_token, word_delimiter_token, cleanup

    def to_dict(self) -> dict[str, Any]:
        return {"type": "CTC", "pad_token": self.pad_token, "word_delimiter_token": self.word_delimiter_token,
                "cleanup": self.cleanup}

    def decode_chain(self, tokens: list[str]) -> list[str]:
        out = []
        for i, tok in enumerate(tokens):
            if i and tok == tokens[i - 1]:
                continue
            tok = tok.replace(self.pad_token, "")
            if self.cleanup:
                tok = cleanup(tok).replace(self.word_delimiter_token, " ")
            if tok:
                out.append(tok)
        return out


def from_dict(d: dict[str, Any] | None) -> WordPiece | None:
    if d is None:
        return None
    if d.get("type") == "WordPiece":
        return WordPiece.from_dict(d)
    if d.get("type") == "CTC":
        return CTC(d.get("pad_token", "<pad>"), d.get("word_delimiter_token", "|"), d.get("cleanup", True))
    from .sp_decoders import DECODERS as _SP, DecoderSequence  # Metaspace, Replace, ByteFallback, Fuse, Strip

    if d.get("type") == "Sequence":
        return DecoderSequence([from_dict(x) for x in d["decoders"]])
    if d.get("type") in _SP:
        return _SP[d["type"]](d)
    if d.get("type") == "ByteLevel":
        from .byte_level import ByteLevelDecoder

        return ByteLevelDecoder(d.get("add_prefix_space", True), d.get("trim_offsets", True), d.get("use_regex", True))
    if d.get("type") == "BPEDecoder":
        from .byte_level import BPEDecoder

        return BPEDecoder(d.get("suffix", "</w>"))
    raise ValueError(
        f"unsupported decoder type {d.get('type')!r}; supported: WordPiece, CTC, ByteLevel, BPEDecoder, Sequence, "
        f"{', '.join(_SP)}"
    )
