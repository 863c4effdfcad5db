"""Too-long inputs, task by task: every error's advice, passed exactly as written, works (issue 13, item 9).

Each model takes 128 positions. Its tokenizer either says so (model_max_length 128) or says nothing (the 1e30
"no limit" sentinel, as the rampart ner default shipped): with no limit, asking for truncation must still cut
to the model's positions. Answers are compared with the reference on the folder whose tokenizer knows the
limit (on the other one the reference crashes inside the model). The token-classification cases are in
test_token_classification.py.
"""

from __future__ import annotations

import json
import shutil
import warnings

import numpy as np
import pytest
import torch

import minformers

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/pipelines/conftest.py

POSITIONS = 128
NO_LIMIT = 10**30
LONG = "The cat sat on the mat and looked at the garden for a long time. " * 20  # ~300 tokens
NLI = {0: "contradiction", 1: "neutral", 2: "entailment"}


def _limit(folder, limit: int) -> None:
    path = folder / "tokenizer_config.json"
    config = json.loads(path.read_text())
    config["model_max_length"] = limit
    path.write_text(json.dumps(config))


@pytest.fixture(scope="module")
def folders(tmp_path_factory, minilm_dir):
    """(arch, **config) -> {limit: folder}: one tiny random BERT made by the reference, two tokenizer limits."""
    import transformers

    cache: dict = {}

    def get(arch: str, **config_kwargs):
        key = (arch, tuple(sorted(config_kwargs)))
        if key not in cache:
            torch.manual_seed(0)
            config = transformers.BertConfig(vocab_size=30522, hidden_size=32, intermediate_size=37,
                                             num_hidden_layers=2, num_attention_heads=4,
                                             max_position_embeddings=POSITIONS, initializer_range=0.2, **config_kwargs)
            model = getattr(transformers, arch)(config).eval()
            cache[key] = {}
            for limit in (NO_LIMIT, POSITIONS):
                folder = tmp_path_factory.mktemp(f"{arch}_{limit}")
                model.save_pretrained(folder)
                for name in ("tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
                    shutil.copy(minilm_dir / name, folder / name)
                _limit(folder, limit)
                cache[key][limit] = folder
        return cache[key]

    return get


def reference(task, folder, **kwargs):
    import transformers

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return transformers.pipeline(task, model=str(folder), **kwargs)


def assert_same(ours, theirs, tol: float = 1e-4) -> None:
    if isinstance(theirs, dict):
        assert isinstance(ours, dict) and set(ours) == set(theirs), (ours, theirs)
        for key in theirs:
            assert_same(ours[key], theirs[key], tol)
    elif isinstance(theirs, (list, tuple, np.ndarray, torch.Tensor)):
        assert len(ours) == len(theirs), (ours, theirs)
        for a, b in zip(ours, theirs):
            assert_same(a, b, tol)
    elif isinstance(theirs, float) or type(theirs).__name__.startswith("float"):
        assert abs(float(ours) - float(theirs)) <= tol, (ours, theirs)
    else:
        assert ours == theirs, (ours, theirs)


def advice_of(call, advised_kwargs) -> dict:
    with pytest.raises(ValueError) as info:
        call()
    return advised_kwargs(str(info.value))


@pytest.mark.parametrize("limit", [NO_LIMIT, POSITIONS])
def test_text_classification_advice_works(folders, advised_kwargs, limit):
    folder = folders("BertForSequenceClassification")
    ours = minformers.pipeline("text-classification", model=str(folder[limit]))
    advice = advice_of(lambda: ours(LONG), advised_kwargs)
    assert advice == {"truncation": True}
    expected = reference("text-classification", folder[POSITIONS])(LONG, top_k=None, **advice)
    assert_same(ours(LONG, top_k=None, **advice), expected)


@pytest.mark.parametrize("limit", [NO_LIMIT, POSITIONS])
def test_feature_extraction_advice_works(folders, advised_kwargs, limit):
    folder = folders("BertModel")
    ours = minformers.pipeline("feature-extraction", model=str(folder[limit]))
    advice = advice_of(lambda: ours(LONG), advised_kwargs)
    assert advice == {"truncation": True}
    got = ours(LONG, return_tensors=True, **advice)
    expected = reference("feature-extraction", folder[POSITIONS])(LONG, return_tensors=True, **advice)
    assert got.shape == (1, POSITIONS, 32)
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=0)


@pytest.mark.parametrize("limit", [NO_LIMIT, POSITIONS])
def test_fill_mask_advice_works(folders, advised_kwargs, limit):
    folder = folders("BertForMaskedLM")
    ours = minformers.pipeline("fill-mask", model=str(folder[limit]))
    text = "The cat [MASK] on the mat. " + LONG
    advice = advice_of(lambda: ours(text), advised_kwargs)
    assert advice == {"tokenizer_kwargs": {"truncation": True}}
    assert_same(ours(text, **advice), reference("fill-mask", folder[POSITIONS])(text, **advice))
    with pytest.raises(ValueError, match="cut off the mask token"):  # the advice says why it cannot work here
        ours(LONG + " The cat [MASK] on the mat.", **advice)


