"""Claim: each normaliser gives the reference's (huggingface/tokenizers) string, and its
alignment maps every normalised character back to the original character it came from."""

from __future__ import annotations

import pytest

from minformers.tokenization import normalizers as N

tokenizers = pytest.importorskip("tokenizers")

SAMPLES = [
    "Hello World",
    "Héllo Wörld ÀÉÎÕÜ ñ ç",
    "Ünïcödé\tTAB\nnew\rline",
    "控制\x00字符\x07 ctrl\x1fchars\x7f",
    "中文字符 mixed with 日本語 and 한국어",
    "emoji 😀👍🏽 and ZWJ 👨‍👩‍👧",
    "e\u0301 combining a\u0308 o\u0303",
    "odd\u00a0spaces\u2003here\u3000and\u2028there",
    "İstanbul ΣΊΣΥΦΟΣ ß ﬁ ℌ ①",
    "\ufeffbom \u200bzero width \u200djoiner",
    "",
    "   ",
]


def reference_of(norm):
    d = norm.to_dict()
    kind = d.pop("type")
    if kind == "Sequence":
        return tokenizers.normalizers.Sequence([reference_of(n) for n in norm.normalizers])
    return getattr(tokenizers.normalizers, kind)(**d)


@pytest.mark.parametrize(
    "norm",
    [
        N.BertNormalizer(),
        N.BertNormalizer(lowercase=False),
        N.BertNormalizer(lowercase=False, strip_accents=True),
        N.BertNormalizer(lowercase=True, strip_accents=False),
        N.BertNormalizer(clean_text=False, handle_chinese_chars=False),
        N.NFD(), N.NFKD(), N.NFC(), N.NFKC(), N.Lowercase(),
        N.Sequence([N.NFD(), N.StripAccents(), N.Lowercase()]),
    ],
    ids=lambda n: repr(n.to_dict()),
)
@pytest.mark.parametrize("text", SAMPLES)
def test_normalized_string_matches_reference(norm, text):
    assert norm.normalize_str(text) == reference_of(norm).normalize_str(text)


@pytest.mark.parametrize("text", SAMPLES)
def test_alignment_points_into_original(text):
    norm = N.BertNormalizer()
    out, align = norm.normalize(text)
    if align is None:
        assert len(out) == len(text)
        return
    assert len(align) == len(out)
    assert align == sorted(align) and all(0 <= i < len(text) for i in align)
    for ch, i in zip(out, align):  # every output char comes from the char it points at
        assert ch == " " or ch in norm.map_char(text[i])


def test_bert_normalizer_rules():
    n = N.BertNormalizer()
    assert n.normalize_str("Ça VA\tbien") == "ca va bien"  # accents stripped (follow lowercase), tab -> space
    assert n.normalize_str("a\x00b\x07c\ufffdd") == "abcd"  # NUL, controls and U+FFFD removed
    assert n.normalize_str("中国") == " 中  国 "  # CJK ideographs padded with spaces
    assert N.BertNormalizer(lowercase=False).normalize_str("Café") == "Café"  # strip_accents None follows lowercase
    assert N.BertNormalizer(lowercase=False, strip_accents=True).normalize_str("Café") == "Cafe"
    out, align = n.normalize("中é")
    assert out == " 中 e" and align == [0, 0, 0, 1]


def test_ascii_fast_path_is_identity_aligned():
    out, align = N.BertNormalizer().normalize("Plain ASCII, Text!")
    assert (out, align) == ("plain ascii, text!", None)
    out, align = N.BertNormalizer().normalize("a\x01b")
    assert (out, align) == ("ab", [0, 2])


def test_from_dict_round_trip_and_errors():
    d = {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": False, "strip_accents": None, "lowercase": True}
    assert N.from_dict(d).to_dict() == d
    seq = N.from_dict({"type": "Sequence", "normalizers": [{"type": "NFD"}, {"type": "Lowercase"}]})
    assert seq.normalize_str("É") == "e\u0301"
    assert N.from_dict(None) is None
    with pytest.raises(ValueError, match="unsupported normalizer"):
        N.from_dict({"type": "NoSuchNormalizer"})
