"""A model name, folder or GGUF file -> one resolved local :class:`Checkpoint`, at the door.

``pipeline()`` and every ``from_pretrained`` entry point (``AutoConfig``, ``AutoModel*``,
``PretrainedConfig``, ``PreTrainedModel``) call :func:`resolve_checkpoint` once; what they hand
inward is the ``Checkpoint``, and nothing below resolves the name again::

    "org/name" ─► resolve_checkpoint ─► hub.resolve_model_dir (cache / download / packaged / folder)
                                     └► Checkpoint(name, folder, files, format, gguf_file, revision)
                                          .config_dict()  config.json or the GGUF metadata, read once

A ``Checkpoint`` is an ``os.PathLike`` of its folder, so code that takes a folder takes it as it
is (a folder is never resolved: it is used as it is), and ``str()`` of it is the name as given,
which is what ``name_or_path`` and messages show.
"""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from .hub import packaged_gguf_file, resolve_model_dir
from .weights import SAFE_WEIGHTS_INDEX_NAME, SAFE_WEIGHTS_NAME, WEIGHTS_INDEX_NAME, WEIGHTS_NAME
from .weights.gguf import gguf_config_dict

CONFIG_NAME = "config.json"


@dataclass(frozen=True)
class Checkpoint:
    """One resolved local checkpoint: where its files are, which weights it has, and its config."""

    name: str  # as the caller gave it (a Hub id, a folder path): name_or_path, messages
    folder: Path  # a Hub snapshot, a packaged model's folder, or the folder given (subfolder applied)
    files: frozenset[str] = field(repr=False)  # file names in `folder` when it was resolved
    format: str | None  # "safetensors", "bin", "gguf", or None: no weights (a config or tokenizer folder)
    gguf_file: str | None = None  # the GGUF file in `folder` that holds config, weights and tokenizer
    revision: str | None = None
    _config: list = field(default_factory=list, init=False, repr=False, compare=False)  # read once, on first use

    def __fspath__(self) -> str:
        return os.fspath(self.folder)

    def __str__(self) -> str:
        return self.name

    def config_dict(self) -> dict[str, Any]:
        """config.json (or the GGUF file's metadata as such a dict), read once; a fresh copy on every call."""
        if not self._config:
            self._config.append(gguf_config_dict(self.folder / self.gguf_file) if self.gguf_file is not None
                                else read_config_file(self.folder / CONFIG_NAME))
        return copy.deepcopy(self._config[0])


def resolve_checkpoint(
    name_or_path: str | os.PathLike | Checkpoint,
    *,
    gguf_file: str | None = None,
    weights: bool = True,
    packaged_gguf: bool = False,
    revision: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    local_files_only: bool = False,
    token: str | bool | None = None,
    force_download: bool = False,
    subfolder: str = "",
) -> Checkpoint:
    """Turn a model name, a folder (or a folder with a GGUF file) into a :class:`Checkpoint`.

    A ``Checkpoint`` is returned as it is. ``weights=False`` fetches configs and tokenizer files only
    (``AutoConfig``); ``gguf_file`` fetches that file instead of the safetensors/.bin weights;
    ``packaged_gguf`` uses the GGUF file of a packaged model that ships as GGUF (``pipeline()``'s
    offline text-generation default). The other keywords are :func:`minformers.hub.resolve_model_dir`'s.
    """
    if isinstance(name_or_path, Checkpoint):
        if gguf_file is not None and gguf_file != name_or_path.gguf_file:
            raise ValueError(f"{name_or_path.name} was resolved with gguf_file={name_or_path.gguf_file!r}, "
                             f"not {gguf_file!r}: resolve it again with that file")
        return name_or_path
    if gguf_file is None and packaged_gguf and isinstance(name_or_path, str):
        gguf_file = packaged_gguf_file(name_or_path)
    filenames: Sequence[str] | None = [gguf_file] if gguf_file is not None else (None if weights else ())
    folder = resolve_model_dir(name_or_path, revision=revision, cache_dir=cache_dir,
                               local_files_only=local_files_only, token=token, force_download=force_download,
                               subfolder=subfolder, filenames=filenames)
    files = frozenset(p.name for p in folder.iterdir())
    return Checkpoint(name=os.fspath(name_or_path), folder=folder, files=files,
                      format=_weights_format(files, gguf_file), gguf_file=gguf_file, revision=revision)


def _weights_format(files: frozenset[str], gguf_file: str | None) -> str | None:
    if gguf_file is not None:
        return "gguf"
    if SAFE_WEIGHTS_NAME in files or SAFE_WEIGHTS_INDEX_NAME in files:
        return "safetensors"
    if WEIGHTS_NAME in files or WEIGHTS_INDEX_NAME in files:
        return "bin"
    return None


def read_config_file(path: Path) -> dict[str, Any]:
    """Parse a config.json, with errors that name the file."""
    if not path.is_file():
        raise OSError(f"{path.parent} does not contain a file named {path.name}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise OSError(f"{path} is not a valid JSON file: {e}") from e
    if not isinstance(data, dict):
        raise OSError(f"{path} should hold a JSON object, found {type(data).__name__}")
    return data
