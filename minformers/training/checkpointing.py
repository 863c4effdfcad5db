"""Checkpoints: ``output_dir/checkpoint-N/`` with everything a killed run needs to resume exactly.

    checkpoint-N/
      config.json, model.safetensors   the model (save_pretrained)
      tokenizer files                  when the Trainer has a tokenizer
      optimizer.pt, scheduler.pt       their state_dicts
      rng_state.pth                    python, numpy and torch RNG states
      trainer_state.json               step, epoch, log history, best metric
      training_args.json               the arguments, for the record

A checkpoint is written into a temporary folder next to it and renamed into place
(:func:`minformers.saving.atomic_folder`), so a crash or a full disk never leaves a half
checkpoint, and an existing one is only replaced by a complete one. Every ``.pt``/``.pth``
file holds only tensors and plain Python values, so it loads with ``weights_only=True``.
"""

from __future__ import annotations

import os
import random
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = ["PREFIX_CHECKPOINT_DIR", "get_last_checkpoint", "load_rng_state", "rotate_checkpoints", "save_rng_state",
           "sorted_checkpoints"]

PREFIX_CHECKPOINT_DIR = "checkpoint"
_CHECKPOINT_RE = re.compile(rf"^{PREFIX_CHECKPOINT_DIR}-(\d+)$")
TRAINER_STATE_NAME = "trainer_state.json"
OPTIMIZER_NAME = "optimizer.pt"
SCHEDULER_NAME = "scheduler.pt"
RNG_STATE_NAME = "rng_state.pth"
TRAINING_ARGS_NAME = "training_args.json"


def sorted_checkpoints(output_dir: str | os.PathLike) -> list[Path]:
    """Complete checkpoints (with a trainer_state.json) in `output_dir`, oldest step first."""
    folder = Path(output_dir)
    if not folder.is_dir():
        return []
    found = []
    for entry in folder.iterdir():
        m = _CHECKPOINT_RE.match(entry.name)
        if m and entry.is_dir() and (entry / TRAINER_STATE_NAME).is_file():
            found.append((int(m.group(1)), entry))
    return [p for _, p in sorted(found)]


def get_last_checkpoint(output_dir: str | os.PathLike) -> str | None:
    checkpoints = sorted_checkpoints(output_dir)
    return str(checkpoints[-1]) if checkpoints else None


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
        shutil.rmtree(folder, ignore_errors=True)
    return doomed


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
