"""Training a tokenizer's model on new text: ``tokenizer.train_new_from_iterator(texts, vocab_size)``.

    texts ──► normalize ──► pre-tokenize ──► count words ──► BPE merges ──► new model
              (the old tokenizer's stages, kept as they are)       (WordPiece: BPE with "##")

* :class:`BpeTrainer` learns byte-pair merges (Sennrich et al. 2016,
  https://arxiv.org/abs/1508.07909) the way upstream ``tokenizers``'
  ``models/bpe/trainer.rs`` does, so a vocabulary trained here matches the
  reference's: special tokens first, then the alphabet sorted by code point,
  then one token per merge of the most frequent adjacent pair.
* :class:`WordPieceTrainer` is upstream's ``WordPieceTrainer``: the BPE trainer
  with the continuing-subword prefix ``##``; its vocabulary becomes a WordPiece
  model (greedy longest match at encoding time, as BERT's).
* :func:`train_new_tokenizer` is the engine of transformers'
  ``PreTrainedTokenizerFast.train_new_from_iterator``: a new :class:`.tokenizer.Tokenizer`
  with the old normalizer, pre-tokenizer, decoder and special tokens, its
  post-processor's special-token ids remapped to the new vocabulary (the
  transformers-level object around it is built one floor up).

Pair counting is incremental: a merge rewrites only the words that hold the
pair and updates the counts of the neighbouring pairs; a max-heap with lazy
(stale-entry) updates picks the next pair. Quirks kept from upstream, because
they decide which tokens are learnt:

* ties on count go to the smaller pair of ids (``Merge::cmp``);
* a heap entry carries the set of words it was pushed for, and a merge rewrites
  only those words. A pair that gains new occurrences is pushed again with just
  the new words, so it can be merged twice (the second time adds no token; the
  later rank is the one kept, as upstream's merge map keeps the last one);
* the merged pair's own count is not reset (its heap entry is just gone);
* with ``max_token_length`` a new pair is counted only if its length is *below*
  the limit (``Word::merge``), and lengths count characters, not the prefix.

Where upstream depends on hash-map order (the ids of ``##x`` tokens follow the
order words come out of a hash map, so the reference itself differs a little
from run to run), this module uses the order in which words first occur.

Deliberately stricter than upstream: a ``vocab_size`` below the special tokens
plus the initial alphabet is a ``ValueError`` (upstream silently returns a
bigger vocabulary), a lone string or a non-iterable corpus is a ``TypeError``
(upstream would train on a string's characters), and an unknown trainer option
is a ``TypeError`` (upstream prints "Ignored unknown kwargs option").
"""

from __future__ import annotations

import copy
import heapq
import operator
from collections import Counter
from itertools import count as _counter
from typing import Any, Callable, Iterable, Iterator

from .byte_level import BYTE_CHARS
from .models.bpe import BPE
from .models.wordpiece import WordPiece
from .serialization import processor_from_dict
from .tokenizer import AddedToken, Tokenizer

# A pair of token ids (a, b) is one int key a << _SHIFT | b: cheaper to hash than a tuple,
# and ordered as the tuple is (the tie-break on equal counts compares pairs).
_SHIFT = 32
_LOW = (1 << _SHIFT) - 1

_BPE_OPTIONS = ("min_frequency", "show_progress", "limit_alphabet", "initial_alphabet", "continuing_subword_prefix",
                "end_of_word_suffix", "max_token_length")
_WORDPIECE_OPTIONS = tuple(o for o in _BPE_OPTIONS if o != "max_token_length")  # as upstream's WordPieceTrainer


