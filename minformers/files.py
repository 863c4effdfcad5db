"""Small text files (config.json, tokenizer.json, vocab files ...) written atomically.

A temporary file beside the target, then ``os.replace``: a crash or a full disk leaves the old file or
the new one, never half of one. Weights and whole folders have their own atomic saves in
:mod:`minformers.weights.saving`; this module needs no torch, so configs and tokenizers can use it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path`` through a temporary file and ``os.replace``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
