"""Claim: the transformers-style API (loading, __call__ options, helpers, saving, bad input)
behaves like the reference's fast BERT tokenizer on the same real folder."""

from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
import sys

import pytest

from minformers.tokenization.tokenizer import (
    BatchEncoding,
    BertTokenizerFast,
    DistilBertTokenizerFast,
    Encoding,
    PreTrainedTokenizer,
    PreTrainedTokenizerFast,
    Tokenizer,
)

from .parity import assert_same

transformers = pytest.importorskip("transformers")

COURSE = ["I've been waiting for a HuggingFace course my whole life.", "I hate this so much!"]


def test_course_numbers(our_tokenizer):
    torch = pytest.importorskip("torch")
    out = our_tokenizer(COURSE, padding=True, truncation=True, return_tensors="pt")
    assert isinstance(out, BatchEncoding)
    assert out["input_ids"].tolist() == [
        [101, 1045, 1005, 2310, 2042, 3403, 2005, 1037, 17662, 12172, 2607, 2026, 2878, 2166, 1012, 102],
        [101, 1045, 5223, 2023, 2061, 2172, 999, 102, 0, 0, 0, 0, 0, 0, 0, 0],
    ]
    assert out.attention_mask.tolist() == [[1] * 16, [1] * 8 + [0] * 8]
    assert out["input_ids"].dtype == torch.int64


def test_loads_the_right_class_and_settings(our_tokenizer, reference_tokenizer):
    assert type(our_tokenizer) is BertTokenizerFast
    assert PreTrainedTokenizer is PreTrainedTokenizerFast
    assert our_tokenizer.model_max_length == reference_tokenizer.model_max_length == 512
    assert our_tokenizer.model_input_names == reference_tokenizer.model_input_names
    for name in ("pad", "cls", "sep", "unk", "mask"):
        assert getattr(our_tokenizer, f"{name}_token") == getattr(reference_tokenizer, f"{name}_token")
        assert getattr(our_tokenizer, f"{name}_token_id") == getattr(reference_tokenizer, f"{name}_token_id")
    assert our_tokenizer.all_special_tokens == reference_tokenizer.all_special_tokens
    assert our_tokenizer.all_special_ids == reference_tokenizer.all_special_ids
    assert our_tokenizer.get_vocab() == reference_tokenizer.get_vocab()
    assert (len(our_tokenizer), our_tokenizer.vocab_size) == (len(reference_tokenizer), reference_tokenizer.vocab_size)
    assert (our_tokenizer.padding_side, our_tokenizer.truncation_side) == ("right", "right")
    assert our_tokenizer.clean_up_tokenization_spaces == reference_tokenizer.clean_up_tokenization_spaces


def test_vocab_txt_only_folder(minilm_dir, tmp_path):
    for name in ("vocab.txt", "tokenizer_config.json"):
        shutil.copy(minilm_dir / name, tmp_path / name)
    ours = PreTrainedTokenizerFast.from_pretrained(tmp_path)
    theirs = transformers.AutoTokenizer.from_pretrained(tmp_path)
    assert type(ours) is BertTokenizerFast and ours.model_max_length == 512
    texts = ["Héllo WÖRLD, [MASK] 中文 and more!", "\tcontrol\x07 chars ", "", "über-naïve café"]
    kw = dict(return_offsets_mapping=True, return_special_tokens_mask=True, padding=True)
    assert_same(ours(texts, **kw), theirs(texts, **kw), "vocab.txt folder")
    assert_same(ours(texts, texts[::-1], **kw), theirs(texts, texts[::-1], **kw), "vocab.txt folder pairs")


def test_config_options_override_tokenizer_json(minilm_dir, tmp_path):
    for name in ("tokenizer.json", "vocab.txt", "tokenizer_config.json"):
        shutil.copy(minilm_dir / name, tmp_path / name)
    cfg = json.loads((tmp_path / "tokenizer_config.json").read_text())
    cfg.update(do_lower_case=False, model_max_length=None)
    cfg.pop("model_max_length")
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(cfg))
    ours = PreTrainedTokenizerFast.from_pretrained(tmp_path)
    theirs = transformers.AutoTokenizer.from_pretrained(tmp_path)
    assert ours.model_max_length == theirs.model_max_length == int(1e30)
    text = ["Café AU LAIT", "Naïve"]
    assert_same(ours(text, return_offsets_mapping=True), theirs(text, return_offsets_mapping=True), "cased")


