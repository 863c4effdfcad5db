"""Stage 3 of 5: the model (the ``model`` entry of tokenizer.json): word -> sub-word tokens.

WordPiece here (BERT, DistilBERT, MiniLM); BPE (:mod:`.sp_bpe`), Unigram and
WordLevel (:mod:`.unigram`) share the interface of :class:`VocabModel`:
``tokenize(word) -> (ids, tokens, spans)`` where spans are ``(start, end)``
character offsets inside the word.
"""

from __future__ import annotations

import os
import sys
from typing import Any

WordPieces = tuple[tuple[int, ...], tuple[str, ...], tuple[tuple[int, int], ...]]


class VocabModel:
    """What every model shares: the vocabulary both ways and the per-word caches around ``_tokenize``.

    ``vocab`` maps token -> id, ``ids_to_tokens`` id -> token. ``tokenize(word)``
    is the subclass's ``_tokenize(word)``, cached: natural text repeats words
    constantly. ``word_ids_cache`` (word -> ids) is what the hot path maps words
    through. The cache keeps at most ``cache_size`` words, each shorter than
    ``cache_word_len`` characters.
    """

    cache_size = 1_000_000
    cache_word_len = sys.maxsize

    def __init__(self, vocab: dict[str, int]) -> None:
        self.vocab = dict(vocab)
        self.ids_to_tokens = {i: t for t, i in self.vocab.items()}
        self._new_caches()

    def _new_caches(self) -> None:
        self.cache: dict[str, WordPieces] = {}
        self.word_ids_cache = _IdsCache(self)  # word -> ids, looked up with map() on the hot path

    def token_to_id(self, token: str) -> int | None:
        return self.vocab.get(token)

    def id_to_token(self, idx: int) -> str | None:
        return self.ids_to_tokens.get(idx)

    def tokenize(self, word: str) -> WordPieces:
        hit = self.cache.get(word)
        if hit is not None:
            return hit
        out = self._tokenize(word)
        if len(self.cache) < self.cache_size and len(word) < self.cache_word_len:
            self.cache[word] = out
        return out

    def _tokenize(self, word: str) -> WordPieces:  # pragma: no cover - overridden
        raise NotImplementedError


class _IdsCache(dict):
    """word -> tuple of ids; a miss runs the model (``dict.__missing__`` keeps hits in C)."""

    def __init__(self, model: VocabModel) -> None:
        super().__init__()
        self.model = model

    def __missing__(self, word: str) -> tuple[int, ...]:
        ids = self.model.tokenize(word)[0]
        if len(self) < 1_000_000:
            self[word] = ids
        return ids


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


def from_dict(d: dict[str, Any]) -> WordPiece:
    kind = d.get("type")
    if kind == "WordPiece" or (kind is None and "continuing_subword_prefix" in d):
        return WordPiece.from_dict(d)
    from .unigram import Unigram, WordLevel

    if kind == "Unigram" or (kind is None and isinstance(d.get("vocab"), list)):
        return Unigram.from_dict(d)
    if kind == "WordLevel":
        return WordLevel.from_dict(d)
    if kind == "BPE" or (kind is None and "merges" in d):
        from .sp_bpe import BPE

        return BPE.from_dict(d)
    raise ValueError(f"unsupported tokenizer model type {kind!r}; supported: WordPiece")
