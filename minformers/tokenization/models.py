"""Shim (issue 15): the old import path of the WordPiece model; the code is in :mod:`.core.models`. To be removed after the merge."""

from __future__ import annotations

from .core.models.wordpiece import WordPiece, read_vocab_txt  # noqa: F401
from .core.serialization import model_from_dict as from_dict  # noqa: F401
