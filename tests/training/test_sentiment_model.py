"""The shipped default sentiment model: size, accuracy on its held-out test split, the course's answers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

import minformers as mf

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "minformers" / "default_models" / "sentiment"


@pytest.fixture(scope="module")
def train_sentiment():
    sys.path.insert(0, str(ROOT / "scripts"))
    import train_sentiment

    return train_sentiment


def test_folder_is_complete_and_small():
    for name in ("config.json", "model.safetensors", "tokenizer.json", "vocab.txt", "tokenizer_config.json",
                 "README.md"):
        assert (FOLDER / name).is_file(), name
    assert (FOLDER / "model.safetensors").stat().st_size <= 50 * 1024 * 1024
    card = (FOLDER / "README.md").read_text()
    assert "apache-2.0" in card and "all-MiniLM-L6-v2" in card and "Rotten Tomatoes" in card


def test_default_pipeline_gives_the_course_labels(train_sentiment):
    from minformers.hub import packaged_model_dir

    assert packaged_model_dir("minformers/sentiment-minilm") == FOLDER
    classifier = mf.pipeline("sentiment-analysis")
    out = classifier(list(train_sentiment.COURSE_SENTENCES))
    assert [o["label"] for o in out] == list(train_sentiment.COURSE_SENTENCES.values())
    assert all(o["score"] > 0.5 for o in out)


def test_weights_load_as_float32_and_reference_agrees():
    import transformers

    ours = mf.AutoModelForSequenceClassification.from_pretrained(FOLDER)
    assert ours.classifier.weight.dtype == torch.float32
    ref = transformers.AutoModelForSequenceClassification.from_pretrained(FOLDER).eval()
    tok = mf.AutoTokenizer.from_pretrained(FOLDER)
    enc = tok(["A warm, funny, beautifully made film.", "Tedious and badly acted."], padding=True,
              return_tensors="pt")
    with torch.inference_mode():
        torch.testing.assert_close(ours(**enc).logits, ref(**dict(enc)).logits, atol=1e-4, rtol=1e-4)


def test_test_split_accuracy(train_sentiment, rotten_tomatoes_rows):
    torch.set_num_threads(2)
    test = train_sentiment.split(rotten_tomatoes_rows)["test"]
    assert len(test) == 1282
    accuracy = train_sentiment.evaluate_folder(FOLDER, test)
    assert accuracy >= 0.82, accuracy