def test_bert_tokenizer_fast_from_vocab_file(minilm_dir):
    ours = BertTokenizerFast(vocab_file=str(minilm_dir / "vocab.txt"), do_lower_case=True)
    theirs = transformers.BertTokenizerFast(vocab_file=str(minilm_dir / "vocab.txt"), do_lower_case=True)
    texts = ["Hello, World! ÀÉÎ", "中文 [SEP] x"]
    assert_same(ours(texts, return_offsets_mapping=True), theirs(texts, return_offsets_mapping=True), "vocab_file")
    assert ours.model_max_length == theirs.model_max_length


def test_distilbert_tokenizer_class(minilm_dir, tmp_path):
    for name in ("tokenizer.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(minilm_dir / name, tmp_path / name)
    cfg = json.loads((minilm_dir / "tokenizer_config.json").read_text())
    cfg["tokenizer_class"] = "DistilBertTokenizer"
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(cfg))
    ours = PreTrainedTokenizerFast.from_pretrained(tmp_path)
    theirs = transformers.AutoTokenizer.from_pretrained(tmp_path)
    assert type(ours) is DistilBertTokenizerFast
    assert ours.model_input_names == theirs.model_input_names == ["input_ids", "attention_mask"]
    assert dict(ours(COURSE, padding=True)) == dict(theirs(COURSE, padding=True))
    assert "token_type_ids" not in ours(COURSE[0])
    assert ours(COURSE[0], return_token_type_ids=True)["token_type_ids"] == theirs(COURSE[0], return_token_type_ids=True)["token_type_ids"]


def test_missing_folder_and_folder_without_tokenizer(tmp_path):
    with pytest.raises(OSError, match="no-such-folder"):
        PreTrainedTokenizerFast.from_pretrained(tmp_path / "no-such-folder")
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(OSError, match=r"tokenizer\.json.*vocab\.txt"):
        PreTrainedTokenizerFast.from_pretrained(tmp_path)


def test_unknown_keyword_arguments_are_type_errors(our_tokenizer, minilm_dir):
    with pytest.raises(TypeError, match="paddin.*valid names are:.*padding"):
        our_tokenizer("hello", paddin=True)
    with pytest.raises(TypeError, match="return_tensors"):
        our_tokenizer.encode("hello", return_tensor="pt")
    with pytest.raises(TypeError, match="valid names"):
        PreTrainedTokenizerFast.from_pretrained(minilm_dir, do_lower=True)


@pytest.mark.parametrize("bad", [123, 4.5, None, b"bytes", [1, 2], ["ok", 3], {"text": "x"}])
def test_non_string_input_is_a_type_error(our_tokenizer, bad):
    if bad is None:
        with pytest.raises(ValueError, match="specify `text`"):
            our_tokenizer(bad)
        return
    with pytest.raises(TypeError, match=r"text must be a str.*got"):
        our_tokenizer(bad)


@pytest.mark.parametrize("text", ["", " ", "   \t\n ", "\x00\x07", "\u3000\u00a0"])
def test_empty_and_whitespace_only(our_tokenizer, reference_tokenizer, text):
    kw = dict(return_offsets_mapping=True, return_special_tokens_mask=True)
    assert dict(our_tokenizer(text, **kw)) == dict(reference_tokenizer(text, **kw))
    assert dict(our_tokenizer([text, "a"], padding=True, **kw)) == dict(reference_tokenizer([text, "a"], padding=True, **kw))
    assert dict(our_tokenizer(text, text, **kw)) == dict(reference_tokenizer(text, text, **kw))
    assert our_tokenizer([]) == {"input_ids": [], "token_type_ids": [], "attention_mask": []}


