"""fill-mask: same proposals as the reference pipeline."""

from __future__ import annotations

import pytest

import minformers

TEXTS = ["This man works as a [MASK].", "Paris is the [MASK] of [MASK], and a longer text follows here."]


def assert_same(ours, theirs, tol=1e-4):
    if isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs), (ours, theirs)
        for a, b in zip(ours, theirs):
            assert_same(a, b, tol)
        return
    assert (ours["token"], ours["token_str"], ours["sequence"]) == (theirs["token"], theirs["token_str"], theirs["sequence"])
    assert ours["score"] == pytest.approx(theirs["score"], abs=tol)


@pytest.mark.parametrize("arch", ["BertForMaskedLM", "DistilBertForMaskedLM"])
def test_matches_reference(tiny_checkpoints, arch):
    import transformers

    folder = tiny_checkpoints(arch, initializer_range=0.2)  # wider logits: no near-ties in the top 5
    ours = minformers.pipeline("fill-mask", model=str(folder), batch_size=2)
    theirs = transformers.pipeline("fill-mask", model=str(folder))
    for kw in ({}, {"top_k": 2}, {"targets": ["paris", "city", "capital"]}, {"targets": "man", "top_k": 3}):
        assert_same(ours(TEXTS[0], **kw), theirs(TEXTS[0], **kw))
        assert_same(ours(TEXTS, **kw), theirs(TEXTS, **kw))
        assert_same(ours([TEXTS[1]], **kw), theirs([TEXTS[1]], **kw))


def test_bad_input(tiny_checkpoints):
    folder = str(tiny_checkpoints("BertForMaskedLM", initializer_range=0.2))
    unmasker = minformers.pipeline("fill-mask", model=folder)
    with pytest.raises(ValueError, match=r"No mask_token \(\[MASK\]\)"):
        unmasker("There is no mask here.")
    with pytest.raises(ValueError, match="top_k"):
        unmasker(TEXTS[0], top_k=0)
    with pytest.raises(TypeError, match="unexpected keyword"):
        unmasker(TEXTS[0], topk=2)
    other = str(tiny_checkpoints("BertForSequenceClassification"))
    with pytest.raises(TypeError, match="ForMaskedLM"):
        minformers.pipeline("fill-mask", model=minformers.AutoModelForSequenceClassification.from_pretrained(other),
                            tokenizer=other)
