"""Marian (Opus-MT) tokenizers against the reference's MarianTokenizer, on real SentencePiece models.

The folder is what the reference saves for an Opus-MT model: ``source.spm`` (botchan_en_unigram_1000),
``target.spm`` (kyoto_ja_unigram_8000), a shared ``vocab.json`` with both models' pieces and two
language tags, tokenizer_config.json. The reference runs the SentencePiece library itself; ours is
that library's normaliser, lattice and decoder over our stages.
"""

from __future__ import annotations

import json
import random
import shutil
import sys
import warnings
from pathlib import Path

import pytest

from .parity import assert_same
from .sp_fixtures import build_marian_reference
from .test_sentencepiece_models import EXTRA

transformers = pytest.importorskip("transformers")

ROOT = Path(__file__).resolve().parents[2]
TEXTS = EXTRA + [">>fr<< Bonjour le monde", ">>de<<Hallo", ">>xx<< unknown tag", ">> fr << spaced", "  >>fr<< lead",
                 ">>fr<<", "x >>fr<< mid", "</s>", "a </s>b<pad> <unk>c", "tab\there", "\u3000\u3000wide space",
                 "ＦＵＬＬ　ｗｉｄｔｈ", "①②③", "Ⅻ", "ﾊﾝｶｸ", "한국어 텍스트입니다", "👩‍👩‍👧 family", "a" * 1000, "\u2581x \u2581 y"]
TARGETS = ["日本語のテキストです。", "これはペンです", "  空白  ", "", "x" * 50, "English in Japanese model"]


@pytest.fixture(scope="module")
def marian(tmp_path_factory):
    """(ours via AutoTokenizer, the reference, the folder)."""
    from minformers import AutoTokenizer
    from minformers.tokenization.marian import MarianTokenizer

    folder = tmp_path_factory.mktemp("opus-mt-en-ja")
    ref = build_marian_reference(folder, source_lang="en", target_lang="ja")
    ours = AutoTokenizer.from_pretrained(folder)
    assert isinstance(ours, MarianTokenizer)
    return ours, ref, folder


@pytest.fixture(scope="module")
def sample(rotten_tomatoes_texts) -> list[str]:
    return rotten_tomatoes_texts[::9] + TEXTS


def _fuzz(n: int, seed: int = 0) -> list[str]:
    sys.path.insert(0, str(ROOT / "scripts"))
    from fuzz_sentencepiece import random_text

    rng = random.Random(seed)
    return [random_text(rng) for _ in range(n)]


def test_ids_match_reference(marian, sample):
    ours, ref, _ = marian
    texts = sample + _fuzz(2000)
    kw = dict(return_special_tokens_mask=True)
    a, b = ours(texts, **kw), ref(texts, **kw)
    assert_same(a, b, "marian source")
    for t in TEXTS + sample[:50]:
        assert ours.tokenize(t) == ref.tokenize(t), t
    assert ours.vocab_size == ref.vocab_size and len(ours) == len(ref) and ours.get_vocab() == ref.get_vocab()
    assert ours.supported_language_codes == ref.supported_language_codes == [">>fr<<", ">>de<<"]
    assert ours.model_max_length == ref.model_max_length == 512


def test_text_target_matches_reference(marian, sample):
    ours, ref, _ = marian
    targets = (TARGETS * 400)[: len(sample)]
    a, b = ours(sample, text_target=targets), ref(sample, text_target=targets)
    assert a["input_ids"] == b["input_ids"] and a["labels"] == b["labels"] and set(a) == set(b)
    # the target side alone, and padded/truncated tensors as a training batch uses them
    assert ours(text_target=sample)["input_ids"] == ref(text_target=sample)["input_ids"]
    kw = dict(padding=True, truncation=True, max_length=24, return_tensors="pt")
    a, b = ours(sample[:64], text_target=targets[:64], **kw), ref(sample[:64], text_target=targets[:64], **kw)
    for key in b:
        assert a[key].tolist() == b[key].tolist(), key
    # the tokenizer is left in source mode
    assert ours(sample[:20])["input_ids"] == ref(sample[:20])["input_ids"]


