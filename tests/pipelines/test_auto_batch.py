"""Without a batch_size, a list (or one item of several rows) runs in batches of Pipeline.auto_batch_size rows;
the answers are the one-row-at-a-time answers and the reference's. Streams keep one row per forward."""

from __future__ import annotations

import pytest

import minformers

NLI = {0: "contradiction", 1: "neutral", 2: "entailment"}
LABELS = ["education", "politics", "business", "sports"]


def counting(pipe):
    calls = []
    forward = pipe._forward

    def wrapped(batch, **kw):
        calls.append(batch["input_ids"].shape[0])
        return forward(batch, **kw)

    pipe._forward = wrapped
    return calls


@pytest.fixture(scope="module")
def nli(sharpened_checkpoints):
    return str(sharpened_checkpoints("BertForSequenceClassification", "classifier", "nli_auto", num_labels=3,
                                     id2label=NLI, label2id={v: k for k, v in NLI.items()}))


def test_zero_shot_pairs_share_a_forward(nli, rotten_tomatoes_texts):
    import transformers

    text = rotten_tomatoes_texts[7]
    auto = minformers.pipeline("zero-shot-classification", model=nli)
    one = minformers.pipeline("zero-shot-classification", model=nli, batch_size=1)
    calls_auto, calls_one = counting(auto), counting(one)
    a, b = auto(text, candidate_labels=LABELS), one(text, candidate_labels=LABELS)
    assert calls_auto == [4] and calls_one == [1, 1, 1, 1]
    ref = transformers.pipeline("zero-shot-classification", model=nli)(text, candidate_labels=LABELS)
    for ours in (a, b):
        assert ours["labels"] == ref["labels"]
        assert ours["scores"] == pytest.approx(ref["scores"], abs=1e-4)
    assert a["scores"] == pytest.approx(b["scores"], abs=1e-6)


def test_lists_batch_streams_do_not(tiny_checkpoints, rotten_tomatoes_texts):
    import transformers

    folder = str(tiny_checkpoints("BertForSequenceClassification", num_labels=2))
    texts = rotten_tomatoes_texts[20:25]
    pipe = minformers.pipeline("sentiment-analysis", model=folder)
    calls = counting(pipe)
    listed = pipe(texts, top_k=None)
    assert calls == [5]
    streamed = list(pipe(iter(texts), top_k=None))
    assert calls[1:] == [1] * 5
    ref = transformers.pipeline("sentiment-analysis", model=folder)(texts, top_k=None)
    for ours in (listed, streamed):
        for o, r in zip(ours, ref):
            assert [x["label"] for x in o] == [x["label"] for x in r]
            assert [x["score"] for x in o] == pytest.approx([x["score"] for x in r], abs=1e-4)
    assert pipe(texts, batch_size=2) and calls[6:] == [2, 2, 1]  # an explicit batch_size wins


def test_no_auto_batch_without_a_pad_token_in_the_config(tiny_checkpoints, rotten_tomatoes_texts):
    """A model that needs config.pad_token_id to read padded rows (decoder classifiers) is run a row at a time."""
    folder = tiny_checkpoints("BertForSequenceClassification", num_labels=2)
    model = minformers.AutoModelForSequenceClassification.from_pretrained(folder)
    model.config.pad_token_id = None
    pipe = minformers.pipeline("sentiment-analysis", model=model, tokenizer=minformers.AutoTokenizer.from_pretrained(folder))
    calls = counting(pipe)
    pipe(rotten_tomatoes_texts[:3])
    assert calls == [1, 1, 1]
