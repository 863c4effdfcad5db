"""Claim: the WordPiece model is greedy longest-match-first with '##' continuations,
unknown words (or words over max_input_chars_per_word) become one [UNK], as upstream."""

from __future__ import annotations

import pytest

from minformers.tokenization.core.models.wordpiece import WordPiece, read_vocab_txt
from minformers.tokenization.core.serialization import model_from_dict as from_dict

tokenizers = pytest.importorskip("tokenizers")

VOCAB = {t: i for i, t in enumerate(["[UNK]", "un", "##aff", "##able", "aff", "##a", "##ble", "a", "##b", "x"])}


def test_greedy_longest_match():
    wp = WordPiece(VOCAB)
    ids, toks, spans = wp.tokenize("unaffable")
    assert toks == ("un", "##aff", "##able")
    assert ids == (1, 2, 3)
    assert spans == ((0, 2), (2, 5), (5, 9))


def test_unknown_piece_makes_whole_word_unk():
    wp = WordPiece(VOCAB)
    assert wp.tokenize("unaffablez") == ((0,), ("[UNK]",), ((0, 10),))


def test_max_input_chars_per_word():
    wp = WordPiece(VOCAB, max_input_chars_per_word=3)
    assert wp.tokenize("xxxx")[1] == ("[UNK]",)
    assert WordPiece({"[UNK]": 0, "x": 1, "##x": 2}, max_input_chars_per_word=3).tokenize("xxx")[1] == ("x", "##x", "##x")


def test_missing_unk_is_an_error():
    with pytest.raises(ValueError, match="unk_token"):
        WordPiece({"a": 0}).tokenize("b")


def test_cache_is_used_and_consistent():
    wp = WordPiece(VOCAB)
    first = wp.tokenize("unaffable")
    assert "unaffable" in wp.cache and wp.tokenize("unaffable") is first
    assert wp.word_ids_cache["unaffable"] == first[0]


def test_matches_reference_model_on_real_vocab(minilm_dir, rotten_tomatoes_texts):
    vocab = read_vocab_txt(minilm_dir / "vocab.txt")
    ours = WordPiece(vocab)
    theirs = tokenizers.models.WordPiece(vocab, unk_token="[UNK]")
    words = {w for t in rotten_tomatoes_texts[:2000] for w in t.lower().split()} | {"x" * 101, "ünïcödé", "😀"}
    for w in sorted(words):
        ref = theirs.tokenize(w)
        assert list(ours.tokenize(w)[1]) == [t.value for t in ref], w
        if w.isascii():  # the Rust model reports byte offsets; the pipeline converts them to characters
            assert list(ours.tokenize(w)[2]) == [t.offsets for t in ref], w


def test_from_dict_and_to_dict():
    d = {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100, "vocab": VOCAB}
    assert from_dict(d).to_dict() == d
    with pytest.raises(ValueError, match="unsupported tokenizer model"):
        from_dict({"type": "NoSuchModel"})
