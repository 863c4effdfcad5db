"""What the Trainer returns, and the small pure helpers its loops use (as ``transformers.trainer_utils`` and
``trainer_pt_utils``): output tuples, ``set_seed``, speed metrics, and gathering predictions across batches.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
import torch

__all__ = ["EvalLoopOutput", "EvalPrediction", "PredictionOutput", "TrainOutput", "TrainingDivergedError",
           "all_labels_ignored", "get_loss", "nested_concat", "nested_numpify", "set_seed", "speed_metrics"]


class TrainOutput(NamedTuple):
    global_step: int
    training_loss: float
    metrics: dict[str, float]


class PredictionOutput(NamedTuple):
    predictions: Any
    label_ids: Any
    metrics: dict[str, float] | None


class EvalLoopOutput(NamedTuple):
    predictions: Any
    label_ids: Any
    metrics: dict[str, Any]
    num_samples: int


class EvalPrediction:
    """What ``compute_metrics`` receives: ``predictions`` and ``label_ids`` (NumPy); unpacks as a pair."""

    def __init__(self, predictions: Any, label_ids: Any, inputs: Any = None) -> None:
        self.predictions, self.label_ids, self.inputs = predictions, label_ids, inputs

    def __iter__(self):
        return iter((self.predictions, self.label_ids) if self.inputs is None
                    else (self.predictions, self.label_ids, self.inputs))

    def __getitem__(self, i: int) -> Any:
        return tuple(self)[i]


class TrainingDivergedError(RuntimeError):
    """The training loss became NaN or infinite; the weights were not updated with it."""


def set_seed(seed: int) -> None:
    """Seed python, numpy and torch (as ``transformers.set_seed``)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def speed_metrics(prefix: str, start: float, samples: int, steps: int) -> dict[str, float]:
    runtime = time.time() - start
    return {f"{prefix}_runtime": round(runtime, 4),
            f"{prefix}_samples_per_second": round(samples / runtime, 3) if runtime else 0.0,
            f"{prefix}_steps_per_second": round(steps / runtime, 3) if runtime else 0.0}


def get_loss(outputs: Any) -> torch.Tensor | None:
    """outputs.loss / outputs["loss"] (None when absent), or the first element of a tuple."""
    if isinstance(outputs, Mapping):
        return outputs.get("loss")
    if hasattr(outputs, "keys"):  # ModelOutput: the fields that are not None
        return getattr(outputs, "loss", None)
    return outputs[0] if isinstance(outputs, (tuple, list)) else outputs


def all_labels_ignored(inputs: Mapping[str, Any], label_names: list[str]) -> bool:
    """True when the batch has label tensors and every one of them is all -100 (ignored)."""
    labels = [inputs[k] for k in label_names if isinstance(inputs.get(k), torch.Tensor)]
    return bool(labels) and all(not t.is_floating_point() and bool((t == -100).all()) for t in labels)


def _pad_concat(a: torch.Tensor | None, b: torch.Tensor, pad: int = -100) -> torch.Tensor:
    """Concatenate along dim 0, padding dim 1 to the longer of the two (token-level outputs)."""
    if a is None:
        return b
    if a.dim() < 2 or a.shape[1:] == b.shape[1:]:
        return torch.cat([a, b])
    shape = (a.shape[0] + b.shape[0], max(a.shape[1], b.shape[1])) + tuple(a.shape[2:])
    out = a.new_full(shape, pad)
    out[: a.shape[0], : a.shape[1]] = a
    out[a.shape[0]:, : b.shape[1]] = b
    return out


def nested_concat(acc: Any, new: Any) -> Any:
    """Append a batch's tensors (or tuples of them) to what was gathered so far, on the CPU."""
    if isinstance(new, (tuple, list)):
        return type(new)(nested_concat(a, b) for a, b in zip(acc or [None] * len(new), new))
    return _pad_concat(acc, new.detach().cpu())


def nested_numpify(x: Any) -> Any:
    if x is None:
        return None
    if isinstance(x, (tuple, list)):
        return type(x)(nested_numpify(t) for t in x)
    return x.float().numpy() if x.is_floating_point() and x.dtype != torch.float32 else x.numpy()