def test_100k_character_text(fresh_tokenizer, reference_tokenizer, caplog):
    text = ("Supercalifragilistic words, repeated: naïve café! " * 2000)[:100_000]
    kw = dict(return_offsets_mapping=True)
    assert dict(fresh_tokenizer(text, truncation=True, **kw)) == dict(reference_tokenizer(text, truncation=True, **kw))
    assert len(fresh_tokenizer(text, truncation=True)["input_ids"]) == 512
    with caplog.at_level(logging.WARNING):
        out = fresh_tokenizer(text)
    assert out["input_ids"] == reference_tokenizer(text)["input_ids"]
    n = len(out["input_ids"])
    assert n > 512
    assert (
        f"Token indices sequence length is longer than the specified maximum sequence length for this model ({n} > 512). "
        "Running this sequence through the model will result in indexing errors"
    ) in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        fresh_tokenizer(text)
    assert "Token indices" not in caplog.text  # warned once per tokenizer, as the reference


def test_only_second_errors_like_reference(our_tokenizer):
    with pytest.raises(ValueError, match="Second sequence not provided"):
        our_tokenizer("a b c d e f", truncation="only_second", max_length=4)
    with pytest.raises(ValueError, match="too short"):
        our_tokenizer(["a b c d e f"], ["x"], truncation="only_second", max_length=4)
    with pytest.raises(ValueError, match="stride"):
        our_tokenizer("a b c d e f g h", truncation=True, max_length=4, stride=2, return_overflowing_tokens=True)


def test_batch_encoding_features(our_tokenizer, reference_tokenizer):
    texts, pairs = ["Hello world, this is a longer text", "Short"], ["pair one", "pair two is longer"]
    kw = dict(truncation=True, max_length=8, stride=2, return_overflowing_tokens=True, padding=True)
    ours, theirs = our_tokenizer(texts, pairs, **kw), reference_tokenizer(texts, pairs, **kw)
    assert_same(ours, theirs, "overflow")
    assert ours.overflow_to_sample_mapping == theirs["overflow_to_sample_mapping"]
    assert isinstance(ours, dict) and ours.input_ids is ours["input_ids"]
    assert isinstance(ours[0], Encoding) and ours[0].ids == ours["input_ids"][0]
    assert ours.encodings[1].tokens == theirs.encodings[1].tokens
    assert ours.n_sequences == theirs.n_sequences == 2
    assert ours.is_fast
    with pytest.raises(AttributeError):
        ours.no_such_key
    single = our_tokenizer("Hello world", return_overflowing_tokens=True, truncation=True, max_length=3, stride=0)
    ref_single = reference_tokenizer("Hello world", return_overflowing_tokens=True, truncation=True, max_length=3, stride=0)
    assert dict(single) == dict(ref_single)


def test_tensors_and_to(our_tokenizer, reference_tokenizer):
    torch = pytest.importorskip("torch")
    np = pytest.importorskip("numpy")
    ours = our_tokenizer(COURSE, padding=True, return_tensors="np")
    theirs = reference_tokenizer(COURSE, padding=True, return_tensors="np")
    for k in theirs:
        assert isinstance(ours[k], np.ndarray) and (ours[k] == theirs[k]).all() and ours[k].dtype == theirs[k].dtype
    one = our_tokenizer(COURSE[0], return_tensors="pt")
    assert one["input_ids"].shape == reference_tokenizer(COURSE[0], return_tensors="pt")["input_ids"].shape
    assert one.to("cpu") is one and one["input_ids"].device.type == "cpu"
    with pytest.raises(ValueError, match="Unable to create tensor"):
        our_tokenizer(COURSE, return_tensors="pt")
    lists = our_tokenizer(COURSE, padding=True)
    assert isinstance(lists.convert_to_tensors("pt")["input_ids"], torch.Tensor)


