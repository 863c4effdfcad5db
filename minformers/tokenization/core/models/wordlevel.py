"""Stage 3: the WordLevel model: one word, one id."""

from __future__ import annotations

from typing import Any

from .base import VocabModel, WordPieces


class WordLevel(VocabModel):
    """One word, one id (upstream ``models::WordLevel``); unknown words map to ``unk_token``."""

    def __init__(self, vocab: dict[str, int], unk_token: str = "<unk>") -> None:
        super().__init__(vocab)
        self.unk_token = unk_token

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "WordLevel":
        return cls(d.get("vocab") or {}, unk_token=d.get("unk_token", "<unk>"))

    def to_dict(self) -> dict[str, Any]:
        return {"type": "WordLevel", "vocab": self.vocab, "unk_token": self.unk_token}

    def _tokenize(self, word: str) -> WordPieces:
        idx = self.vocab.get(word)
        if idx is not None:
            return (idx,), (word,), ((0, len(word)),)
        unk = self.vocab.get(self.unk_token)
        if unk is None:
            raise ValueError(f"WordLevel: {word!r} is not in the vocabulary and unk_token {self.unk_token!r} is missing too")
        return (unk,), (self.unk_token,), ((0, len(word)),)

    tokenize = _tokenize  # one look-up: not worth caching with tokens and spans
