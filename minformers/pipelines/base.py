"""Pipeline: preprocess -> _forward -> postprocess, with batching done once, here.

A task pipeline implements exactly three steps (DESIGN rule 8):

- ``preprocess(item, **params) -> dict | list[dict]``: one input -> un-padded model
  inputs (lists of ints, as the tokenizer returns them for one text), or a list of
  them when one input needs several model rows (windows, text/label pairs);
- ``_forward(batch) -> dict[str, Tensor]``: a padded batch -> batched model outputs;
- ``postprocess(outputs, **params)``: one item's outputs (a list of row outputs when
  ``preprocess`` gave a list) -> a JSON-like answer.

Everything between them lives in this file: validating parameters, sorting the
items by length and cutting them into batches (so a batch is padded only to the
longest of similar lengths, not to the longest of the call), padding, running
the model under ``torch.inference_mode``, splitting the outputs back per item
(trimming sequence outputs to each item's own length) and restoring the order.
Generators and datasets are streamed: results come out as they are computed.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Iterable, Iterator
from typing import Any

import torch

# Streams are read this many batches at a time, sorted within the window.
_STREAM_WINDOW_BATCHES = 4
# model_type of models whose positions start after padding_idx (see Pipeline._position_limit).
_OFFSET_POSITION_MODELS = ("roberta", "xlm-roberta", "camembert")


class Pipeline:
    """Base class of every task pipeline.

    Subclasses set ``task`` and ``sequence_outputs`` (names of ``_forward``
    outputs that have a token dimension), and implement ``_sanitize_parameters``,
    ``preprocess``, ``_forward`` and ``postprocess``.
    """

    task: str = ""
    sequence_outputs: tuple[str, ...] = ()
    # Rows per forward when the caller gives no batch_size and every input is at hand (a list or one
    # item; zero-shot pairs and long-text windows are rows too). The answers are those of one row at a
    # time -- BERT's pooled heads pack rows without padding, other models mask it -- and bigger products
    # run faster on a CPU. Streams keep self.batch_size (1), so each answer comes as soon as its input is
    # done, as in the reference. Subclasses whose rows may batch set it; generation keeps 1 (left padding
    # moves the numbers).
    auto_batch_size: int = 1

    def __init__(
        self,
        model: Any,
        tokenizer: Any = None,
        *,
        task: str = "",
        batch_size: int | None = None,
        device: Any = None,
        dtype: Any = None,
        **params: Any,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.task = task or self.task
        self.device = _parse_device(device)
        if dtype is not None:
            self.model.to(dtype=_parse_dtype(dtype))
        if self.device.type != "cpu":
            self.model.to(self.device)
        self.model.eval()
        # Tokenizers may return inputs a model does not take (a BERT tokenizer's
        # token_type_ids for DistilBERT): only what forward() names is passed on.
        self._model_input_names = set(inspect.signature(self.model.forward).parameters)
        self.batch_size = _check_batch_size(batch_size if batch_size is not None else 1)
        self._auto_batch = batch_size is None and self._can_pad()
        # Parameters given at construction are defaults for every call.
        self._preprocess_params, self._forward_params, self._postprocess_params = self._sanitize_parameters(**params)

    # ---- the three steps (subclasses) -------------------------------------------------
    def _sanitize_parameters(self, **params: Any) -> tuple[dict, dict, dict]:
        """Split call parameters into (preprocess, forward, postprocess) keyword dicts."""
        if params:
            _reject_unknown(type(self).__name__, params, [])
        return {}, {}, {}

    def preprocess(self, item: Any, **params: Any) -> dict[str, Any]:
        raise NotImplementedError

    def _forward(self, batch: dict[str, torch.Tensor], **params: Any) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def postprocess(self, outputs: dict[str, torch.Tensor], **params: Any) -> Any:
        raise NotImplementedError

    # ---- calling ----------------------------------------------------------------------
    def __call__(self, inputs: Any, *args: Any, batch_size: int | None = None, **params: Any) -> Any:
        """Run the pipeline on one input, a list of inputs, or an iterable (streamed)."""
        if args:
            # pipeline("a", "b") is the same as pipeline(["a", "b"]) in the reference.
            inputs = [inputs, *args]
        pre, fwd, post = self._merged_params(params)
        size = _check_batch_size(batch_size) if batch_size is not None else self.batch_size
        if self._is_stream(inputs) and not isinstance(inputs, list):
            return self._stream(iter(inputs), size, pre, fwd, post)
        if batch_size is None and self._auto_batch:
            size = self.auto_batch_size
        if isinstance(inputs, list):
            return list(self._run(inputs, size, pre, fwd, post))
        return next(self._run([inputs], size, pre, fwd, post))

    def _can_pad(self) -> bool:
        """Rows of different lengths can share a batch: a pad token, right padding, and a model that does
        not need its config's pad token to find each row's last token (decoder classifiers without one)."""
        return (self._pad_token_id() is not None and self._padding_side() == "right"
                and getattr(getattr(self.model, "config", None), "pad_token_id", 0) is not None)

    # ---- padding: the pipeline's own, read from the tokenizer, never set on it -------------
    def _padding_side(self) -> str:
        """The side batches are padded on: the tokenizer's (a subclass may choose its own)."""
        return getattr(self.tokenizer, "padding_side", "right")

    def _pad_token_id(self) -> int | None:
        """The token batches are padded with: the tokenizer's (a subclass may choose its own)."""
        return getattr(self.tokenizer, "pad_token_id", None)

    def _is_stream(self, inputs: Any) -> bool:
        """Iterables other than a single item (str, dict, tuple) are streamed."""
        if isinstance(inputs, (str, bytes, dict, tuple)):
            return False
        return isinstance(inputs, (Iterator, Iterable)) or hasattr(inputs, "__getitem__") and hasattr(inputs, "__len__")

    def _merged_params(self, params: dict) -> tuple[dict, dict, dict]:
        pre, fwd, post = self._sanitize_parameters(**params)
        return (
            {**self._preprocess_params, **pre},
            {**self._forward_params, **fwd},
            {**self._postprocess_params, **post},
        )

    def _stream(self, items: Iterator, size: int, pre: dict, fwd: dict, post: dict) -> Iterator[Any]:
        while True:
            window = list(itertools.islice(items, size * _STREAM_WINDOW_BATCHES))
            if not window:
                return
            yield from self._run(window, size, pre, fwd, post)

    def _run(self, items: list, size: int, pre: dict, fwd: dict, post: dict) -> Iterator[Any]:
        """Preprocess all items, run their rows in length-sorted batches, yield answers in input order.

        ``preprocess`` returns one encoding (one model row) or a list of them (several rows
        for one item: question-answering windows, long-text windows, zero-shot
        (text, label) pairs). All rows of all items are sorted and batched together; an
        item is post-processed as soon as its last row is done, with its row outputs
        (a dict, or a list of dicts in row order for a list). Each row output is the
        encoding as ``preprocess`` returned it (non-model keys included: offsets,
        masks, texts) updated with that row's slice of the ``_forward`` outputs.
        """
        encoded = [self.preprocess(item, **pre) for item in items]
        multi = [isinstance(enc, list) for enc in encoded]
        rows: list[tuple[int, dict]] = []  # (item index, encoding)
        for i, enc in enumerate(encoded):
            for row in enc if multi[i] else [enc]:
                self._check_length(row)
                rows.append((i, row))
        pending = [len(enc) if multi[i] else 1 for i, enc in enumerate(encoded)]
        row_outputs: list[list] = [[None] * n for n in pending]
        slot: list[int] = []  # row -> position among its item's rows
        seen = [0] * len(encoded)
        for i, _ in rows:
            slot.append(seen[i])
            seen[i] += 1
        answers: list[Any] = [None] * len(encoded)
        for i, n in enumerate(pending):
            if n == 0:  # an item with no rows (e.g. nothing to score)
                answers[i] = self.postprocess([], **post)
        lengths = [len(row["input_ids"]) for _, row in rows]
        # Longest first: the first batch shows the peak memory at once; ties keep input order.
        order = sorted(range(len(rows)), key=lambda r: -lengths[r])
        with torch.inference_mode():
            for start in range(0, len(order), size):
                index = order[start : start + size]
                batch = self._collate([rows[r][1] for r in index])
                outputs = self._forward(batch, **fwd)
                for b, r in enumerate(index):
                    i, enc = rows[r]
                    row_outputs[i][slot[r]] = {**enc, **self._unbatch(outputs, b, lengths[r], batch)}
                    pending[i] -= 1
                    if pending[i] == 0:
                        answers[i] = self.postprocess(row_outputs[i] if multi[i] else row_outputs[i][0], **post)
                        row_outputs[i] = []  # free the item's outputs
        yield from answers

    # ---- lengths -------------------------------------------------------------------------
    def _position_limit(self) -> int | None:
        """The most tokens the model can take (None: no position table). RoBERTa-style models count
        positions from padding_idx + 1 (fairseq), so they take max_position_embeddings - padding_idx - 1."""
        config = self.model.config
        limit = getattr(config, "max_position_embeddings", None)
        if limit is not None and getattr(config, "model_type", "") in _OFFSET_POSITION_MODELS:
            limit -= (getattr(config, "pad_token_id", None) or 0) + 1
        return limit

    def _max_tokens(self) -> int:
        """Tokens one model row may hold: the tokenizer's model_max_length within the model's positions; a
        tokenizer with no limit (the 1e30 sentinel) gets the model's (512 when neither says)."""
        limit = getattr(self.tokenizer, "model_max_length", None)
        positions = self._position_limit()
        if not limit or limit > 1_000_000:
            limit = positions or 512
        return int(min(limit, positions) if positions else limit)

    def _with_max_length(self, tokenizer_kwargs: dict) -> dict:
        """tokenizer kwargs asking for truncation without a max_length get this model's: a tokenizer with no
        model_max_length would otherwise not truncate at all (and the reference then crashes in the model)."""
        truncation = tokenizer_kwargs.get("truncation")
        if truncation and truncation != "do_not_truncate" and tokenizer_kwargs.get("max_length") is None:
            return {**tokenizer_kwargs, "max_length": self._max_tokens()}
        return tokenizer_kwargs

    def _too_long_advice(self) -> str:
        """What to do about an input longer than the model takes; each task says what its call accepts (and a
        test passes exactly what it advises)."""
        return "Pass truncation=True (and max_length=...) to the pipeline call, or shorten the text."

    def _check_length(self, enc: dict) -> None:
        limit = self._position_limit()
        n = len(enc["input_ids"])
        if limit is not None and n > limit:
            raise ValueError(
                f"The input is {n} tokens long, but the model {type(self.model).__name__} accepts at most {limit} "
                f"positions. {self._too_long_advice()}"
            )

    # ---- batching helpers ---------------------------------------------------------------

    def _collate(self, encs: list[dict]) -> dict[str, torch.Tensor]:
        """Pad a list of un-padded encodings to the longest one; return tensors on the device."""
        longest = max(len(e["input_ids"]) for e in encs)
        left = self._padding_side() == "left"
        batch = {}
        for key in encs[0]:
            if key not in self._model_input_names:
                continue
            if not _is_token_sequence(encs[0][key]):
                batch[key] = torch.as_tensor([e[key] for e in encs])
                continue
            out = torch.full((len(encs), longest), self._pad_value(key), dtype=torch.long)  # (B, T)
            for row, e in enumerate(encs):
                seq = torch.as_tensor(e[key], dtype=torch.long)
                if left:
                    out[row, longest - len(seq) :] = seq
                else:
                    out[row, : len(seq)] = seq
            batch[key] = out
        return {k: v.to(self.device) for k, v in batch.items()} if self.device.type != "cpu" else batch

    def _pad_value(self, key: str) -> int:
        if key == "input_ids":
            pad = self._pad_token_id()
            return 0 if pad is None else pad
        if key == "special_tokens_mask":
            return 1
        return 0

    def _unbatch(self, outputs: dict, row: int, length: int, batch: dict) -> dict[str, Any]:
        """One item's slice of the batched outputs; sequence outputs trimmed to its own length."""
        padded = batch["input_ids"].shape[1]
        left = self._padding_side() == "left"
        item = {}
        for key, value in outputs.items():
            value = value[row] if isinstance(value, torch.Tensor) else value[row]
            if key in self.sequence_outputs and length != padded:
                value = value[padded - length :] if left else value[:length]
            item[key] = value
        return item