def test_helpers_match_reference(our_tokenizer, reference_tokenizer):
    text = "Hello [MASK] world! Naïve café, 中文 don't."
    assert our_tokenizer.tokenize(text) == reference_tokenizer.tokenize(text)
    assert our_tokenizer.tokenize(text, add_special_tokens=True) == reference_tokenizer.tokenize(text, add_special_tokens=True)
    assert our_tokenizer.encode(text) == reference_tokenizer.encode(text)
    assert our_tokenizer.encode(text, "pair", truncation=True, max_length=6) == reference_tokenizer.encode(text, "pair", truncation=True, max_length=6)
    toks = reference_tokenizer.tokenize(text)
    assert our_tokenizer.convert_tokens_to_ids(toks) == reference_tokenizer.convert_tokens_to_ids(toks)
    assert our_tokenizer.convert_tokens_to_ids("notatoken!!") == reference_tokenizer.convert_tokens_to_ids("notatoken!!")
    ids = reference_tokenizer.encode(text)
    assert our_tokenizer.convert_ids_to_tokens(ids) == reference_tokenizer.convert_ids_to_tokens(ids)
    assert our_tokenizer.convert_ids_to_tokens(ids, skip_special_tokens=True) == reference_tokenizer.convert_ids_to_tokens(ids, skip_special_tokens=True)
    assert our_tokenizer.convert_ids_to_tokens(7592) == reference_tokenizer.convert_ids_to_tokens(7592)
    assert our_tokenizer.convert_tokens_to_string(toks) == reference_tokenizer.convert_tokens_to_string(toks)
    for skip in (False, True):
        for clean in (None, False, True):
            assert our_tokenizer.decode(ids, skip_special_tokens=skip, clean_up_tokenization_spaces=clean) == \
                reference_tokenizer.decode(ids, skip_special_tokens=skip, clean_up_tokenization_spaces=clean)
    torch = pytest.importorskip("torch")
    assert our_tokenizer.decode(torch.tensor(ids)) == reference_tokenizer.decode(torch.tensor(ids))
    assert our_tokenizer.batch_decode(torch.tensor([ids, ids])) == reference_tokenizer.batch_decode(torch.tensor([ids, ids]))
    assert our_tokenizer.num_special_tokens_to_add(pair=True) == reference_tokenizer.num_special_tokens_to_add(pair=True)
    assert our_tokenizer.build_inputs_with_special_tokens([5], [6]) == reference_tokenizer.build_inputs_with_special_tokens([5], [6])
    assert our_tokenizer.get_special_tokens_mask([101, 5, 102], already_has_special_tokens=True) == \
        reference_tokenizer.get_special_tokens_mask([101, 5, 102], already_has_special_tokens=True)


def test_word_and_char_alignment(our_tokenizer, reference_tokenizer):
    text, pair = "Naïve café owners' résumés", "second text"
    ours, theirs = our_tokenizer(text, pair), reference_tokenizer(text, pair)
    for i in range(len(theirs["input_ids"])):
        assert ours.token_to_word(i) == theirs.token_to_word(i)
    for c in range(len(text)):
        assert ours.char_to_token(c) == theirs.char_to_token(c)
    assert ours.word_to_tokens(1) == tuple(theirs.word_to_tokens(1))


def test_pad_matches_reference(our_tokenizer, reference_tokenizer):
    torch = pytest.importorskip("torch")
    features = [dict(reference_tokenizer(t)) for t in COURSE + ["x"]]
    assert dict(our_tokenizer.pad(features)) == dict(reference_tokenizer.pad(features))
    for kw in (dict(padding="max_length", max_length=20), dict(pad_to_multiple_of=8), dict(padding_side="left")):
        assert dict(our_tokenizer.pad(features, **kw)) == dict(reference_tokenizer.pad(features, **kw))
    ours, theirs = our_tokenizer.pad(features, return_tensors="pt"), reference_tokenizer.pad(features, return_tensors="pt")
    assert all(torch.equal(ours[k], theirs[k]) for k in theirs)
    batch = our_tokenizer(COURSE)
    assert dict(our_tokenizer.pad(batch)) == dict(reference_tokenizer.pad(reference_tokenizer(COURSE)))
    tensors = [{"input_ids": torch.tensor(f["input_ids"])} for f in features]
    assert our_tokenizer.pad(tensors)["input_ids"].tolist() == reference_tokenizer.pad(tensors)["input_ids"].tolist()


