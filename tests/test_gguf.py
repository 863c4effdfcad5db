"""GGUF: dequantisation equals the gguf package's, the q/k un-permutation equals the reference's, and the
real SmolLM2-135M-Instruct Q4_1 file gives the reference's logits and greedy tokens (stop strings too)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
import transformers
from gguf import GGMLQuantizationType, quants

import minformers
from minformers.weights.gguf import read_gguf_tokenizer
from minformers.weights.gguf_tensors import dequantize, unpermute_qk

transformers.logging.set_verbosity_error()
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.mark.parametrize("qtype", ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1"])
def test_dequantize_matches_gguf_package(qtype):
    x = np.random.default_rng(0).standard_normal((6, 128)).astype(np.float32)
    data = x if qtype == "F32" else quants.quantize(x, GGMLQuantizationType[qtype])
    expected = quants.dequantize(data, GGMLQuantizationType[qtype]) if qtype != "F32" else x
    got = dequantize(data, qtype, (6, 128))
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, torch.from_numpy(np.asarray(expected, dtype=np.float32)), atol=0, rtol=0)


def test_unknown_quant_type_is_named():
    with pytest.raises(NotImplementedError, match="Q5_K"):
        dequantize(np.zeros((2, 176), dtype=np.uint8), "Q5_K", (2, 256))


@pytest.mark.parametrize("n_head", [4, 2])
def test_unpermute_equals_reference(n_head):
    from transformers.modeling_gguf_pytorch_utils import LlamaTensorProcessor

    w = np.random.default_rng(1).standard_normal((n_head * 8, 12)).astype(np.float32)
    expected = LlamaTensorProcessor()._reverse_permute_weights(w, n_head, n_head)
    torch.testing.assert_close(unpermute_qk(torch.from_numpy(w), n_head), torch.from_numpy(expected), atol=0, rtol=0)


@pytest.fixture(scope="module")
def smollm2(smollm2_folder):
    folder = smollm2_folder
    ours = minformers.AutoModelForCausalLM.from_pretrained(folder, gguf_file=GGUF)
    ref = transformers.AutoModelForCausalLM.from_pretrained(folder, gguf_file=GGUF).eval()
    tok = transformers.AutoTokenizer.from_pretrained(folder, gguf_file=GGUF)
    tok.pad_token = "<|im_end|>"  # the GGUF's padding_token_id (2)
    return folder, ours, ref, tok


def test_smollm2_logits_and_greedy_match_reference(smollm2):
    folder, ours, ref, tok = smollm2
    assert type(ours).__name__ == "LlamaForCausalLM" and ours.config.tie_word_embeddings
    assert (ours.config.num_key_value_heads, ours.config.num_hidden_layers) == (3, 30)
    batch = tok(["The capital of France is", "Hello, my name is Ann and"], return_tensors="pt", padding=True,
                padding_side="left")
    with torch.inference_mode():
        r = ref(**batch).logits
        o = ours(**batch).logits
    m = batch["attention_mask"].bool()
    torch.testing.assert_close(o[m], r[m], atol=1e-4, rtol=0)
    ids = tok("The capital of France is", return_tensors="pt").input_ids
    expected = ref.generate(ids, max_new_tokens=64, do_sample=False)
    got = ours.generate(ids, max_new_tokens=64, do_sample=False)
    assert torch.equal(got, expected)
    assert tok.decode(got[0, ids.shape[1]:]).startswith(" Paris")


def test_smollm2_batched_left_padded_greedy(smollm2):
    _, ours, ref, tok = smollm2
    batch = tok(["The capital of France is", "Hello, my name is Ann and"], return_tensors="pt", padding=True,
                padding_side="left")
    assert torch.equal(ours.generate(**batch, max_new_tokens=4), ref.generate(**batch, max_new_tokens=4))


def test_smollm2_stop_strings_match_reference(smollm2):
    """The real model and tokenizer: " Paris.\n\nThe capital of the United States ..." cut by a stop string that
    is a whole token ("\n") or spans tokens with overhangs (" Uni|ted| St|ates"), where the reference's generate
    cuts it; with our tokenizer too."""
    folder, ours, ref, tok = smollm2
    our_tok = minformers.AutoTokenizer.from_pretrained(folder, gguf_file=GGUF)
    ids = tok("The capital of France is", return_tensors="pt").input_ids
    cases = ((["\n"], " Paris.\n"), (["ted St", "Australia"], " Paris.\n\nThe capital of the United States"))
    for stops, text in cases:
        expected = ref.generate(ids, max_new_tokens=24, do_sample=False, stop_strings=stops, tokenizer=tok)
        assert tok.decode(expected[0, ids.shape[1]:]) == text
        for t in (our_tok, tok):
            got = ours.generate(ids, max_new_tokens=24, do_sample=False, stop_strings=stops, tokenizer=t)
            assert torch.equal(got, expected), f"{stops!r} ({type(t).__module__})"


def test_smollm2_tokenizer_metadata(smollm2):
    folder, _, _, tok = smollm2
    meta = read_gguf_tokenizer(f"{folder}/{GGUF}")
    assert meta["model"] == "gpt2" and len(meta["tokens"]) == 49152 and meta["bos_token_id"] == 1
    assert meta["tokens"][:3] == ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    assert meta["merges"][0] == "Ġ t"
    assert meta["chat_template"] == tok.chat_template


def test_save_pretrained_after_gguf_loads_again(smollm2, tmp_path):
    _, ours, ref, _ = smollm2
    ours.save_pretrained(tmp_path)
    ids = torch.tensor([[1, 504, 3575, 282, 4649, 314]])
    back = minformers.AutoModelForCausalLM.from_pretrained(tmp_path)
    theirs = transformers.AutoModelForCausalLM.from_pretrained(tmp_path).eval()
    with torch.inference_mode():
        expected = ours(ids).logits
        torch.testing.assert_close(back(ids).logits, expected, atol=0, rtol=0)
        torch.testing.assert_close(theirs(ids).logits, expected, atol=1e-4, rtol=0)


def test_truncated_file_is_refused(smollm2, tmp_path):
    folder = smollm2[0]
    src = f"{folder}/{GGUF}"
    with open(src, "rb") as f, open(tmp_path / GGUF, "wb") as g:
        shutil.copyfileobj(f, g)
        g.truncate(g.tell() - 100_000)
    with pytest.raises(OSError, match="truncated"):
        minformers.AutoModelForCausalLM.from_pretrained(tmp_path, gguf_file=GGUF)
    (tmp_path / "bad.gguf").write_bytes(b"GGUF\x03\x00\x00\x00garbage")
    with pytest.raises(OSError, match="not a valid GGUF"):
        minformers.AutoModelForCausalLM.from_pretrained(tmp_path, gguf_file="bad.gguf")