# ---- small shared helpers --------------------------------------------------------------
def _is_token_sequence(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and (len(value) == 0 or isinstance(value[0], int))


def _reject_unknown(owner: str, params: dict, valid: Iterable[str]) -> None:
    valid = sorted(valid)
    unknown = sorted(params)
    raise TypeError(
        f"{owner} got unexpected keyword argument(s) {', '.join(map(repr, unknown))}; "
        f"valid parameters are: {', '.join(valid) if valid else '(none)'}"
    )


def split_params(owner: str, params: dict, **groups: Iterable[str]) -> dict[str, dict]:
    """Sort `params` into named groups of accepted names; unknown names raise TypeError."""
    accepted = {name: group for group, names in groups.items() for name in names}
    unknown = {k: v for k, v in params.items() if k not in accepted}
    if unknown:
        _reject_unknown(owner, unknown, accepted)
    out: dict[str, dict] = {group: {} for group in groups}
    for key, value in params.items():
        out[accepted[key]][key] = value
    return out


def _check_batch_size(batch_size: Any) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    return batch_size


def _parse_device(device: Any) -> torch.device:
    if device is None or device == -1:
        return torch.device("cpu")
    if isinstance(device, int):
        device = f"cuda:{device}"
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device} was asked for, but this machine has no CUDA device; use device='cpu'")
    return device


def _parse_dtype(dtype: Any) -> torch.dtype:
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype == "auto":
        return torch.float32
    names = {"float32": torch.float32, "fp32": torch.float32, "float16": torch.float16, "fp16": torch.float16,
             "bfloat16": torch.bfloat16, "bf16": torch.bfloat16}
    if dtype not in names:
        raise ValueError(f"unknown dtype {dtype!r}; use one of {', '.join(names)} or a torch.dtype")
    return names[dtype]

