"""Claim: tokenizer components agree with the reference on edge cases a differential sweep turned up.

Each component is built in the reference, then ours from the reference's own JSON; outputs (strings,
words and spans, ids/tokens/offsets through a whole tokenizer) are compared with the reference's.
"""

from __future__ import annotations

import json

import pytest

from minformers.tokenization.core.serialization import decoder_from_dict, normalizer_from_dict, pre_tokenizer_from_dict
from minformers.tokenization.tokenizer import Tokenizer

tokenizers = pytest.importorskip("tokenizers")
Regex = tokenizers.Regex

TEXTS = ["", " ", "   ", "a", " a", "a ", "xx", " x x ", "axxb", "a\nb", " \n ", "x\n", "héllo wörld", "e\u0301",
         "日本 語", "😀 x", "\ufffd", "12 345", "a.b, c!"]


def _ours(component) -> dict:
    return json.loads(component.__getstate__())


def _char_tokenizers(texts, normalizer=None, pre_tokenizer=None, post_processor=None, added=()):
    """A reference tokenizer whose model maps every character to one token (BPE, no merges), and ours
    loaded from its JSON."""
    chars = set()
    for t in texts:
        s = normalizer.normalize_str(t) if normalizer is not None else t
        words = [w for w, _ in pre_tokenizer.pre_tokenize_str(s)] if pre_tokenizer is not None else [s]
        chars.update("".join(words))
    vocab = {c: i for i, c in enumerate(["[UNK]", *sorted(chars)])}
    ref = tokenizers.Tokenizer(tokenizers.models.BPE(vocab, [], unk_token="[UNK]"))
    if normalizer is not None:
        ref.normalizer = normalizer
    if pre_tokenizer is not None:
        ref.pre_tokenizer = pre_tokenizer
    if post_processor is not None:
        ref.post_processor = post_processor
    if added:
        ref.add_special_tokens(list(added))
    return ref, Tokenizer.from_str(ref.to_str())


# ---- normalizers -----------------------------------------------------------------------------------

REPLACE_PATTERNS = [("String", ""), ("String", "x"), ("Regex", ""), ("Regex", " *"), ("Regex", "x*"),
                    ("Regex", "(?=x)"), ("Regex", "\\s+"), ("Regex", "^ "), ("Regex", " $"), ("Regex", "\\d+"),
                    ("Regex", "\\p{L}+"), ("Regex", "x\\Z")]


@pytest.mark.parametrize("content", ["", "y", " ", "yy"])
@pytest.mark.parametrize("kind,pattern", REPLACE_PATTERNS)
def test_replace_normalizer_matches_reference(kind, pattern, content):
    """Empty matches insert `content` (not after a match, not in an empty text); Oniguruma's classes and
    line anchors. Offsets too, but for content inserted at the very start: the reference gives it the
    empty span (0, 0), which our per-character alignment cannot express (it gives the first char's)."""
    ref_n = tokenizers.normalizers.Replace(Regex(pattern) if kind == "Regex" else pattern, content)
    ours = normalizer_from_dict(_ours(ref_n))
    texts = TEXTS + ["\x1fx\x1c", "x \n x"]
    for text in texts:
        assert ours.normalize(text)[0] == ref_n.normalize_str(text), repr(text)
    ref, tok = _char_tokenizers(texts, normalizer=ref_n)
    for text in texts:
        r, o = ref.encode(text), tok.encode(text)
        assert (o.ids, o.tokens) == (r.ids, r.tokens), repr(text)
        assert [tuple(x) for x, y in zip(o.offsets, r.offsets) if y != (0, 0)] == [y for y in r.offsets if y != (0, 0)]


# ---- pre-tokenizers --------------------------------------------------------------------------------

ANCHOR_PATTERNS = ["^ ", " $", "^a", "a$", "\\Aa", "a\\z", "a\\Z", "\\h+", "[\\h]", "\\d", "\\D+", "[\\d.]+", "\\H"]


