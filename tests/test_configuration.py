"""PretrainedConfig: defaults equal the reference's, labels, overrides, and a lossless load/save round trip."""

from __future__ import annotations

import json

import pytest
import transformers

import minformers
from minformers import AutoConfig, BertConfig, DistilBertConfig, PretrainedConfig


@pytest.mark.parametrize("ours, theirs", [(BertConfig, transformers.BertConfig),
                                          (DistilBertConfig, transformers.DistilBertConfig)])
def test_defaults_equal_the_reference(ours, theirs):
    mine, ref = ours().to_dict(), theirs().to_dict()
    for key, value in ref.items():
        if key in mine:
            assert mine[key] == value, key
    # every model-specific key the reference writes, we have, with the same value
    for key in theirs().to_diff_dict():
        if key != "transformers_version":
            assert key in mine, key
    for key in ("id2label", "label2id", "problem_type", "pad_token_id", "architectures", "return_dict",
                "output_hidden_states", "output_attentions", "tie_word_embeddings"):
        assert mine[key] == ref[key], key
    assert ours().num_labels == theirs().num_labels == 2
    assert ours.model_type == theirs.model_type


def test_fields_are_config_json_keys_and_aliases_work():
    config = DistilBertConfig(dim=64, n_heads=8)
    assert config.hidden_size == 64 and config.num_attention_heads == 8 and config.num_hidden_layers == 6
    config.hidden_size = 128
    assert config.dim == 128 and "hidden_size" not in config.to_dict()
    assert DistilBertConfig(hidden_size=48).dim == 48
    assert BertConfig(30000, 256).to_dict()["hidden_size"] == 256  # positional, in the reference's order


def test_num_labels_and_id2label():
    config = BertConfig(num_labels=5)
    assert config.id2label == {i: f"LABEL_{i}" for i in range(5)}
    assert config.label2id == {f"LABEL_{i}": i for i in range(5)}
    config.num_labels = 3
    assert config.num_labels == 3 and list(config.id2label) == [0, 1, 2]
    config = BertConfig(id2label={"0": "neg", "1": "pos"})
    assert config.id2label == {0: "neg", 1: "pos"} and config.label2id == {"neg": 0, "pos": 1}
    with pytest.raises(ValueError, match="problem_type"):
        BertConfig(problem_type="ranking")


def test_round_trip_keeps_unknown_keys_and_int_label_keys(tmp_path):
    config = BertConfig(hidden_size=64, id2label={0: "neg", 1: "neu", 2: "pos"}, my_custom_key={"a": [1, 2]},
                        problem_type="single_label_classification")
    config.another_extra = "x"
    config.save_pretrained(tmp_path)
    raw = json.loads((tmp_path / "config.json").read_text())
    assert raw["model_type"] == "bert" and raw["my_custom_key"] == {"a": [1, 2]} and raw["id2label"]["2"] == "pos"
    back = BertConfig.from_pretrained(tmp_path)
    assert back.to_dict() == config.to_dict()
    assert back.id2label == {0: "neg", 1: "neu", 2: "pos"} and back.num_labels == 3
    assert back.my_custom_key == {"a": [1, 2]} and back.another_extra == "x"
    assert back == config
    # the reference reads what we wrote
    ref = transformers.AutoConfig.from_pretrained(tmp_path)
    assert type(ref) is transformers.BertConfig
    assert ref.id2label == back.id2label and ref.hidden_size == 64 and ref.my_custom_key == {"a": [1, 2]}


def test_reads_reference_config_and_overrides(tmp_path):
    transformers.DistilBertConfig(dim=48, n_layers=3, id2label={0: "a", 1: "b"}).save_pretrained(tmp_path)
    config = DistilBertConfig.from_pretrained(tmp_path)
    assert (config.dim, config.n_layers, config.id2label) == (48, 3, {0: "a", 1: "b"})
    assert config.transformers_version  # unknown to us, kept
    config = DistilBertConfig.from_pretrained(tmp_path, num_labels=4, output_hidden_states=True)
    assert config.num_labels == 4 and config.output_hidden_states is True
    config, unused = DistilBertConfig.from_pretrained(tmp_path, return_unused_kwargs=True, n_heads=2, foo=1)
    assert config.n_heads == 2 and unused == {"foo": 1}
    config = DistilBertConfig.from_pretrained(tmp_path, id2label={0: "x", 1: "y", 2: "z"})
    assert config.label2id == {"x": 0, "y": 1, "z": 2} and config.num_labels == 3