class BpeTrainer:
    """Upstream ``BpeTrainer``: same options, same defaults (``min_frequency=0``, no alphabet limit)."""

    def __init__(
        self,
        vocab_size: int = 30000,
        min_frequency: int = 0,
        show_progress: bool = True,  # accepted for API parity; there is no progress bar here
        special_tokens: Iterable[str] = (),
        limit_alphabet: int | None = None,
        initial_alphabet: Iterable[str] = (),
        continuing_subword_prefix: str | None = None,
        end_of_word_suffix: str | None = None,
        max_token_length: int | None = None,
    ) -> None:
        if isinstance(vocab_size, bool) or not hasattr(vocab_size, "__index__"):
            raise TypeError(f"vocab_size must be an int, got {type(vocab_size).__name__}")
        vocab_size = operator.index(vocab_size)
        if vocab_size <= 0:
            raise ValueError(f"vocab_size must be positive, got {vocab_size}")
        self.vocab_size = vocab_size
        self.min_frequency = int(min_frequency)
        self.show_progress = show_progress
        self.special_tokens = [str(t) for t in special_tokens]
        self.limit_alphabet = limit_alphabet
        # upstream keeps the first character of each string given
        self.initial_alphabet = {s[0] for s in initial_alphabet if s}
        self.continuing_subword_prefix = continuing_subword_prefix
        self.end_of_word_suffix = end_of_word_suffix
        self.max_token_length = max_token_length
        self.word_counts: dict[str, int] = {}

    # -- counting ------------------------------------------------------------------------------
    def feed(
        self, texts: Iterable[str], words_of: Callable[[str], list[str]], map_word: Callable[[str], str] | None = None
    ) -> None:
        """Count the words of every text (``words_of`` = the tokenizer's normalizer + pre-tokenizer).

        ``map_word`` (byte level: one character per UTF-8 byte) is applied once per
        distinct word; it is one-to-one, so counts carry over unchanged.
        """
        counts: Counter[str] = Counter()
        update = counts.update
        for text in texts:
            update(words_of(text))
        self.word_counts = dict(counts) if map_word is None else {map_word(w): c for w, c in counts.items()}

    def check_vocab_size(self) -> None:
        """Fail before reading the corpus when the special tokens and the initial alphabet alone are too many."""
        n_special = len(dict.fromkeys(self.special_tokens))
        base = n_special + len(self.initial_alphabet - set(self.special_tokens))
        if self.vocab_size < base and self.limit_alphabet is None:
            raise ValueError(
                f"vocab_size={self.vocab_size} is smaller than the {n_special} special tokens plus the "
                f"{len(self.initial_alphabet)}-character initial alphabet ({base} tokens); ask for at least {base}"
            )

    # -- training ------------------------------------------------------------------------------
    def _alphabet(self, word_counts: dict[str, int]) -> list[str]:
        """The characters kept as initial tokens, sorted by code point (``compute_alphabet``)."""
        if self.limit_alphabet is None:
            chars = set("".join(word_counts)) | self.initial_alphabet
            return sorted(chars)
        freq: Counter[str] = Counter()
        for word, c in word_counts.items():
            for ch in word:
                freq[ch] += c
        big = float("inf")
        for ch in self.initial_alphabet:
            freq[ch] = big  # upstream: usize::MAX, never dropped before a corpus character
        kept = sorted(freq.items(), key=lambda kv: (kv[1], kv[0]))
        drop = max(0, len(kept) - self.limit_alphabet)
        return sorted(ch for ch, _ in kept[drop:])

    def train(self, word_counts: dict[str, int] | None = None) -> tuple[dict[str, int], list[tuple[str, str]]]:
        """-> (vocab token -> id, merges in rank order)."""
        wc = self.word_counts if word_counts is None else word_counts
        id2w: list[str] = []
        w2id: dict[str, int] = {}

        def add(token: str) -> int:
            idx = w2id.get(token)
            if idx is None:
                idx = w2id[token] = len(id2w)
                id2w.append(token)
            return idx

        # 1. special tokens, 2. the alphabet
        for t in self.special_tokens:
            add(t)
        n_special = len(id2w)
        for ch in self._alphabet(wc):
            add(ch)
        n_alphabet = len(id2w) - n_special

        # 3. words as lists of ids (a character outside the alphabet is left out, as upstream)
        prefix, suffix = self.continuing_subword_prefix or "", self.end_of_word_suffix or ""
        words: list[list[int]] = []
        counts: list[int] = []
        plain = not prefix and not suffix and self.limit_alphabet is None
        get = w2id.__getitem__
        for word, c in wc.items():
            if plain:
                syms = list(map(get, word))
            else:
                syms = []
                last = len(word) - 1
                for i, ch in enumerate(word):
                    if ch not in w2id:
                        continue
                    s = ch
                    if i and prefix:
                        s = prefix + s
                    if i == last and suffix:
                        s = s + suffix
                    syms.append(add(s))
            words.append(syms)
            counts.append(c)
        n_initial = len(id2w)
        if self.vocab_size < n_initial:
            extra = n_initial - n_special - n_alphabet
            more = f" + {extra} prefixed/suffixed forms" if extra else ""
            raise ValueError(
                f"vocab_size={self.vocab_size} is smaller than the initial vocabulary of {n_initial} tokens "
                f"({n_special} special tokens + {n_alphabet} alphabet characters{more}); ask for at least {n_initial}"
            )

        # lengths in characters (upstream's Symbol::len), for max_token_length
        tok_len = [1] * len(id2w)
        limit = self.max_token_length

        # 4. count pairs: key -> count, and key -> indices of the words holding it
        pair_counts: dict[int, int] = {}
        where: dict[int, set[int]] = {}
        for i, syms in enumerate(words):
            c = counts[i]
            for a, b in zip(syms, syms[1:]):
                key = a << _SHIFT | b
                pair_counts[key] = pair_counts.get(key, 0) + c
                s = where.get(key)
                if s is None:
                    where[key] = {i}
                else:
                    s.add(i)
        seq = _counter()
        heap = [(-pair_counts[k], k, next(seq), pos) for k, pos in where.items() if pair_counts[k] > 0]
        heapq.heapify(heap)
        del where

        # 5. merge the most frequent pair until the vocabulary is big enough
        merges: list[tuple[int, int, int]] = []
        n_prefix = len(prefix)
        pop, push = heapq.heappop, heapq.heappush
        while len(w2id) < self.vocab_size and heap:
            neg, key, _, pos = pop(heap)
            current = pair_counts[key]
            if -neg != current:  # stale: put it back with its current count
                push(heap, (-current, key, next(seq), pos))
                continue
            if current < 1 or self.min_frequency > current:
                break
            a, b = key >> _SHIFT, key & _LOW
            part_b = id2w[b]
            if prefix and part_b.startswith(prefix):
                part_b = part_b[n_prefix:]
            new = add(id2w[a] + part_b)
            if new == len(tok_len):
                tok_len.append(tok_len[a] + tok_len[b])
            merges.append((a, b, new))
            new_len = tok_len[new]
            changed: dict[int, set[int]] = {}  # pairs that gained occurrences -> words
            for i in pos:
                w = words[i]
                if len(w) < 2:
                    continue
                c = counts[i]
                j = 0
                while True:
                    try:
                        j = w.index(a, j)
                    except ValueError:
                        break
                    if j + 1 < len(w) and w[j + 1] == b:
                        if j > 0:
                            p = w[j - 1]
                            k = p << _SHIFT | a
                            pair_counts[k] = pair_counts.get(k, 0) - c
                            if limit is None or tok_len[p] + new_len < limit:
                                k = p << _SHIFT | new
                                pair_counts[k] = pair_counts.get(k, 0) + c
                                changed.setdefault(k, set()).add(i)
                        w[j:j + 2] = (new,)
                        if j + 1 < len(w):
                            nx = w[j + 1]
                            k = b << _SHIFT | nx
                            pair_counts[k] = pair_counts.get(k, 0) - c
                            if limit is None or tok_len[nx] + new_len < limit:
                                k = new << _SHIFT | nx
                                pair_counts[k] = pair_counts.get(k, 0) + c
                                changed.setdefault(k, set()).add(i)
                    j += 1
            for k, ws in changed.items():
                c = pair_counts[k]
                if c > 0:
                    push(heap, (-c, k, next(seq), ws))

        # a pair merged twice keeps its last rank (upstream collects merges into a map)
        last_rank = {(a, b): r for r, (a, b, _) in enumerate(merges)}
        ordered = [(id2w[a], id2w[b]) for r, (a, b, _) in enumerate(merges) if last_rank[(a, b)] == r]
        return dict(w2id), ordered


