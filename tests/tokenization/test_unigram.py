"""Unigram and WordLevel models, the SentencePiece stages, and bad input (against the reference `tokenizers`)."""

from __future__ import annotations

import json

import pytest

from minformers.tokenization.tokenizer import Tokenizer

tokenizers = pytest.importorskip("tokenizers")

UNIGRAM = {
    "type": "Unigram", "unk_id": 0, "byte_fallback": False,
    "vocab": [["<unk>", 0.0], ["▁", -2.0], ["a", -3.0], ["b", -3.5], ["ab", -4.0], ["▁ab", -5.5], ["abc", -9.0],
              ["c", -4.0], ["▁c", -4.5], ["<0xE2>", -20.0], ["<0x82>", -20.0], ["<0xAC>", -20.0]],
}
TEXTS = ["ab abc", "c ab", "", "   ", "abxyzc", "€ a", "xx yy", "ab\u00a0c", "ｃ"]


def _pipeline(model: dict, pre: dict | None = None, normalizer: dict | None = None, decoder: dict | None = None) -> str:
    return json.dumps({"version": "1.0", "truncation": None, "padding": None, "added_tokens": [], "normalizer": normalizer,
                       "pre_tokenizer": pre, "post_processor": None, "decoder": decoder, "model": model})


@pytest.mark.parametrize("byte_fallback", [False, True])
@pytest.mark.parametrize("scheme", ["always", "first", "never"])
@pytest.mark.parametrize("split", [True, False])
def test_unigram_metaspace_matches_reference(byte_fallback, scheme, split):
    meta = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": scheme, "split": split}
    spec = _pipeline({**UNIGRAM, "byte_fallback": byte_fallback}, pre=meta, decoder=meta,
                     normalizer={"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "Strip", "strip_left": True, "strip_right": True}]})
    ours, ref = Tokenizer.from_str(spec), tokenizers.Tokenizer.from_str(spec)
    for t in TEXTS:
        a, b = ours.encode(t), ref.encode(t)
        assert (a.ids, a.tokens, a.offsets, a.word_ids) == (b.ids, b.tokens, b.offsets, b.word_ids), t
        assert ours.decode(a.ids) == ref.decode(b.ids)
    assert json.loads(ours.to_str())["model"] == json.loads(ref.to_str())["model"]


def test_wordlevel_matches_reference():
    model = {"type": "WordLevel", "vocab": {"[UNK]": 0, "hello": 1, "world": 2, "!": 3}, "unk_token": "[UNK]"}
    spec = _pipeline(model, pre={"type": "WhitespaceSplit"})
    ours, ref = Tokenizer.from_str(spec), tokenizers.Tokenizer.from_str(spec)
    for t in ["hello world !", "hello there", "", "  world\t!!"]:
        a, b = ours.encode(t), ref.encode(t)
        assert (a.ids, a.tokens, a.offsets, a.word_ids) == (b.ids, b.tokens, b.offsets, b.word_ids)
    assert json.loads(ours.to_str())["model"] == json.loads(ref.to_str())["model"]


def test_sentencepiece_decoders_match_reference():
    dec = {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
                                             {"type": "ByteFallback"}, {"type": "Fuse"},
                                             {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
    vocab = {"<unk>": 0, "▁hi": 1, "<0xE2>": 2, "<0x82>": 3, "<0xAC>": 4, "▁": 5, "x": 6}
    spec = _pipeline({"type": "BPE", "vocab": vocab, "merges": [], "unk_token": "<unk>", "byte_fallback": True,
                      "fuse_unk": True}, decoder=dec)
    ours, ref = Tokenizer.from_str(spec), tokenizers.Tokenizer.from_str(spec)
    for ids in ([1, 2, 3, 4, 5, 6], [2, 3, 6], [4, 4, 1], [5, 5, 1], []):
        assert ours.decode(ids) == ref.decode(ids)
    for t in ["x€x", "qq€", "▁hi"]:
        a, b = ours.encode(t), ref.encode(t)
        assert (a.ids, a.tokens, a.offsets) == (b.ids, b.tokens, b.offsets)


def test_malformed_tokenizer_json_names_the_file(tmp_path):
    bad = tmp_path / "tokenizer.json"
    bad.write_text('{"model": ')
    with pytest.raises(ValueError, match="tokenizer.json: not valid JSON"):
        Tokenizer.from_file(bad)
    bad.write_text(json.dumps({"model": {"type": "Unigram", "vocab": [["a", 0.0]], "unk_id": 5}}))
    with pytest.raises(ValueError, match="tokenizer.json: not a valid tokenizer.json.*unk_id 5"):
        Tokenizer.from_file(bad)
    bad.write_text(json.dumps({"model": {"type": "Unigram"}}))
    with pytest.raises(ValueError, match="missing key 'vocab'"):
        Tokenizer.from_file(bad)


def test_corrupt_model_file_is_a_clear_error(tmp_path):
    import fetch_assets

    from minformers.tokenization.sp_model import read_model
    from minformers.tokenization.sentencepiece_unigram import T5TokenizerFast

    good = fetch_assets.fetch("sentencepiece_models") / "botchan_en_unigram_1000.model"
    cut = tmp_path / "spiece.model"
    cut.write_bytes(good.read_bytes()[:3000])
    with pytest.raises(ValueError, match="spiece.model: not a valid SentencePiece model"):
        read_model(cut)
    cut.write_bytes(b"\x00\x01garbage" * 10)
    with pytest.raises(ValueError, match="not a valid SentencePiece model"):
        T5TokenizerFast(vocab_file=cut)
    assert len(read_model(good).pieces) == 1000


def test_odd_input_never_hangs():
    spec = _pipeline(UNIGRAM, pre={"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True})
    ours, ref = Tokenizer.from_str(spec), tokenizers.Tokenizer.from_str(spec)
    for t in ["a\x00b", "a" * 20000, "\x00" * 50, "ab" * 5000]:  # NUL, very long words: same result, no hang
        a, b = ours.encode(t), ref.encode(t)
        assert (a.ids, a.offsets) == (b.ids, b.offsets)
    assert ours.encode("x\ud800y").ids  # a lone surrogate (the reference refuses the str) is an unknown character