def test_auto_config_picks_the_class_by_model_type(tmp_path):
    transformers.BertConfig(hidden_size=48).save_pretrained(tmp_path / "bert")
    transformers.DistilBertConfig().save_pretrained(tmp_path / "distil")
    assert type(AutoConfig.from_pretrained(tmp_path / "bert")) is BertConfig
    assert AutoConfig.from_pretrained(tmp_path / "bert").hidden_size == 48
    assert type(AutoConfig.from_pretrained(tmp_path / "distil")) is DistilBertConfig
    assert type(AutoConfig.for_model("bert", hidden_size=8)) is BertConfig


def test_unknown_model_type_lists_supported(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "mamba9"}))
    with pytest.raises(ValueError, match=r"mamba9.*bert, distilbert"):
        AutoConfig.from_pretrained(tmp_path)


def test_missing_or_broken_config_file(tmp_path):
    with pytest.raises(OSError, match="config.json"):
        BertConfig.from_pretrained(tmp_path)
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(OSError, match="config.json"):
        AutoConfig.from_pretrained(tmp_path)
    with pytest.raises(OSError):
        BertConfig.from_pretrained(tmp_path / "nope")


def test_to_json_string_and_from_dict():
    config = BertConfig(num_labels=3)
    data = json.loads(config.to_json_string())
    assert data["id2label"] == {"0": "LABEL_0", "1": "LABEL_1", "2": "LABEL_2"}
    assert BertConfig.from_dict(data) == config
    assert BertConfig.from_dict(data, num_labels=2).num_labels == 2
    assert config.use_return_dict and not BertConfig(torchscript=True).use_return_dict
    assert "vocab_size" in BertConfig(vocab_size=7).to_diff_dict()
    assert isinstance(config, PretrainedConfig)


def test_importing_a_config_does_not_import_torch():
    import subprocess
    import sys

    code = ("import sys, minformers; minformers.AutoConfig; import minformers.configuration, minformers.auto; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
    assert minformers.PretrainedConfig is PretrainedConfig


REPR_CONFIGS = ["BertConfig", "DistilBertConfig", "RobertaConfig", "XLMRobertaConfig", "GPT2Config", "LlamaConfig",
                "BartConfig", "T5Config", "MarianConfig"]
REPR_KWARGS = [
    {},
    {"num_labels": 3},
    {"hidden_act": "relu", "pad_token_id": 5, "output_hidden_states": True, "my_key": [1, 2]},
    {"id2label": {0: "NEG", 1: "POS"}, "label2id": {"NEG": 0, "POS": 1}, "tie_word_embeddings": False},
    {"max_length": 20, "num_beams": 4, "is_decoder": True},  # reference base keys: the default hidden, not 4
]


@pytest.mark.parametrize("name", REPR_CONFIGS)
def test_repr_prints_what_the_reference_prints(name, tmp_path):
    """print(config): the class name and the JSON of the keys that differ from the defaults (every model key,
    model_type, transformers_version), byte for byte the reference's; to_dict and config.json stay full."""
    for kwargs in REPR_KWARGS:
        ours, theirs = getattr(minformers, name)(**kwargs), getattr(transformers, name)(**kwargs)
        assert repr(ours) == repr(theirs), kwargs
        assert ours.to_json_string() == theirs.to_json_string()
        assert json.dumps(ours.to_diff_dict(), sort_keys=True) == json.dumps(theirs.to_diff_dict(), sort_keys=True)
    getattr(transformers, name)(num_labels=3, vocab_size=123).save_pretrained(tmp_path)
    loaded = getattr(minformers, name).from_pretrained(tmp_path)
    assert repr(loaded) == repr(getattr(transformers, name).from_pretrained(tmp_path))
    full = getattr(minformers, name)()
    assert "return_dict" not in full.to_diff_dict() and full.to_dict()["return_dict"] is True
    assert set(getattr(transformers, name)().to_dict()) - {"dtype"} >= set(full.to_dict())  # no key of our own
    full.save_pretrained(tmp_path)
    written = json.loads((tmp_path / "config.json").read_text())
    assert written == json.loads(full.to_json_string(use_diff=False)) and "return_dict" in written
