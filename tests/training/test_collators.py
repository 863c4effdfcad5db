"""Collators against the reference's, on real tokenized text."""

from __future__ import annotations

import pytest
import torch

import minformers as mf

TEXTS = ["A gripping, funny film.", "Dull.", "The plot goes nowhere and the jokes fall flat, sadly.", "Wonderful!"]


@pytest.fixture(scope="module")
def toks(minilm_dir):
    import transformers

    return mf.AutoTokenizer.from_pretrained(minilm_dir), transformers.AutoTokenizer.from_pretrained(minilm_dir)


def _features(tok, labels=True):
    enc = tok(TEXTS)
    return [dict({k: enc[k][i] for k in ("input_ids", "token_type_ids", "attention_mask")},
                 **({"label": i % 2} if labels else {})) for i in range(len(TEXTS))]


def _same(a: dict, b: dict) -> None:
    assert sorted(a) == sorted(b)
    for k in a:
        assert torch.equal(a[k], b[k]), k
        assert a[k].dtype == b[k].dtype, k


@pytest.mark.parametrize("kwargs", [{}, {"pad_to_multiple_of": 8}, {"padding": "max_length", "max_length": 24}])
def test_padding_collator_matches_reference(toks, kwargs):
    import transformers

    ours, ref = toks
    batch = mf.DataCollatorWithPadding(ours, **kwargs)(_features(ours))
    expected = transformers.DataCollatorWithPadding(ref, **kwargs)(_features(ref))
    _same(batch, dict(expected))
    assert "labels" in batch and "label" not in batch
    if not kwargs:  # dynamic: padded to the longest of this batch only
        assert batch["input_ids"].shape[1] == max(len(f["input_ids"]) for f in _features(ours))


def test_token_classification_collator_matches_reference(toks):
    import transformers

    ours, ref = toks
    def feats(tok):
        out = _features(tok, labels=False)
        for i, f in enumerate(out):
            f["labels"] = [(i + j) % 3 for j in range(len(f["input_ids"]))]
        return out
    batch = mf.DataCollatorForTokenClassification(ours)(feats(ours))
    expected = transformers.DataCollatorForTokenClassification(ref)(feats(ref))
    _same(batch, dict(expected))
    assert (batch["labels"][1, len(feats(ours)[1]["input_ids"]):] == -100).all()


def test_default_collator_matches_reference(toks):
    import transformers

    ours, _ = toks
    feats = [{"input_ids": [1, 2, 3], "label": 1, "score": 0.5, "text": "x"},
             {"input_ids": [4, 5, 6], "label": 0, "score": 1.5, "text": "y"}]
    _same(mf.default_data_collator(feats), transformers.default_data_collator(feats))
    regression = [{"input_ids": [1], "label": 0.5}, {"input_ids": [2], "label": 1.0}]
    _same(mf.default_data_collator(regression), transformers.default_data_collator(regression))


def test_causal_lm_labels(toks):
    ours, _ = toks
    feats = [{"input_ids": f["input_ids"]} for f in _features(ours, labels=False)]
    batch = mf.DataCollatorForLanguageModeling(ours, mlm=False)(feats)
    ids, labels = batch["input_ids"], batch["labels"]
    assert torch.equal(labels[ids != ours.pad_token_id], ids[ids != ours.pad_token_id])
    assert (labels[ids == ours.pad_token_id] == -100).all()
    assert (batch["attention_mask"] == (ids != ours.pad_token_id)).all()


def test_mlm_masking_statistics(toks):
    ours, _ = toks
    ids = [[ours.cls_token_id] + list(range(2000, 2000 + 200)) + [ours.sep_token_id] for _ in range(100)]
    collator = mf.DataCollatorForLanguageModeling(ours, mlm=True, mlm_probability=0.15, seed=0)
    batch = collator([{"input_ids": x} for x in ids])
    original = torch.tensor(ids)
    chosen = batch["labels"] != -100
    assert 0.13 < chosen.float().mean().item() * 202 / 200 < 0.17  # ~15 % of the ordinary tokens
    assert not chosen[:, 0].any() and not chosen[:, -1].any()  # never [CLS]/[SEP]
    assert torch.equal(batch["labels"][chosen], original[chosen])
    inputs = batch["input_ids"][chosen]
    masked = (inputs == ours.mask_token_id).float().mean().item()
    unchanged = (inputs == original[chosen]).float().mean().item()
    assert 0.76 < masked < 0.84
    assert 0.07 < unchanged < 0.13  # the rest (~10 %) is a random token
    assert torch.equal(batch["input_ids"][~chosen], original[~chosen])


