"""BatchEncoding: the tokenizer's output dict, and its conversion to tensors.

No torch or numpy import at module scope: they are imported only when
``return_tensors`` asks for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .core.encoding import Encoding


def _to_tensor(value: Any, tensor_type: str | None) -> Any:
    if tensor_type in (None, "list"):
        return value
    if tensor_type == "pt":
        import torch  # lazy: heavy, and only for return_tensors="pt"

        if isinstance(value, torch.Tensor):
            return value
        return torch.tensor(value)
    if tensor_type == "np":
        import numpy as np  # lazy: only for return_tensors="np"

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
