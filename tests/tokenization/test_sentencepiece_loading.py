"""A folder holding only a SentencePiece model (spiece.model, sentencepiece.bpe.model, tokenizer.model), as many
Hub repositories do: ``AutoTokenizer.from_pretrained`` builds the tokenizer from it as the reference does
(its slow-to-fast converters), same ids, offsets and decoding; with nothing saying which tokenizer it is,
the same ValueError."""

from __future__ import annotations

import json
import shutil
import warnings

import pytest

from .parity import assert_same
from .sp_fixtures import model_dir
from .test_sentencepiece_models import EXTRA

transformers = pytest.importorskip("transformers")

TEXTS = EXTRA + ["한국어 텍스트입니다. 안녕하세요!", "ＦＵＬＬ　ｗｉｄｔｈ ①②", "👩‍👩‍👧 family 🇯🇵 flag", "\t\tindented\n\n\nlines  ",
                 " \u00a0\u2009\u200b\u3000mixed spaces\u2028end", "ﬁancé naïve coöperate", "\u0301leading mark", "x" * 2000,
                 "Hello, World! It's 3:45pm — isn't it?", "<pad><s></s>[MASK]<mask><unk>", "▁already▁spaced"]

# (file name, model, config.json model_type, reference class)
CASES = {
    "t5": ("spiece.model", "botchan_en_unigram_1000.model", "t5", "T5TokenizerFast"),
    "t5_ja": ("spiece.model", "kyoto_ja_unigram_8000.model", "t5", "T5TokenizerFast"),
    "albert": ("spiece.model", "botchan_en_unigram_1000.model", "albert", "AlbertTokenizerFast"),
    "xlmr": ("sentencepiece.bpe.model", "botchan_en_unigram_1000.model", "xlm-roberta", "XLMRobertaTokenizerFast"),
    "llama": ("tokenizer.model", "botchan_en_bpe_1000.model", "llama", "LlamaTokenizerFast"),
}


def _folder(tmp_path_factory, case: str, config: bool):
    """A folder whose path names no model type: the reference would pick a class by a name in the path
    (pytest's tmp_path holds the test's name, e.g. '…alone_t5_0')."""
    file, model, model_type, _ = CASES[case]
    folder = tmp_path_factory.mktemp("plain")
    shutil.copy(model_dir() / model, folder / file)
    if config:
        (folder / "config.json").write_text(json.dumps({"model_type": model_type}))
    return folder


def _reference(folder, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return transformers.AutoTokenizer.from_pretrained(folder, **kw)


def _same(ours, ref, texts, label):
    opts = dict(return_offsets_mapping=True, return_special_tokens_mask=True)
    b = ref(texts, **opts)
    assert_same(ours(texts, **opts), b, label)
    h = len(texts) // 2
    assert_same(ours(texts[:h], texts[h:2 * h], **opts), ref(texts[:h], texts[h:2 * h], **opts), f"{label} pairs")
    for ids in b["input_ids"]:
        assert ours.decode(ids) == ref.decode(ids), ids
        assert ours.decode(ids, skip_special_tokens=True) == ref.decode(ids, skip_special_tokens=True), ids


@pytest.mark.parametrize("case", list(CASES))
def test_model_file_and_config_json(case, tmp_path_factory, rotten_tomatoes_texts):
    """The SentencePiece model + a config.json naming the model type: the reference converts the slow tokenizer."""
    from minformers import AutoTokenizer

    folder = _folder(tmp_path_factory, case, config=True)
    ref = _reference(folder)
    ours = AutoTokenizer.from_pretrained(folder)
    assert type(ref).__name__ == CASES[case][3] and type(ours).__name__ == CASES[case][3]
    _same(ours, ref, TEXTS + rotten_tomatoes_texts[::40], case)
    assert ours.all_special_tokens == ref.all_special_tokens and len(ours) == len(ref)
    assert ours.model_max_length == ref.model_max_length


@pytest.mark.parametrize("case", ["t5", "xlmr", "llama"])
def test_model_file_alone(case, tmp_path_factory):
    """Nothing says which tokenizer the file belongs to (spiece.model is T5's, ALBERT's, XLNet's …): both raise
    ValueError; the explicit class works; a model type in the folder's name is upstream's last resort."""
    from minformers import AutoTokenizer
    from minformers.tokenization import tokenizer as tok_module
    from minformers.tokenization import sentencepiece_unigram

    folder = _folder(tmp_path_factory, case, config=False)
    with pytest.raises(ValueError, match="Unrecognized"):
        _reference(folder)
    with pytest.raises(ValueError, match="Unrecognized tokenizer .* config.json"):
        AutoTokenizer.from_pretrained(folder)
    name = CASES[case][3]
    cls = getattr(sentencepiece_unigram, name, None) or getattr(tok_module, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = getattr(transformers, name).from_pretrained(folder)
    _same(cls.from_pretrained(folder), ref, TEXTS, f"{case} explicit class")
    named = folder.rename(folder.parent / f"my-{CASES[case][2]}-copy")
    _same(AutoTokenizer.from_pretrained(named), _reference(named), TEXTS, f"{case} by name")


def test_tokenizer_config_names_the_class(tmp_path_factory):
    from minformers import AutoTokenizer

    folder = _folder(tmp_path_factory, "xlmr", config=False)
    (folder / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "XLMRobertaTokenizer"}))
    ours, ref = AutoTokenizer.from_pretrained(folder), _reference(folder)
    assert type(ours).__name__ == type(ref).__name__ == "XLMRobertaTokenizerFast"
    _same(ours, ref, TEXTS, "xlmr tokenizer_config")


def test_empty_folder_names_the_files_looked_for(tmp_path):
    from minformers import AutoTokenizer

    with pytest.raises(OSError, match="spiece.model.*source.spm"):
        AutoTokenizer.from_pretrained(tmp_path)
