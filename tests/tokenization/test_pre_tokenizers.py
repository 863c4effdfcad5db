"""Claim: BertPreTokenizer cuts text into the reference's words with the same spans."""

from __future__ import annotations

import pytest

from minformers.tokenization.core import pre_tokenizers as P
from minformers.tokenization.core.serialization import pre_tokenizer_from_dict

tokenizers = pytest.importorskip("tokenizers")

SAMPLES = [
    "Hello, world! It's $5.00 (or ~5€) — ok?",
    "a+b=c <tag> x^2 `code` |pipe| {brace} [sq] back\\slash",
    "¿Qué? «quotes» „low“ ‘single’ … ‰ § ¶ ・ 。、",
    "tabs\tand\nnewlines\r\nand\u00a0nbsp\u2003em\u3000ideo",
    "under_score hy-phen 'apos' \"dq\"",
    "",
    "    ",
    "word",
]


@pytest.mark.parametrize("kind", ["BertPreTokenizer", "WhitespaceSplit", "Whitespace"])
@pytest.mark.parametrize("text", SAMPLES)
def test_words_and_spans_match_reference(kind, text):
    ours = pre_tokenizer_from_dict({"type": kind}).split_spans(text)
    theirs = getattr(tokenizers.pre_tokenizers, kind)().pre_tokenize_str(text)
    assert [(w, (s, e)) for w, s, e in ours] == theirs
    assert pre_tokenizer_from_dict({"type": kind}).split(text) == [w for w, _ in theirs]


def test_corpus_words_match_reference(rotten_tomatoes_texts):
    ours, theirs = P.BertPreTokenizer(), tokenizers.pre_tokenizers.BertPreTokenizer()
    for text in rotten_tomatoes_texts[::7]:
        assert [(w, (s, e)) for w, s, e in ours.split_spans(text)] == theirs.pre_tokenize_str(text)


def test_ascii_and_unicode_patterns_agree():
    b = P.BertPreTokenizer()
    text = "Mixed: ascii, punctuation! and $ymbols ~ `back` ^caret^"
    assert b.pattern.findall(text) == b.ascii_pattern.findall(text)


def test_unknown_type_is_an_error():
    with pytest.raises(ValueError, match="unsupported pre_tokenizer"):
        pre_tokenizer_from_dict({"type": "NoSuchPreTokenizer"})


BEHAVIORS = ["removed", "isolated", "merged_with_previous", "merged_with_next", "contiguous"]
SPLIT_PATTERNS = [("String", ""), ("String", "a"), ("String", "ab"), ("String", " "), ("Regex", ""), ("Regex", "a*"),
                  ("Regex", "\\b"), ("Regex", "(?=a)"), ("Regex", " *"), ("Regex", "a+")]


@pytest.mark.parametrize("behavior", BEHAVIORS)
@pytest.mark.parametrize("invert", [False, True])
@pytest.mark.parametrize("kind,pattern", SPLIT_PATTERNS)
def test_split_with_empty_matches_matches_reference(kind, pattern, behavior, invert):
    """Patterns that match the empty string split between characters (an empty String splits every one)."""
    ref = tokenizers.pre_tokenizers.Split(tokenizers.Regex(pattern) if kind == "Regex" else pattern, behavior,
                                          invert=invert)
    ours = P.Split({kind: pattern}, behavior, invert)
    for text in ["ab c", "", "aab  ba", "  x", "ééa", "baab"]:
        assert [(w, (s, e)) for w, s, e in ours.split_spans(text)] == ref.pre_tokenize_str(text), repr(text)
