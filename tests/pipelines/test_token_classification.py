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
    ours = minformers.pipeline("ner", model=str(folder))  # rampart: the default is now minformers/ner-minilm
    theirs = reference(folder)
    texts = [COURSE, "Email Maria Garcia at maria.garcia@example.org or call 212-555-0199. She lives in Boston."]
    for strategy in STRATEGIES:
        assert_same(ours(texts, aggregation_strategy=strategy), theirs(texts, aggregation_strategy=strategy))
    found = {e["entity_group"]: e["word"] for e in ours(COURSE, aggregation_strategy="first")}
    assert found.get("GIVEN_NAME") == "sylvain" and found.get("CITY") == "brooklyn"


# ---- long texts: windows, and errors whose advice works (issue 13, item 9) -------------------------
LONG = ("My name is Sylvain and I work at Hugging Face in Brooklyn. Email Maria Garcia at maria.garcia@example.org "
        "or call 212-555-0199. She lives at 12 Main Street, Springfield. ") * 20  # ~900 tokens


def test_rampart_folder_knows_its_max_length(tmp_path, monkeypatch):
    """The package's tokenizer config has the 1e30 'no limit' sentinel: a fresh conversion writes the model's
    512 positions, and a folder converted before (sentinel still there) is mended on its next use -- for
    both libraries, which read the same folder."""
    import json

    import transformers

    from minformers.pipelines.ner_default import rampart_folder, rampart_source

    source_limit = json.loads((rampart_source() / "tokenizer_config.json").read_text())["model_max_length"]
    assert source_limit > 1e20  # the sentinel this fixes
    monkeypatch.setenv("MINFORMERS_CACHE", str(tmp_path))
    folder = rampart_folder()  # a real conversion, in a fresh cache
    assert minformers.AutoTokenizer.from_pretrained(str(folder)).model_max_length == 512
    assert transformers.AutoTokenizer.from_pretrained(str(folder)).model_max_length == 512
    config_path = folder / "tokenizer_config.json"
    stale = json.loads(config_path.read_text())
    stale["model_max_length"] = source_limit  # as an older minformers converted it
    config_path.write_text(json.dumps(stale))
    assert rampart_folder() == folder
    assert json.loads(config_path.read_text())["model_max_length"] == 512
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == []  # no temporary left


def test_default_ner_long_text_advice_works(advised_kwargs):
    """pipeline('ner') with its defaults on a ~900-token text: the error's advice, passed as written, reads the
    text in windows to its end."""
    ours = minformers.pipeline("ner")  # whichever model is the default: its own limit and strategy
    with pytest.raises(ValueError, match="stride") as info:
        ours(LONG)
    found = ours(LONG, **advised_kwargs(str(info.value)))
    assert found and found[-1]["end"] > len(LONG) - 100


def test_rampart_long_text_advice_works_and_matches_reference(rampart, advised_kwargs):
    """The rampart folder (the former default) on a ~900-token text: the error names a stride and a strategy;
    passing exactly them reads the text in windows, with the reference's entities on the same folder (and the
    other strategies too)."""
    _, folder = rampart
    ours = minformers.pipeline("ner", model=str(folder))
    with pytest.raises(ValueError, match="stride") as info:
        ours(LONG)
    advice = advised_kwargs(str(info.value))
    assert set(advice) == {"stride", "aggregation_strategy"}
    theirs = reference(folder)
    found = ours(LONG, **advice)
    assert found and found[-1]["end"] > len(LONG) - 100  # the last window was read
    assert_same(found, theirs(LONG, **advice))
    for strategy in ("first", "average", "max"):
        assert_same(ours(LONG, stride=64, aggregation_strategy=strategy),
                    theirs(LONG, stride=64, aggregation_strategy=strategy))
    # With a strategy given at construction the advice is the stride alone, and works.
    grouped = minformers.pipeline("ner", model=str(folder), aggregation_strategy="first")
    with pytest.raises(ValueError, match="stride") as info:
        grouped(LONG)
    assert set(advised_kwargs(str(info.value))) == {"stride"}
    assert_same(grouped(LONG, **advised_kwargs(str(info.value))),
                theirs(LONG, aggregation_strategy="first", **advised_kwargs(str(info.value))))


def test_stride_errors_advise_what_works(ner_folder, advised_kwargs):
    """stride without a strategy, and a stride as long as the window: each error's advice, passed as written,
    works (the reference checks only stride < model_max_length and its tokenizer then panics)."""
    folder = ner_folder("BertForTokenClassification")  # model_max_length 64: 62 text tokens a window
    ours = minformers.pipeline("ner", model=str(folder))
    text = COURSE * 8
    with pytest.raises(ValueError, match="aggregation_strategy") as info:
        ours(text, stride=8)
    assert advised_kwargs(str(info.value)) == {"aggregation_strategy": "simple"}
    assert ours(text, stride=8, **advised_kwargs(str(info.value))) == \
        ours(text, stride=8, aggregation_strategy="simple")
    for stride in (62, 63, 64):
        with pytest.raises(ValueError, match="stride=61 or less") as info:
            ours(text, stride=stride, aggregation_strategy="simple")
        assert ours(text, **advised_kwargs(str(info.value)), aggregation_strategy="simple")
    assert_same(ours(text, stride=61, aggregation_strategy="simple", ignore_labels=[]),
                reference(folder)(text, stride=61, aggregation_strategy="simple", ignore_labels=[]))


def test_stride_without_tokenizer_limit_uses_model_positions(sharpened_checkpoints, tmp_path):
    """A tokenizer with no model_max_length (the sentinel) is windowed by the model's max_position_embeddings:
    the same entities as the reference with the limit written into the tokenizer config."""
    import json
    import shutil

    folder = sharpened_checkpoints("BertForTokenClassification", "classifier", "ner", num_labels=len(LABELS),
                                   id2label=dict(enumerate(LABELS)), label2id={l: i for i, l in enumerate(LABELS)})
    no_limit, with_limit = tmp_path / "no_limit", tmp_path / "with_limit"
    for target, limit in ((no_limit, 10**30), (with_limit, 512)):
        shutil.copytree(folder, target)
        config = json.loads((target / "tokenizer_config.json").read_text())
        config["model_max_length"] = limit
        (target / "tokenizer_config.json").write_text(json.dumps(config))
    ours = minformers.pipeline("ner", model=str(no_limit), aggregation_strategy="simple")
    assert ours.tokenizer.model_max_length > 10**20
    assert len(ours.tokenizer(LONG)["input_ids"]) > 512
    assert_same(ours(LONG, stride=100, ignore_labels=[]),
                reference(with_limit, aggregation_strategy="simple")(LONG, stride=100, ignore_labels=[]))
