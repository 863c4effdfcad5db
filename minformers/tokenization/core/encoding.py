"""Encoding: one tokenised row, with truncation (overflowing windows) and padding.

``ids`` with everything aligned to them: ``tokens``, ``offsets`` (character spans
in the original text), ``word_ids``, ``sequence_ids``, masks. The details are
computed lazily (most callers only need ids). Upstream: ``tokenizers.Encoding``
and ``truncate_encodings``.
"""

from __future__ import annotations

from typing import Any

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
    # The reference's errors say only "Second sequence not provided" / "Sequence to truncate too short to
    # respect the provided max_length"; ours keep those words and add what to change.
    target = a if strategy == "only_first" else b
    if target is None:
        raise ValueError("Truncation error: Second sequence not provided: truncation='only_second' cuts the "
                         "text pair, and this input has a single text; pass text_pair=..., or truncation=True "
                         "('longest_first') to cut a single text")
    if len(target.ids) > to_remove:
        target.truncate(len(target.ids) - to_remove, stride, direction)
    else:
        which, other = ("first", "second") if strategy == "only_first" else ("second", "first")
        raise ValueError(
            f"Truncation error: Sequence to truncate too short to respect the provided max_length: "
            f"truncation={strategy!r} may cut only the {which} sequence ({len(target.ids)} tokens), and fitting "
            f"the {max_length} tokens that max_length leaves after the special tokens would remove all of it "
            f"(the {other} sequence has {total - len(target.ids)}); use truncation='longest_first' or a larger "
            "max_length")

