"""Set-up shared by the pipeline tests: one torch thread, GPT-2's vocabulary folder, sharpened tiny checkpoints.

The tiny BERT/DistilBERT checkpoints themselves (``tiny_checkpoints``) and the real assets come from
tests/conftest.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch


@pytest.fixture(scope="module")
def one_thread():
    """Tiny models on 2 shared cores: one thread is ~10x faster than an oversubscribed pool.
    A module asks for it with ``pytestmark = pytest.mark.usefixtures("one_thread")``."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def gpt2_vocab_dir(tmp_path_factory) -> Path:
    """GPT-2's byte-level BPE files (the ``gpt2_bpe`` asset) under the names the reference reads:
    vocab.json + merges.txt."""
    import fetch_assets

    bpe = fetch_assets.fetch("gpt2_bpe")
    raw = tmp_path_factory.mktemp("gpt2_vocab")
    shutil.copy(bpe / "encoder.json", raw / "vocab.json")
    shutil.copy(bpe / "vocab.bpe", raw / "merges.txt")
    return raw


@pytest.fixture(scope="session")
def sharpened_checkpoints(tiny_checkpoints, tmp_path_factory):
    """Factory: (arch, head, tag, model_max_length=None, **config) -> a copy of ``tiny_checkpoints(arch, **config)``
    whose `head` weight is multiplied by 30, so scores spread out and the two libraries meet no near-ties;
    `model_max_length` also goes into its tokenizer_config.json. Made by the reference, cached per session."""
    import transformers

    cache: dict = {}

    def get(arch: str, head: str, tag: str, model_max_length: int | None = None, **config_kwargs) -> Path:
        key = (arch, head, tag, model_max_length, tuple(sorted((k, str(v)) for k, v in config_kwargs.items())))
        if key not in cache:
            folder = tiny_checkpoints(arch, **config_kwargs)
            out = tmp_path_factory.mktemp(f"{arch}_{tag}")
            shutil.copytree(folder, out, dirs_exist_ok=True)
            model = getattr(transformers, arch).from_pretrained(folder)
            with torch.no_grad():
                getattr(model, head).weight.mul_(30)
            model.save_pretrained(out)
            if model_max_length is not None:
                config = json.loads((out / "tokenizer_config.json").read_text())
                config["model_max_length"] = model_max_length
                (out / "tokenizer_config.json").write_text(json.dumps(config))
            cache[key] = out
        return cache[key]

    return get


@pytest.fixture(scope="session")
def advised_kwargs():
    """Function: error message -> the keyword arguments it advises passing."""
    return _advised_kwargs


def _advised_kwargs(message: str) -> dict:
    """The keyword arguments an error message advises (``pass name=value, name=value ...``), as values: a test
    then calls the pipeline with exactly them, so an error never advises something that fails. Values are
    Python literals (numbers, quoted strings, True/False, dicts of them)."""
    import ast
    import re

    parts = re.split(r"\bpass ", message, maxsplit=1, flags=re.IGNORECASE)
    assert len(parts) == 2, f"the error advises nothing to pass: {message}"
    advice = parts[1]
    found = re.findall(r"(\w+)=(\{[^}]*\}|\"[^\"]*\"|'[^']*'|-?\d+|True|False)", advice)
    assert found, f"no name=value in the advice: {message}"
    return {name: ast.literal_eval(value) for name, value in found}
