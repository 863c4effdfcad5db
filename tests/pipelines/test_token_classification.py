"""token-classification / ner: same entities as the reference pipeline; the rampart default converted from ONNX."""

from __future__ import annotations

import warnings

import pytest
import torch

import minformers

LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]
COURSE = "My name is Sylvain and I work at Hugging Face in Brooklyn."
STRATEGIES = ["none", "simple", "first", "average", "max"]


@pytest.fixture(scope="module")
def ner_folder(sharpened_checkpoints):
    """Tiny random token classifiers with a sharpened head (no near-ties) and model_max_length 64 (short windows)."""
    return lambda arch: sharpened_checkpoints(arch, "classifier", "ner", model_max_length=64, num_labels=len(LABELS),
                                              id2label=dict(enumerate(LABELS)),
                                              label2id={l: i for i, l in enumerate(LABELS)})


def reference(folder, **kwargs):
    import transformers

    return transformers.pipeline("token-classification", model=str(folder), **kwargs)


def assert_same(ours, theirs, tol=1e-4):
    assert isinstance(ours, list) and len(ours) == len(theirs), (ours, theirs)
    for a, b in zip(ours, theirs):
        if isinstance(b, list):
            assert_same(a, b, tol)
            continue
        assert set(a) == set(b), (a, b)
        for key in b:
            if key == "score":
                assert a[key] == pytest.approx(float(b[key]), abs=tol)
            else:
                assert a[key] == b[key], (key, a, b)


@pytest.mark.parametrize("arch", ["BertForTokenClassification", "DistilBertForTokenClassification"])
def test_matches_reference(ner_folder, rotten_tomatoes_texts, arch):
    folder = ner_folder(arch)
    ours = minformers.pipeline("ner", model=str(folder), batch_size=3)
    theirs = reference(folder)
    texts = [COURSE, "Unbelievably, xyzzyq went to Zürich!"] + rotten_tomatoes_texts[1200:1204]
    texts = [t for t in texts if len(ours.tokenizer(t)["input_ids"]) <= 64]
    for strategy in STRATEGIES:
        for labels in (None, []):
            kw = {"aggregation_strategy": strategy} | ({"ignore_labels": labels} if labels is not None else {})
            assert_same(ours(COURSE, **kw), theirs(COURSE, **kw))
            assert_same(ours(texts, **kw), theirs(texts, **kw))


def test_legacy_switches(ner_folder):
    folder = ner_folder("BertForTokenClassification")
    ours = minformers.pipeline("ner", model=str(folder), grouped_entities=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = reference(folder, grouped_entities=True)
        assert_same(ours(COURSE), theirs(COURSE))
        for kw in ({"grouped_entities": True, "ignore_subwords": True}, {"grouped_entities": False}):
            assert_same(ours(COURSE, **kw), theirs(COURSE, **kw))


@pytest.mark.parametrize("strategy", ["simple", "first", "average", "max"])
def test_long_text_with_stride(ner_folder, rotten_tomatoes_texts, strategy):
    folder = ner_folder("BertForTokenClassification")
    ours = minformers.pipeline("ner", model=str(folder), aggregation_strategy=strategy)
    theirs = reference(folder, aggregation_strategy=strategy)
    long_texts = [rotten_tomatoes_texts[0] + " " + COURSE, rotten_tomatoes_texts[1] * 2]
    for stride in (8, 24):
        assert_same(ours(long_texts, stride=stride, ignore_labels=[], batch_size=4),
                    theirs(long_texts, stride=stride, ignore_labels=[]))
        assert_same(ours(long_texts[0], stride=stride), theirs(long_texts[0], stride=stride))


def test_bad_input(ner_folder, rotten_tomatoes_texts, tiny_checkpoints):
    folder = ner_folder("BertForTokenClassification")
    ours = minformers.pipeline("ner", model=str(folder))
    with pytest.raises(ValueError, match="stride"):
        ours(rotten_tomatoes_texts[0] * 3)
    with pytest.raises(ValueError, match="aggregation_strategy"):
        ours(COURSE, stride=8)
    with pytest.raises(ValueError, match="aggregation_strategy must be one of"):
        ours(COURSE, aggregation_strategy="mean")
    with pytest.raises(ValueError, match="At least one input"):
        ours([])
    with pytest.raises(TypeError, match="str"):
        ours(3)
    with pytest.raises(TypeError, match="offset_mapping"):
        ours(COURSE, offset_mapping=[(0, 1)])
    with pytest.raises(TypeError, match="ForTokenClassification"):
        other = str(tiny_checkpoints("BertForSequenceClassification"))
        model = minformers.AutoModelForSequenceClassification.from_pretrained(other)
        minformers.pipeline("ner", model=model, tokenizer=other)


# ---- the offline default: rampart 1.4.0, converted from its 4-bit ONNX graph -----------------
@pytest.fixture(scope="module")
def rampart():
    from minformers.pipelines.ner_default import rampart_folder, rampart_source

    return rampart_source(), rampart_folder()


def test_rampart_conversion_matches_onnxruntime(rampart):
    import numpy as np
    import onnxruntime

    source, folder = rampart
    model = minformers.AutoModelForTokenClassification.from_pretrained(str(folder)).eval()
    tok = minformers.AutoTokenizer.from_pretrained(str(folder))
    texts = [COURSE, "Call John Smith at +1 415 555 0100 or john.smith@example.com, 12 Main Street, Springfield IL."]
    session = onnxruntime.InferenceSession(str(source / "onnx" / "model_q4.onnx"), providers=["CPUExecutionProvider"])
    for text in texts:
        enc = tok(text)
        feeds = {k: np.array([enc[k]], dtype=np.int64) for k in ("input_ids", "attention_mask", "token_type_ids")}
        expected = session.run(None, feeds)[0]
        with torch.inference_mode():
            got = model(**{k: torch.from_numpy(v) for k, v in feeds.items()}).logits.numpy()
        assert np.abs(got - expected).max() < 1e-4


def test_rampart_default_matches_reference(rampart):
    _, folder = rampart
    ours = minformers.pipeline("ner")
    theirs = reference(folder)
    texts = [COURSE, "Email Maria Garcia at maria.garcia@example.org or call 212-555-0199. She lives in Boston."]
    for strategy in STRATEGIES:
        assert_same(ours(texts, aggregation_strategy=strategy), theirs(texts, aggregation_strategy=strategy))
    found = {e["entity_group"]: e["word"] for e in ours(COURSE, aggregation_strategy="first")}
    assert found.get("GIVEN_NAME") == "sylvain" and found.get("CITY") == "brooklyn"