@pytest.mark.parametrize("limit", [NO_LIMIT, POSITIONS])
def test_question_answering_advice_works(folders, advised_kwargs, limit):
    folder = folders("BertForQuestionAnswering")
    ours = minformers.pipeline("question-answering", model=str(folder[limit]))
    theirs = reference("question-answering", folder[POSITIONS])
    question = "Where did the cat sit?"
    # max_seq_len beyond the model's positions (the reference crashes in the model)
    advice = advice_of(lambda: ours(question=question, context=LONG, max_seq_len=400), advised_kwargs)
    assert advice == {"max_seq_len": POSITIONS}
    assert_same(ours(question=question, context=LONG, **advice), theirs(question=question, context=LONG, **advice))
    # a question that leaves no room for the context in max_seq_len
    long_question = "Where did the cat that looked at the garden for a long time sit down? " * 4
    advice = advice_of(lambda: ours(question=long_question, context=LONG, max_seq_len=64), advised_kwargs)
    assert set(advice) == {"max_seq_len", "doc_stride"} and advice["max_seq_len"] <= POSITIONS
    assert_same(ours(question=long_question, context=LONG, **advice),
                theirs(question=long_question, context=LONG, **advice))
    # an overlap longer than the context a window holds
    advice = advice_of(lambda: ours(question=question, context=LONG, max_seq_len=40, doc_stride=36), advised_kwargs)
    assert set(advice) == {"doc_stride"}
    assert_same(ours(question=question, context=LONG, max_seq_len=40, **advice),
                theirs(question=question, context=LONG, max_seq_len=40, **advice))
    # a question too long for the model at all: the advice is to shorten it, nothing to pass
    with pytest.raises(ValueError, match="shorten the question") as info:
        ours(question=long_question * 3, context=LONG)
    assert "pass " not in str(info.value)


@pytest.mark.parametrize("limit", [NO_LIMIT, POSITIONS])
def test_zero_shot_truncates_the_text_to_the_model(folders, limit):
    """A long text is truncated to the model's positions even when the tokenizer names no limit."""
    nli = folders("BertForSequenceClassification", id2label=NLI, label2id={v: k for k, v in NLI.items()})
    ours = minformers.pipeline("zero-shot-classification", model=str(nli[limit]))
    expected = reference("zero-shot-classification", nli[POSITIONS])(LONG, ["cats", "gardens", "cars"])
    assert_same(ours(LONG, ["cats", "gardens", "cars"]), expected)
    embedding = folders("BertModel")
    ours = minformers.pipeline("zero-shot-classification", model=str(embedding[limit]))
    same = minformers.pipeline("zero-shot-classification", model=str(embedding[POSITIONS]))
    assert_same(ours(LONG, ["cats", "gardens"]), same(LONG, ["cats", "gardens"]))


def test_zero_shot_too_long_label_advice(folders):
    """A hypothesis longer than the model is not truncated (as the reference); the error says to shorten the
    label or template, not to pass truncation=True, which zero-shot does not take."""
    nli = folders("BertForSequenceClassification", id2label=NLI, label2id={v: k for k, v in NLI.items()})
    ours = minformers.pipeline("zero-shot-classification", model=str(nli[POSITIONS]))
    with pytest.raises(ValueError, match="shorten the candidate label or the hypothesis_template") as info:
        ours("A short text.", ["gardens " * 200])
    assert "truncation" not in str(info.value)


def test_roberta_positions_start_after_padding(gpt2_vocab_dir, tmp_path, advised_kwargs):
    """RoBERTa takes max_position_embeddings - padding_idx - 1 tokens: the advice to truncate keeps that many
    (not max_position_embeddings, which the model would refuse), with a tokenizer that names no limit."""
    import transformers

    encoder = json.loads((gpt2_vocab_dir / "vocab.json").read_text(encoding="utf-8"))
    specials = ["<s>", "<pad>", "</s>", "<unk>"]  # roberta-base's layout: pad id 1, positions from 2
    vocab = {**{s: i for i, s in enumerate(specials)},
             **{piece: i + len(specials) for piece, i in sorted(encoder.items(), key=lambda kv: kv[1])}}
    vocab["<mask>"] = len(vocab)
    (tmp_path / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    tok = transformers.RobertaTokenizerFast(vocab_file=str(tmp_path / "vocab.json"),
                                            merges_file=str(gpt2_vocab_dir / "merges.txt"))
    torch.manual_seed(0)
    config = transformers.RobertaConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2,
                                        num_attention_heads=4, intermediate_size=37, type_vocab_size=1,
                                        max_position_embeddings=POSITIONS + 2, pad_token_id=tok.pad_token_id,
                                        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    model = transformers.RobertaForSequenceClassification(config).eval()
    folders_ = {}
    for limit in (NO_LIMIT, POSITIONS):
        folder = folders_[limit] = tmp_path / str(limit)
        model.save_pretrained(folder)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tok.save_pretrained(folder)
        _limit(folder, limit)
    ours = minformers.pipeline("text-classification", model=str(folders_[NO_LIMIT]))
    with pytest.raises(ValueError, match=f"at most {POSITIONS} positions") as info:
        ours(LONG)
    advice = advised_kwargs(str(info.value))
    expected = reference("text-classification", folders_[POSITIONS])(LONG, top_k=None, **advice)
    assert_same(ours(LONG, top_k=None, **advice), expected)
