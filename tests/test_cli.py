"""`python -m minformers TASK [--model M] TEXT...` prints JSON answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def run_cli(*args, stdin=None):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "minformers", *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=300)


def test_text_classification(tiny_checkpoints):
    import transformers

    folder = tiny_checkpoints("BertForSequenceClassification")
    texts = ["I love this.", "I hate this so much!"]
    result = run_cli("sentiment-analysis", "--model", str(folder), *texts)
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout)
    reference = transformers.pipeline("text-classification", model=str(folder))(texts)
    assert [a["label"] for a in answers] == [r["label"] for r in reference]
    assert [a["score"] for a in answers] == pytest.approx([r["score"] for r in reference], abs=1e-4)
    # texts on standard input, every label
    result = run_cli("text-classification", "--model", str(folder), "--top-k", "all", stdin="I love this.\n")
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)) == 1 and len(json.loads(result.stdout)[0]) == 2


def test_feature_extraction_default_model():
    result = run_cli("feature-extraction", "--pooling", "mean", "--normalize", "hello world")
    assert result.returncode == 0, result.stderr
    (vector,) = json.loads(result.stdout)
    assert len(vector[0]) == 384
    assert "all-MiniLM-L6-v2" in result.stderr  # which default it chose


def test_errors():
    result = run_cli("no-such-task", "text")
    assert result.returncode == 2 and "Available tasks" in result.stderr and "feature-extraction" in result.stderr
    result = run_cli("text-classification", "--model", "/no/such/folder", "text")
    assert result.returncode == 1 and "/no/such/folder" in result.stderr
