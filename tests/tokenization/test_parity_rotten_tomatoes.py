"""Claim: on every row of the Rotten Tomatoes corpus our tokenizer gives the reference's
input_ids, attention_mask, token_type_ids, offsets, special_tokens_mask, word_ids and
sequence_ids — single texts, pairs, and each padding/truncation/overflow setting."""

from __future__ import annotations

import pytest

from .parity import assert_same

EVERYTHING = dict(return_offsets_mapping=True, return_special_tokens_mask=True, return_length=True)
SUBSET = 3000


@pytest.fixture(scope="module")
def texts(rotten_tomatoes_texts):
    assert len(rotten_tomatoes_texts) == 13905
    return rotten_tomatoes_texts


@pytest.fixture(scope="module")
def lengths(texts, our_tokenizer):
    """Tokens per text (no specials), to choose pairs that only_first/only_second can truncate."""
    return [len(ids) for ids in our_tokenizer(texts, add_special_tokens=False)["input_ids"]]


@pytest.mark.parametrize(
    "settings",
    [
        dict(),
        dict(padding=True, truncation=True),
        dict(padding=True, truncation=True, max_length=32),
        dict(padding="max_length", truncation=True, max_length=128),
        dict(truncation=True, max_length=32, stride=8, return_overflowing_tokens=True),
    ],
    ids=["plain", "pad-trunc512", "pad-trunc32", "maxlen128", "overflow32-stride8"],
)
def test_single_texts_whole_corpus(texts, our_tokenizer, reference_tokenizer, settings):
    ours = our_tokenizer(texts, **EVERYTHING, **settings)
    theirs = reference_tokenizer(texts, **EVERYTHING, **settings)
    assert_same(ours, theirs, str(settings))


@pytest.mark.parametrize(
    "settings",
    [
        dict(),
        dict(padding=True, truncation=True, max_length=128),
        dict(padding="max_length", truncation="longest_first", max_length=32),
    ],
    ids=["plain", "longest_first128", "longest_first32-maxlen"],
)
def test_pairs_whole_corpus(texts, our_tokenizer, reference_tokenizer, settings):
    first, second = texts[:-1], texts[1:]
    ours = our_tokenizer(first, second, **EVERYTHING, **settings)
    theirs = reference_tokenizer(first, second, **EVERYTHING, **settings)
    assert_same(ours, theirs, str(settings))


def test_pairs_overflow_subset(texts, our_tokenizer, reference_tokenizer):
    """Pairs with stride overflow multiply windows (A windows x B windows): a subset is plenty."""
    settings = dict(truncation="longest_first", max_length=48, stride=4, return_overflowing_tokens=True, padding=True)
    first, second = texts[:400], texts[1:401]
    ours = our_tokenizer(first, second, **EVERYTHING, **settings)
    theirs = reference_tokenizer(first, second, **EVERYTHING, **settings)
    assert_same(ours, theirs, str(settings))


@pytest.mark.parametrize("strategy", ["only_first", "only_second"])
@pytest.mark.parametrize("max_length,stride,overflow", [(32, 0, False), (128, 0, False), (64, 5, True)])
def test_only_first_only_second_subset(texts, lengths, our_tokenizer, reference_tokenizer, strategy, max_length, stride, overflow):
    # Pairs where the other text leaves room: the reference raises otherwise (tested separately).
    keep = max_length - 3 - stride - 1
    pairs = [(a, b) for a, b, la, lb in zip(texts, texts[1:], lengths, lengths[1:])
             if (lb if strategy == "only_first" else la) < keep][:SUBSET]
    assert len(pairs) > 1000
    first, second = [a for a, _ in pairs], [b for _, b in pairs]
    settings = dict(truncation=strategy, max_length=max_length, stride=stride, return_overflowing_tokens=overflow, padding=True)
    ours = our_tokenizer(first, second, **EVERYTHING, **settings)
    theirs = reference_tokenizer(first, second, **EVERYTHING, **settings)
    assert_same(ours, theirs, str(settings))


def test_left_sides_and_multiple_of_subset(texts, minilm_dir, reference_tokenizer):
    from minformers.tokenization.tokenizer import PreTrainedTokenizerFast

    import transformers

    ours = PreTrainedTokenizerFast.from_pretrained(minilm_dir, truncation_side="left", padding_side="left")
    theirs = transformers.AutoTokenizer.from_pretrained(minilm_dir, truncation_side="left", padding_side="left")
    sub = texts[:2000]
    for settings in (
        dict(padding=True, truncation=True, max_length=24, pad_to_multiple_of=8),
        dict(truncation=True, max_length=20, stride=3, return_overflowing_tokens=True, padding=True),
    ):
        assert_same(ours(sub, **EVERYTHING, **settings), theirs(sub, **EVERYTHING, **settings), str(settings))
        few = sub[:100]
        assert_same(ours(few, few[::-1], **EVERYTHING, **settings), theirs(few, few[::-1], **EVERYTHING, **settings), "pairs " + str(settings))


def test_single_string_calls_match(texts, our_tokenizer, reference_tokenizer):
    """Un-batched input gives un-batched lists, as the reference (a few hundred rows, one call each)."""
    for text in texts[::50]:
        ours = our_tokenizer(text, **EVERYTHING)
        theirs = reference_tokenizer(text, **EVERYTHING)
        assert dict(ours) == dict(theirs)


def test_pretokenized_words_subset(texts, our_tokenizer, reference_tokenizer):
    words = [t.split() for t in texts[:SUBSET] if t.split()]
    ours = our_tokenizer(words, is_split_into_words=True, padding=True, truncation=True, max_length=64, **EVERYTHING)
    theirs = reference_tokenizer(words, is_split_into_words=True, padding=True, truncation=True, max_length=64, **EVERYTHING)
    assert_same(ours, theirs, "is_split_into_words")


def test_decode_parity_subset(texts, our_tokenizer, reference_tokenizer):
    ids = reference_tokenizer(texts[:SUBSET])["input_ids"]
    for skip in (False, True):
        for clean in (None, True):
            assert our_tokenizer.batch_decode(ids, skip_special_tokens=skip, clean_up_tokenization_spaces=clean) == \
                reference_tokenizer.batch_decode(ids, skip_special_tokens=skip, clean_up_tokenization_spaces=clean)
