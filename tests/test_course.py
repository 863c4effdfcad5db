"""Chapter 2 of the course, "behind the pipeline", with `transformers` replaced by `minformers`.

The numbers are facts from the course notes (../shared/course-notes/000_*.txt): the token
ids of the two sentences with the bert-base-uncased vocabulary, and the hidden-state shape.
"""

from __future__ import annotations

import torch

from minformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer

RAW_INPUTS = [
    "I've been waiting for a HuggingFace course my whole life.",
    "I hate this so much!",
]
COURSE_IDS = [
    [101, 1045, 1005, 2310, 2042, 3403, 2005, 1037, 17662, 12172, 2607, 2026, 2878, 2166, 1012, 102],
    [101, 1045, 5223, 2023, 2061, 2172, 999, 102, 0, 0, 0, 0, 0, 0, 0, 0],
]
COURSE_MASK = [[1] * 16, [1] * 8 + [0] * 8]


def test_behind_the_pipeline(minilm_dir):
    tokenizer = AutoTokenizer.from_pretrained(str(minilm_dir))
    inputs = tokenizer(RAW_INPUTS, padding=True, truncation=True, return_tensors="pt")
    assert inputs["input_ids"].tolist() == COURSE_IDS
    assert inputs["attention_mask"].tolist() == COURSE_MASK

    model = AutoModel.from_pretrained(str(minilm_dir))
    outputs = model(**inputs)
    assert outputs.last_hidden_state.shape == torch.Size([2, 16, 384])
    assert outputs["last_hidden_state"] is outputs.last_hidden_state
    assert outputs[0] is outputs.last_hidden_state

    classifier = AutoModelForSequenceClassification.from_pretrained(str(minilm_dir), num_labels=2)
    logits = classifier(**inputs).logits
    assert logits.shape == torch.Size([2, 2])
    predictions = torch.nn.functional.softmax(logits, dim=-1)
    assert torch.allclose(predictions.sum(-1), torch.ones(2))
    assert classifier.config.id2label == {0: "LABEL_0", 1: "LABEL_1"}


def test_models_chapter(tmp_path):
    from minformers import BertConfig, BertModel

    config = BertConfig()
    assert (config.hidden_size, config.num_hidden_layers, config.num_attention_heads) == (768, 12, 12)
    model = BertModel(BertConfig(num_hidden_layers=1, hidden_size=64, num_attention_heads=2, intermediate_size=128))
    model.save_pretrained(tmp_path)
    assert (tmp_path / "config.json").exists() and (tmp_path / "model.safetensors").exists()
    again = BertModel.from_pretrained(tmp_path)
    for (name, a), (_, b) in zip(model.state_dict().items(), again.state_dict().items()):
        assert torch.equal(a, b), name
