"""Tiny random checkpoints made by the reference library, with the real bert-base-uncased tokenizer."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json")


def make_checkpoint(folder: Path, arch: str, minilm_dir: Path, **config_kwargs) -> Path:
    import torch
    import transformers

    torch.manual_seed(0)
    if arch.startswith("DistilBert"):
        config = transformers.DistilBertConfig(vocab_size=30522, dim=32, hidden_dim=64, n_layers=2, n_heads=4,
                                               max_position_embeddings=128, **config_kwargs)
    else:
        config = transformers.BertConfig(vocab_size=30522, hidden_size=32, intermediate_size=64,
                                         num_hidden_layers=2, num_attention_heads=4,
                                         max_position_embeddings=128, **config_kwargs)
    model = getattr(transformers, arch)(config).eval()
    model.save_pretrained(folder)
    for name in TOKENIZER_FILES:
        shutil.copy(minilm_dir / name, folder / name)
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
