"""Collators: a list of examples (dicts), or a dict of lists (``dataset[:8]``) -> one batch of tensors.

Padding happens here, per batch, to the longest example of the batch ("dynamic padding",
chapter 3 of the Hugging Face course): with length-grouped batches almost no pad tokens
are computed. The behaviour (``label`` -> ``labels``, labels padded with -100, the 80/10/10
masking of BERT's MLM) follows ``transformers.data.data_collator``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

__all__ = [
    "DataCollatorForLanguageModeling",
    "DataCollatorForTokenClassification",
    "DataCollatorWithPadding",
    "default_data_collator",
]

IGNORE_INDEX = -100  # the label value every loss in the library skips


def _to_tensor(values: Any, dtype: torch.dtype | None = None) -> Tensor:
    if isinstance(values, Tensor):
        return values if dtype is None else values.to(dtype)
    if isinstance(values, (list, tuple)) and values and isinstance(values[0], Tensor):
        return torch.stack(list(values)) if dtype is None else torch.stack(list(values)).to(dtype)
    return torch.tensor(values, dtype=dtype)


def _check_tensors(return_tensors: str) -> None:
    if return_tensors != "pt":
        raise ValueError(f"return_tensors={return_tensors!r}: minformers is PyTorch-only, its collators return "
                         "PyTorch tensors: use return_tensors='pt' (the default)")


def _rows(columns: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A dict of equal-length columns (a ``datasets`` slice such as ``dataset[:8]``) -> a list of row dicts."""
    lengths = {}
    for k, v in columns.items():
        try:
            lengths[k] = len(v)
        except TypeError:
            raise TypeError(f"a dict given to a collator must map each column name to a list of values (one per "
                            f"example, as `dataset[:8]` gives); column {k!r} is a {type(v).__name__}") from None
    if len(set(lengths.values())) > 1:
        raise ValueError(f"the columns of this dict of lists have different lengths {lengths}: every column needs "
                         "one value per example")
    n = next(iter(lengths.values()), 0)
    return [{k: v[i] for k, v in columns.items()} for i in range(n)]


def _as_dicts(features: Any) -> list[Mapping]:
    """A list of examples (dicts), or a dict of lists -- the reference's DataCollatorWithPadding takes both,
    its other collators only the list (``KeyError: 0``); ours all take both."""
    if isinstance(features, Mapping):
        features = _rows(features)
    if not features:
        raise ValueError("cannot collate an empty list of examples")
    if not isinstance(features[0], Mapping):  # e.g. a BatchEncoding-like object with .data, or a dataclass
        features = [vars(f) if not hasattr(f, "keys") else f for f in features]
    return features


def _rename_labels(batch: dict[str, Any]) -> dict[str, Any]:
    for old in ("label", "label_ids"):
        if old in batch:
            batch["labels"] = batch.pop(old)
    return batch


def default_data_collator(features: list[Any] | Mapping[str, list], return_tensors: str = "pt") -> dict[str, Tensor]:
    """Stack examples that already have equal lengths; ``label``/``label_ids`` become ``labels``.

    Float labels stay float (regression), int labels become int64; ``None`` values and
    strings are left out, as the reference does.
    """
    _check_tensors(return_tensors)
    features = _as_dicts(features)
    first = features[0]
    batch: dict[str, Any] = {}
    label_key = "label" if "label" in first else "label_ids" if "label_ids" in first else None
    if label_key is not None and first[label_key] is not None:
        label = first[label_key]
        label = label.item() if isinstance(label, Tensor) and label.dim() == 0 else label
        dtype = torch.long if isinstance(label, int) else torch.float if isinstance(label, float) else None
        batch["labels"] = _to_tensor([f[label_key] for f in features], dtype)
    for k, v in first.items():
        if k in ("label", "label_ids") or v is None or isinstance(v, str):
            continue
        batch[k] = _to_tensor([f[k] for f in features])
    return batch


@dataclass
class DataCollatorWithPadding:
    """Pad a batch to its longest example (or `max_length` / a multiple) with the tokenizer's ``pad``."""

    tokenizer: Any
    padding: bool | str = True
    max_length: int | None = None
    pad_to_multiple_of: int | None = None
    return_tensors: str = "pt"

    def __post_init__(self) -> None:
        _check_tensors(self.return_tensors)  # at construction, where the course writes return_tensors="tf"

    def __call__(self, features: list[dict[str, Any]] | Mapping[str, list]) -> dict[str, Tensor]:
        _check_tensors(self.return_tensors)
        features = _as_dicts(features)
        batch = self.tokenizer.pad(features, padding=self.padding, max_length=self.max_length,
                                   pad_to_multiple_of=self.pad_to_multiple_of, return_tensors="pt")
        return _rename_labels(dict(batch))


def _pad_rows(rows: list[list[int]], length: int, value: int, side: str) -> list[list[int]]:
    if side == "left":
        return [[value] * (length - len(r)) + list(r) for r in rows]
    return [list(r) + [value] * (length - len(r)) for r in rows]