@pytest.mark.parametrize("pattern", ANCHOR_PATTERNS)
def test_split_regex_anchors_and_escapes_match_reference(pattern):
    """Oniguruma (Ruby syntax): ^/$ match at every line, \\Z also before a final newline, \\h is a hex digit,
    \\d is the reference's Nd table."""
    ref = tokenizers.pre_tokenizers.Split(Regex(pattern), "isolated")
    ours = pre_tokenizer_from_dict(_ours(ref))
    for text in ["a\na", " \n ", "a\r\na", "a\n", "a\n\n", "Fa9 \u0663\U0001d7ce 1.5", " a ", ""]:
        assert [(w, (s, e)) for w, s, e in ours.split_spans(text)] == ref.pre_tokenize_str(text), repr(text)


@pytest.mark.parametrize("delimiter", [" ", "x", "\u2581", "é"])
def test_char_delimiter_split_matches_reference(delimiter):
    ref = tokenizers.pre_tokenizers.CharDelimiterSplit(delimiter)
    ours = pre_tokenizer_from_dict(_ours(ref))
    for text in TEXTS + [delimiter * 3, f"a{delimiter}{delimiter}b{delimiter}"]:
        assert [(w, (s, e)) for w, s, e in ours.split_spans(text)] == ref.pre_tokenize_str(text), repr(text)
    assert ours.to_dict() == _ours(ref)


def _metaspace_sequences():
    pt = tokenizers.pre_tokenizers
    out = []
    for scheme in ["first", "always", "never"]:
        for split in [True, False]:
            out += [
                ("ws+metaspace", lambda s=scheme, sp=split: pt.Sequence([pt.WhitespaceSplit(), pt.Metaspace(prepend_scheme=s, split=sp)])),
                ("metaspace+digits", lambda s=scheme, sp=split: pt.Sequence([pt.Metaspace(prepend_scheme=s, split=sp), pt.Digits(True)])),
                ("punct+metaspace", lambda s=scheme, sp=split: pt.Sequence([pt.Punctuation(), pt.Metaspace("_", s, sp)])),
            ]
    return out


@pytest.mark.parametrize("name,make", _metaspace_sequences())
def test_metaspace_inside_a_sequence_matches_reference(name, make):
    """A Metaspace step of a Sequence rewrites each piece (spaces -> ▁, ▁ prepended; "first": only to
    the piece at the start of the input, not after an added token)."""
    texts = TEXTS + ["a b.c", "  a  1 2", "x<sep>y z", "<sep> a"]
    ref, ours = _char_tokenizers(texts + ["<sep>"], pre_tokenizer=make(), added=["<sep>"])
    for text in texts:
        r, o = ref.encode(text), ours.encode(text)
        assert (o.ids, o.tokens, [tuple(x) for x in o.offsets], o.word_ids) == (r.ids, r.tokens, r.offsets, r.word_ids), repr(text)
    pre = pre_tokenizer_from_dict(_ours(make()))
    for text in texts:
        assert [w for w, *_ in pre.split_spans(text)] == [w for w, _ in make().pre_tokenize_str(text)], repr(text)


@pytest.mark.parametrize("add_prefix_space", [True, False])
def test_byte_level_word_spans_match_reference(add_prefix_space):
    """The span of a word that is only the inserted prefix space covers the first character (as upstream)."""
    ref = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=add_prefix_space)
    ours = pre_tokenizer_from_dict(_ours(ref))
    for text in ["\u00a0nbsp", "\u3000x", "\nx", "x", " x", "\t\t"]:
        assert [(ours.map_word(w), (s, e)) for w, s, e, *_ in ours.split_spans(text)] == ref.pre_tokenize_str(text)


# ---- decoders --------------------------------------------------------------------------------------

TOKEN_LISTS = [[], ["a"], ["a", "b"], ["", "a"], ["  a  ", " b", "c  "], ["a .", " ,", " 's", " do not"],
               ["▁a", "▁", "b"], ["xx", "axa", "x"]]


@pytest.mark.parametrize("kind,pattern,content", [("String", "", "-"), ("String", "x", "yy"), ("Regex", "", "-"),
                                                  ("Regex", " *", "-"), ("Regex", "x*", ""), ("Regex", "\\s", "_"),
                                                  ("Regex", "(a)", "\\1$1")])