# --- a dict of lists (a datasets slice, `tokenized_datasets["train"][:8]`, chapter 3): issue 13, item 15
def _columns(rows: list[dict]) -> dict[str, list]:
    return {k: [r[k] for r in rows] for k in rows[0]}


def test_padding_collator_takes_a_dict_of_lists_like_reference(toks):
    """The course's `data_collator(tokenized_datasets["train"][:8])`: the reference pads the columns to a batch."""
    import transformers

    ours, ref = toks
    batch = mf.DataCollatorWithPadding(ours)(_columns(_features(ours)))
    expected = transformers.DataCollatorWithPadding(ref)(_columns(_features(ref)))
    _same(batch, dict(expected))
    assert batch["input_ids"].shape == (len(TEXTS), max(len(f["input_ids"]) for f in _features(ours)))


def _token_features(tok):
    out = _features(tok, labels=False)
    for i, f in enumerate(out):
        f["labels"] = [(i + j) % 3 for j in range(len(f["input_ids"]))]
    return out


@pytest.mark.parametrize("kind", ["token", "default", "causal", "mlm"])
def test_every_collator_takes_a_dict_of_lists(toks, kind):
    """The reference's other collators fail on a dict of lists (KeyError: 0); ours give the batch of the rows."""
    import transformers

    ours, ref = toks
    if kind == "token":
        make, rows = (lambda lib, tok: lib.DataCollatorForTokenClassification(tok)), _token_features
    elif kind == "default":
        make = lambda lib, tok: lib.default_data_collator  # noqa: E731
        rows = lambda tok: [{"input_ids": [1, 2, 3], "label": 1, "score": 0.5}, {"input_ids": [4, 5, 6], "label": 0,
                                                                               "score": 1.5}]  # noqa: E731
    else:
        mlm = kind == "mlm"
        make = lambda lib, tok: lib.DataCollatorForLanguageModeling(tok, mlm=mlm)  # noqa: E731
        rows = lambda tok: [{"input_ids": f["input_ids"]} for f in _features(tok, labels=False)]  # noqa: E731
    torch.manual_seed(0)
    batch = make(mf, ours)(_columns(rows(ours)))
    torch.manual_seed(0)
    expected = make(transformers, ref)(rows(ref))  # the reference, given the same rows as a list of dicts
    if kind == "mlm":  # random masking: the same shapes, and the labels are the original ids where chosen
        assert sorted(batch) == sorted(expected) and batch["input_ids"].shape == expected["input_ids"].shape
        padded = mf.DataCollatorForLanguageModeling(ours, mlm=False)(rows(ours))["input_ids"]
        chosen = batch["labels"] != -100
        assert torch.equal(batch["labels"][chosen], padded[chosen])
    else:
        _same(batch, dict(expected))


def test_dict_of_lists_with_ragged_columns_is_a_clear_error(toks):
    ours, _ = toks
    columns = _columns(_features(ours))
    columns["label"] = columns["label"][:2]
    with pytest.raises(ValueError, match="label"):
        mf.DataCollatorWithPadding(ours)(columns)


@pytest.mark.parametrize("cls", ["DataCollatorWithPadding", "DataCollatorForTokenClassification",
                                 "DataCollatorForLanguageModeling"])
def test_tensorflow_tensors_are_refused_at_construction(toks, cls):
    """The course's `DataCollatorWithPadding(tokenizer=tokenizer, return_tensors="tf")`: fail early, say why."""
    ours, _ = toks
    with pytest.raises(ValueError, match="PyTorch-only.*return_tensors='pt'"):
        getattr(mf, cls)(ours, return_tensors="tf")