def test_save_pretrained_round_trip_loaded_by_reference(our_tokenizer, reference_tokenizer, tmp_path):
    paths = our_tokenizer.save_pretrained(tmp_path / "saved")
    names = sorted(p.split("/")[-1] for p in paths)
    assert names == ["special_tokens_map.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt"]
    assert not [p for p in (tmp_path / "saved").iterdir() if p.name.startswith(".")]  # no temp files left
    theirs_again = transformers.AutoTokenizer.from_pretrained(tmp_path / "saved")
    ours_again = PreTrainedTokenizerFast.from_pretrained(tmp_path / "saved")
    texts = ["Héllo WÖRLD, [MASK] 中文 and more!", "x" * 120, "plain"]
    kw = dict(return_offsets_mapping=True, return_special_tokens_mask=True, padding=True, truncation=True)
    assert_same(theirs_again(texts, **kw), reference_tokenizer(texts, **kw), "reference loads our save")
    assert_same(ours_again(texts, **kw), reference_tokenizer(texts, **kw), "we load our save")
    assert theirs_again.model_max_length == 512 and theirs_again.all_special_tokens == reference_tokenizer.all_special_tokens
    # the vocab.txt alone is enough for the reference too
    (tmp_path / "saved" / "tokenizer.json").unlink()
    assert_same(transformers.AutoTokenizer.from_pretrained(tmp_path / "saved")(texts, **kw), reference_tokenizer(texts, **kw), "vocab.txt")


def test_backend_tokenizer_encode_and_settings(our_tokenizer, minilm_dir):
    tokenizers = pytest.importorskip("tokenizers")
    ours = Tokenizer.from_file(minilm_dir / "tokenizer.json")
    theirs = tokenizers.Tokenizer.from_file(str(minilm_dir / "tokenizer.json"))  # file enables truncation 128 + padding 128
    for a, b in zip(ours.encode_batch(COURSE + [("a pair", "of texts")]), theirs.encode_batch(COURSE + [("a pair", "of texts")])):
        assert (a.ids, a.type_ids, a.offsets, a.attention_mask, a.word_ids) == (b.ids, b.type_ids, b.offsets, b.attention_mask, b.word_ids)
    assert ours.decode(ours.encode(COURSE[0]).ids) == theirs.decode(theirs.encode(COURSE[0]).ids)
    assert Tokenizer.from_str(ours.to_str()).encode(COURSE[1]).ids == ours.encode(COURSE[1]).ids
    assert our_tokenizer.backend_tokenizer.truncation is None and our_tokenizer.backend_tokenizer.padding is None


