"""Stage 3: the BPE model (GPT-2, RoBERTa, Llama), with SentencePiece's extras ``byte_fallback`` and ``fuse_unk``.

Upstream ``models::BPE``: a word starts as its characters (``<0xXX>`` byte tokens
for a character not in the vocabulary when ``byte_fallback`` is on, else
``unk_token``, consecutive unknowns fused when ``fuse_unk``); then the merge with
the lowest rank is applied first, leftmost first on ties, until none applies.
Merges are looked up by id pairs; a priority queue keeps a long word (a whole
sentence, for Llama's pipelines without a pre-tokeniser) at O(n log n).
"""

from __future__ import annotations

import heapq
from typing import Any

from .base import VocabModel, WordPieces


class BPE(VocabModel):
    def __init__(
        self,
        vocab: dict[str, int],
        merges: list[tuple[str, str]],
        unk_token: str | None = None,
        continuing_subword_prefix: str | None = None,
        end_of_word_suffix: str | None = None,
        fuse_unk: bool = False,
        byte_fallback: bool = False,
        ignore_merges: bool = False,
        dropout: float | None = None,
    ) -> None:
        super().__init__(vocab)
        self.merges = [tuple(m) for m in merges]
        self.unk_token = unk_token
        self.continuing_subword_prefix = continuing_subword_prefix
        self.end_of_word_suffix = end_of_word_suffix
        self.fuse_unk = fuse_unk
        self.byte_fallback = byte_fallback
        self.ignore_merges = ignore_merges
        self.dropout = dropout
        self._ranks: dict[tuple[int, int], tuple[int, int]] = {}
        prefix_len = len(continuing_subword_prefix or "")
        for rank, (a, b) in enumerate(self.merges):
            ia, ib = self.vocab.get(a), self.vocab.get(b)
            if ia is None or ib is None:
                raise ValueError(f"BPE: merge {a!r} {b!r} uses a token missing from the vocabulary")
            new = self.vocab.get(a + b[prefix_len:])
            if new is None:
                raise ValueError(f"BPE: the merge of {a!r} and {b!r} is missing from the vocabulary")
            self._ranks.setdefault((ia, ib), (rank, new))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "BPE":
        merges = [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in d.get("merges") or []]
        return cls(
            d.get("vocab") or {}, merges, unk_token=d.get("unk_token"),
            continuing_subword_prefix=d.get("continuing_subword_prefix"), end_of_word_suffix=d.get("end_of_word_suffix"),
            fuse_unk=d.get("fuse_unk", False), byte_fallback=d.get("byte_fallback", False),
            ignore_merges=d.get("ignore_merges", False), dropout=d.get("dropout"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "BPE", "dropout": self.dropout, "unk_token": self.unk_token,
            "continuing_subword_prefix": self.continuing_subword_prefix, "end_of_word_suffix": self.end_of_word_suffix,
            "fuse_unk": self.fuse_unk, "byte_fallback": self.byte_fallback, "ignore_merges": self.ignore_merges,
            "vocab": self.vocab, "merges": [list(m) for m in self.merges],
        }

    def _initial(self, word: str) -> list[list[int]]:
        """Symbols [id, start, end] before merging, spans in UTF-8 bytes.

        As upstream ``Word::add``, spans are handed out in the order symbols are
        added (a pending unknown is added after a byte-fallback run that follows it).
        """
        vocab = self.vocab
        syms: list[list[int]] = []  # [id, byte length] for now
        unk: list[int] | None = None
        prefix, suffix = self.continuing_subword_prefix, self.end_of_word_suffix
        last = len(word) - 1
        for i, ch in enumerate(word):
            s = ch
            if i and prefix:
                s = prefix + s
            if i == last and suffix:
                s = s + suffix
            n = len(ch.encode("utf-8", "surrogatepass"))
            idx = vocab.get(s)
            if idx is not None:
                if unk is not None:
                    syms.append(unk)
                    unk = None
                syms.append([idx, n])
                continue
            if self.byte_fallback:
                ids = [vocab.get(f"<0x{b:02X}>") for b in s.encode("utf-8", "surrogatepass")]
                if None not in ids:
                    syms.extend([b, 1] for b in ids)  # type: ignore[misc]
                    continue
            if self.unk_token is not None:
                unk_id = vocab.get(self.unk_token)
                if unk_id is None:
                    raise ValueError(f"BPE: unk_token {self.unk_token!r} is not in the vocabulary")
                if unk is not None and self.fuse_unk:
                    unk[1] += n
                else:
                    if unk is not None:
                        syms.append(unk)
                    unk = [unk_id, n]
        if unk is not None:
            syms.append(unk)
        pos = 0
        for sym in syms:
            n = sym[1]
            sym[1], pos = pos, pos + n
            sym.append(pos)
        return syms

    def _tokenize(self, word: str) -> WordPieces:
        if self.ignore_merges and word in self.vocab:
            return (self.vocab[word],), (word,), ((0, len(word)),)
        syms = self._initial(word)
        n = len(syms)
        if n > 1:
            ranks = self._ranks
            nxt = list(range(1, n + 1))
            prv = list(range(-1, n - 1))
            alive = [True] * n
            heap = []
            for i in range(n - 1):
                r = ranks.get((syms[i][0], syms[i + 1][0]))
                if r is not None:
                    heap.append((r[0], i, r[1]))
            heapq.heapify(heap)
            while heap:
                rank, i, new = heapq.heappop(heap)
                j = nxt[i]
                if not alive[i] or j >= n:
                    continue
                r = ranks.get((syms[i][0], syms[j][0]))
                if r is None or r[1] != new:
                    continue  # stale entry
                syms[i] = [new, syms[i][1], syms[j][2]]
                alive[j] = False
                nxt[i] = nxt[j]
                if nxt[j] < n:
                    prv[nxt[j]] = i
                p = prv[i]
                if p >= 0:
                    r = ranks.get((syms[p][0], new))
                    if r is not None:
                        heapq.heappush(heap, (r[0], p, r[1]))
                k = nxt[i]
                if k < n:
                    r = ranks.get((new, syms[k][0]))
                    if r is not None:
                        heapq.heappush(heap, (r[0], i, r[1]))
            syms = [s for s, a in zip(syms, alive) if a]
        itt = self.ids_to_tokens
        if word.isascii():
            spans = tuple((s[1], s[2]) for s in syms)
        else:  # byte spans -> char spans
            char_at: list[int] = []
            for i, ch in enumerate(word):
                char_at.extend([i] * len(ch.encode("utf-8", "surrogatepass")))
            spans = tuple((char_at[s[1]], char_at[s[2] - 1] + 1) if s[2] > s[1] else (char_at[s[1]],) * 2 for s in syms)
        return tuple(s[0] for s in syms), tuple(itt[s[0]] for s in syms), spans
