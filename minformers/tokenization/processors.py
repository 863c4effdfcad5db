"""Shim (issue 15): the old import path of the post-processors; the code is in :mod:`.core.processors`. To be removed after the merge."""

from __future__ import annotations

from .core.processors import *  # noqa: F401,F403
from .core.serialization import processor_from_dict as from_dict  # noqa: F401