def test_import_does_not_load_torch_or_numpy():
    code = (
        "import sys, minformers.tokenization.tokenizer as t; "
        "assert 'torch' not in sys.modules and 'numpy' not in sys.modules, [m for m in ('torch','numpy') if m in sys.modules]"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_pickle_and_deepcopy(our_tokenizer):
    import copy
    import pickle

    out = our_tokenizer(COURSE, ["a pair", "b"], truncation=True, max_length=10, stride=1, return_overflowing_tokens=True)
    again = pickle.loads(pickle.dumps(out))
    assert dict(again) == dict(out) and again.word_ids(0) == out.word_ids(0) and again.sequence_ids(1) == out.sequence_ids(1)
    assert len(again.encodings[0].overflowing) == len(out.encodings[0].overflowing)
    tok = pickle.loads(pickle.dumps(our_tokenizer))
    assert dict(tok(COURSE)) == dict(our_tokenizer(COURSE))
    assert dict(copy.deepcopy(our_tokenizer)(COURSE)) == dict(our_tokenizer(COURSE))


def test_batch_of_pair_tuples(our_tokenizer, reference_tokenizer):
    batch = [("first text", "its pair"), ("second", "another pair here")]
    assert dict(our_tokenizer(batch, padding=True)) == dict(reference_tokenizer(batch, padding=True))
    assert dict(our_tokenizer.batch_encode_plus(batch)) == dict(reference_tokenizer.batch_encode_plus(batch))


# ---- truncation shorter than the special tokens (issue 13, item 13) ----------------------------------------
@pytest.fixture(scope="module")
def truncation_pairs(minilm_dir, tmp_path_factory):
    """(name, ours, reference) for WordPiece (2/3 special tokens), byte-level BPE (none) and T5 (1/2)."""
    import fetch_assets

    from minformers import AutoTokenizer

    from .sp_fixtures import build_reference

    files = fetch_assets.fetch("gpt2_bpe")
    gpt2 = tmp_path_factory.mktemp("gpt2")
    transformers.GPT2TokenizerFast(str(files / "encoder.json"), str(files / "vocab.bpe")).save_pretrained(gpt2)
    t5 = tmp_path_factory.mktemp("t5")
    build_reference("t5", t5)
    return [(name, AutoTokenizer.from_pretrained(f), transformers.AutoTokenizer.from_pretrained(f))
            for name, f in (("wordpiece", minilm_dir), ("byte_level_bpe", gpt2), ("t5", t5))]


def test_tiny_max_length_follows_reference(truncation_pairs):
    """max_length 0-3, single texts and pairs, with and without special tokens, every strategy: the reference's
    ids, or its error (ValueError here, with a clearer message) -- except where max_length is below the special
    tokens: the reference then silently returns the whole text, and we raise a ValueError saying what fits."""
    checked = refused = 0
    for name, ours, ref in truncation_pairs:
        for max_length in (0, 1, 2, 3):
            for pair in ((), ("second text here",)):
                for add_special_tokens in (True, False):
                    n_special = ours.num_special_tokens_to_add(bool(pair)) if add_special_tokens else 0
                    assert n_special == ref.num_special_tokens_to_add(bool(pair)) or not add_special_tokens
                    for strategy in (True, "longest_first", "only_first", "only_second"):
                        args, kw = ("hello world foo bar",) + pair, dict(truncation=strategy, max_length=max_length,
                                                                         add_special_tokens=add_special_tokens)
                        case = f"{name} {args} {kw}"
                        if max_length < n_special:
                            assert len(ref(*args, **kw)["input_ids"]) > max_length, case  # the reference ignores it
                            with pytest.raises(ValueError, match=f"max_length={max_length} leaves no room: this "
                                               f"tokenizer adds {n_special} special tokens"):
                                ours(*args, **kw)
                            refused += 1
                            continue
                        try:
                            expected = ref(*args, **kw)["input_ids"]
                        except Exception as e:  # the reference's Rust error: ours is a ValueError with its words
                            with pytest.raises(ValueError, match=re.escape(str(e).split(":", 1)[1].strip())):
                                ours(*args, **kw)
                        else:
                            assert ours(*args, **kw)["input_ids"] == expected, case
                        checked += 1
    assert checked + refused == 3 * 4 * 2 * 2 * 4 and refused == 32


def test_tiny_max_length_errors_say_what_to_do(our_tokenizer):
    with pytest.raises(ValueError, match=r"max_length=1 leaves no room.*adds 2 special tokens to a single sequence.*"
                                         r"at least 2.*add_special_tokens=False"):
        our_tokenizer("hello world", truncation=True, max_length=1)
    with pytest.raises(ValueError, match="adds 3 special tokens to a pair of sequences"):
        our_tokenizer("hello world", "again", truncation=True, max_length=2)
    assert our_tokenizer("hello world", truncation=True, max_length=2)["input_ids"] == [101, 102]  # as the reference
    with pytest.raises(ValueError, match="pass text_pair=..., or truncation=True"):
        our_tokenizer("hello world foo", truncation="only_second", max_length=3)
    with pytest.raises(ValueError, match=r"may cut only the first sequence \(2 tokens\).*longest_first"):
        our_tokenizer("hello world", "a much longer second text", truncation="only_first", max_length=6)


# ---- added_tokens.json (issue 13, item 19b) -----------------------------------------------------------------
ADDED_TEXT = "hello newtok <x y> [NEWSPECIAL] end"


def _add_tokens(tok, added_token_cls) -> None:
    tok.add_tokens(["newtok", "hello", added_token_cls("<x y>", lstrip=True)])  # "hello" is in the vocabulary
    tok.add_special_tokens({"additional_special_tokens": ["[NEWSPECIAL]"]})


def _strip_to_legacy(folder) -> None:
    """A folder as saved before tokenizer.json and added_tokens_decoder: the vocabulary files + added_tokens.json."""
    (folder / "tokenizer.json").unlink()
    config = json.loads((folder / "tokenizer_config.json").read_text())
    del config["added_tokens_decoder"]
    (folder / "tokenizer_config.json").write_text(json.dumps(config))


@pytest.mark.parametrize("family", ["wordpiece", "byte_level_bpe", "t5"])
def test_save_pretrained_writes_added_tokens_json(family, truncation_pairs, tmp_path):
    """Added tokens beyond the vocabulary go to added_tokens.json ({token: id}) byte for byte as the reference
    writes it; each library loads the other's folder to the same ids, and the legacy folder (no tokenizer.json,
    no added_tokens_decoder: the added tokens live only in added_tokens.json) loads to the same ids in both."""
    from minformers.tokenization.tokenizer import AddedToken

    _, ours, ref = next(p for p in truncation_pairs if p[0] == family)
    ours, ref = copy_tokenizer(ours), copy_tokenizer(ref)
    _add_tokens(ours, AddedToken)
    _add_tokens(ref, transformers.AddedToken)
    ours_dir, ref_dir = tmp_path / "ours", tmp_path / "ref"
    written = ours.save_pretrained(ours_dir)
    ref.save_pretrained(ref_dir)
    assert str(ours_dir / "added_tokens.json") in written
    text = (ours_dir / "added_tokens.json").read_text(encoding="utf-8")
    assert text == (ref_dir / "added_tokens.json").read_text(encoding="utf-8")
    in_vocab = "hello" in ref.backend_tokenizer.get_vocab(with_added_tokens=False)
    assert ("hello" in json.loads(text)) is not in_vocab  # a token of the vocabulary is not an added one
    assert json.loads(text)["newtok"] == ours.convert_tokens_to_ids("newtok")
    assert ours.get_added_vocab() == ref.get_added_vocab()
    if family == "t5":
        return  # SentencePiece: the vocabulary file differs (reported); the added tokens' file is what is compared
    from minformers import AutoTokenizer

    expected = ref(ADDED_TEXT)["input_ids"]
    assert ours(ADDED_TEXT)["input_ids"] == expected
    assert transformers.AutoTokenizer.from_pretrained(ours_dir)(ADDED_TEXT)["input_ids"] == expected
    assert AutoTokenizer.from_pretrained(ref_dir)(ADDED_TEXT)["input_ids"] == expected
    _strip_to_legacy(ours_dir)
    legacy_ref = transformers.AutoTokenizer.from_pretrained(ours_dir)
    legacy_ours = AutoTokenizer.from_pretrained(ours_dir)
    assert legacy_ours(ADDED_TEXT)["input_ids"] == legacy_ref(ADDED_TEXT)["input_ids"]
    assert legacy_ours.get_added_vocab() == legacy_ref.get_added_vocab()
    assert legacy_ours.convert_tokens_to_ids(["newtok", "[NEWSPECIAL]"]) == ours.convert_tokens_to_ids(["newtok", "[NEWSPECIAL]"])
    assert "[NEWSPECIAL]" in legacy_ours.all_special_tokens


def test_no_added_tokens_json_without_added_tokens(our_tokenizer, tmp_path):
    our_tokenizer.save_pretrained(tmp_path)
    assert not (tmp_path / "added_tokens.json").exists()  # as the reference: only tokens beyond the vocabulary


def test_bad_added_tokens_json_is_named(our_tokenizer, tmp_path):
    our_tokenizer.save_pretrained(tmp_path)
    _strip_to_legacy_config_only(tmp_path)
    (tmp_path / "added_tokens.json").write_text('["newtok"]')
    with pytest.raises(ValueError, match=r"added_tokens.json should map each added token to its id"):
        PreTrainedTokenizerFast.from_pretrained(tmp_path)


def _strip_to_legacy_config_only(folder) -> None:
    config = json.loads((folder / "tokenizer_config.json").read_text())
    del config["added_tokens_decoder"]
    (folder / "tokenizer_config.json").write_text(json.dumps(config))


def copy_tokenizer(tok):
    import copy

    return copy.deepcopy(tok)
