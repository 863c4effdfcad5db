"""Shim (issue 15): the old import path of the decoders; the code is in :mod:`.core.decoders`. To be removed after the merge."""

from __future__ import annotations

from .core.decoders import *  # noqa: F401,F403
from .core.serialization import decoder_from_dict as from_dict  # noqa: F401
