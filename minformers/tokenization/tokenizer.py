"""The five stages composed, and the transformers-style API on top.

    text ──► split out added tokens ──► normalize ──► pre-tokenize ──► model ──► post-process ──► pad
             ([CLS], [MASK] … in text)   (alignment)   (words)          (WordPiece) ([CLS] A [SEP])

``Tokenizer`` is the composed pipeline (the analogue of ``tokenizers.Tokenizer``)
producing :class:`Encoding` objects. :class:`PreTrainedTokenizerFast` is the
``transformers`` API (``tokenizer(texts, padding=True, truncation=True,
return_tensors="pt")`` -> :class:`BatchEncoding`). Behaviour follows
huggingface/tokenizers + transformers' ``PreTrainedTokenizerFast``; the reference
library run on the same files is the test oracle.

No torch or numpy import at module scope: they are imported only when
``return_tensors`` asks for them.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import re
import warnings
from collections.abc import Mapping
from functools import partial
from itertools import chain
from pathlib import Path
from typing import Any, Iterable, Sequence

from . import decoders, loading, models, normalizers, pre_tokenizers, processors

_chain = chain.from_iterable
logger = logging.getLogger("minformers.tokenization")

VERY_LARGE_INTEGER = int(1e30)  # transformers' "no limit" model_max_length
LARGE_INTEGER = int(1e20)

SPECIAL_TOKENS_ATTRIBUTES = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"]

_TRUNCATION = {
    True: "longest_first", "longest_first": "longest_first", "only_first": "only_first",
    "only_second": "only_second", False: None, None: None, "do_not_truncate": None,
}
_PADDING = {True: "longest", "longest": "longest", "max_length": "max_length", False: None, None: None, "do_not_pad": None}


# ----------------------------------------------------------------------------------------------
# Encoding: one tokenised row
# ----------------------------------------------------------------------------------------------


class Encoding:
    """Token ids with everything aligned to them (upstream ``tokenizers.Encoding``).

    ``offsets`` are ``(start, end)`` character spans in the original text,
    ``word_ids`` the index of the pre-tokenised word each token came from,
    ``sequence_ids`` 0/1 for the first/second text, ``None`` for special and pad
    tokens. ``overflowing`` holds the windows cut off by truncation.
    """

    __slots__ = (
        "ids", "type_ids", "_tokens", "_offsets", "_word_ids", "_special_tokens_mask",
        "attention_mask", "_sequence_ids", "_overflowing", "_thunk", "_overflow_thunk",
    )
    FIELDS = ("ids", "type_ids", "tokens", "offsets", "word_ids", "special_tokens_mask", "attention_mask", "sequence_ids")

    def __init__(
        self,
        ids: list[int],
        type_ids: list[int],
        tokens: list[str] | None,
        offsets: list[tuple[int, int]] | None,
        word_ids: list[int | None] | None,
        special_tokens_mask: list[int] | None,
        attention_mask: list[int],
        sequence_ids: list[int | None] | None,
        overflowing: list["Encoding"] | None = None,
        thunk: Any = None,
    ) -> None:
        self.ids = ids
        self.type_ids = type_ids
        self._tokens = tokens
        self._offsets = offsets
        self._word_ids = word_ids
        self._special_tokens_mask = special_tokens_mask
        self.attention_mask = attention_mask
        self._sequence_ids = sequence_ids
        self._overflowing = overflowing if overflowing is not None else []
        # tokens/offsets/word_ids/special_tokens_mask/sequence_ids (and overflowing windows)
        # are computed on first use (`thunk` returns those five lists):
        # most callers only need the ids.
        self._thunk = thunk
        self._overflow_thunk = None

    def _get_overflowing(self) -> list["Encoding"]:
        if self._overflow_thunk is not None:
            self._overflowing = self._overflow_thunk()
            self._overflow_thunk = None
        return self._overflowing

    def _set_overflowing(self, value: list["Encoding"]) -> None:
        self._overflowing = value
        self._overflow_thunk = None

    overflowing = property(_get_overflowing, _set_overflowing)

    def __getstate__(self) -> dict[str, Any]:  # closures do not pickle: materialise first
        self._force()
        over = self.overflowing
        state = {name: getattr(self, name) for name in self.__slots__ if name not in ("_thunk", "_overflow_thunk")}
        state["_overflowing"] = over
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            setattr(self, name, value)
        self._thunk = self._overflow_thunk = None

    def _force(self) -> None:
        if self._thunk is not None:
            (self._tokens, self._offsets, self._word_ids, self._special_tokens_mask,
             self._sequence_ids) = self._thunk()
            self._thunk = None

    def _get_tokens(self) -> list[str]:
        self._force()
        return self._tokens

    def _set_tokens(self, value: list[str]) -> None:
        self._force()
        self._tokens = value

    def _get_offsets(self) -> list[tuple[int, int]]:
        self._force()
        return self._offsets

    def _set_offsets(self, value: list[tuple[int, int]]) -> None:
        self._force()
        self._offsets = value

    def _get_word_ids(self) -> list[int | None]:
        self._force()
        return self._word_ids

    def _set_word_ids(self, value: list[int | None]) -> None:
        self._force()
        self._word_ids = value

    def _get_special_tokens_mask(self) -> list[int]:
        self._force()
        return self._special_tokens_mask

    def _set_special_tokens_mask(self, value: list[int]) -> None:
        self._force()
        self._special_tokens_mask = value

    def _get_sequence_ids(self) -> list[int | None]:
        self._force()
        return self._sequence_ids

    def _set_sequence_ids(self, value: list[int | None]) -> None:
        self._force()
        self._sequence_ids = value

    special_tokens_mask = property(_get_special_tokens_mask, _set_special_tokens_mask)
    sequence_ids = property(_get_sequence_ids, _set_sequence_ids)
    tokens = property(_get_tokens, _set_tokens)
    offsets = property(_get_offsets, _set_offsets)
    word_ids = property(_get_word_ids, _set_word_ids)

    @classmethod
    def empty(cls) -> "Encoding":
        return cls([], [], [], [], [], [], [], [])

    @property
    def words(self) -> list[int | None]:
        return self.word_ids

    @property
    def n_sequences(self) -> int:
        return len({s for s in self.sequence_ids if s is not None}) or 1

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        return f"Encoding(num_tokens={len(self.ids)}, attributes=[ids, type_ids, tokens, offsets, attention_mask, special_tokens_mask, overflowing])"

    def _slice(self, start: int, stop: int) -> "Encoding":
        """Tokens start:stop. `self` must not change afterwards (the details may be read later)."""
        e = Encoding(self.ids[start:stop], self.type_ids[start:stop], None, None, None, None, self.attention_mask[start:stop], None)
        if self._thunk is None:
            (e._tokens, e._offsets, e._word_ids, e._special_tokens_mask, e._sequence_ids) = (
                self._tokens[start:stop], self._offsets[start:stop], self._word_ids[start:stop],
                self._special_tokens_mask[start:stop], self._sequence_ids[start:stop],
            )
        else:
            e._thunk = lambda: (
                self.tokens[start:stop], self.offsets[start:stop], self.word_ids[start:stop],
                self.special_tokens_mask[start:stop], self.sequence_ids[start:stop],
            )
        return e

    def _snapshot(self) -> "Encoding":
        e = Encoding(self.ids, self.type_ids, self._tokens, self._offsets, self._word_ids,
                     self._special_tokens_mask, self.attention_mask, self._sequence_ids, thunk=self._thunk)
        e._overflowing, e._overflow_thunk = self._overflowing, self._overflow_thunk
        return e

    def truncate(self, max_length: int, stride: int = 0, direction: str = "right") -> None:
        """Keep `max_length` tokens; the rest becomes overflowing windows that overlap by `stride`."""
        total = len(self.ids)
        if max_length >= total:
            return
        if max_length == 0:
            moved = self._snapshot()
            self._assign(Encoding.empty())
            self.overflowing = [moved]
            return
        if stride >= max_length:
            raise ValueError(
                f"`stride` must be strictly less than `max_len={max_length}` (note that `max_len` may be shorter "
                "than the max length of the original model, as it subtracts the number of special characters"
            )
        step = max_length - stride
        ranges: list[tuple[int, int]] = []
        if direction == "right":
            for start in range(0, total, step):
                stop = min(start + max_length, total)
                ranges.append((start, stop))
                if stop == total:
                    break
        else:
            for last in range(total - 1, -1, -step):
                stop = last + 1
                start = max(0, stop - max_length)
                ranges.append((start, stop))
                if start == 0:
                    break
        src = self._snapshot()
        parts = [src._slice(a, b) for a, b in ranges]
        self._assign(parts[0])
        self.overflowing = parts[1:]

    def _assign(self, other: "Encoding") -> None:
        for name in self.__slots__:
            setattr(self, name, getattr(other, name))

    def pad(self, length: int, pad_id: int = 0, pad_type_id: int = 0, pad_token: str = "[PAD]", direction: str = "right") -> None:
        args = (length, pad_id, pad_type_id, pad_token, direction)
        if self._overflow_thunk is not None:
            inner_overflow = self._overflow_thunk

            def padded() -> list[Encoding]:
                out = inner_overflow()
                for o in out:
                    o.pad(*args)
                return out

            self._overflow_thunk = padded
        else:
            for o in self._overflowing:
                o.pad(*args)
        n = length - len(self.ids)
        if n <= 0:
            return
        if self._thunk is not None:  # stay lazy: pad the details when they are asked for
            inner = self._thunk

            def thunk() -> tuple[list, list, list, list, list]:
                return _pad_details(inner(), n, pad_token, direction)

            self._thunk = thunk
        else:
            (self._tokens, self._offsets, self._word_ids, self._special_tokens_mask, self._sequence_ids) = _pad_details(
                (self._tokens, self._offsets, self._word_ids, self._special_tokens_mask, self._sequence_ids),
                n, pad_token, direction,
            )
        if direction == "right":  # the lists belong to this encoding: extend in place
            self.ids += [pad_id] * n
            self.type_ids += [pad_type_id] * n
            self.attention_mask += [0] * n
        else:
            self.ids = [pad_id] * n + self.ids
            self.type_ids = [pad_type_id] * n + self.type_ids
            self.attention_mask = [0] * n + self.attention_mask

    def char_to_token(self, char_pos: int, sequence_index: int = 0) -> int | None:
        for i, ((s, e), seq) in enumerate(zip(self.offsets, self.sequence_ids)):
            if seq == sequence_index and s <= char_pos < e:
                return i
        return None

    def token_to_chars(self, token_index: int) -> tuple[int, int] | None:
        return self.offsets[token_index] if self.sequence_ids[token_index] is not None else None

    def token_to_word(self, token_index: int) -> int | None:
        return self.word_ids[token_index]

    def word_to_tokens(self, word_index: int, sequence_index: int = 0) -> tuple[int, int] | None:
        idx = [i for i, (w, s) in enumerate(zip(self.word_ids, self.sequence_ids)) if w == word_index and s == sequence_index]
        return (idx[0], idx[-1] + 1) if idx else None


processors._Encoding = Encoding


def _pad_details(details: tuple, n: int, pad_token: str, direction: str) -> tuple[list, list, list, list, list]:
    t, o, w, m, q = details
    if direction == "right":
        return t + [pad_token] * n, o + [(0, 0)] * n, w + [None] * n, m + [1] * n, q + [None] * n
    return [pad_token] * n + t, [(0, 0)] * n + o, [None] * n + w, [1] * n + m, [None] * n + q


def _truncate_pair(a: Encoding, b: Encoding | None, max_length: int, stride: int, strategy: str, direction: str) -> None:
    """Upstream ``truncate_encodings``: cut a (and b) so that together they fit `max_length`."""
    if max_length == 0:
        a.truncate(0, stride, direction)
        if b is not None:
            b.truncate(0, stride, direction)
        return
    total = len(a.ids) + (len(b.ids) if b is not None else 0)
    if total <= max_length:
        return
    to_remove = total - max_length
    if strategy == "longest_first":
        if b is None:
            a.truncate(max_length, stride, direction)
            return
        n1, n2 = len(a.ids), len(b.ids)
        swap = n1 > n2
        if swap:
            n1, n2 = n2, n1
        n2 = n1 if n1 > max_length else max(n1, max_length - n1)
        if n1 + n2 > max_length:
            n1 = max_length // 2
            n2 = n1 + max_length % 2
        if swap:
            n1, n2 = n2, n1
        a.truncate(n1, stride, direction)
        b.truncate(n2, stride, direction)
        return
    target = a if strategy == "only_first" else b
    if target is None:
        raise ValueError("Truncation error: Second sequence not provided")
    if len(target.ids) > to_remove:
        target.truncate(len(target.ids) - to_remove, stride, direction)
    else:
        raise ValueError("Truncation error: Sequence to truncate too short to respect the provided max_length")


# ----------------------------------------------------------------------------------------------
# Tokenizer: the five stages composed
# ----------------------------------------------------------------------------------------------


class AddedToken:
    """A token matched verbatim in the text before normalisation (``[CLS]``, ``[MASK]`` …)."""

    def __init__(
        self,
        content: str,
        special: bool = False,
        normalized: bool | None = None,
        lstrip: bool = False,
        rstrip: bool = False,
        single_word: bool = False,
    ) -> None:
        self.content = content
        self.special = special
        self.normalized = (not special) if normalized is None else normalized
        self.lstrip = lstrip
        self.rstrip = rstrip
        self.single_word = single_word
        self.id: int = -1

    def __str__(self) -> str:
        return self.content

    def __repr__(self) -> str:
        return (
            f"AddedToken({self.content!r}, rstrip={self.rstrip}, lstrip={self.lstrip}, single_word={self.single_word}, "
            f"normalized={self.normalized}, special={self.special})"
        )


class Tokenizer:
    """normalizer -> pre_tokenizer -> model -> post_processor (+ decoder), each swappable.

    Mirrors ``tokenizers.Tokenizer``: ``encode``/``encode_batch`` return
    :class:`Encoding`; truncation and padding are optional settings of the
    pipeline (``enable_truncation``/``enable_padding``).
    """

    def __init__(
        self,
        model: models.WordPiece,
        normalizer: normalizers.Normalizer | None = None,
        pre_tokenizer: pre_tokenizers.PreTokenizer | None = None,
        post_processor: processors.TemplateProcessing | None = None,
        decoder: decoders.WordPiece | None = None,
    ) -> None:
        self.model = model
        self.normalizer = normalizer
        self.pre_tokenizer = pre_tokenizer
        self.post_processor = post_processor
        self.decoder = decoder
        self.added_tokens: list[AddedToken] = []
        self._added_by_content: dict[str, AddedToken] = {}
        self._added_by_id: dict[int, AddedToken] = {}
        self._split_re: re.Pattern | None = None
        self._added_first: set[str] = set()
        self.truncation: dict[str, Any] | None = None
        self.padding: dict[str, Any] | None = None

    # -- construction / serialisation --------------------------------------------------------
    @classmethod
    def from_file(cls, path: str | os.PathLike) -> "Tokenizer":
        return loading.tokenizer_from_dict(loading.read_json(path))

    @classmethod
    def from_str(cls, text: str) -> "Tokenizer":
        return loading.tokenizer_from_dict(json.loads(text))

    def to_str(self, pretty: bool = False) -> str:
        return json.dumps(loading.tokenizer_to_dict(self), indent=2 if pretty else None, ensure_ascii=False)

    def save(self, path: str | os.PathLike, pretty: bool = True) -> None:
        loading.write_atomic(path, self.to_str(pretty))

    # -- vocabulary ------------------------------------------------------------------------
    def add_token(self, token: AddedToken, idx: int | None = None) -> bool:
        """Add one token; returns True when it is new to the vocabulary."""
        if token.content in self._added_by_content:
            return False
        if idx is None:
            idx = self.model.token_to_id(token.content)
        new = idx is None
        if new:
            idx = self.get_vocab_size(with_added_tokens=True)
        token.id = idx
        self.added_tokens.append(token)
        self._added_by_content[token.content] = token
        self._added_by_id[idx] = token
        self._build_split_re()
        return new

    def add_tokens(self, tokens: Iterable[str | AddedToken]) -> int:
        return sum(self.add_token(t if isinstance(t, AddedToken) else AddedToken(t)) for t in tokens)

    def add_special_tokens(self, tokens: Iterable[str | AddedToken]) -> int:
        return sum(self.add_token(t if isinstance(t, AddedToken) else AddedToken(t, special=True)) for t in tokens)

    def _build_split_re(self) -> None:
        if not self.added_tokens:
            self._split_re = None
            return
        alts = []
        for t in sorted(self.added_tokens, key=lambda t: -len(t.content)):  # longest match first
            body = re.escape(t.content)
            if t.single_word:
                body = rf"(?<!\w){body}(?!\w)"
            alts.append((r"\s*" if t.lstrip else "") + f"({body})" + (r"\s*" if t.rstrip else ""))
        self._split_re = re.compile("|".join(alts))
        self._added_first = {t.content[0] for t in self.added_tokens if t.content}

    def get_vocab(self, with_added_tokens: bool = True) -> dict[str, int]:
        vocab = dict(self.model.vocab)
        if with_added_tokens:
            vocab.update({t.content: t.id for t in self.added_tokens})
        return vocab

    def get_vocab_size(self, with_added_tokens: bool = True) -> int:
        n = len(self.model.vocab)
        if with_added_tokens:
            n += sum(1 for t in self.added_tokens if t.content not in self.model.vocab)
        return n

    def token_to_id(self, token: str) -> int | None:
        t = self._added_by_content.get(token)
        return t.id if t is not None else self.model.token_to_id(token)

    def id_to_token(self, idx: int) -> str | None:
        t = self._added_by_id.get(idx)
        return t.content if t is not None else self.model.id_to_token(idx)

    # -- settings --------------------------------------------------------------------------
    def enable_truncation(self, max_length: int, stride: int = 0, strategy: str = "longest_first", direction: str = "right") -> None:
        self.truncation = {"max_length": max_length, "stride": stride, "strategy": strategy, "direction": direction}

    def no_truncation(self) -> None:
        self.truncation = None

    def enable_padding(
        self, direction: str = "right", pad_id: int = 0, pad_type_id: int = 0, pad_token: str = "[PAD]",
        length: int | None = None, pad_to_multiple_of: int | None = None,
    ) -> None:
        self.padding = {
            "length": length, "direction": direction, "pad_id": pad_id, "pad_type_id": pad_type_id,
            "pad_token": pad_token, "pad_to_multiple_of": pad_to_multiple_of,
        }

    def no_padding(self) -> None:
        self.padding = None

    def num_special_tokens_to_add(self, is_pair: bool) -> int:
        return self.post_processor.added_tokens(is_pair) if self.post_processor is not None else 0

    # -- encoding --------------------------------------------------------------------------
    def _segments(self, text: str) -> list[tuple[int, int, AddedToken | None]]:
        """Cut `text` around added tokens: (start, end, token or None)."""
        rx = self._split_re
        if rx is None:
            return [(0, len(text), None)]
        out: list[tuple[int, int, AddedToken | None]] = []
        pos = 0
        for m in rx.finditer(text):
            g = m.lastindex
            start, end = m.span()
            if start > pos:
                out.append((pos, start, None))
            tok = self._added_by_content[m.group(g)]
            out.append((m.start(g), m.end(g), tok))
            pos = end
        if pos < len(text):
            out.append((pos, len(text), None))
        return out

    def _encode_words(self, text: str, fixed_word: int | None = None) -> Encoding:
        """One text (no special tokens): ids now; tokens, offsets and word ids when asked for.

        The fast path (no added token in the text) is C-level string work plus one
        dict look-up per word; the per-token details are computed lazily.
        """
        rx = self._split_re
        if rx is None or self._added_first.isdisjoint(text) or rx.search(text) is None:
            norm = self.normalizer.normalize(text)[0] if self.normalizer is not None else text
            if self.pre_tokenizer is not None:
                words = self.pre_tokenizer.split(norm)
            else:
                words = [norm] if norm else []
            ids = list(_chain(map(self.model.word_ids_cache.__getitem__, words)))
            n = len(ids)
            return Encoding(ids, [0] * n, None, None, None, None, [1] * n, None, thunk=partial(self._details, text, fixed_word))
        return self._encode_words_eager(text, fixed_word)

    def _details(self, text: str, fixed_word: int | None) -> tuple[list, list, list, list, list]:
        e = self._encode_words_eager(text, fixed_word)
        return e._tokens, e._offsets, e._word_ids, e._special_tokens_mask, e._sequence_ids

    def _encode_words_eager(self, text: str, fixed_word: int | None = None) -> Encoding:
        ids: list[int] = []
        tokens: list[str] = []
        offsets: list[tuple[int, int]] = []
        word_ids: list[int | None] = []
        normalize = self.normalizer.normalize if self.normalizer is not None else None
        pre = self.pre_tokenizer
        tokenize = self.model.tokenize
        w = 0
        for seg_start, seg_end, added in self._segments(text):
            if added is not None:
                ids.append(added.id)
                tokens.append(added.content)
                offsets.append((seg_start, seg_end))
                word_ids.append(w if fixed_word is None else fixed_word)
                w += 1
                continue
            piece = text[seg_start:seg_end] if (seg_start or seg_end != len(text)) else text
            norm, align = normalize(piece) if normalize is not None else (piece, None)
            if pre is not None:
                words = pre.split_spans(norm)
            else:
                words = [(norm, 0, len(norm))] if norm else []
            for word, ws, _ in words:
                p_ids, p_toks, p_spans = tokenize(word)
                ids += p_ids
                tokens += p_toks
                if align is None:
                    base = seg_start + ws
                    offsets += [(base + a, base + b) for a, b in p_spans]
                else:
                    offsets += [(seg_start + align[ws + a], seg_start + align[ws + b - 1] + 1) for a, b in p_spans]
                word_ids += [w if fixed_word is None else fixed_word] * len(p_ids)
                w += 1
        n = len(ids)
        return Encoding(ids, [0] * n, tokens, offsets, word_ids, [0] * n, [1] * n, [0] * n)

    def _encode_sequence(self, seq: str | Sequence[str], is_pretokenized: bool) -> Encoding:
        if not is_pretokenized:
            return self._encode_words(seq)
        out = Encoding.empty()
        for i, word in enumerate(seq):
            e = self._encode_words(word, fixed_word=i)
            out.ids += e.ids
            out.tokens += e.tokens
            out.offsets += e.offsets
            out.word_ids += e.word_ids
        n = len(out.ids)
        out.type_ids, out.special_tokens_mask, out.attention_mask, out.sequence_ids = [0] * n, [0] * n, [1] * n, [0] * n
        return out

    def encode(
        self,
        sequence: str | Sequence[str],
        pair: str | Sequence[str] | None = None,
        is_pretokenized: bool = False,
        add_special_tokens: bool = True,
    ) -> Encoding:
        enc = self._encode_unpadded(sequence, pair, is_pretokenized, add_special_tokens)
        if self.padding is not None:
            self._pad([enc])
        return enc

    def _encode_unpadded(self, sequence, pair, is_pretokenized: bool, add_special_tokens: bool) -> Encoding:
        a = self._encode_sequence(sequence, is_pretokenized)
        b = self._encode_sequence(pair, is_pretokenized) if pair is not None else None
        t = self.truncation
        if t is not None:
            n_added = self.num_special_tokens_to_add(b is not None) if add_special_tokens else 0
            _truncate_pair(a, b, max(0, t["max_length"] - n_added), t["stride"], t["strategy"], t["direction"])
        if self.post_processor is not None:
            return self.post_processor.process(a, b, add_special_tokens)
        if b is None:
            return a
        b.type_ids = [1] * len(b.ids)
        b.sequence_ids = [1] * len(b.ids)
        for name in Encoding.FIELDS:
            setattr(a, name, getattr(a, name) + getattr(b, name))
        return a

    def encode_batch(
        self, inputs: Sequence[Any], is_pretokenized: bool = False, add_special_tokens: bool = True
    ) -> list[Encoding]:
        """Each input is a text, or a (text, pair) tuple/list."""
        encs = []
        for item in inputs:
            if isinstance(item, (tuple, list)) and len(item) == 2 and not is_pretokenized or (
                is_pretokenized and isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], (list, tuple))
            ):
                encs.append(self._encode_unpadded(item[0], item[1], is_pretokenized, add_special_tokens))
            else:
                encs.append(self._encode_unpadded(item, None, is_pretokenized, add_special_tokens))
        if self.padding is not None:
            self._pad(encs)
        return encs

    def _pad(self, encs: list[Encoding]) -> None:
        p = self.padding
        length = p["length"]
        if length is None:
            length = max((len(e.ids) for e in encs), default=0)
        m = p["pad_to_multiple_of"]
        if m and length % m:
            length += m - length % m
        for e in encs:
            e.pad(length, p["pad_id"], p["pad_type_id"], p["pad_token"], p["direction"])

    # -- decoding --------------------------------------------------------------------------
    def decode(self, ids: Sequence[int], skip_special_tokens: bool = True) -> str:
        tokens = []
        for i in ids:
            added = self._added_by_id.get(i)
            if added is not None:
                if skip_special_tokens and added.special:
                    continue
                tokens.append(added.content)
                continue
            t = self.model.id_to_token(i)
            if t is not None:
                tokens.append(t)
        return self.decoder.decode(tokens) if self.decoder is not None else " ".join(tokens)

    def decode_batch(self, sequences: Sequence[Sequence[int]], skip_special_tokens: bool = True) -> list[str]:
        return [self.decode(s, skip_special_tokens) for s in sequences]


# ----------------------------------------------------------------------------------------------
# BatchEncoding
# ----------------------------------------------------------------------------------------------


def _to_tensor(value: Any, tensor_type: str | None) -> Any:
    if tensor_type in (None, "list"):
        return value
    if tensor_type == "pt":
        import torch

        if isinstance(value, torch.Tensor):
            return value
        return torch.tensor(value)
    if tensor_type == "np":
        import numpy as np

        return np.asarray(value)
    raise ValueError(f"return_tensors={tensor_type!r} is not supported: use 'pt', 'np' or None")


class BatchEncoding(dict):
    """The tokenizer's output: a dict (``input_ids``, ``attention_mask`` …) with attribute access,
    plus the :class:`Encoding` objects for alignment queries (``word_ids``, ``tokens`` …)."""

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        encoding: Encoding | list[Encoding] | None = None,
        tensor_type: str | None = None,
        prepend_batch_axis: bool = False,
        n_sequences: int | None = None,
    ) -> None:
        super().__init__(data or {})
        if isinstance(encoding, Encoding):
            encoding = [encoding]
        self._encodings = encoding
        self._n_sequences = n_sequences
        self.convert_to_tensors(tensor_type, prepend_batch_axis=prepend_batch_axis)

    def __getattr__(self, item: str) -> Any:
        if item.startswith("__"):
            raise AttributeError(item)
        try:
            return self[item]
        except KeyError:
            raise AttributeError(f"BatchEncoding has no attribute or key {item!r}; keys: {list(self.keys())}") from None

    def __getitem__(self, item: Any) -> Any:
        if isinstance(item, str):
            return super().__getitem__(item)
        if isinstance(item, int):
            if self._encodings is None:
                raise KeyError("integer indexing needs the Encoding objects of a fast tokenizer")
            return self._encodings[item]
        if isinstance(item, slice):
            return {k: v[item] for k, v in self.items()}
        raise KeyError(f"invalid key {item!r}: use a str key, an int (Encoding) or a slice")

    def __getstate__(self) -> dict:
        return {"data": dict(self), "encodings": self._encodings, "n": self._n_sequences}

    def __setstate__(self, state: dict) -> None:
        self.update(state["data"])
        self._encodings = state["encodings"]
        self._n_sequences = state["n"]

    def __reduce__(self):
        return (BatchEncoding, (), self.__getstate__())

    @property
    def encodings(self) -> list[Encoding] | None:
        return self._encodings

    @property
    def is_fast(self) -> bool:
        return self._encodings is not None

    @property
    def n_sequences(self) -> int | None:
        return self._n_sequences

    def data_dict(self) -> dict[str, Any]:
        return dict(self)

    @property
    def data(self) -> dict[str, Any]:
        return dict(self)

    def _enc(self, batch_index: int) -> Encoding:
        if self._encodings is None:
            raise ValueError("this BatchEncoding has no Encoding objects (it was not made by a fast tokenizer)")
        return self._encodings[batch_index]

    def tokens(self, batch_index: int = 0) -> list[str]:
        return self._enc(batch_index).tokens

    def word_ids(self, batch_index: int = 0) -> list[int | None]:
        return self._enc(batch_index).word_ids

    words = word_ids

    def sequence_ids(self, batch_index: int = 0) -> list[int | None]:
        return self._enc(batch_index).sequence_ids

    def token_to_word(self, batch_or_token_index: int, token_index: int | None = None) -> int | None:
        b, t = (0, batch_or_token_index) if token_index is None else (batch_or_token_index, token_index)
        return self._enc(b).token_to_word(t)

    def token_to_chars(self, batch_or_token_index: int, token_index: int | None = None):
        b, t = (0, batch_or_token_index) if token_index is None else (batch_or_token_index, token_index)
        return self._enc(b).token_to_chars(t)

    def char_to_token(self, batch_or_char_index: int, char_index: int | None = None, sequence_index: int = 0) -> int | None:
        b, c = (0, batch_or_char_index) if char_index is None else (batch_or_char_index, char_index)
        return self._enc(b).char_to_token(c, sequence_index)

    def word_to_tokens(self, batch_or_word_index: int, word_index: int | None = None, sequence_index: int = 0):
        b, w = (0, batch_or_word_index) if word_index is None else (batch_or_word_index, word_index)
        return self._enc(b).word_to_tokens(w, sequence_index)

    def convert_to_tensors(self, tensor_type: str | None = None, prepend_batch_axis: bool = False) -> "BatchEncoding":
        if tensor_type is None:
            return self
        for key, value in list(self.items()):
            if prepend_batch_axis:
                value = [value]
            try:
                self[key] = _to_tensor(value, tensor_type)
            except ValueError as e:
                if "not supported" in str(e):
                    raise
                raise ValueError(
                    "Unable to create tensor, you should probably activate truncation and/or padding with "
                    "'padding=True' 'truncation=True' to have batched tensors with the same length. "
                    f"Perhaps your features (`{key}` in this case) have excessive nesting (inputs type `list` where "
                    "type `int` is expected)."
                ) from e
        return self

    def to(self, device: Any, *, non_blocking: bool = False) -> "BatchEncoding":
        for key, value in list(self.items()):
            if hasattr(value, "to") and callable(value.to) and type(value).__module__.startswith("torch"):
                self[key] = value.to(device=device, non_blocking=non_blocking)
        return self


# ----------------------------------------------------------------------------------------------
# PreTrainedTokenizerFast: the transformers API
# ----------------------------------------------------------------------------------------------

_INIT_KWARGS = (
    "model_max_length", "padding_side", "truncation_side", "model_input_names", "clean_up_tokenization_spaces",
    "bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token",
    "additional_special_tokens", "name_or_path", "split_special_tokens",
)
_BERT_KWARGS = ("do_lower_case", "tokenize_chinese_chars", "strip_accents", "wordpieces_prefix")
_FROM_PRETRAINED_KWARGS = (
    "cache_dir", "force_download", "local_files_only", "token", "revision", "subfolder",
    "use_fast", "trust_remote_code", "tokenizer_type", "use_auth_token", "proxies", "_from_auto",
    "tokenizer_file", "vocab_file",
)
_CALL_KWARGS = (
    "text", "text_pair", "add_special_tokens", "padding", "truncation", "max_length", "stride",
    "is_split_into_words", "pad_to_multiple_of", "padding_side", "return_tensors", "return_token_type_ids",
    "return_attention_mask", "return_overflowing_tokens", "return_special_tokens_mask", "return_offsets_mapping",
    "return_length", "verbose",
)


def _unknown_kwargs(where: str, given: Mapping[str, Any], valid: Iterable[str]) -> None:
    if given:
        raise TypeError(
            f"{where} got unexpected keyword argument(s) {sorted(given)}; valid names are: {', '.join(sorted(valid))}"
        )


def _describe(x: Any) -> str:
    if isinstance(x, (list, tuple)):
        inner = sorted({type(v).__name__ for v in x})
        return f"{type(x).__name__}[{' | '.join(inner) or 'empty'}]"
    return type(x).__name__


class PreTrainedTokenizerFast:
    """The ``transformers`` tokenizer API over a :class:`Tokenizer`.

    Load with :meth:`from_pretrained`; call with one text, a list of texts, or
    text pairs. See ``transformers.PreTrainedTokenizerFast`` for the contract
    this follows.
    """

    model_input_names: list[str] = ["input_ids", "token_type_ids", "attention_mask"]
    padding_side: str = "right"
    truncation_side: str = "right"
    tokenizer_class_name = "PreTrainedTokenizerFast"
    is_fast = True

    def __init__(
        self,
        tokenizer_object: Tokenizer | None = None,
        *,
        tokenizer_file: str | os.PathLike | None = None,
        model_max_length: int | None = None,
        padding_side: str | None = None,
        truncation_side: str | None = None,
        model_input_names: list[str] | None = None,
        clean_up_tokenization_spaces: bool = False,
        bos_token: str | None = None,
        eos_token: str | None = None,
        unk_token: str | None = None,
        sep_token: str | None = None,
        pad_token: str | None = None,
        cls_token: str | None = None,
        mask_token: str | None = None,
        additional_special_tokens: list[str] | None = None,
        name_or_path: str = "",
        split_special_tokens: bool = False,
        **kwargs: Any,
    ) -> None:
        _unknown_kwargs(type(self).__name__ + "()", kwargs, _INIT_KWARGS + ("tokenizer_object", "tokenizer_file"))
        if tokenizer_object is None:
            if tokenizer_file is None:
                raise ValueError("PreTrainedTokenizerFast needs tokenizer_object= or tokenizer_file= (a tokenizer.json)")
            tokenizer_object = Tokenizer.from_file(tokenizer_file)
        else:
            tokenizer_object = copy.deepcopy(tokenizer_object)
        self._tokenizer = tokenizer_object
        # transformers manages truncation/padding per call: the file's settings do not apply.
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        self.model_max_length = VERY_LARGE_INTEGER if model_max_length is None else int(model_max_length)
        if padding_side is not None:
            self.padding_side = padding_side
        if truncation_side is not None:
            self.truncation_side = truncation_side
        for side in (self.padding_side, self.truncation_side):
            if side not in ("right", "left"):
                raise ValueError(f"padding/truncation side must be 'right' or 'left', got {side!r}")
        if model_input_names is not None:
            self.model_input_names = list(model_input_names)
        self.clean_up_tokenization_spaces = clean_up_tokenization_spaces
        self.name_or_path = str(name_or_path)
        self.split_special_tokens = split_special_tokens
        self.deprecation_warnings: dict[str, bool] = {}
        self.init_kwargs: dict[str, Any] = {}
        self.pad_token_type_id = 0
        self._special: dict[str, str | None] = {}
        given = dict(bos_token=bos_token, eos_token=eos_token, unk_token=unk_token, sep_token=sep_token,
                     pad_token=pad_token, cls_token=cls_token, mask_token=mask_token)
        for key in SPECIAL_TOKENS_ATTRIBUTES:
            value = given[key]
            self._special[key] = str(value) if value is not None else None
        self._additional: list[str] = [str(t) for t in additional_special_tokens or []]
        new_specials = [t for t in list(self._special.values()) + self._additional if t is not None]
        for t in new_specials:
            if t not in self._tokenizer._added_by_content:
                self._tokenizer.add_token(AddedToken(t, special=True, normalized=False))

    # -- special tokens ----------------------------------------------------------------------
    def _special_id(self, key: str) -> int | None:
        tok = self._special.get(key)
        return None if tok is None else self.convert_tokens_to_ids(tok)

    def _set_special(self, key: str, value: str | None) -> None:
        self._special[key] = None if value is None else str(value)
        if value is not None and str(value) not in self._tokenizer._added_by_content:
            self._tokenizer.add_token(AddedToken(str(value), special=True, normalized=False))

    bos_token = property(lambda s: s._special["bos_token"], lambda s, v: s._set_special("bos_token", v))
    eos_token = property(lambda s: s._special["eos_token"], lambda s, v: s._set_special("eos_token", v))
    unk_token = property(lambda s: s._special["unk_token"], lambda s, v: s._set_special("unk_token", v))
    sep_token = property(lambda s: s._special["sep_token"], lambda s, v: s._set_special("sep_token", v))
    pad_token = property(lambda s: s._special["pad_token"], lambda s, v: s._set_special("pad_token", v))
    cls_token = property(lambda s: s._special["cls_token"], lambda s, v: s._set_special("cls_token", v))
    mask_token = property(lambda s: s._special["mask_token"], lambda s, v: s._set_special("mask_token", v))
    bos_token_id = property(lambda s: s._special_id("bos_token"))
    eos_token_id = property(lambda s: s._special_id("eos_token"))
    unk_token_id = property(lambda s: s._special_id("unk_token"))
    sep_token_id = property(lambda s: s._special_id("sep_token"))
    pad_token_id = property(lambda s: s._special_id("pad_token"))
    cls_token_id = property(lambda s: s._special_id("cls_token"))
    mask_token_id = property(lambda s: s._special_id("mask_token"))

    @property
    def additional_special_tokens(self) -> list[str]:
        return list(self._additional)

    @property
    def special_tokens_map(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: v for k, v in self._special.items() if v is not None}
        if self._additional:
            out["additional_special_tokens"] = list(self._additional)
        return out

    @property
    def all_special_tokens(self) -> list[str]:
        seen: list[str] = []
        for t in [v for v in self._special.values() if v is not None] + self._additional:
            if t not in seen:
                seen.append(t)
        return seen

    @property
    def all_special_ids(self) -> list[int]:
        return self.convert_tokens_to_ids(self.all_special_tokens)

    # -- vocabulary -------------------------------------------------------------------------
    @property
    def backend_tokenizer(self) -> Tokenizer:
        return self._tokenizer

    @property
    def vocab_size(self) -> int:
        return self._tokenizer.get_vocab_size(with_added_tokens=False)

    def __len__(self) -> int:
        return self._tokenizer.get_vocab_size(with_added_tokens=True)

    def get_vocab(self) -> dict[str, int]:
        return self._tokenizer.get_vocab(with_added_tokens=True)

    @property
    def vocab(self) -> dict[str, int]:
        return self.get_vocab()

    def get_added_vocab(self) -> dict[str, int]:
        return {t.content: t.id for t in self._tokenizer.added_tokens if t.content not in self._tokenizer.model.vocab}

    def add_tokens(self, new_tokens: str | AddedToken | list[str | AddedToken], special_tokens: bool = False) -> int:
        if isinstance(new_tokens, (str, AddedToken)):
            new_tokens = [new_tokens]
        if special_tokens:
            return self._tokenizer.add_special_tokens(new_tokens)
        return self._tokenizer.add_tokens(new_tokens)

    def add_special_tokens(self, special_tokens_dict: dict[str, Any], replace_additional_special_tokens: bool = True) -> int:
        added = 0
        for key, value in special_tokens_dict.items():
            if key == "additional_special_tokens":
                values = [str(v) for v in value]
                added += self._tokenizer.add_special_tokens(values)
                self._additional = values if replace_additional_special_tokens else self._additional + values
            elif key in SPECIAL_TOKENS_ATTRIBUTES:
                added += self._tokenizer.add_special_tokens([str(value)])
                self._special[key] = str(value)
            else:
                raise ValueError(f"{key!r} is not a special token name; use one of {SPECIAL_TOKENS_ATTRIBUTES + ['additional_special_tokens']}")
        return added

    def convert_tokens_to_ids(self, tokens: str | Sequence[str] | None) -> int | list[int] | None:
        if tokens is None:
            return None
        if isinstance(tokens, str):
            idx = self._tokenizer.token_to_id(tokens)
            return self.unk_token_id if idx is None else idx
        return [self.convert_tokens_to_ids(t) for t in tokens]

    def convert_ids_to_tokens(self, ids: int | Sequence[int], skip_special_tokens: bool = False) -> str | list[str]:
        if isinstance(ids, int) or (hasattr(ids, "ndim") and ids.ndim == 0):
            return self._tokenizer.id_to_token(int(ids))
        special = set(self.all_special_ids) if skip_special_tokens else ()
        return [self._tokenizer.id_to_token(int(i)) for i in ids if int(i) not in special]

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        dec = self._tokenizer.decoder
        return dec.decode(tokens) if dec is not None else " ".join(tokens)

    def num_special_tokens_to_add(self, pair: bool = False) -> int:
        return self._tokenizer.num_special_tokens_to_add(pair)

    def build_inputs_with_special_tokens(self, token_ids_0: list[int], token_ids_1: list[int] | None = None) -> list[int]:
        out = [self.cls_token_id] + list(token_ids_0) + [self.sep_token_id]
        if token_ids_1 is not None:
            out += list(token_ids_1) + [self.sep_token_id]
        return out

    def create_token_type_ids_from_sequences(self, token_ids_0: list[int], token_ids_1: list[int] | None = None) -> list[int]:
        out = [0] * (len(token_ids_0) + 2)
        if token_ids_1 is not None:
            out += [1] * (len(token_ids_1) + 1)
        return out

    def get_special_tokens_mask(
        self, token_ids_0: list[int], token_ids_1: list[int] | None = None, already_has_special_tokens: bool = False
    ) -> list[int]:
        if already_has_special_tokens:
            special = set(self.all_special_ids)
            return [1 if i in special else 0 for i in token_ids_0]
        out = [1] + [0] * len(token_ids_0) + [1]
        if token_ids_1 is not None:
            out += [0] * len(token_ids_1) + [1]
        return out

    # -- encoding -------------------------------------------------------------------------
    def __call__(self, text: Any = None, text_pair: Any = None, **kwargs: Any) -> BatchEncoding:
        """Tokenise one text, a batch of texts, or text pairs (see ``transformers`` ``__call__``)."""
        opts = self._call_options(kwargs)
        if text is None:
            raise ValueError("You need to specify `text` (a str, a list of str, or pre-split words).")
        return self._encode(text, text_pair, **opts)

    def _call_options(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        known = {k: kwargs.pop(k) for k in list(kwargs) if k in _CALL_KWARGS}
        for ignored in ("text_target", "text_pair_target"):
            if kwargs.get(ignored) is not None:
                raise TypeError(f"{ignored} is not supported by minformers tokenizers yet")
            kwargs.pop(ignored, None)
        _unknown_kwargs("tokenizer call", kwargs, _CALL_KWARGS)
        return known

    def _is_valid(self, text: Any, is_split_into_words: bool) -> bool:
        if isinstance(text, str):
            return True
        if isinstance(text, (list, tuple)):
            if len(text) == 0:
                return True
            first = text[0]
            if isinstance(first, str):
                return all(isinstance(t, str) for t in text)
            if isinstance(first, (list, tuple)):
                return all(isinstance(t, (list, tuple)) and all(isinstance(w, str) for w in t) for t in text)
        return False

    def _encode(
        self,
        text: Any,
        text_pair: Any = None,
        add_special_tokens: bool = True,
        padding: bool | str = False,
        truncation: bool | str | None = None,
        max_length: int | None = None,
        stride: int = 0,
        is_split_into_words: bool = False,
        pad_to_multiple_of: int | None = None,
        padding_side: str | None = None,
        return_tensors: str | None = None,
        return_token_type_ids: bool | None = None,
        return_attention_mask: bool | None = None,
        return_overflowing_tokens: bool = False,
        return_special_tokens_mask: bool = False,
        return_offsets_mapping: bool = False,
        return_length: bool = False,
        verbose: bool = True,
    ) -> BatchEncoding:
        accepted = "a str, a list of str (a batch, or one pre-split text with is_split_into_words=True) or a list of lists of str"
        for name, value in (("text", text), ("text_pair", text_pair)):
            if value is not None and not self._is_valid(value, is_split_into_words):
                raise TypeError(f"{name} must be {accepted}; got {_describe(value)}")
        if is_split_into_words:
            batched = isinstance(text, (list, tuple)) and len(text) > 0 and isinstance(text[0], (list, tuple))
        else:
            batched = isinstance(text, (list, tuple))
        if batched:
            if text_pair is not None:
                if not isinstance(text_pair, (list, tuple)) or len(text_pair) != len(text):
                    raise ValueError(
                        f"batch length of `text`: {len(text)} does not match batch length of `text_pair`: "
                        f"{len(text_pair) if isinstance(text_pair, (list, tuple)) else 'not a list'}."
                    )
                inputs = list(zip(text, text_pair))
            elif not is_split_into_words and any(isinstance(t, (list, tuple)) for t in text):
                # a batch of (text, pair) tuples, as the reference accepts
                if not all(isinstance(t, (list, tuple)) and len(t) == 2 for t in text):
                    raise TypeError(f"text must be {accepted}, or a list of (text, text_pair) tuples; got {_describe(text)}")
                inputs = [(t[0], t[1]) for t in text]
            else:
                inputs = [(t, None) for t in text]
        else:
            inputs = [(text, text_pair or None)]  # an empty pair means no pair, as the reference (single input only)
        pad_strategy, trunc_strategy, max_length = self._strategies(padding, truncation, max_length, pad_to_multiple_of, verbose)
        if return_overflowing_tokens and trunc_strategy == "longest_first" and any(b is not None for _, b in inputs):
            pass  # the fast (Rust) tokenizer allows it; so do we
        tok = self._tokenizer
        if trunc_strategy is not None:
            tok.enable_truncation(max_length, stride=stride, strategy=trunc_strategy, direction=self.truncation_side)
        else:
            tok.no_truncation()
        try:
            encodings = [tok._encode_unpadded(a, b, is_split_into_words, add_special_tokens) for a, b in inputs]
        finally:
            tok.no_truncation()
        if pad_strategy is not None:
            tok.enable_padding(
                direction=padding_side or self.padding_side, pad_id=self.pad_token_id, pad_type_id=self.pad_token_type_id,
                pad_token=self.pad_token, length=max_length if pad_strategy == "max_length" else None,
                pad_to_multiple_of=pad_to_multiple_of,
            )
            try:
                tok._pad(encodings)
            finally:
                tok.no_padding()
        data, flat = self._to_dict(
            encodings, return_token_type_ids, return_attention_mask, return_overflowing_tokens,
            return_special_tokens_mask, return_offsets_mapping, return_length,
        )
        if max_length is None and verbose and not self.deprecation_warnings.get("sequence-length-is-longer-than-the-specified-maximum"):
            for ids in data["input_ids"]:
                if len(ids) > self.model_max_length:
                    logger.warning(
                        "Token indices sequence length is longer than the specified maximum sequence length for this "
                        f"model ({len(ids)} > {self.model_max_length}). Running this sequence through the model will "
                        "result in indexing errors"
                    )
                    self.deprecation_warnings["sequence-length-is-longer-than-the-specified-maximum"] = True
                    break
        n_seq = 2 if any(b is not None for _, b in inputs) else 1
        if not batched and return_tensors is None and not return_overflowing_tokens:
            data = {k: (v[0] if v and isinstance(v[0], list) else v) for k, v in data.items()}
        return BatchEncoding(data, flat, tensor_type=return_tensors, n_sequences=n_seq)

    def _to_dict(
        self, encodings: list[Encoding], return_token_type_ids: bool | None, return_attention_mask: bool | None,
        return_overflowing_tokens: bool, return_special_tokens_mask: bool, return_offsets_mapping: bool, return_length: bool,
    ) -> tuple[dict[str, list], list[Encoding]]:
        if return_token_type_ids is None:
            return_token_type_ids = "token_type_ids" in self.model_input_names
        if return_attention_mask is None:
            return_attention_mask = "attention_mask" in self.model_input_names
        if return_overflowing_tokens:
            flat, mapping = [], []
            for i, e in enumerate(encodings):
                rows = [e] + e.overflowing
                flat += rows
                mapping += [i] * len(rows)
        else:
            flat, mapping = encodings, None
        data: dict[str, list] = {"input_ids": [e.ids for e in flat]}
        if return_token_type_ids:
            data["token_type_ids"] = [e.type_ids for e in flat]
        if return_attention_mask:
            data["attention_mask"] = [e.attention_mask for e in flat]
        if return_special_tokens_mask:
            data["special_tokens_mask"] = [e.special_tokens_mask for e in flat]
        if return_offsets_mapping:
            data["offset_mapping"] = [e.offsets for e in flat]
        if return_length:
            data["length"] = [len(e.ids) for e in flat]
        if mapping is not None:
            data["overflow_to_sample_mapping"] = mapping
        return data, flat

    def _strategies(
        self, padding: Any, truncation: Any, max_length: int | None, pad_to_multiple_of: int | None, verbose: bool
    ) -> tuple[str | None, str | None, int | None]:
        """transformers' ``_get_padding_truncation_strategies``, same defaults and warnings."""
        if max_length is not None and padding is False and truncation is None:
            if verbose and not self.deprecation_warnings.get("Truncation-not-explicitly-activated"):
                logger.warning(
                    "Truncation was not explicitly activated but `max_length` is provided a specific value, please use "
                    "`truncation=True` to explicitly truncate examples to max length. Defaulting to 'longest_first' "
                    "truncation strategy. If you encode pairs of sequences (GLUE-style) with the tokenizer you can "
                    "select this strategy more precisely by providing a specific strategy to `truncation`."
                )
                self.deprecation_warnings["Truncation-not-explicitly-activated"] = True
            truncation = "longest_first"
        try:
            pad = _PADDING[padding.value if hasattr(padding, "value") else padding]
        except (KeyError, TypeError):
            raise ValueError(f"padding={padding!r} is not valid; use True, False, 'longest', 'max_length' or 'do_not_pad'") from None
        try:
            trunc = _TRUNCATION[truncation.value if hasattr(truncation, "value") else truncation]
        except (KeyError, TypeError):
            raise ValueError(
                f"truncation={truncation!r} is not valid; use True, False, 'longest_first', 'only_first', 'only_second' "
                "or 'do_not_truncate'"
            ) from None
        if padding is True and verbose and max_length is not None and trunc is None:
            warnings.warn(
                "`max_length` is ignored when `padding`=`True` and there is no truncation strategy. "
                "To pad to max length, use `padding='max_length'`."
            )
        if max_length is None:
            if pad == "max_length":
                if self.model_max_length > LARGE_INTEGER:
                    if verbose and not self.deprecation_warnings.get("Asking-to-pad-to-max_length"):
                        logger.warning(
                            "Asking to pad to max_length but no maximum length is provided and the model has no "
                            "predefined maximum length. Default to no padding."
                        )
                        self.deprecation_warnings["Asking-to-pad-to-max_length"] = True
                    pad = None
                else:
                    max_length = self.model_max_length
            if trunc is not None:
                if self.model_max_length > LARGE_INTEGER:
                    if verbose and not self.deprecation_warnings.get("Asking-to-truncate-to-max_length"):
                        logger.warning(
                            "Asking to truncate to max_length but no maximum length is provided and the model has no "
                            "predefined maximum length. Default to no truncation."
                        )
                        self.deprecation_warnings["Asking-to-truncate-to-max_length"] = True
                    trunc = None
                else:
                    max_length = self.model_max_length
        if pad is not None and (self.pad_token is None or self.pad_token_id is None or self.pad_token_id < 0):
            raise ValueError(
                "Asking to pad but the tokenizer does not have a padding token. Please select a token to use as "
                "`pad_token` `(tokenizer.pad_token = tokenizer.eos_token e.g.)` or add a new pad token via "
                "`tokenizer.add_special_tokens({'pad_token': '[PAD]'})`."
            )
        if trunc is not None and pad is not None and pad_to_multiple_of is not None and max_length is not None and max_length % pad_to_multiple_of:
            raise ValueError(
                f"Truncation and padding are both activated but truncation length ({max_length}) is not a multiple "
                f"of pad_to_multiple_of ({pad_to_multiple_of})."
            )
        return pad, trunc, max_length

    def encode_plus(self, text: Any, text_pair: Any = None, **kwargs: Any) -> BatchEncoding:
        return self(text, text_pair, **kwargs)

    def batch_encode_plus(self, batch_text_or_text_pairs: Sequence[Any], **kwargs: Any) -> BatchEncoding:
        if not isinstance(batch_text_or_text_pairs, (list, tuple)):
            raise TypeError(f"batch_text_or_text_pairs has to be a list or a tuple (got {type(batch_text_or_text_pairs).__name__})")
        pairs = [x for x in batch_text_or_text_pairs if isinstance(x, tuple) and len(x) == 2 and not kwargs.get("is_split_into_words")]
        if pairs and len(pairs) == len(batch_text_or_text_pairs):
            return self([a for a, _ in pairs], [b for _, b in pairs], **kwargs)
        return self(list(batch_text_or_text_pairs), **kwargs)

    def encode(
        self, text: Any, text_pair: Any = None, add_special_tokens: bool = True, padding: bool | str = False,
        truncation: bool | str | None = None, max_length: int | None = None, stride: int = 0,
        padding_side: str | None = None, return_tensors: str | None = None, **kwargs: Any,
    ) -> list[int] | Any:
        """Token ids of one text (or pair), like ``tokenizer(text)["input_ids"]``."""
        opts = self._call_options(kwargs)
        out = self._encode(
            text, text_pair, add_special_tokens=add_special_tokens, padding=padding, truncation=truncation,
            max_length=max_length, stride=stride, padding_side=padding_side, return_tensors=return_tensors, **opts,
        )
        return out["input_ids"]

    def tokenize(self, text: str, pair: str | None = None, add_special_tokens: bool = False, **kwargs: Any) -> list[str]:
        opts = self._call_options(kwargs)
        opts.setdefault("add_special_tokens", add_special_tokens)
        return self._encode(text, pair, **opts).encodings[0].tokens

    # -- decoding -------------------------------------------------------------------------
    @staticmethod
    def _ids_list(token_ids: Any) -> list[int]:
        if hasattr(token_ids, "tolist"):
            token_ids = token_ids.tolist()
        if isinstance(token_ids, int):
            return [token_ids]
        return [int(i) for i in token_ids]

    def decode(
        self, token_ids: Any, skip_special_tokens: bool = False, clean_up_tokenization_spaces: bool | None = None, **kwargs: Any
    ) -> str:
        _unknown_kwargs("decode()", kwargs, ("token_ids", "skip_special_tokens", "clean_up_tokenization_spaces"))
        text = self._tokenizer.decode(self._ids_list(token_ids), skip_special_tokens=skip_special_tokens)
        cleanup = self.clean_up_tokenization_spaces if clean_up_tokenization_spaces is None else clean_up_tokenization_spaces
        return self.clean_up_tokenization(text) if cleanup else text

    def batch_decode(
        self, sequences: Any, skip_special_tokens: bool = False, clean_up_tokenization_spaces: bool | None = None, **kwargs: Any
    ) -> list[str]:
        if hasattr(sequences, "tolist"):
            sequences = sequences.tolist()
        return [self.decode(s, skip_special_tokens, clean_up_tokenization_spaces, **kwargs) for s in sequences]

    @staticmethod
    def clean_up_tokenization(out_string: str) -> str:
        return (
            out_string.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",")
            .replace(" ' ", "'").replace(" n't", "n't").replace(" 'm", "'m").replace(" 's", "'s")
            .replace(" 've", "'ve").replace(" 're", "'re")
        )

    # -- padding a batch (data collators) ---------------------------------------------------
    def pad(
        self,
        encoded_inputs: Any,
        padding: bool | str = True,
        max_length: int | None = None,
        pad_to_multiple_of: int | None = None,
        padding_side: str | None = None,
        return_attention_mask: bool | None = None,
        return_tensors: str | None = None,
        verbose: bool = True,
    ) -> BatchEncoding:
        """Pad already-encoded inputs (a dict of lists, or a list of dicts) to the same length."""
        if isinstance(encoded_inputs, (list, tuple)) and encoded_inputs and isinstance(encoded_inputs[0], Mapping):
            encoded_inputs = {k: [ex[k] for ex in encoded_inputs] for k in encoded_inputs[0].keys()}
        if not isinstance(encoded_inputs, Mapping):
            raise TypeError(f"pad() takes a dict of lists or a list of dicts; got {_describe(encoded_inputs)}")
        main = self.model_input_names[0]
        if main not in encoded_inputs:
            raise ValueError(
                f"You should supply an encoding or a list of encodings to this method that includes {main}, but you "
                f"provided {list(encoded_inputs.keys())}"
            )
        ids = encoded_inputs[main]
        if ids is None or (hasattr(ids, "__len__") and len(ids) == 0):
            return BatchEncoding(dict(encoded_inputs), tensor_type=return_tensors)
        first = ids[0]
        if return_tensors is None:
            mod = type(first).__module__ if not isinstance(first, (list, tuple)) or not first else type(first[0]).__module__
            if mod.startswith("torch"):
                return_tensors = "pt"
            elif mod.startswith("numpy"):
                return_tensors = "np"
        data = {k: (v.tolist() if hasattr(v, "tolist") else [x.tolist() if hasattr(x, "tolist") else x for x in v]) for k, v in encoded_inputs.items()}
        pad_strategy, _, max_length = self._strategies(padding, False, max_length, pad_to_multiple_of, verbose)
        batched = isinstance(data[main][0], (list, tuple))
        rows = data[main] if batched else [data[main]]
        if return_attention_mask is None:
            return_attention_mask = "attention_mask" in self.model_input_names
        if pad_strategy == "longest":
            max_length = max(len(r) for r in rows)
        if max_length is not None and pad_to_multiple_of and max_length % pad_to_multiple_of:
            max_length += pad_to_multiple_of - max_length % pad_to_multiple_of
        side = padding_side or self.padding_side
        n_rows = len(rows)
        out: dict[str, list] = {k: (list(v) if batched else [v]) for k, v in data.items()}
        if return_attention_mask and "attention_mask" not in out:
            out["attention_mask"] = [[1] * len(r) for r in rows]
        fill = {main: self.pad_token_id, "token_type_ids": self.pad_token_type_id, "attention_mask": 0, "special_tokens_mask": 1}
        for i in range(n_rows):
            n = (max_length - len(rows[i])) if pad_strategy is not None and max_length is not None else 0
            if n <= 0:
                continue
            for key, value in fill.items():
                if key in out:
                    row = list(out[key][i])
                    out[key][i] = row + [value] * n if side == "right" else [value] * n + row
        if not batched:
            out = {k: v[0] for k, v in out.items()}
        return BatchEncoding(out, tensor_type=return_tensors)

    # -- loading and saving ---------------------------------------------------------------
    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | os.PathLike, *init_inputs: Any, **kwargs: Any) -> "PreTrainedTokenizerFast":
        """Load from a folder or model name: tokenizer.json if present, else vocab.txt + tokenizer_config.json."""
        from minformers.hub import resolve_model_dir

        valid = set(_FROM_PRETRAINED_KWARGS) | set(_INIT_KWARGS) | set(_BERT_KWARGS)
        _unknown_kwargs(f"{cls.__name__}.from_pretrained()", {k: v for k, v in kwargs.items() if k not in valid}, valid)
        if init_inputs:
            raise TypeError(f"{cls.__name__}.from_pretrained() takes the folder or name only; pass options as keywords")
        hub_keys = ("revision", "cache_dir", "local_files_only", "token", "force_download", "subfolder")
        hub_args = {k: kwargs.pop(k) for k in hub_keys if k in kwargs}
        hub_args = {k: v for k, v in hub_args.items() if v is not None}
        if kwargs.get("trust_remote_code"):
            raise ValueError("trust_remote_code=True is refused: minformers runs only its own tokenizers")
        for k in ("use_fast", "trust_remote_code", "tokenizer_type", "use_auth_token", "proxies", "_from_auto"):
            kwargs.pop(k, None)
        folder = resolve_model_dir(pretrained_model_name_or_path, **hub_args)
        return _load_folder(cls, Path(folder), str(pretrained_model_name_or_path), kwargs)

    def _config_for_save(self) -> dict[str, Any]:
        cfg = dict(self.init_kwargs)
        added = {}
        for t in sorted(self._tokenizer.added_tokens, key=lambda t: t.id):
            added[str(t.id)] = {
                "content": t.content, "lstrip": t.lstrip, "normalized": t.normalized, "rstrip": t.rstrip,
                "single_word": t.single_word, "special": t.special,
            }
        cfg["added_tokens_decoder"] = added
        cfg["clean_up_tokenization_spaces"] = self.clean_up_tokenization_spaces
        cfg.update(self.special_tokens_map)
        cfg["model_max_length"] = self.model_max_length
        cfg["tokenizer_class"] = self.tokenizer_class_name
        if self.padding_side != "right":
            cfg["padding_side"] = self.padding_side
        if self.truncation_side != "right":
            cfg["truncation_side"] = self.truncation_side
        for k in ("name_or_path", "special_tokens_map_file", "tokenizer_file", "auto_map"):
            cfg.pop(k, None)
        return cfg

    def save_pretrained(self, save_directory: str | os.PathLike, legacy_format: bool | None = None, filename_prefix: str | None = None, push_to_hub: bool = False, **kwargs: Any) -> tuple[str, ...]:
        """Write tokenizer.json, tokenizer_config.json, special_tokens_map.json and vocab.txt (atomically)."""
        _unknown_kwargs("save_pretrained()", {k: v for k, v in kwargs.items() if k != "safe_serialization"}, ("legacy_format", "filename_prefix", "push_to_hub"))
        if push_to_hub:
            raise ValueError("push_to_hub is not available: the Hub is not reachable from minformers")
        folder = Path(save_directory)
        if folder.is_file():
            raise OSError(f"Provided path ({folder}) should be a directory, not a file")
        folder.mkdir(parents=True, exist_ok=True)
        pre = f"{filename_prefix}-" if filename_prefix else ""
        paths = {name: folder / (pre + name) for name in (loading.CONFIG_FILE, loading.SPECIAL_TOKENS_MAP_FILE, loading.TOKENIZER_FILE, loading.VOCAB_FILE)}
        loading.write_json(paths[loading.CONFIG_FILE], self._config_for_save())
        loading.write_json(paths[loading.SPECIAL_TOKENS_MAP_FILE], self.special_tokens_map)
        self._tokenizer.save(paths[loading.TOKENIZER_FILE])
        vocab = self._tokenizer.model.vocab
        loading.write_atomic(paths[loading.VOCAB_FILE], "".join(t + "\n" for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])))
        return tuple(str(p) for p in paths.values())

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name_or_path='{self.name_or_path}', vocab_size={self.vocab_size}, "
            f"model_max_length={self.model_max_length}, is_fast=True, padding_side='{self.padding_side}', "
            f"truncation_side='{self.truncation_side}', special_tokens={self.special_tokens_map}, "
            f"clean_up_tokenization_spaces={self.clean_up_tokenization_spaces})"
        )


