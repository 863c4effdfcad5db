"""Auto classes resolve config.model_type -> minformers.models.<type> -> {Arch}{Suffix}."""

from __future__ import annotations

import json

import pytest
import torch
import transformers

import minformers
from minformers import (
    AutoConfig,
    AutoModel,
    AutoModelForMaskedLM,
    AutoModelForMultipleChoice,
    AutoModelForQuestionAnswering,
    AutoModelForSequenceClassification,
    AutoModelForTokenClassification,
    AutoTokenizer,
)

BERT = dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=4, intermediate_size=37, vocab_size=99)
DISTIL = dict(dim=32, n_layers=1, n_heads=4, hidden_dim=37, vocab_size=99)

AUTOS = [
    (AutoModel, "Model"),
    (AutoModelForSequenceClassification, "ForSequenceClassification"),
    (AutoModelForTokenClassification, "ForTokenClassification"),
    (AutoModelForQuestionAnswering, "ForQuestionAnswering"),
    (AutoModelForMaskedLM, "ForMaskedLM"),
    (AutoModelForMultipleChoice, "ForMultipleChoice"),
]


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("auto")
    torch.manual_seed(0)
    transformers.BertForMaskedLM(transformers.BertConfig(**BERT)).save_pretrained(root / "bert")
    transformers.DistilBertForMaskedLM(transformers.DistilBertConfig(**DISTIL)).save_pretrained(root / "distilbert")
    return root


@pytest.mark.parametrize("auto, suffix", AUTOS, ids=[s for _, s in AUTOS])
@pytest.mark.parametrize("arch, prefix", [("bert", "Bert"), ("distilbert", "DistilBert")])
def test_from_pretrained_picks_the_class_by_naming_convention(checkpoints, auto, suffix, arch, prefix):
    model = auto.from_pretrained(checkpoints / arch)
    assert type(model).__name__ == f"{prefix}{suffix}"
    assert type(model) is getattr(minformers, f"{prefix}{suffix}")
    assert not model.training


@pytest.mark.parametrize("auto, suffix", AUTOS, ids=[s for _, s in AUTOS])
def test_from_config(auto, suffix):
    model = auto.from_config(minformers.DistilBertConfig(**DISTIL))
    assert type(model).__name__ == f"DistilBert{suffix}"


def test_config_overrides_go_through(checkpoints):
    model = AutoModelForSequenceClassification.from_pretrained(checkpoints / "bert", num_labels=4,
                                                               output_attentions=True)
    assert model.classifier.out_features == 4 and model.config.num_labels == 4
    out = model(input_ids=torch.tensor([[2, 5, 6, 3]]))
    assert out.logits.shape == (1, 4) and len(out.attentions) == 1
    config = AutoConfig.from_pretrained(checkpoints / "distilbert", num_labels=3)
    model = AutoModelForTokenClassification.from_pretrained(checkpoints / "distilbert", config=config)
    assert model.classifier.out_features == 3
    with pytest.raises(TypeError, match="bogus"):
        AutoModel.from_pretrained(checkpoints / "bert", bogus=True)


def test_auto_masked_lm_matches_reference(checkpoints):
    ids = torch.tensor([[2, 7, 8, 9, 3], [2, 10, 3, 0, 0]])
    mask = (ids != 0).long()
    for arch in ("bert", "distilbert"):
        ref = transformers.AutoModelForMaskedLM.from_pretrained(checkpoints / arch).eval()
        ours = AutoModelForMaskedLM.from_pretrained(checkpoints / arch)
        with torch.no_grad():
            torch.testing.assert_close(ours(input_ids=ids, attention_mask=mask).logits,
                                       ref(input_ids=ids, attention_mask=mask).logits, atol=1e-5, rtol=0)


def test_unknown_model_type_is_a_clear_error(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "gpt9000", "architectures": ["Gpt9000Model"]}))
    with pytest.raises(ValueError, match=r"gpt9000.*supports: .*bert, distilbert"):
        AutoModel.from_pretrained(tmp_path)


def test_config_without_model_type_uses_architectures(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["DistilBertForMaskedLM"], "dim": 16}))
    config = AutoConfig.from_pretrained(tmp_path)
    assert type(config) is minformers.DistilBertConfig and config.dim == 16


def test_auto_classes_are_not_instantiated():
    with pytest.raises(OSError, match="from_pretrained"):
        AutoModel()
    with pytest.raises(OSError):
        AutoConfig()


def test_auto_tokenizer_delegates(monkeypatch):
    tokenizer_module = pytest.importorskip("minformers.tokenization.tokenizer")
    seen = {}

    def fake(name, *args, **kwargs):
        seen.update(name=name, args=args, kwargs=kwargs)
        return "tokenizer"

    monkeypatch.setattr(tokenizer_module.PreTrainedTokenizerFast, "from_pretrained", staticmethod(fake))
    assert AutoTokenizer.from_pretrained("some/model", use_fast=True) == "tokenizer"
    assert seen == {"name": "some/model", "args": (), "kwargs": {"use_fast": True}}
