"""zero-shot-classification: NLI models as the reference; sentence-embedding models by cosine similarity."""

from __future__ import annotations

import pytest

import minformers

NLI = {0: "entailment", 1: "neutral", 2: "contradiction"}
TEXT = "This is a course about the Transformers library"
LABELS = ["education", "politics", "business"]


@pytest.fixture(scope="module")
def nli_folder(sharpened_checkpoints):
    return lambda arch: sharpened_checkpoints(arch, "classifier", "nli", num_labels=3, id2label=NLI,
                                              label2id={v: k for k, v in NLI.items()})


def assert_same(ours, theirs, tol=1e-4):
    if isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert_same(a, b, tol)
        return
    assert (ours["sequence"], ours["labels"]) == (theirs["sequence"], theirs["labels"])
    assert ours["scores"] == pytest.approx(theirs["scores"], abs=tol)


@pytest.mark.parametrize("arch", ["BertForSequenceClassification", "DistilBertForSequenceClassification"])
def test_nli_matches_reference(nli_folder, rotten_tomatoes_texts, arch):
    import transformers

    folder = nli_folder(arch)
    ours = minformers.pipeline("zero-shot-classification", model=str(folder), batch_size=4)
    theirs = transformers.pipeline("zero-shot-classification", model=str(folder))
    texts = [TEXT, rotten_tomatoes_texts[0] * 3] + rotten_tomatoes_texts[1500:1503]  # one truncated
    for kw in ({"candidate_labels": LABELS}, {"candidate_labels": "education, politics", "multi_label": True},
               {"candidate_labels": ["x"]},
               {"candidate_labels": ["sports", "cinema", "food", "war"], "hypothesis_template": "The topic is {}"}):
        assert_same(ours(TEXT, **kw), theirs(TEXT, **kw))
        assert_same(ours(texts, **kw), theirs(texts, **kw))
    assert_same(ours(TEXT, LABELS), theirs(TEXT, LABELS))


def test_sentence_embedding_default():
    classifier = minformers.pipeline("zero-shot-classification")  # all-MiniLM-L6-v2, offline
    out = classifier(TEXT, candidate_labels=LABELS)
    assert out["sequence"] == TEXT and out["labels"][0] == "education"
    assert sum(out["scores"]) == pytest.approx(1.0, abs=1e-5) and out["scores"] == sorted(out["scores"], reverse=True)
    multi = classifier([TEXT, "The election results surprised the senators"], candidate_labels=LABELS,
                       multi_label=True)
    assert multi[1]["labels"][0] == "politics" and all(0 <= s <= 1 for s in multi[1]["scores"])


def test_bad_input(nli_folder, tiny_checkpoints):
    classifier = minformers.pipeline("zero-shot-classification", model=str(nli_folder("BertForSequenceClassification")))
    with pytest.raises(ValueError, match="at least one label"):
        classifier(TEXT, candidate_labels=[])
    with pytest.raises(ValueError, match="candidate_labels"):
        classifier(TEXT)
    with pytest.raises(ValueError, match="hypothesis_template"):
        classifier(TEXT, candidate_labels=LABELS, hypothesis_template="no slot")
    plain = str(tiny_checkpoints("BertForSequenceClassification"))  # labels LABEL_0, LABEL_1: not NLI
    with pytest.raises(ValueError, match="entailment"):
        minformers.pipeline("zero-shot-classification", model=plain)