@dataclass
class DataCollatorForTokenClassification:
    """Pad the inputs with the tokenizer, and the per-token labels with -100 to the same length."""

    tokenizer: Any
    padding: bool | str = True
    max_length: int | None = None
    pad_to_multiple_of: int | None = None
    label_pad_token_id: int = IGNORE_INDEX
    return_tensors: str = "pt"

    def __post_init__(self) -> None:
        _check_tensors(self.return_tensors)  # at construction, where the course writes return_tensors="tf"

    def __call__(self, features: list[dict[str, Any]] | Mapping[str, list]) -> dict[str, Tensor]:
        _check_tensors(self.return_tensors)
        features = _as_dicts(features)
        label_name = "label" if "label" in features[0] else "labels"
        labels = [f[label_name] for f in features] if label_name in features[0] else None
        inputs = [{k: v for k, v in f.items() if k != label_name} for f in features]
        batch = dict(self.tokenizer.pad(inputs, padding=self.padding, max_length=self.max_length,
                                        pad_to_multiple_of=self.pad_to_multiple_of, return_tensors="pt"))
        if labels is None:
            return batch
        length = batch["input_ids"].shape[1]
        side = getattr(self.tokenizer, "padding_side", "right")
        labels = [lab.tolist() if isinstance(lab, Tensor) else list(lab) for lab in labels]
        batch["labels"] = torch.tensor(_pad_rows(labels, length, self.label_pad_token_id, side), dtype=torch.long)
        return batch


@dataclass
class DataCollatorForLanguageModeling:
    """Masked LM (``mlm=True``: BERT's 15 % with 80 % [MASK] / 10 % random / 10 % unchanged) or causal LM.

    With ``mlm=False`` the labels are the input ids with padding set to -100 (the model shifts
    them). Randomness comes from torch's global generator, or `generator` when given.
    See Devlin et al. 2018, section 3.1 (https://arxiv.org/abs/1810.04805).
    """

    tokenizer: Any
    mlm: bool = True
    mlm_probability: float = 0.15
    mask_replace_prob: float = 0.8
    random_replace_prob: float = 0.1
    pad_to_multiple_of: int | None = None
    return_tensors: str = "pt"
    seed: int | None = None

    def __post_init__(self) -> None:
        _check_tensors(self.return_tensors)
        if self.mlm and getattr(self.tokenizer, "mask_token", None) is None:
            raise ValueError("masked language modelling needs a tokenizer with a mask token; use mlm=False for "
                             "causal language modelling")
        if not 0 <= self.mlm_probability <= 1:
            raise ValueError(f"mlm_probability must be in [0, 1], got {self.mlm_probability}")
        if self.mask_replace_prob + self.random_replace_prob > 1:
            raise ValueError("mask_replace_prob + random_replace_prob must be <= 1")
        self.generator = torch.Generator().manual_seed(self.seed) if self.seed is not None else None

    def __call__(self, features: list[Any] | Mapping[str, list]) -> dict[str, Tensor]:
        if isinstance(features, Mapping) or (features and isinstance(features[0], Mapping)):
            features = _as_dicts(features)
        if isinstance(features[0], Mapping):
            batch = dict(self.tokenizer.pad(features, pad_to_multiple_of=self.pad_to_multiple_of, return_tensors="pt"))
        else:  # bare lists of ids
            batch = dict(self.tokenizer.pad({"input_ids": [list(f) for f in features]},
                                            pad_to_multiple_of=self.pad_to_multiple_of, return_tensors="pt"))
        special = batch.pop("special_tokens_mask", None)
        if self.mlm:
            batch["input_ids"], batch["labels"] = self.torch_mask_tokens(batch["input_ids"], special)
        else:
            labels = batch["input_ids"].clone()
            pad_id = self.tokenizer.pad_token_id
            if pad_id is not None:
                labels[labels == pad_id] = IGNORE_INDEX
            batch["labels"] = labels
        return batch

    def torch_mask_tokens(self, inputs: Tensor, special_tokens_mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """(masked inputs, labels): labels are -100 everywhere except the chosen 15 %."""
        inputs, labels = inputs.clone(), inputs.clone()
        if special_tokens_mask is None:
            special = torch.zeros_like(inputs, dtype=torch.bool)
            for tid in self._special_ids():
                special |= inputs == tid
        else:
            special = special_tokens_mask.bool()
        probability = torch.full(labels.shape, self.mlm_probability).masked_fill(special, 0.0)
        masked = torch.bernoulli(probability, generator=self.generator).bool()
        labels[~masked] = IGNORE_INDEX
        # 80 %: [MASK]
        replaced = torch.bernoulli(torch.full(labels.shape, self.mask_replace_prob), generator=self.generator).bool()
        replaced &= masked
        inputs[replaced] = self.tokenizer.mask_token_id
        # 10 %: a random token (of the rest: random / (1 - mask))
        rest = 1.0 - self.mask_replace_prob
        p_random = self.random_replace_prob / rest if rest > 0 else 0.0
        randomized = torch.bernoulli(torch.full(labels.shape, p_random), generator=self.generator).bool()
        randomized &= masked & ~replaced
        vocab = len(self.tokenizer)
        words = torch.randint(vocab, labels.shape, dtype=torch.long, generator=self.generator)
        inputs[randomized] = words[randomized]
        # the remaining 10 %: unchanged
        return inputs, labels

    def _special_ids(self) -> list[int]:
        ids = getattr(self.tokenizer, "all_special_ids", None)
        if ids is not None:
            return list(ids)
        return [i for i in (self.tokenizer.pad_token_id, getattr(self.tokenizer, "cls_token_id", None),
                            getattr(self.tokenizer, "sep_token_id", None)) if i is not None]