class WordPieceTrainer(BpeTrainer):
    """Upstream ``WordPieceTrainer``: a :class:`BpeTrainer` whose non-initial pieces carry ``##``."""

    def __init__(self, vocab_size: int = 30000, continuing_subword_prefix: str | None = "##", **kwargs: Any) -> None:
        super().__init__(vocab_size, continuing_subword_prefix=continuing_subword_prefix, **kwargs)


# ----------------------------------------------------------------------------------------------
# transformers' train_new_from_iterator
# ----------------------------------------------------------------------------------------------


def iter_texts(text_iterator: Any) -> Iterator[str]:
    """Texts from an iterable of texts or of batches (lists) of texts, as ``train_from_iterator`` takes them."""
    if isinstance(text_iterator, (str, bytes)):
        raise TypeError(
            "text_iterator must be an iterable of texts or of batches of texts (e.g. a list of str, or a generator "
            f"yielding lists of str), not a single {type(text_iterator).__name__}"
        )
    try:
        items = iter(text_iterator)
    except TypeError:
        raise TypeError(
            "text_iterator must be an iterable of texts or of batches of texts (e.g. a list of str, or a generator "
            f"yielding lists of str); got {type(text_iterator).__name__}, which is not iterable"
        ) from None
    for item in items:
        if isinstance(item, str):
            yield item
            continue
        try:
            batch = iter(item)
        except TypeError:
            raise TypeError(f"text_iterator yielded a {type(item).__name__}; expected a str or a batch (list) of str") from None
        if isinstance(item, bytes):
            raise TypeError("text_iterator yielded bytes; decode them to str first")
        for text in batch:
            if not isinstance(text, str):
                raise TypeError(f"a batch from text_iterator holds a {type(text).__name__}; expected str")
            yield text


