"""Stage 3: the WordPiece model (BERT, DistilBERT, MiniLM) and its vocab.txt."""

from __future__ import annotations

import os
from typing import Any

from .base import VocabModel, WordPieces


class WordPiece(VocabModel):
    """Greedy longest-match-first sub-words (Wu et al. 2016; upstream ``models::WordPiece``).

    A word longer than ``max_input_chars_per_word`` characters, or with any part
    missing from the vocabulary, becomes a single ``unk_token`` spanning the word.
    """

    def __init__(
        self,
        vocab: dict[str, int],
        unk_token: str = "[UNK]",
        continuing_subword_prefix: str = "##",
        max_input_chars_per_word: int = 100,
    ) -> None:
        super().__init__(vocab)
        self.unk_token = unk_token
        self.continuing_subword_prefix = continuing_subword_prefix
        self.max_input_chars_per_word = max_input_chars_per_word
        self._max_piece = max((len(t) for t in self.vocab), default=1)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "WordPiece":
        return cls(
            d["vocab"],
            unk_token=d.get("unk_token", "[UNK]"),
            continuing_subword_prefix=d.get("continuing_subword_prefix", "##"),
            max_input_chars_per_word=d.get("max_input_chars_per_word", 100),
        )

    @classmethod
    def from_file(cls, vocab_file: str | os.PathLike, **kwargs: Any) -> "WordPiece":
        return cls(read_vocab_txt(vocab_file), **kwargs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "WordPiece",
            "unk_token": self.unk_token,
            "continuing_subword_prefix": self.continuing_subword_prefix,
            "max_input_chars_per_word": self.max_input_chars_per_word,
            "vocab": self.vocab,
        }

    def _tokenize(self, word: str) -> WordPieces:
        n = len(word)
        vocab = self.vocab
        if n <= self.max_input_chars_per_word:
            ids: list[int] = []
            toks: list[str] = []
            spans: list[tuple[int, int]] = []
            prefix = self.continuing_subword_prefix
            start = 0
            while start < n:
                end = min(n, start + self._max_piece)
                while end > start:
                    piece = word[start:end] if start == 0 else prefix + word[start:end]
                    idx = vocab.get(piece)
                    if idx is not None:
                        ids.append(idx)
                        toks.append(piece)
                        spans.append((start, end))
                        break
                    end -= 1
                else:
                    break  # no piece matched: the whole word is unknown
                start = end
            else:
                return tuple(ids), tuple(toks), tuple(spans)
        unk = vocab.get(self.unk_token)
        if unk is None:
            raise ValueError(f"WordPiece: unk_token {self.unk_token!r} is not in the vocabulary")
        return (unk,), (self.unk_token,), ((0, n),)


def read_vocab_txt(path: str | os.PathLike) -> dict[str, int]:
    """vocab.txt: one token a line, the line number is the id."""
    vocab: dict[str, int] = {}
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            vocab[line.rstrip("\n")] = i
    return vocab
