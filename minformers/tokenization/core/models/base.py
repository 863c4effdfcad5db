"""Stage 3 of 5, what every model shares: the vocabulary both ways and the per-word caches.

The models (the ``model`` entry of tokenizer.json: word -> sub-word tokens) are
:mod:`.wordpiece` (BERT, DistilBERT, MiniLM), :mod:`.bpe` (GPT-2, RoBERTa,
Llama), :mod:`.unigram` (T5, ALBERT, XLM-R, Marian) and :mod:`.wordlevel`; all
share the interface of :class:`VocabModel`: ``tokenize(word) -> (ids, tokens,
spans)`` where spans are ``(start, end)`` character offsets inside the word.
"""

from __future__ import annotations

from typing import Any, Callable

WordPieces = tuple[tuple[int, ...], tuple[str, ...], tuple[tuple[int, int], ...]]


class WordCache(dict):
    """word -> value, computed by ``compute(word)`` on a miss and kept, within bounds.

    A hit is a plain ``dict`` look-up (``dict.__missing__`` runs only on a miss, so
    ``map(cache.__getitem__, words)`` stays in C). Bounded so that a long-running
    process stays flat on text that never repeats (ids, numbers, base64): a word
    longer than ``max_word_len`` characters is computed but not kept, and a miss
    that would take the cache past ``max_entries`` words or ``max_chars``
    characters of words empties it first (the words the text uses now come
    straight back). The character budget bounds the memory, since a value grows
    with its word. Upstream ``tokenizers`` bounds its word cache too (10,000
    words, each shorter than 256 characters) but stops adding when full, which
    leaves a cache filled by old text useless for new text.
    """

    __slots__ = ("compute", "max_entries", "max_word_len", "max_chars", "chars")

    def __init__(self, compute: Callable[[str], Any], max_entries: int, max_word_len: int, max_chars: int) -> None:
        super().__init__()
        self.compute, self.max_entries, self.max_word_len, self.max_chars = compute, max_entries, max_word_len, max_chars
        self.chars = 0  # characters of the words kept

    def __missing__(self, word: str) -> Any:
        value = self.compute(word)
        n = len(word)
        if n <= self.max_word_len:
            if len(self) >= self.max_entries or self.chars + n > self.max_chars:
                self.clear()
            self[word] = value
            self.chars += n
        return value

    def clear(self) -> None:
        super().clear()
        self.chars = 0


class VocabModel:
    """What every model shares: the vocabulary both ways and the per-word caches around ``_tokenize``.

    ``vocab`` maps token -> id, ``ids_to_tokens`` id -> token. ``tokenize(word)``
    is the subclass's ``_tokenize(word)``, cached in ``cache``: natural text repeats
    words constantly. ``word_ids_cache`` (word -> ids) is what the hot path maps
    words through. Both are bounded :class:`WordCache` s (the bounds below), so
    they hold a few tens of MB at most however long the process runs
    (tests/tokenization/test_cache_memory.py).
    """

    # word -> ids: the distinct words of a 14k-sentence corpus fit (Rotten Tomatoes: 26k-34k words, ~200k chars)
    cache_size, cache_chars = 50_000, 400_000
    # word -> (ids, tokens, spans), for offsets: an entry costs several times an ids entry
    pieces_cache_size, pieces_cache_chars = 20_000, 150_000
    cache_word_len = 256  # a longer word is not kept (as upstream): rarely seen twice

    def __init__(self, vocab: dict[str, int]) -> None:
        self.vocab = dict(vocab)
        self.ids_to_tokens = {i: t for t, i in self.vocab.items()}
        self._new_caches()

    def _new_caches(self) -> None:
        self.cache = WordCache(self._tokenize, self.pieces_cache_size, self.cache_word_len, self.pieces_cache_chars)
        self.word_ids_cache = self.new_ids_cache(self.word_ids)

    def new_ids_cache(self, compute: Callable[[str], tuple[int, ...]]) -> WordCache:
        """A word -> ids cache with this model's bounds (the tokenizer keeps one per raw word for byte level)."""
        return WordCache(compute, self.cache_size, self.cache_word_len, self.cache_chars)

    def token_to_id(self, token: str) -> int | None:
        return self.vocab.get(token)

    def id_to_token(self, idx: int) -> str | None:
        return self.ids_to_tokens.get(idx)

    def tokenize(self, word: str) -> WordPieces:
        return self.cache[word]

    def word_ids(self, word: str) -> tuple[int, ...]:
        """The ids of `word`, uncached (the pieces cache is read, not filled: the hot path has its own)."""
        hit = self.cache.get(word)
        return (hit if hit is not None else self._tokenize(word))[0]

    def _tokenize(self, word: str) -> WordPieces:  # pragma: no cover - overridden
        raise NotImplementedError
