"""Stage 3: the SentencePiece Unigram model, and Marian's vocabulary over it (:class:`PieceVocab`).

Same interface as :class:`.wordpiece.WordPiece` (their base :class:`.base.VocabModel`):
``tokenize(word) -> (ids, tokens, spans)`` with ``(start, end)`` character spans
inside the word, a ``vocab`` dict, ``token_to_id``/``id_to_token``,
``to_dict``/``from_dict`` (the tokenizer.json ``model`` entry) and a
``word_ids_cache`` for the hot path.
"""

from __future__ import annotations

from typing import Any, Iterable

from .base import VocabModel, WordPieces

K_UNK_PENALTY = 10.0  # upstream unigram/model.rs: an unknown character costs min_score - 10


class Unigram(VocabModel):
    """The SentencePiece Unigram model (Kudo 2018), decoded with Viterbi as upstream ``models::Unigram``.

    Every piece (special ones too) is a lattice edge scored with its log
    probability; a character no piece starts with becomes an ``unk`` edge scored
    ``min_score - 10``. Ties keep the first candidate seen — shorter pieces are
    seen first (upstream walks a prefix trie) — and consecutive unknowns are
    fused into one token whose text is the surface string (upstream ``fuse_unk``
    is always on for Unigram). With ``byte_fallback`` an unknown piece becomes
    its UTF-8 bytes as ``<0xXX>`` tokens, when all of them are in the vocabulary.
    """

    def __init__(self, vocab: list[tuple[str, float]], unk_id: int | None = None, byte_fallback: bool = False, *,
                 unmatched: Iterable[int] = (), min_score: float | None = None) -> None:
        """`unmatched` and `min_score` give the SentencePiece library's own lattice (Marian runs the library):
        its control, unknown, byte and unused pieces are never matched in text, and the unknown penalty starts
        from the lowest score of its normal pieces. The converters' tokenizer.json keeps every piece."""
        if unk_id is not None and not 0 <= unk_id < len(vocab):
            raise ValueError(f"Unigram: unk_id {unk_id} is outside the vocabulary of {len(vocab)} pieces")
        self.pieces = [(str(p), float(s)) for p, s in vocab]
        self.unk_id = unk_id
        self.byte_fallback = byte_fallback
        self.vocab: dict[str, int] = {}
        for i, (p, _) in enumerate(self.pieces):
            self.vocab.setdefault(p, i)  # upstream: a later duplicate overwrites the id map; keep first (never seen)
        skip = set(unmatched)
        self._score = {p: (self.vocab[p], s) for i, (p, s) in reversed(list(enumerate(self.pieces))) if i not in skip}
        self.min_score = min((s for _, s in self.pieces), default=0.0) if min_score is None else float(min_score)
        self._max_len = max((len(p) for p, _ in self.pieces), default=1)
        self._new_caches()  # no ids_to_tokens: an id is an index into `pieces`

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Unigram":
        return cls([(p, s) for p, s in d["vocab"]], unk_id=d.get("unk_id"), byte_fallback=d.get("byte_fallback", False))

    def to_dict(self) -> dict[str, Any]:
        return {"type": "Unigram", "unk_id": self.unk_id, "vocab": [[p, s] for p, s in self.pieces],
                "byte_fallback": self.byte_fallback}

    def id_to_token(self, idx: int) -> str | None:
        return self.pieces[idx][0] if 0 <= idx < len(self.pieces) else None

    def get_score(self, token: str) -> float | None:
        hit = self._score.get(token)
        return None if hit is None else hit[1]

    def segment(self, word: str) -> list[tuple[int, int, int]]:
        """Best segmentation of `word`: ``(start, end, id)`` per piece, unknowns fused (id = unk_id)."""
        n = len(word)
        if n == 0:
            return []
        score = self._score
        unk_score = self.min_score - K_UNK_PENALTY
        max_len = self._max_len
        best = [0.0] * (n + 1)  # best path score ending at i
        back: list[tuple[int, int] | None] = [None] * (n + 1)  # (start, id) of the last edge
        back[0] = (0, -1)
        for i in range(n):
            if back[i] is None:
                continue
            base = best[i]
            single = False
            for j in range(i + 1, min(n, i + max_len) + 1):
                hit = score.get(word[i:j])
                if hit is None:
                    continue
                cand = hit[1] + base
                if back[j] is None or cand > best[j]:
                    best[j] = cand
                    back[j] = (i, hit[0])
                if j == i + 1:
                    single = True
            if not single:
                if self.unk_id is None:
                    raise ValueError(f"Unigram: {word[i]!r} is not in the vocabulary and the model has no unk_id")
                cand = unk_score + base
                if back[i + 1] is None or cand > best[i + 1]:
                    best[i + 1] = cand
                    back[i + 1] = (i, self.unk_id)
        out: list[tuple[int, int, int]] = []
        end = n
        unk = self.unk_id
        while end > 0:
            start, idx = back[end]  # type: ignore[misc]
            if idx == unk and out and out[-1][2] == unk and out[-1][0] == end:
                out[-1] = (start, out[-1][1], unk)  # fuse consecutive unknowns
            else:
                out.append((start, end, idx))
            end = start
        out.reverse()
        return out

    def _tokenize(self, word: str) -> WordPieces:
        ids: list[int] = []
        toks: list[str] = []
        spans: list[tuple[int, int]] = []
        for start, end, idx in self.segment(word):
            piece = word[start:end]
            if idx == self.unk_id and piece not in self.vocab:
                if self.byte_fallback:
                    names = [f"<0x{b:02X}>" for b in piece.encode("utf-8")]
                    if all(x in self.vocab for x in names):
                        ids += [self.vocab[x] for x in names]
                        toks += names
                        spans += [(start, end)] * len(names)
                        continue
            elif piece in self.vocab:
                idx = self.vocab[piece]
            ids.append(idx)
            toks.append(piece)  # upstream: an unknown token's text is its surface string
            spans.append((start, end))
        return tuple(ids), tuple(toks), tuple(spans)


class PieceVocab(VocabModel):
    """Stage 3 for Marian: a SentencePiece model cuts the word, then each piece's *string* is looked up in a
    separate vocabulary (Marian's vocab.json, shared by source and target models); a string it lacks -> unk.

    ``language_code``: a word ``>>xx<<`` (the target-language tag a multilingual model's input starts
    with, split off whole by :class:`..sentencepiece.SentencePieceSplit`) is one token, as upstream
    ``MarianTokenizer.remove_language_code``.
    """

    def __init__(self, pieces: Any, vocab: dict[str, int], unk_token: str = "<unk>", language_code: bool = False) -> None:
        if unk_token not in vocab:
            raise KeyError(f"{unk_token} token must be in the vocab")  # upstream's message
        super().__init__(vocab)
        self.pieces = pieces
        self.unk_token = unk_token
        self.language_code = language_code

    def to_dict(self) -> dict[str, Any]:
        return {"type": "PieceVocab", "pieces": self.pieces.to_dict(), "vocab": self.vocab, "unk_token": self.unk_token,
                "language_code": self.language_code}

    def _tokenize(self, word: str) -> WordPieces:
        unk = self.vocab[self.unk_token]
        if self.language_code and word.startswith(">>") and word.endswith("<<") and len(word) >= 4:
            return (self.vocab.get(word, unk),), (word,), ((0, len(word)),)
        _, toks, spans = self.pieces.tokenize(word)
        return tuple(self.vocab.get(t, unk) for t in toks), toks, spans
