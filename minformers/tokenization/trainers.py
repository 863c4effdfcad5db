"""Shim (issue 15): the old import path of the trainers; the code is in :mod:`.core.trainers`. To be removed after the merge."""

from __future__ import annotations

from .core.trainers import BpeTrainer, WordPieceTrainer  # noqa: F401