def _words_function(tok: Any) -> Callable[[str], list[str]]:
    """text -> the words the model sees: the tokenizer's normalizer and pre-tokenizer (upstream ``Tokenizer::train``)."""
    norm = tok.normalizer.normalize if tok.normalizer is not None else None
    pre = tok.pre_tokenizer
    rewrite = getattr(pre, "rewrite", None)  # Metaspace: ' ' -> '▁' (and the prefix)

    def words_of(text: str) -> list[str]:
        if norm is not None:
            text = norm(text)[0]
        if pre is None:
            return [text] if text else []
        if rewrite is not None:
            text = rewrite(text, None, True)[0]
        return pre.split(text)

    return words_of


def _byte_level(pre_dict: dict[str, Any] | None) -> bool:
    """Upstream's test for "use the byte-level alphabet": a ByteLevel pre-tokenizer, alone or in a Sequence."""
    if not pre_dict:
        return False
    return pre_dict.get("type") == "ByteLevel" or (
        pre_dict.get("type") == "Sequence" and any(p.get("type") == "ByteLevel" for p in pre_dict.get("pretokenizers", []))
    )


def _remap_post_processor(pp: dict[str, Any], token_to_id: Callable[[str], int | None], rename: dict[str, str]) -> dict[str, Any]:
    """Point the post-processor's special tokens at their ids in the new vocabulary (renamed when asked)."""
    pp = copy.deepcopy(pp)

    def id_of(token: str) -> int:
        idx = token_to_id(token)
        if idx is None:
            raise ValueError(
                f"Attempted to set a token in the post processor that does not exist in the mapping: {token!r}"
            )
        return idx

    for entry in (pp.get("special_tokens") or {}).values():
        entry["tokens"] = [rename.get(t, t) for t in entry["tokens"]]
        entry["ids"] = [id_of(t) for t in entry["tokens"]]
    for name in ("cls", "sep"):
        if name in pp:
            token = rename.get(pp[name][0], pp[name][0])
            pp[name] = [token, id_of(token)]
    if pp.get("type") == "Sequence":  # upstream leaves these alone (a bug); their ids must move too
        pp["processors"] = [_remap_post_processor(p, token_to_id, rename) for p in pp["processors"]]
    return pp


