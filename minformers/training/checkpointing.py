"""Checkpoints: ``output_dir/checkpoint-N/`` with everything a killed run needs to resume exactly.

    checkpoint-N/
      config.json, model.safetensors   the model (save_pretrained)
      tokenizer files                  when the Trainer has a tokenizer
      optimizer.pt, scheduler.pt       their state_dicts
      rng_state.pth                    python, numpy and torch RNG states
      trainer_state.json               step, epoch, log history, best metric
      training_args.json               the arguments, for the record

A checkpoint is written into a temporary folder next to it and renamed into place
(:func:`minformers.weights.saving.atomic_folder`), so a crash or a full disk never leaves a half
checkpoint, and an existing one is only replaced by a complete one; an old one is renamed away
before it is deleted (:func:`minformers.weights.saving.remove_folder`). What a killed save left is deleted
by the next one. A folder named ``checkpoint-N`` is *complete* (see :func:`missing_files`) when it
has ``trainer_state.json``, the model weights (every shard an index names), and the training state
(``optimizer.pt``, ``scheduler.pt``, ``rng_state.pth``) whole or not at all (``save_only_model``);
resuming never picks an incomplete one, and warns that it skipped it. Every ``.pt``/``.pth``
file holds only tensors and plain Python values, so it loads with ``weights_only=True``.
"""

from __future__ import annotations

import json
import os
import random
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..weights.loading import load_checkpoint
from ..weights.saving import atomic_folder, remove_folder, remove_stale_temporaries
from .callbacks import TrainerState

__all__ = ["PREFIX_CHECKPOINT_DIR", "checkpoint_folder", "get_last_checkpoint", "load_model_weights",
           "load_rng_state", "load_training_state", "missing_files", "resolve_resume_checkpoint",
           "restore_progress", "rotate_checkpoints", "save_rng_state", "save_training_state", "sorted_checkpoints"]

PREFIX_CHECKPOINT_DIR = "checkpoint"
_CHECKPOINT_RE = re.compile(rf"^{PREFIX_CHECKPOINT_DIR}-(\d+)$")
TRAINER_STATE_NAME = "trainer_state.json"
OPTIMIZER_NAME = "optimizer.pt"
SCHEDULER_NAME = "scheduler.pt"
RNG_STATE_NAME = "rng_state.pth"
TRAINING_ARGS_NAME = "training_args.json"


_WEIGHTS = ("model.safetensors", "pytorch_model.bin")
_INDEXES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")
_TRAINING_STATE = (OPTIMIZER_NAME, SCHEDULER_NAME, RNG_STATE_NAME)


def missing_files(folder: str | os.PathLike) -> list[str]:
    """What a checkpoint folder lacks to resume from (empty when complete)."""
    folder = Path(folder)
    missing = [] if (folder / TRAINER_STATE_NAME).is_file() else [TRAINER_STATE_NAME]
    index = next((folder / i for i in _INDEXES if (folder / i).is_file()), None)
    if index is not None:
        try:
            shards = sorted(set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values()))
        except (OSError, ValueError, KeyError, AttributeError):
            shards = [f"a readable {index.name}"]
        missing += [s for s in shards if not (folder / s).is_file()]
    elif not any((folder / w).is_file() for w in _WEIGHTS):
        missing.append(" or ".join(_WEIGHTS))
    present = [n for n in _TRAINING_STATE if (folder / n).is_file()]
    if present:
        missing += [n for n in _TRAINING_STATE if n not in present]
    return missing


def sorted_checkpoints(output_dir: str | os.PathLike, warn: bool = False) -> list[Path]:
    """Complete checkpoints in `output_dir`, oldest step first (incomplete ones are skipped, with a warning
    when `warn`)."""
    folder = Path(output_dir)
    if not folder.is_dir():
        return []
    found = []
    for entry in folder.iterdir():
        m = _CHECKPOINT_RE.match(entry.name)
        if not (m and entry.is_dir()):
            continue
        missing = missing_files(entry)
        if missing:
            if warn:
                warnings.warn(f"skipping the incomplete checkpoint {entry} (no {', '.join(missing)}): an interrupted "
                              "save or deletion left it; delete it", stacklevel=3)
            continue
        found.append((int(m.group(1)), entry))
    return [p for _, p in sorted(found)]


def get_last_checkpoint(output_dir: str | os.PathLike) -> str | None:
    """The complete checkpoint of the highest step in `output_dir` (warns about incomplete ones it skips)."""
    checkpoints = sorted_checkpoints(output_dir, warn=True)
    return str(checkpoints[-1]) if checkpoints else None


