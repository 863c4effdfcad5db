"""Shim (issue 15): the old import path of the pre-tokenisers; the code is in :mod:`.core.pre_tokenizers`. To be removed after the merge."""

from __future__ import annotations

from .core.pre_tokenizers import *  # noqa: F401,F403
from .core.serialization import pre_tokenizer_from_dict as from_dict  # noqa: F401
