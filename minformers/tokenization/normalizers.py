"""Shim (issue 15): the old import path of the normalisers; the code is in :mod:`.core.normalizers`. To be removed after the merge."""

from __future__ import annotations

from .core.normalizers import *  # noqa: F401,F403
from .core.serialization import normalizer_from_dict as from_dict  # noqa: F401