PreTrainedTokenizer = PreTrainedTokenizerFast


class BertTokenizerFast(PreTrainedTokenizerFast):
    """BERT's WordPiece tokenizer: from tokenizer.json, or built from a vocab.txt."""

    tokenizer_class_name = "BertTokenizer"

    def __init__(
        self,
        vocab_file: str | os.PathLike | None = None,
        tokenizer_file: str | os.PathLike | None = None,
        do_lower_case: bool = True,
        unk_token: str = "[UNK]",
        sep_token: str = "[SEP]",
        pad_token: str = "[PAD]",
        cls_token: str = "[CLS]",
        mask_token: str = "[MASK]",
        tokenize_chinese_chars: bool = True,
        strip_accents: bool | None = None,
        tokenizer_object: Tokenizer | None = None,
        **kwargs: Any,
    ) -> None:
        _unknown_kwargs(type(self).__name__ + "()", {k: v for k, v in kwargs.items() if k not in _INIT_KWARGS},
                        _INIT_KWARGS + _BERT_KWARGS + ("vocab_file", "tokenizer_file", "tokenizer_object"))
        if tokenizer_object is None and tokenizer_file is not None:
            tokenizer_object = Tokenizer.from_file(tokenizer_file)
        if tokenizer_object is None:
            if vocab_file is None:
                raise ValueError(f"{type(self).__name__} needs vocab_file= (a vocab.txt) or tokenizer_file= (a tokenizer.json)")
            tokenizer_object = loading.bert_tokenizer(
                vocab_file, do_lower_case=do_lower_case, tokenize_chinese_chars=tokenize_chinese_chars,
                strip_accents=strip_accents, unk_token=str(unk_token), sep_token=str(sep_token), cls_token=str(cls_token),
                pad_token=str(pad_token), mask_token=str(mask_token),
            )
        else:
            n = tokenizer_object.normalizer
            if isinstance(n, normalizers.BertNormalizer) and (
                n.lowercase != do_lower_case or n.strip_accents != strip_accents or n.handle_chinese_chars != tokenize_chinese_chars
            ):  # the config wins over tokenizer.json, as upstream
                tokenizer_object = copy.deepcopy(tokenizer_object)
                tokenizer_object.normalizer = normalizers.BertNormalizer(
                    clean_text=n.clean_text, handle_chinese_chars=tokenize_chinese_chars,
                    strip_accents=strip_accents, lowercase=do_lower_case,
                )
        super().__init__(
            tokenizer_object, unk_token=unk_token, sep_token=sep_token, pad_token=pad_token, cls_token=cls_token,
            mask_token=mask_token, **kwargs,
        )
        self.do_lower_case = do_lower_case
        self.init_kwargs.update(do_lower_case=do_lower_case, strip_accents=strip_accents, tokenize_chinese_chars=tokenize_chinese_chars)


