"""SentencePiece tokenizers (T5, ALBERT, XLM-R, Llama-2 styles) against the reference, on real models.

The models are sentencepiece's own test models (botchan_en_unigram_1000,
botchan_en_bpe_1000, kyoto_ja_unigram_8000); the reference builds each tokenizer
with its converters and saves it; ours loads the tokenizer.json and, separately,
builds the same tokenizer from the .model file.

Every check runs at two scales: ``sample`` (every 9th Rotten Tomatoes row, 1,545
rows with the corpus's mix of reviews and long plot summaries; part of
``make test``) and ``corpus`` (all 13,905 rows; ``slow``, run by ``make test-slow``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .parity import assert_same
from .sp_fixtures import SPECS, build_reference, build_ours_from_model

pytest.importorskip("transformers")

NAMES = list(SPECS)
EXTRA = ["", " ", "  x  ", "a  b", "ﬁne café naïve", "日本語のテキスト", "한국어 텍스트", "emoji 😀👍🏽 ok", "a\u0301b",
         "\x01x\x02", "tab\tnew\nline\r\nz", "<s>hi</s> <mask> there [MASK] <extra_id_3>", "ｶﾞ ｱｲｳ", "x\u00a0\u0301y",
         "<0x41>", "\u3000lead", "z" * 300]


@dataclass(frozen=True)
class Scale:
    step: int  # every step-th corpus row
    overflow_pair_step: int  # every n-th text paired with every n-th from the end, with overflow (a long pair
    # yields hundreds of windows: the reference's pair overflow is every window of one by every window of the other)
    from_model_step: int  # rows (of the scale's texts) checked against the tokenizer built from the .model file
    hypothesis_examples: int  # × 100 generated strings


SCALES = {
    "sample": Scale(step=9, overflow_pair_step=8, from_model_step=1, hypothesis_examples=10),
    "corpus": Scale(step=1, overflow_pair_step=8, from_model_step=4, hypothesis_examples=50),
}


@pytest.fixture(scope="module", params=["sample", pytest.param("corpus", marks=pytest.mark.slow)])
def scale(request) -> tuple[str, Scale]:
    return request.param, SCALES[request.param]


@pytest.fixture(scope="module")
def texts(scale, rotten_tomatoes_texts) -> list[str]:
    """The scale's deterministic slice of the corpus (file order kept)."""
    return rotten_tomatoes_texts[:: scale[1].step]


@pytest.fixture(scope="module", params=NAMES)
def pair(request, tmp_path_factory):
    from minformers.tokenization.tokenization_utils import PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp(request.param)
    ref = build_reference(request.param, folder)
    ours = PreTrainedTokenizerFast.from_pretrained(folder)
    return request.param, ours, ref


def _compare(ours, ref, texts, pairs=None, label="", **kw):
    opts = dict(return_offsets_mapping=True, return_special_tokens_mask=True, **kw)
    a = ours(texts, pairs, **opts) if pairs is not None else ours(texts, **opts)
    b = ref(texts, pairs, **opts) if pairs is not None else ref(texts, **opts)
    assert_same(a, b, label)
    return b


def test_rotten_tomatoes_singles_pairs_and_decode(pair, texts, scale):
    name, ours, ref = pair
    label = f"{name} {scale[0]}"
    texts = texts + EXTRA
    b = _compare(ours, ref, texts, label=f"{label} singles", return_length=True)
    ids = b["input_ids"]
    assert ours.batch_decode(ids) == ref.batch_decode(ids)
    assert ours.batch_decode(ids, skip_special_tokens=True) == ref.batch_decode(ids, skip_special_tokens=True)
    half = len(texts) // 2
    _compare(ours, ref, texts[:half], texts[half: 2 * half], label=f"{label} pairs")


def test_rotten_tomatoes_truncation_overflow(pair, texts, scale):
    name, ours, ref = pair
    label = f"{name} {scale[0]} overflow"
    opts = dict(truncation="longest_first", max_length=40, stride=4, return_overflowing_tokens=True, padding=True)
    if ref.pad_token is None:
        # Llama has no pad token: padding fails alike in both (the reference's ValueError, word for word) …
        with pytest.raises(ValueError) as theirs:
            ref(texts[:2], **opts)
        with pytest.raises(ValueError) as mine:
            ours(texts[:2], **opts)
        assert str(mine.value) == str(theirs.value)
        # … and works once one is set, as the message suggests (on copies: the fixture is shared).
        ours, ref = copy.deepcopy(ours), copy.deepcopy(ref)
        ours.pad_token = ref.pad_token = ref.eos_token
    _compare(ours, ref, texts, label=f"{label} singles", **opts)
    n = scale[1].overflow_pair_step
    _compare(ours, ref, texts[::n], texts[::-n], label=f"{label} pairs", **opts)


def test_built_from_model_file_matches_reference(pair, texts, scale):
    name, _, ref = pair
    ours = build_ours_from_model(name)
    texts = texts[:: scale[1].from_model_step] + EXTRA
    b = _compare(ours, ref, texts, label=f"{name} {scale[0]} from .model")
    assert ours.batch_decode(b["input_ids"][:500]) == ref.batch_decode(b["input_ids"][:500])


# any Unicode, weighted towards the scripts and oddities that stress normalisation and segmentation
_ALPHABETS = st.one_of(
    st.characters(codec="utf-8"),
    st.characters(min_codepoint=0x1100, max_codepoint=0x11FF),  # Hangul jamo
    st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3),  # Hangul syllables
    st.characters(min_codepoint=0x3040, max_codepoint=0x30FF),  # kana
    st.characters(min_codepoint=0xFF00, max_codepoint=0xFFEF),  # half/full width
    st.characters(min_codepoint=0x4E00, max_codepoint=0x4FFF),  # CJK
    st.characters(min_codepoint=0x0300, max_codepoint=0x036F),  # combining marks
    st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF),  # emoji
    st.sampled_from(list(" \t\n\r\x0b\x0c\x00\x01\x7f\x85\xa0\u2028\u3000\u200b\u200d\ufeff\u2581▁`'\"")),
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),
)
TEXTS = st.lists(st.text(_ALPHABETS, max_size=40) | st.text(st.characters(min_codepoint=0x61, max_codepoint=0x7A), min_size=50, max_size=200),
                 min_size=100, max_size=100)


def test_hypothesis_any_unicode(pair, scale):
    """Generated strings, batch-encoded: 1,000 per tokenizer at the sample scale, 5,000 at the corpus scale."""
    name, ours, ref = pair

    @settings(max_examples=scale[1].hypothesis_examples, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(TEXTS)
    def check(texts):
        b = _compare(ours, ref, texts, label=name)
        assert ours.batch_decode(b["input_ids"]) == ref.batch_decode(b["input_ids"])

    check()
