"""text-classification / sentiment-analysis: same answers as the reference pipeline."""

from __future__ import annotations

import pytest

import minformers

COURSE = ["I've been waiting for a HuggingFace course my whole life.", "I hate this so much!"]
LABELS3 = {0: "NEGATIVE", 1: "NEUTRAL", 2: "POSITIVE"}


def reference_pipeline(folder, **kwargs):
    import transformers

    return transformers.pipeline("text-classification", model=str(folder), **kwargs)


def assert_same(ours, theirs, tol=1e-4):
    """Same structure, same labels, scores within `tol`."""
    if isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs), (ours, theirs)
        for a, b in zip(ours, theirs):
            assert_same(a, b, tol)
    else:
        assert set(ours) == set(theirs)
        assert ours["label"] == theirs["label"]
        assert ours["score"] == pytest.approx(theirs["score"], abs=tol)


@pytest.mark.parametrize("arch", ["BertForSequenceClassification", "DistilBertForSequenceClassification"])
@pytest.mark.parametrize(
    "call",
    [
        {},
        {"top_k": None},
        {"top_k": 2},
        {"top_k": 1},
        {"function_to_apply": "sigmoid"},
        {"function_to_apply": "none", "top_k": None},
    ],
)
def test_matches_reference(tiny_checkpoints, rotten_tomatoes_texts, arch, call):
    folder = tiny_checkpoints(arch, num_labels=3, id2label=LABELS3, label2id={v: k for k, v in LABELS3.items()})
    ours = minformers.pipeline("sentiment-analysis", model=str(folder), batch_size=4)
    theirs = reference_pipeline(folder)
    texts = COURSE + rotten_tomatoes_texts[1200:1210]
    assert_same(ours(COURSE[0], **call), theirs(COURSE[0], **call))
    assert_same(ours(texts, **call), theirs(texts, **call))


def test_text_pairs_and_truncation(tiny_checkpoints, rotten_tomatoes_texts):
    folder = tiny_checkpoints("BertForSequenceClassification")
    ours = minformers.pipeline("text-classification", model=str(folder))
    theirs = reference_pipeline(folder)
    pair = {"text": COURSE[0], "text_pair": COURSE[1]}
    assert_same(ours(pair), theirs(pair))
    assert_same(ours([pair, pair], top_k=None), theirs([pair, pair], top_k=None))
    long_text = rotten_tomatoes_texts[0] * 3  # a plot summary, far over 128 tokens
    assert_same(ours(long_text, truncation=True), theirs(long_text, truncation=True))
    assert_same(ours(long_text, truncation=True, max_length=20), theirs(long_text, truncation=True, max_length=20))


@pytest.mark.parametrize("problem_type,num_labels", [("regression", 1), ("multi_label_classification", 3), (None, 1)])
def test_problem_types(tiny_checkpoints, problem_type, num_labels):
    kwargs = {"num_labels": num_labels}
    if problem_type:
        kwargs["problem_type"] = problem_type
    folder = tiny_checkpoints("BertForSequenceClassification", **kwargs)
    ours = minformers.pipeline("text-classification", model=str(folder))
    theirs = reference_pipeline(folder)
    assert_same(ours(COURSE), theirs(COURSE))
    assert_same(ours(COURSE, top_k=None), theirs(COURSE, top_k=None))


def test_batching_does_not_change_answers(tiny_checkpoints, rotten_tomatoes_texts):
    folder = tiny_checkpoints("BertForSequenceClassification")
    pipe = minformers.pipeline("text-classification", model=str(folder))
    texts = rotten_tomatoes_texts[2000:2040]
    one = pipe(texts, batch_size=1, top_k=None)
    many = pipe(texts, batch_size=16, top_k=None)
    assert_same(many, one, tol=1e-5)
    streamed = list(pipe(iter(texts), batch_size=8, top_k=None))
    assert_same(streamed, one, tol=1e-5)


def test_construction_parameters_are_defaults(tiny_checkpoints):
    folder = tiny_checkpoints("BertForSequenceClassification")
    pipe = minformers.pipeline("text-classification", model=str(folder), top_k=None)
    answers = pipe(COURSE)
    assert all(len(a) == 2 for a in answers)


def test_bad_input(tiny_checkpoints, rotten_tomatoes_texts):
    folder = tiny_checkpoints("BertForSequenceClassification")
    pipe = minformers.pipeline("text-classification", model=str(folder))
    with pytest.raises(TypeError, match="str"):
        pipe(42)
    with pytest.raises(TypeError, match="valid parameters"):
        pipe("hello", topk=3)
    with pytest.raises(ValueError, match="text pair"):
        pipe([["a", "b", "c"]])
    with pytest.raises(ValueError, match="at most 512"):
        pipe(" ".join(rotten_tomatoes_texts[:20]))  # longer than the model, no truncation
    with pytest.raises(ValueError, match="function_to_apply"):
        pipe("hello", function_to_apply="tanh")
    with pytest.raises(KeyError, match="Available tasks"):
        minformers.pipeline("text-clasification", model=str(folder))
    for empty in ["", "   "]:
        assert pipe(empty)[0]["label"] in ("LABEL_0", "LABEL_1")


@pytest.mark.parametrize("arch", ["BertForSequenceClassification", "DistilBertForSequenceClassification"])
def test_weights_replaced_after_a_first_call(sharpened_checkpoints, rotten_tomatoes_texts, arch):
    """Issue 13: after one call, `param.data = new` on the query weights left the pipeline answering with the
    old (cached, fused) weights. It must answer as the reference does with the same new weights."""
    import torch

    head = "classifier"
    folder = sharpened_checkpoints(arch, head, "weights_replaced", num_labels=3, id2label=LABELS3,
                                   label2id={v: k for k, v in LABELS3.items()})
    ours = minformers.pipeline("sentiment-analysis", model=str(folder), top_k=None)
    theirs = reference_pipeline(folder, top_k=None)
    texts = COURSE + rotten_tomatoes_texts[1200:1206]
    before = ours(texts)
    assert_same(before, theirs(texts))
    torch.manual_seed(3)
    for name, p in ours.model.named_parameters():
        if name.endswith(("query.weight", "q_lin.weight")):
            new = torch.randn_like(p) * 4
            p.data = new
            theirs.model.get_parameter(name).data = new.clone()
    after = ours(texts)
    assert_same(after, theirs(texts))
    assert after != before  # the change is visible
