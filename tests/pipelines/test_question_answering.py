"""question-answering: same answers as the reference pipeline, long contexts in windows."""

from __future__ import annotations

import pytest

import minformers

Q, C = "Where do I work?", "My name is Sylvain and I work at Hugging Face in Brooklyn"


@pytest.fixture(scope="module")
def qa_folder(sharpened_checkpoints):
    return lambda arch: sharpened_checkpoints(arch, "qa_outputs", "qa")  # spread the span scores: no near-ties


def assert_same(ours, theirs, tol=1e-4):
    if isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs), (ours, theirs)
        for a, b in zip(ours, theirs):
            assert_same(a, b, tol)
        return
    assert (ours["answer"], ours["start"], ours["end"]) == (theirs["answer"], theirs["start"], theirs["end"])
    assert ours["score"] == pytest.approx(theirs["score"], abs=tol)


@pytest.mark.parametrize("arch", ["BertForQuestionAnswering", "DistilBertForQuestionAnswering"])
def test_matches_reference(qa_folder, rotten_tomatoes_texts, arch):
    import transformers

    folder = qa_folder(arch)
    ours = minformers.pipeline("question-answering", model=str(folder), batch_size=4)
    theirs = transformers.pipeline("question-answering", model=str(folder))
    long_context = " ".join(rotten_tomatoes_texts[:4]) + " " + C  # several windows
    for kw in ({}, {"top_k": 3}, {"handle_impossible_answer": True, "top_k": 2}, {"align_to_words": False, "top_k": 4},
               {"max_seq_len": 48, "doc_stride": 16, "top_k": 3}, {"max_answer_len": 3}):
        assert_same(ours(question=Q, context=long_context, **kw), theirs(question=Q, context=long_context, **kw))
        assert_same(ours(question=Q, context=C, **kw), theirs(question=Q, context=C, **kw))
    examples = [{"question": Q, "context": C}, {"question": "Who?", "context": long_context}]
    assert_same(ours(examples), theirs(examples))
    assert_same(ours(question=[Q, "Who am I?"], context=C), theirs(question=[Q, "Who am I?"], context=C))
    assert_same(ours(Q, C), theirs(Q, C))
    assert_same(ours({"question": Q, "context": C}), theirs({"question": Q, "context": C}))
    assert_same(ours([{"question": Q, "context": C}]), theirs([{"question": Q, "context": C}]))


def test_bad_input(qa_folder, tiny_checkpoints):
    folder = str(qa_folder("BertForQuestionAnswering"))
    qa = minformers.pipeline("question-answering", model=folder)
    with pytest.raises(ValueError, match="`context` cannot be empty"):
        qa(question=Q, context="")
    with pytest.raises(ValueError, match="question and a context"):
        qa(question=Q)
    with pytest.raises(KeyError, match="question"):
        qa({"context": C})
    with pytest.raises(ValueError, match="same lengths"):
        qa(question=[Q, Q], context=[C])
    with pytest.raises(ValueError, match="top_k"):
        qa(question=Q, context=C, top_k=0)
    with pytest.raises(ValueError, match="doc_stride"):
        qa(question=Q, context=C, doc_stride=100, max_seq_len=50)
    other = str(tiny_checkpoints("BertForSequenceClassification"))
    with pytest.raises(TypeError, match="ForQuestionAnswering"):
        minformers.pipeline("question-answering",
                            model=minformers.AutoModelForSequenceClassification.from_pretrained(other), tokenizer=other)