def train_new_tokenizer(
    backend: Tokenizer,
    text_iterator: Any,
    vocab_size: int,
    new_special_tokens: list[Any] | None,
    rename: dict[str, str],
    **kwargs: Any,
) -> Tokenizer:
    """`backend`'s stages around a WordPiece or BPE model trained on `text_iterator` (the engine of
    transformers' ``PreTrainedTokenizerFast.train_new_from_iterator``); `rename` maps old special tokens to new."""
    model = backend.model
    if isinstance(model, WordPiece):
        options, trainer_cls = _WORDPIECE_OPTIONS, WordPieceTrainer
    elif isinstance(model, BPE):
        options, trainer_cls = _BPE_OPTIONS, BpeTrainer
    else:
        raise ValueError(
            f"train_new_from_iterator supports WordPiece and BPE tokenizers; this one's model is {type(model).__name__}"
        )
    unknown = sorted(set(kwargs) - set(options))
    if unknown:
        raise TypeError(f"train_new_from_iterator() got unexpected keyword argument(s) {unknown}; "
                        f"trainer options are: {', '.join(options)}")

    # The special tokens of the old tokenizer (special added tokens, in id order), renamed when asked, then the new ones.
    specials: list[AddedToken] = []
    for t in sorted(backend.added_tokens, key=lambda t: t.id):
        if not t.special:
            continue
        specials.append(AddedToken(rename.get(t.content, t.content), special=True, normalized=t.normalized,
                                   lstrip=t.lstrip, rstrip=t.rstrip, single_word=t.single_word))
    for t in new_special_tokens or []:
        if isinstance(t, str):
            specials.append(AddedToken(t, special=True))
        elif hasattr(t, "content"):
            specials.append(AddedToken(t.content, special=True, normalized=getattr(t, "normalized", False),
                                       lstrip=getattr(t, "lstrip", False), rstrip=getattr(t, "rstrip", False),
                                       single_word=getattr(t, "single_word", False)))
        else:
            raise TypeError(f"new_special_tokens must hold str or AddedToken, got {type(t).__name__}")

    if isinstance(model, BPE):  # the trainer must know the model's sub-word marks
        if "continuing_subword_prefix" not in kwargs and model.continuing_subword_prefix is not None:
            kwargs["continuing_subword_prefix"] = model.continuing_subword_prefix
        if "end_of_word_suffix" not in kwargs and model.end_of_word_suffix is not None:
            kwargs["end_of_word_suffix"] = model.end_of_word_suffix
    pre = backend.pre_tokenizer
    if _byte_level(pre.to_dict() if pre is not None else None):
        kwargs["initial_alphabet"] = list(BYTE_CHARS.values())
    trainer = trainer_cls(vocab_size, special_tokens=[t.content for t in specials], **kwargs)
    trainer.check_vocab_size()
    trainer.feed(iter_texts(text_iterator), _words_function(backend), getattr(pre, "map_word", None))
    vocab, merges = trainer.train()

    if isinstance(model, WordPiece):
        new_model: Any = WordPiece(vocab, unk_token=rename.get(model.unk_token, model.unk_token),
                                   continuing_subword_prefix=trainer.continuing_subword_prefix or "",
                                   max_input_chars_per_word=model.max_input_chars_per_word)
    else:  # the old model's options; the trainer's prefix/suffix (the old ones unless overridden)
        prefix, suffix = trainer.continuing_subword_prefix, trainer.end_of_word_suffix
        new_model = BPE(
            vocab, merges, unk_token=rename.get(model.unk_token, model.unk_token) if model.unk_token else None,
            continuing_subword_prefix=model.continuing_subword_prefix if prefix is None else prefix,
            end_of_word_suffix=model.end_of_word_suffix if suffix is None else suffix,
            fuse_unk=model.fuse_unk, byte_fallback=model.byte_fallback, ignore_merges=model.ignore_merges, dropout=model.dropout,
        )
    new = Tokenizer(new_model, normalizer=copy.deepcopy(backend.normalizer), pre_tokenizer=copy.deepcopy(pre),
                    decoder=copy.deepcopy(backend.decoder))
    for t in specials:
        new.add_token(t)
    if backend.post_processor is not None:
        pp = _remap_post_processor(backend.post_processor.to_dict(), new.token_to_id, rename)
        new.post_processor = processor_from_dict(pp)
    return new
