"""Property: on generated Unicode text (accents, combining marks, CJK, Korean, emoji,
control characters, odd whitespace, long words) our ids, offsets, word ids and special
masks equal the reference's — single texts, pairs, and truncation with overflow."""

from __future__ import annotations

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

PIECES = [
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",  # ASCII
    " " * 10 + "\t\n\r\x0b\x0c",  # ASCII whitespace
    "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",  # ASCII punctuation and symbols
    "àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿÀÉÎÕÜßĀăĄćČďĒęĞİıŁńŒřŞšŢůŽ",  # accents
    "\u0300\u0301\u0302\u0303\u0308\u0327\u0331\u0345\u20dd\u0903",  # combining marks (Mn, Me, Mc)
    "中文字符日本語漢字\u3400\u4dbf\uf900\U00020000",  # CJK ideographs (padded with spaces)
    "한국어텍스트\u1100\u1161\u11a8ひらがなカタカナ",  # Hangul, jamo, kana (not padded)
    "😀👍🏽👨\u200d👩\u200d👧❤️🇫🇷",  # emoji, skin tone, ZWJ, flags
    "\x00\x01\x07\x1b\x7f\x85\u200b\u200e\ufeff\ufffd\ue000",  # controls, format, private use, U+FFFD
    "\u00a0\u1680\u2000\u2003\u2009\u200a\u2028\u2029\u202f\u205f\u3000",  # odd whitespace
    "¡¿«»—–…‰†‡•“”‘’„‹›、。・「」【】",  # Unicode punctuation
    "€£¥©®°±µ¶§¬¤ℌﬁ①Ⅻ½²",  # symbols and compatibility characters
    "ΑΒΓΣσςΩωАБВЖжщЯאבגعربيةहिन्दीไทย",  # other scripts
]
ALPHABET = "".join(PIECES)

words = st.one_of(
    st.text(alphabet=ALPHABET, min_size=0, max_size=12),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=90, max_size=130),  # around max_input_chars_per_word
    st.sampled_from(["[MASK]", "[CLS]", "[SEP]", "[UNK]", "[PAD]", "[mask]", "unaffable", "HuggingFace", "don't"]),
)
texts = st.lists(words, min_size=0, max_size=12).map(" ".join)

KW = dict(return_offsets_mapping=True, return_special_tokens_mask=True)
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def same(ours, theirs):
    assert dict(ours) == dict(theirs)
    for i in range(len(theirs.encodings)):
        assert ours.word_ids(i) == theirs.word_ids(i)
        assert ours.sequence_ids(i) == theirs.sequence_ids(i)
        assert ours.tokens(i) == theirs.tokens(i)


@SETTINGS
@given(a=texts, b=texts)
def test_generated_unicode_matches_reference(our_tokenizer, reference_tokenizer, a, b):
    same(our_tokenizer([a, b], **KW), reference_tokenizer([a, b], **KW))
    same(our_tokenizer([a], [b], **KW), reference_tokenizer([a], [b], **KW))
    trunc = dict(truncation="longest_first", max_length=16, stride=2, return_overflowing_tokens=True, padding=True)
    same(our_tokenizer([a], [b], **KW, **trunc), reference_tokenizer([a], [b], **KW, **trunc))
    ids = reference_tokenizer(a)["input_ids"]
    assert our_tokenizer.decode(ids) == reference_tokenizer.decode(ids)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(st.text(alphabet=ALPHABET, min_size=0, max_size=8), min_size=1, max_size=8))
def test_generated_pre_split_words_match_reference(our_tokenizer, reference_tokenizer, words):
    same(our_tokenizer([words], is_split_into_words=True, **KW), reference_tokenizer([words], is_split_into_words=True, **KW))
