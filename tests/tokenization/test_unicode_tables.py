"""Every code point is classified as the reference classifies it: BERT's normaliser (controls,
whitespace, accents, case, CJK padding), the pre-tokenisers (whitespace, punctuation, digits,
``\\w``) and the Oniguruma ``\\p{..}``/``\\s`` classes of byte-level regexes.

Python's ``unicodedata`` (Unicode 14 in 3.11) and the reference's tables disagree on code
points assigned since, or in crates with older tables; ``unicode_tables.py`` (made by
``scripts/make_unicode_tables.py``) holds the reference's classes. These tests run all of
Unicode through both libraries in a few long strings, so a wrong or stale table fails here.
Each code point stands next to a separator (an ASCII starter), so the tests see classes; the
canonical ordering and composition of runs of marks are tested in test_normalizers.py.
"""

from __future__ import annotations

import pytest

pytest.importorskip("tokenizers")

# every assigned plane in full (0-3, 14), every 31st code point of the unassigned and private-use rest
ALL = "".join(chr(c) for c in range(0x110000)
              if not 0xD800 <= c <= 0xDFFF and (c < 0x40000 or 0xE0000 <= c < 0xE1000 or c % 31 == 0))


def interleaved(sep: str) -> str:
    return "".join(sep + c for c in ALL)


def first_difference(a: str, b: str) -> str:
    i = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    return f"first difference at output index {i}: ours {a[i - 5:i + 5]!r} vs reference {b[i - 5:i + 5]!r}"


@pytest.mark.parametrize("lowercase,strip_accents,chinese", [(True, None, True), (False, False, True), (True, False, False),
                                                            (False, True, False)])
def test_bert_normalizer_on_every_code_point(lowercase, strip_accents, chinese):
    from tokenizers import normalizers as ref

    from minformers.tokenization.core.normalizers import BertNormalizer

    kw = dict(clean_text=True, handle_chinese_chars=chinese, strip_accents=strip_accents, lowercase=lowercase)
    text = interleaved("a")
    ours, theirs = BertNormalizer(**kw).normalize_str(text), ref.BertNormalizer(**kw).normalize_str(text)
    assert ours == theirs, first_difference(ours, theirs)


@pytest.mark.parametrize("name", ["BertPreTokenizer", "Whitespace", "WhitespaceSplit", "Punctuation", "Digits"])
def test_pre_tokenizer_classes_on_every_code_point(name):
    from tokenizers import pre_tokenizers as ref

    from minformers.tokenization.core import pre_tokenizers as ours_mod

    ours, theirs = getattr(ours_mod, name)(), getattr(ref, name)()
    for sep in ("a", "1"):  # a word, digit and punctuation character next to each code point
        text = interleaved(sep)
        a = [(w, (s, e)) for w, s, e in ours.split_spans(text)]
        b = theirs.pre_tokenize_str(text)
        assert len(a) == len(b) and a == b, f"{name} next to {sep!r}: " + next(
            f"ours {x} vs reference {y}" for x, y in zip(a + [None], b + [None]) if x != y)


@pytest.mark.parametrize("pattern", [
    r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+",  # GPT-2
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    r"[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+|[\p{Ll}]+|\p{P}+|\p{S}+|\p{Z}+|\p{Cc}+|\p{Cf}+",  # the sub-classes
])
def test_split_regex_classes_on_every_code_point(pattern):
    from tokenizers import Regex
    from tokenizers import pre_tokenizers as ref

    from minformers.tokenization.core.pre_tokenizers import Split

    ours = Split({"Regex": pattern}, "isolated")
    theirs = ref.Split(Regex(pattern), "isolated")
    for sep in ("a", "1", " "):
        text = interleaved(sep)
        a = [(w, (s, e)) for w, s, e in ours.split_spans(text)]
        b = theirs.pre_tokenize_str(text)
        assert a == b, f"next to {sep!r}: " + next(f"ours {x} vs reference {y}" for x, y in zip(a + [None], b + [None])
                                                   if x != y)
