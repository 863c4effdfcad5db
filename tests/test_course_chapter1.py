"""The course's chapter 1 pipeline examples (ner, question-answering, fill-mask, zero-shot), with
`from transformers import pipeline` changed to minformers. Offline defaults run as written; Hub
defaults that are not available offline run on a tiny reference-built checkpoint instead."""

from __future__ import annotations

import pytest

from minformers import pipeline


def test_zero_shot_classification():
    classifier = pipeline("zero-shot-classification")
    out = classifier(
        "This is a course about the Transformers library",
        candidate_labels=["education", "politics", "business"],
    )
    assert out["labels"][0] == "education"


@pytest.mark.xfail(strict=True, reason="issue 14 open: the shipped NER student (320 steps) finds PER Sylvain and LOC Brooklyn but misses ORG Hugging Face")
def test_ner_grouped_entities():
    ner = pipeline("ner", grouped_entities=True)
    out = ner("My name is Sylvain and I work at Hugging Face in Brooklyn.")
    # the offline default (minformers/ner-minilm): the course's answer, words in the text's casing
    assert [(e["entity_group"], e["word"], e["start"], e["end"]) for e in out] == [
        ("PER", "Sylvain", 11, 18), ("ORG", "Hugging Face", 33, 45), ("LOC", "Brooklyn", 49, 57)]


def test_question_answering(tiny_checkpoints, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(OSError, match="distilbert/distilbert-base-cased-distilled-squad"):
        pipeline("question-answering")
    question_answerer = pipeline("question-answering", model=str(tiny_checkpoints("DistilBertForQuestionAnswering")))
    out = question_answerer(
        question="Where do I work?",
        context="My name is Sylvain and I work at Hugging Face in Brooklyn",
    )
    assert set(out) == {"score", "start", "end", "answer"}
    assert out["answer"] == "My name is Sylvain and I work at Hugging Face in Brooklyn"[out["start"]:out["end"]]


def test_fill_mask(tiny_checkpoints, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(OSError, match="distilbert/distilroberta-base"):
        pipeline("fill-mask")
    unmasker = pipeline("fill-mask", model=str(tiny_checkpoints("BertForMaskedLM")))  # stands in for bert-base-uncased
    result = unmasker("This man works as a [MASK].")
    assert len([r["token_str"] for r in result]) == 5
    out = unmasker("This course will teach you all about [MASK] models.", top_k=2)
    assert len(out) == 2 and set(out[0]) == {"score", "token", "token_str", "sequence"}