BertTokenizer = BertTokenizerFast


class DistilBertTokenizerFast(BertTokenizerFast):
    """DistilBERT: BERT's tokenizer without token_type_ids."""

    tokenizer_class_name = "DistilBertTokenizer"
    model_input_names = ["input_ids", "attention_mask"]


DistilBertTokenizer = DistilBertTokenizerFast

TOKENIZER_CLASSES: dict[str, type[PreTrainedTokenizerFast]] = {
    "BertTokenizer": BertTokenizerFast,
    "BertTokenizerFast": BertTokenizerFast,
    "DistilBertTokenizer": DistilBertTokenizerFast,
    "DistilBertTokenizerFast": DistilBertTokenizerFast,
    "PreTrainedTokenizerFast": PreTrainedTokenizerFast,
}
MODEL_TYPE_TO_TOKENIZER = {"bert": BertTokenizerFast, "distilbert": DistilBertTokenizerFast}


def _load_folder(cls: type, folder: Path, name: str, kwargs: dict[str, Any]) -> PreTrainedTokenizerFast:
    """Pick the class and build it from the files of `folder` (see ``from_pretrained``)."""
    tok_file = kwargs.pop("tokenizer_file", None) or folder / loading.TOKENIZER_FILE
    vocab_file = kwargs.pop("vocab_file", None) or folder / loading.VOCAB_FILE
    config_path = folder / loading.CONFIG_FILE
    config = loading.read_json(config_path) if config_path.is_file() else {}
    special_path = folder / loading.SPECIAL_TOKENS_MAP_FILE
    special_map = loading.read_json(special_path) if special_path.is_file() else {}
    has_json, has_vocab = Path(tok_file).is_file(), Path(vocab_file).is_file()
    if not has_json and not has_vocab:
        raise OSError(
            f"Can't load a tokenizer from {folder}: it holds none of the tokenizer files looked for "
            f"({loading.TOKENIZER_FILE}, or {loading.VOCAB_FILE} with {loading.CONFIG_FILE})."
        )
    # Which class: tokenizer_config.json's tokenizer_class, else config.json's model_type, else the caller.
    target = cls
    if cls in (PreTrainedTokenizerFast,) or cls.__name__ == "AutoTokenizer":
        name_cls = config.get("tokenizer_class")
        if name_cls in TOKENIZER_CLASSES:
            target = TOKENIZER_CLASSES[name_cls]
        elif (folder / "config.json").is_file():
            model_type = loading.read_json(folder / "config.json").get("model_type")
            target = MODEL_TYPE_TO_TOKENIZER.get(model_type, cls)
        if target is PreTrainedTokenizerFast and not has_json:
            target = BertTokenizerFast  # a bare vocab.txt is a WordPiece vocabulary
    init: dict[str, Any] = {}
    for key, value in special_map.items():
        init[key] = value["content"] if isinstance(value, dict) else value
    for key, value in config.items():
        if key in SPECIAL_TOKENS_ATTRIBUTES or key == "additional_special_tokens":
            init[key] = value["content"] if isinstance(value, dict) else value
        elif key in _INIT_KWARGS or (key in _BERT_KWARGS and issubclass(target, BertTokenizerFast)):
            init[key] = value
    init.update(kwargs)
    init["name_or_path"] = name
    if issubclass(target, BertTokenizerFast):
        tok = target(vocab_file=vocab_file if has_vocab else None, tokenizer_file=tok_file if has_json else None, **init)
    else:
        for key in _BERT_KWARGS:
            init.pop(key, None)
        tok = target(tokenizer_file=tok_file, **init)
    tok.init_kwargs = {**{k: v for k, v in config.items() if k != "added_tokens_decoder"}, **tok.init_kwargs}
    return tok