def test_replace_decoder_matches_reference(kind, pattern, content):
    ref = tokenizers.decoders.Replace(Regex(pattern) if kind == "Regex" else pattern, content)
    ours = decoder_from_dict(_ours(ref))
    for tokens in TOKEN_LISTS:
        assert ours.decode(tokens) == ref.decode(tokens), tokens


def test_byte_fallback_accepts_what_from_str_radix_accepts():
    """Upstream parses the two middle chars with ``u8::from_str_radix(.., 16)``: either case, or a sign."""
    ref = tokenizers.decoders.ByteFallback()
    ours = decoder_from_dict(_ours(ref))
    for tokens in [["<0x4a>"], ["<0x4A>", "<0x6b>"], ["<0x+4>"], ["<0x-1>"], ["<0x 4>"], ["<0xe2>", "<0x82>", "<0xac>"],
                   ["<0xE2>", "<0x82>", "<0xAC>"], ["<0xg1>"], ["<0x4a>x"]]:
        assert ours.decode(tokens) == ref.decode(tokens), tokens


@pytest.mark.parametrize("steps", ["wordpiece+strip", "wordpiece+replace", "ctc+wordpiece"])
def test_wordpiece_tokens_reach_the_next_decoder(steps):
    """In a Sequence, WordPiece hands on one string per token (upstream ``decode_chain``)."""
    d = tokenizers.decoders
    make = {
        "wordpiece+strip": lambda: d.Sequence([d.WordPiece(), d.Strip(" ", 1, 1)]),
        "wordpiece+replace": lambda: d.Sequence([d.WordPiece(cleanup=False), d.Replace(Regex("^ "), "|")]),
        "ctc+wordpiece": lambda: d.Sequence([d.CTC(), d.WordPiece()]),
    }[steps]
    ours = decoder_from_dict(_ours(make()))
    for tokens in [["a"], ["a", "b"], ["a", "##b", "c"], ["hello", ",", "world", "!"], ["<pad>", "a", "a", "|", "##b"]]:
        assert ours.decode(tokens) == make().decode(tokens), tokens


@pytest.mark.parametrize("pad", ["<pad>", "a"])
@pytest.mark.parametrize("delimiter", ["|", "a"])
@pytest.mark.parametrize("cleanup", [True, False])
def test_ctc_decoder_matches_reference(pad, delimiter, cleanup):
    ref = tokenizers.decoders.CTC(pad, delimiter, cleanup)
    ours = decoder_from_dict(_ours(ref))
    for tokens in [[], ["<pad>"], ["<pad>", "h", "h", "<pad>", "e", "l", "l", "<pad>", "l", "o", "|", "w", "o", "r"],
                   ["|", "|", "a", "|"], ["a", "a", "b", "a"], ["h", "i", "|", ".", "|", "n't", "do", "|", "'s"]]:
        assert ours.decode(tokens) == ref.decode(tokens), tokens
    assert ours.to_dict() == _ours(ref)


# ---- post-processors -------------------------------------------------------------------------------

@pytest.mark.parametrize("single,pair", [("$A [SEP] $A:1", "$A $B $A $B:3"), ("[CLS] $A $A", "$B [SEP] $A $B:1 [SEP]"),
                                         ("[CLS] $A [SEP]", "[CLS] $A [SEP] $B:1 [SEP]:1")])
def test_template_sequence_ids_match_reference(single, pair):
    """A sequence the template repeats has sequence ids only on its last copy (upstream keeps one range per sequence)."""
    post = tokenizers.processors.TemplateProcessing(single, pair, [("[CLS]", 1), ("[SEP]", 2)])
    texts = ["a b", "", "c"]
    ref, ours = _char_tokenizers(texts, pre_tokenizer=tokenizers.pre_tokenizers.WhitespaceSplit(), post_processor=post)
    for a in texts:
        for b in [None, "b", ""]:
            r, o = ref.encode(a, b), ours.encode(a, b)
            assert (o.ids, o.type_ids, o.special_tokens_mask, o.sequence_ids, [tuple(x) for x in o.offsets]) == (
                r.ids, r.type_ids, r.special_tokens_mask, r.sequence_ids, r.offsets), (a, b)
