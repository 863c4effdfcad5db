"""Datasets and samplers for the Trainer: which columns reach the model, and in what order.

A dataset is a Hugging Face ``datasets.Dataset`` (duck-typed: ``datasets`` is never
imported here), a list of dicts, or any torch ``Dataset`` whose items are dicts. Columns the
model's ``forward`` does not take (the raw ``text``, ``idx``, ...) are dropped, as the
reference's ``remove_unused_columns`` does, so string columns never reach the collator.

Shuffling is seeded per epoch (``seed + epoch``) and sharded like ``DistributedSampler``:
with N processes, rank r takes every N-th index of the same permutation, so N processes of
batch b see exactly the examples of one process of batch N*b.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from typing import Any, Callable, Iterator

import torch
from torch.utils.data import Dataset, Sampler

__all__ = ["LengthGroupedSampler", "ShardedRandomSampler", "default_label_names", "get_length_grouped_indices",
           "model_input_columns", "prepare_dataset"]

LABEL_COLUMNS = ("label", "label_ids", "labels")


def is_hf_dataset(dataset: Any) -> bool:
    return hasattr(dataset, "column_names") and hasattr(dataset, "remove_columns")


def model_input_columns(model: torch.nn.Module, label_names: list[str] | None) -> list[str]:
    """The names ``model.forward`` takes, plus the label columns a collator renames."""
    model = getattr(model, "module", model)  # DistributedDataParallel
    params = list(inspect.signature(model.forward).parameters)
    return list(dict.fromkeys(params + list(LABEL_COLUMNS) + list(label_names or [])))


def default_label_names(model: torch.nn.Module) -> list[str]:
    """The label arguments of ``model.forward``: start/end positions for question answering, else every
    parameter named like a label (``labels`` when there is none)."""
    params = inspect.signature(getattr(model, "forward")).parameters
    if "start_positions" in params and "end_positions" in params:
        return ["start_positions", "end_positions"]
    return [p for p in params if "label" in p] or ["labels"]


def dataset_columns(dataset: Any) -> list[str]:
    if is_hf_dataset(dataset):
        return list(dataset.column_names)
    first = dataset[0]
    return list(first.keys()) if isinstance(first, Mapping) else []


class _ListDataset(Dataset):
    def __init__(self, rows: list[Mapping]) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> Mapping:
        return self.rows[i]


def prepare_dataset(dataset: Any, model: torch.nn.Module, *, remove_unused_columns: bool,
                    label_names: list[str] | None, description: str) -> tuple[Any, list[str], list[str]]:
    """(dataset ready for a DataLoader, columns it had, columns kept). Raises on an empty dataset."""
    if dataset is None:
        raise ValueError(f"Trainer needs a {description} for this call")
    if isinstance(dataset, (list, tuple)):
        dataset = _ListDataset(list(dataset))
    if not hasattr(dataset, "__len__"):
        raise TypeError(f"the {description} must have a length (a datasets.Dataset, a list of dicts or a map-style "
                        f"torch Dataset), got {type(dataset).__name__}")
    if len(dataset) == 0:
        raise ValueError(f"the {description} is empty: there is nothing to iterate over")
    columns = dataset_columns(dataset)
    if not remove_unused_columns:
        return dataset, columns, columns
    wanted = model_input_columns(model, label_names)
    kept = [c for c in columns if c in wanted]
    if columns and not kept:
        raise ValueError(f"none of the {description}'s columns {columns} is an input of "
                         f"{type(getattr(model, 'module', model)).__name__}.forward ({', '.join(wanted)}): "
                         "tokenize the text first (dataset.map(tokenize_function, batched=True))")
    if is_hf_dataset(dataset) and len(kept) < len(columns):
        fmt = getattr(dataset, "format", None) or {}
        dataset = dataset.remove_columns([c for c in columns if c not in kept])
        if fmt.get("type"):  # keep the user's set_format("torch")
            dataset.set_format(type=fmt["type"], columns=[c for c in (fmt.get("columns") or kept) if c in kept])
    return dataset, columns, kept


class ColumnFilter:
    """Wrap a collator: keep only the `kept` keys of each example (non-HF datasets), and refuse strings."""

    def __init__(self, collator: Callable, kept: list[str] | None) -> None:
        self.collator, self.kept = collator, set(kept) if kept is not None else None

    def __call__(self, features: list[Any]) -> Any:
        if features and isinstance(features[0], Mapping):
            if self.kept is not None:
                features = [{k: v for k, v in f.items() if k in self.kept} for f in features]
            strings = [k for k, v in features[0].items() if isinstance(v, str)]
            if strings:
                raise ValueError(f"columns {strings} hold strings, which cannot become tensors: drop them "
                                 "(dataset.remove_columns) or keep remove_unused_columns=True")
        return self.collator(features)


def example_lengths(dataset: Any, length_column_name: str = "length", input_name: str = "input_ids") -> list[int]:
    """Token count of every example, for length grouping: the `length` column if there is one."""
    if is_hf_dataset(dataset):
        if length_column_name in dataset.column_names:
            return [int(x) for x in dataset[length_column_name]]
        return [len(x) for x in dataset.with_format(None)[input_name]]
    lengths = []
    for i in range(len(dataset)):
        item = dataset[i]
        lengths.append(int(item[length_column_name]) if length_column_name in item else len(item[input_name]))
    return lengths


class ShardedRandomSampler(Sampler[int]):
    """A permutation seeded by ``seed + epoch`` (or file order when ``shuffle=False``), sharded over ranks."""

    def __init__(self, num_examples: int, *, seed: int, shuffle: bool = True, num_replicas: int = 1, rank: int = 0,
                 drop_last: bool = False) -> None:
        self.n, self.seed, self.shuffle, self.num_replicas, self.rank = num_examples, seed, shuffle, num_replicas, rank
        self.epoch = 0
        if drop_last and self.n % num_replicas:
            self.num_samples = self.n // num_replicas
        else:
            self.num_samples = math.ceil(self.n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _order(self) -> list[int]:
        if not self.shuffle:
            return list(range(self.n))
        g = torch.Generator().manual_seed(self.seed + self.epoch)
        return torch.randperm(self.n, generator=g).tolist()

    def __iter__(self) -> Iterator[int]:
        indices = self._order()
        if len(indices) < self.total_size:  # pad by repeating, so every rank gets as many examples
            indices += (indices * math.ceil(self.total_size / len(indices)))[: self.total_size - len(indices)]
        indices = indices[: self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples


def get_length_grouped_indices(lengths: list[int], batch_size: int, mega_batch_mult: int | None = None,
                               generator: torch.Generator | None = None) -> list[int]:
    """Shuffle, cut into megabatches of ``mega_batch_mult * batch_size``, sort each by length (longest first).

    Batches then hold examples of similar length (little padding) while the order stays random.
    The longest example overall goes first, so running out of memory happens at once, not at
    the end. Same recipe as the reference's ``get_length_grouped_indices``.
    """
    if mega_batch_mult is None:  # 50, or fewer so that there are at least 4 megabatches
        mega_batch_mult = max(min(len(lengths) // (batch_size * 4), 50), 1)
    order = torch.randperm(len(lengths), generator=generator).tolist()
    size = mega_batch_mult * batch_size
    megabatches = [sorted(order[i:i + size], key=lambda j: lengths[j], reverse=True)
                   for i in range(0, len(order), size)]
    heads = [lengths[mb[0]] for mb in megabatches]
    longest = max(range(len(heads)), key=lambda i: (heads[i], -i))
    megabatches[0][0], megabatches[longest][0] = megabatches[longest][0], megabatches[0][0]
    return [i for mb in megabatches for i in mb]


class LengthGroupedSampler(ShardedRandomSampler):
    """Length-grouped order (see :func:`get_length_grouped_indices`), seeded per epoch and sharded."""

    def __init__(self, batch_size: int, lengths: list[int], *, seed: int, num_replicas: int = 1, rank: int = 0,
                 drop_last: bool = False) -> None:
        super().__init__(len(lengths), seed=seed, shuffle=True, num_replicas=num_replicas, rank=rank,
                         drop_last=drop_last)
        self.batch_size, self.lengths = batch_size, lengths

    def _order(self) -> list[int]:
        g = torch.Generator().manual_seed(self.seed + self.epoch)
        # megabatches of the global batch, so every rank's slice of a batch has similar lengths
        return get_length_grouped_indices(self.lengths, self.batch_size * self.num_replicas, generator=g)
