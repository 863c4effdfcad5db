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


# Clear cases for the sentence-embedding default: (text, a label that fits, a label that does not).
CLEAR = [
    ("I love playing football with my friends on Sunday.", "sports", "cooking"),
    ("Add two cups of flour and bake the cake for thirty minutes.", "cooking", "politics"),
    ("My flight to Paris was delayed by three hours.", "travel", "chemistry"),
    ("The band played their greatest hits at the concert last night.", "music", "finance"),
    ("The stock market fell sharply after the interest rate announcement.", "finance", "cooking"),
]


def test_sentence_embedding_scores_one_label_on_its_own():
    """One label (or multi_label=True) is scored on its own: a fitting label > 0.5, an unrelated one < 0.5
    (a softmax over one label gave 1.0 to anything); the scores are label_probability of the cosines."""
    import torch

    classifier = minformers.pipeline("zero-shot-classification")  # all-MiniLM-L6-v2, offline
    for text, fits, unrelated in CLEAR:
        assert classifier(text, candidate_labels=[fits])["scores"][0] > 0.5, (text, fits)
        assert classifier(text, candidate_labels=[unrelated])["scores"][0] < 0.5, (text, unrelated)
        both = classifier(text, candidate_labels=[unrelated, fits], multi_label=True)
        assert both["labels"] == [fits, unrelated]
        assert both["scores"][0] > 0.5 > both["scores"][1], (text, both)
        # on its own: the same score alone as next to another label
        assert both["scores"][0] == pytest.approx(classifier(text, candidate_labels=[fits])["scores"][0], abs=1e-6)
    # the mapping is the documented logistic of the cosine, its parameters data
    from minformers.pipelines.zero_shot_classification import (EMBEDDING_CALIBRATION, SimilarityCalibration,
                                                               label_probability)

    cosine = torch.tensor([-0.2, 0.0, EMBEDDING_CALIBRATION.midpoint, 0.3])
    expected = torch.sigmoid(EMBEDDING_CALIBRATION.scale * (cosine - EMBEDDING_CALIBRATION.midpoint))
    torch.testing.assert_close(label_probability(cosine), expected)
    assert label_probability(cosine)[2].item() == pytest.approx(0.5)
    torch.testing.assert_close(label_probability(cosine, SimilarityCalibration(scale=1.0, midpoint=0.0)),
                               torch.sigmoid(cosine))


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
