"""A name is resolved once (issue 15, item 5): pipeline() and from_pretrained turn it into one Checkpoint
at the door, and nothing below resolves it again."""

from __future__ import annotations

import os
import shutil

import pytest

import minformers.checkpoint as checkpoint_module
from minformers.checkpoint import Checkpoint, resolve_checkpoint
from minformers.hub import packaged_model_dir


@pytest.fixture
def resolutions(monkeypatch):
    """Every name or folder handed to the hub's resolve_model_dir, except an already resolved Checkpoint
    (an os.PathLike of its folder, which the hub uses as it is)."""
    seen: list = []
    real = checkpoint_module.resolve_model_dir

    def spy(name_or_path, *args, **kwargs):
        if not isinstance(name_or_path, Checkpoint):
            seen.append(name_or_path)
        return real(name_or_path, *args, **kwargs)

    import minformers.hub as hub

    monkeypatch.setattr(hub, "resolve_model_dir", spy)  # the tokenizer and generation config look it up here
    monkeypatch.setattr(checkpoint_module, "resolve_model_dir", spy)
    return seen


def test_pipeline_resolves_the_default_model_name_once(resolutions):
    from minformers import pipeline

    classifier = pipeline("sentiment-analysis")
    assert resolutions == ["minformers/sentiment-minilm"]
    assert classifier.model.config.name_or_path == "minformers/sentiment-minilm"
    assert classifier.tokenizer.name_or_path == "minformers/sentiment-minilm"


def test_pipeline_resolves_a_given_folder_once_even_when_it_infers_the_task(resolutions):
    from minformers import pipeline

    folder = str(packaged_model_dir("minformers/sentiment-minilm"))
    classifier = pipeline(model=folder)  # the task comes from config.architectures
    assert resolutions == [folder]
    assert classifier.task == "text-classification"


def test_auto_model_from_a_folder_resolves_it_once(resolutions):
    from minformers import AutoModel

    folder = packaged_model_dir("sentence-transformers/all-MiniLM-L6-v2")
    model = AutoModel.from_pretrained(folder)
    assert resolutions == [folder]
    assert model.config.name_or_path == os.fspath(folder)


def test_checkpoint_describes_the_folder_and_is_taken_as_it_is(tmp_path):
    from minformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer, PretrainedConfig

    source = packaged_model_dir("minformers/sentiment-minilm")
    folder = tmp_path / "copy"
    shutil.copytree(source, folder)
    checkpoint = resolve_checkpoint(str(folder))
    assert checkpoint.folder == folder and checkpoint.format == "safetensors" and checkpoint.gguf_file is None
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= checkpoint.files
    assert os.fspath(checkpoint) == str(folder) and str(checkpoint) == str(folder)
    assert resolve_checkpoint(checkpoint) is checkpoint
    config_dict = checkpoint.config_dict()
    config_dict["model_type"] = "changed"  # a copy: the checkpoint's own dict is read once and kept
    assert checkpoint.config_dict()["model_type"] == "bert"
    (folder / "config.json").unlink()  # read once: nothing goes back to the folder for it
    assert AutoConfig.from_pretrained(checkpoint).model_type == "bert"
    assert PretrainedConfig.from_pretrained(checkpoint).name_or_path == str(folder)
    model = AutoModelForSequenceClassification.from_pretrained(checkpoint)
    assert model.config.name_or_path == str(folder)
    assert AutoTokenizer.from_pretrained(checkpoint).name_or_path == str(folder)
    with pytest.raises(ValueError, match="gguf_file"):
        resolve_checkpoint(checkpoint, gguf_file="model.gguf")


def test_a_folder_without_weights_has_no_format(tmp_path):
    (tmp_path / "config.json").write_text('{"model_type": "bert"}')
    checkpoint = resolve_checkpoint(tmp_path, weights=False)
    assert checkpoint.format is None and checkpoint.files == frozenset({"config.json"})
    empty = resolve_checkpoint(tmp_path / ".." / tmp_path.name)
    with pytest.raises(OSError, match="does not contain a file named config.json"):
        (tmp_path / "config.json").unlink() or empty.config_dict()