def test_as_target_tokenizer(marian):
    ours, ref, _ = marian
    with pytest.warns(UserWarning, match="as_target_tokenizer"):
        with ours.as_target_tokenizer():
            a = ours(TARGETS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with ref.as_target_tokenizer():
            b = ref(TARGETS)
    assert a["input_ids"] == b["input_ids"]
    assert ours(TARGETS)["input_ids"] == ref(TARGETS)["input_ids"]


def test_decode_matches_reference(marian, sample):
    ours, ref, _ = marian
    texts = sample[::3] + _fuzz(300, 1)
    b = ref(texts, text_target=(TARGETS * 200)[: len(texts)])
    rng = random.Random(0)
    n = ref.vocab_size
    noise = [[rng.randrange(n + 3) for _ in range(rng.randint(0, 12))] for _ in range(300)]  # ids past the vocab too
    for ids in b["input_ids"] + b["labels"] + noise:
        for kw in ({}, {"skip_special_tokens": True}, {"use_source_tokenizer": True},
                   {"skip_special_tokens": True, "clean_up_tokenization_spaces": True}):
            assert ours.decode(ids, **kw) == ref.decode(ids, **kw), (ids, kw)
    assert ours.batch_decode(b["labels"], skip_special_tokens=True) == ref.batch_decode(b["labels"], skip_special_tokens=True)
    toks = ref.convert_ids_to_tokens(b["labels"][0])
    assert ours.convert_tokens_to_string(toks) == ref.convert_tokens_to_string(toks)


def test_folder_with_only_the_vocabulary_files(marian, tmp_path):
    """source.spm + target.spm + vocab.json and nothing else (or a config.json saying marian)."""
    from minformers import AutoTokenizer

    ours0, ref, folder = marian
    for name in ("source.spm", "target.spm", "vocab.json"):
        shutil.copy(folder / name, tmp_path / name)
    ours = AutoTokenizer.from_pretrained(tmp_path)
    assert type(ours) is type(ours0)
    assert ours(TEXTS, text_target=TEXTS)["labels"] == ref(TEXTS, text_target=TEXTS)["labels"]
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "marian"}))
    theirs = transformers.AutoTokenizer.from_pretrained(tmp_path)
    assert type(theirs).__name__ == "MarianTokenizer"
    assert AutoTokenizer.from_pretrained(tmp_path)(TEXTS)["input_ids"] == theirs(TEXTS)["input_ids"]


def test_save_round_trip(marian, tmp_path):
    ours, ref, _ = marian
    files = {Path(p).name for p in ours.save_pretrained(tmp_path)}
    assert {"source.spm", "target.spm", "vocab.json", "tokenizer_config.json"} <= files
    assert not (tmp_path / "tokenizer.json").exists()  # the reference has no fast Marian tokenizer
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = transformers.AutoTokenizer.from_pretrained(tmp_path)
    assert type(again).__name__ == "MarianTokenizer"
    assert again(TEXTS, text_target=TEXTS)["labels"] == ref(TEXTS, text_target=TEXTS)["labels"]
    assert type(ours).from_pretrained(tmp_path)(TEXTS)["input_ids"] == ref(TEXTS)["input_ids"]


def test_separate_vocabs(tmp_path):
    """Multilingual-target models keep a second vocabulary (target_vocab.json) for labels and decoding."""
    from minformers import AutoTokenizer

    folder = tmp_path / "sep"
    build_marian_reference(folder)
    vocab = json.loads((folder / "vocab.json").read_text())
    target_vocab = {t: i for i, t in enumerate(reversed(list(vocab)))}  # the same pieces, other ids
    (folder / "target_vocab.json").write_text(json.dumps(target_vocab))
    cfg = json.loads((folder / "tokenizer_config.json").read_text())
    (folder / "tokenizer_config.json").write_text(json.dumps({**cfg, "separate_vocabs": True}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = transformers.AutoTokenizer.from_pretrained(folder)
    ours = AutoTokenizer.from_pretrained(folder)
    assert ref.separate_vocabs and ours.separate_vocabs
    a, b = ours(TEXTS, text_target=TARGETS * 8), ref(TEXTS, text_target=TARGETS * 8)
    assert a["input_ids"] == b["input_ids"] and a["labels"] == b["labels"]
    for ids in b["labels"] + b["input_ids"]:
        assert ours.decode(ids) == ref.decode(ids)
        assert ours.decode(ids, skip_special_tokens=True) == ref.decode(ids, skip_special_tokens=True)
    assert ours.get_src_vocab() == ref.get_src_vocab()  # (the reference's get_tgt_vocab() raises TypeError)
    assert ours.get_tgt_vocab()["</s>"] == ours.eos_token_id and ours.get_tgt_vocab()["\u2581"] == target_vocab["\u2581"]