def resolve_resume_checkpoint(value: str | bool | None, output_dir: str) -> str | None:
    """``Trainer.train(resume_from_checkpoint=...)``: True -> the last complete checkpoint in `output_dir`,
    False/None -> None, a folder -> itself once it is checked to be a complete checkpoint."""
    if value is True:
        value = get_last_checkpoint(output_dir)
        if value is None:
            raise ValueError(f"resume_from_checkpoint=True, but there is no checkpoint-N folder in {output_dir}")
    elif value is False:
        value = None
    if value is not None and not os.path.isfile(os.path.join(value, TRAINER_STATE_NAME)):
        raise ValueError(f"{value} is not a checkpoint (no {TRAINER_STATE_NAME} in it)")
    if value is not None and missing_files(value):
        raise ValueError(f"the checkpoint {value} is incomplete (no {', '.join(missing_files(value))}); resume "
                         f"from an earlier one, or pass resume_from_checkpoint=True to pick the last complete one")
    return value


def rotate_checkpoints(output_dir: str | os.PathLike, limit: int | None, best: str | None = None) -> list[Path]:
    """Delete the oldest checkpoints beyond `limit`, never the best one. Returns the deleted folders."""
    if limit is None or limit <= 0:
        return []
    checkpoints = sorted_checkpoints(output_dir)
    if best is not None and Path(best) in checkpoints:
        if limit == 1 and checkpoints[-1] != Path(best):
            limit = 2  # keep the best and the latest (resuming needs the latest)
        checkpoints.remove(Path(best))  # never first in line for deletion
        checkpoints.append(Path(best))
    doomed = checkpoints[: max(0, len(checkpoints) - limit)]
    for folder in doomed:
        remove_folder(folder)  # renamed away first: an interrupted deletion leaves no half checkpoint-N
    return doomed


# --- writing and reading one checkpoint folder
@contextmanager
def checkpoint_folder(target: Path, output_dir: str) -> Iterator[Path]:
    """A temporary folder that becomes `target` when the block ends without an error (and is removed when it
    does not); first removes what killed saves of any checkpoint left in `output_dir`."""
    try:
        # what killed saves of any checkpoint left (and the model save nested in one: "..checkpoint-N.saving-…")
        remove_stale_temporaries(output_dir, rf"\.?{PREFIX_CHECKPOINT_DIR}-\d+(?:\.saving-.+)?")
        with atomic_folder(target, replaces=lambda name: True) as tmp:
            yield tmp
    except OSError as e:
        raise OSError(f"cannot write the checkpoint {target}: {e}. Earlier checkpoints are intact; last one: "
                      f"{get_last_checkpoint(output_dir)}") from e


def save_training_state(folder: Path, optimizer: torch.optim.Optimizer, lr_scheduler: Any) -> None:
    """optimizer.pt, scheduler.pt and rng_state.pth: what resuming needs besides the weights."""
    torch.save(optimizer.state_dict(), folder / OPTIMIZER_NAME)
    torch.save(lr_scheduler.state_dict(), folder / SCHEDULER_NAME)
    torch.save(save_rng_state(), folder / RNG_STATE_NAME)


def load_training_state(folder: str | os.PathLike, optimizer: torch.optim.Optimizer, lr_scheduler: Any) -> None:
    """The optimizer and schedule states, when the checkpoint has them (not ``save_only_model``)."""
    folder = Path(folder)
    if (folder / OPTIMIZER_NAME).is_file():
        optimizer.load_state_dict(load_pt(folder / OPTIMIZER_NAME))
        lr_scheduler.load_state_dict(load_pt(folder / SCHEDULER_NAME))


def restore_progress(state: TrainerState, folder: str | os.PathLike) -> None:
    """Where the saved run was (step, epoch, logs, best metric) from its trainer_state.json, into `state`."""
    saved = TrainerState.load_from_json(str(Path(folder) / TRAINER_STATE_NAME))
    for name in ("global_step", "epoch", "log_history", "best_metric", "best_global_step", "best_model_checkpoint",
                 "total_flos", "num_input_tokens_seen"):
        setattr(state, name, getattr(saved, name))


def load_model_weights(model: torch.nn.Module, folder: str) -> None:
    """A checkpoint's weights into `model`, strictly (tied aliases aside), then re-tied."""
    state_dict = load_checkpoint(Path(folder), folder)
    missing, unexpected = model.load_state_dict(state_dict, strict=False)
    tied = set(model._tied_aliases()) if hasattr(model, "_tied_aliases") else set()
    missing = [k for k in missing if k not in tied]
    if missing or unexpected:
        raise RuntimeError(f"checkpoint {folder} does not match the model: missing {missing[:5]}, "
                           f"unexpected {unexpected[:5]}")
    if hasattr(model, "tie_weights"):
        model.tie_weights()


# --- RNG states: the python/numpy/torch generators, as plain values ---
def save_rng_state() -> dict[str, Any]:
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    return {
        "python": random.getstate(),
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached_gaussian": float(gauss)},
        "cpu": torch.get_rng_state(),
    }


def load_rng_state(state: dict[str, Any]) -> None:
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"],
                         n["cached_gaussian"]))
    torch.set_rng_state(state["cpu"])


def load_pt(path: str | os.PathLike) -> Any:
    return torch.load(path, map_location="cpu", weights_only=True)
