"""The fast decoding step (StaticCache written in place, RoPE from a table, one token, no mask) against the
plain path and the reference on the real SmolLM2-135M-Instruct GGUF: the same greedy tokens, and each step's
logits equal to the reference's (within fp32 tolerance) and to a full forward over the sequence without a cache."""

from __future__ import annotations


import pytest
import torch
import transformers

import minformers
from minformers.models.base import RotaryEmbedding, rope_inv_freq
from minformers.models.llama import LlamaConfig

transformers.logging.set_verbosity_error()
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
PROMPTS = ["The capital of France is", "def fibonacci(n):", "Once upon a time, in a small village,"]


@pytest.fixture(scope="module")
def smollm2(smollm2_folder):
    folder = smollm2_folder
    ours = minformers.AutoModelForCausalLM.from_pretrained(folder, gguf_file=GGUF)
    ref = transformers.AutoModelForCausalLM.from_pretrained(folder, gguf_file=GGUF).eval()
    tok = transformers.AutoTokenizer.from_pretrained(folder, gguf_file=GGUF)
    return ours, ref, tok


@pytest.mark.parametrize("prompt", PROMPTS)
def test_decode_steps_equal_reference_and_plain_forward(smollm2, prompt):
    ours, ref, tok = smollm2
    ids = tok(prompt, return_tensors="pt").input_ids
    T0, n = ids.shape[1], 12
    kw = dict(max_new_tokens=n, min_new_tokens=n, do_sample=False, return_dict_in_generate=True, output_logits=True)
    expected = ref.generate(ids, **kw)
    got = ours.generate(ids, **kw)
    assert torch.equal(got.sequences, expected.sequences)
    steps = torch.stack(got.logits, 1)  # (1, n, V): the prompt step, then n - 1 single-token steps
    torch.testing.assert_close(steps, torch.stack(expected.logits, 1), atol=1e-4, rtol=0)
    with torch.no_grad():  # the plain path: the whole sequence at once, no cache, F.linear
        plain = ours(got.sequences[:, :-1], use_cache=False).logits[:, T0 - 1:]
    torch.testing.assert_close(steps, plain, atol=1e-4, rtol=0)


@pytest.mark.parametrize("scaling", [None, {"rope_type": "linear", "factor": 2.0},
                                     {"rope_type": "dynamic", "factor": 2.0}])
def test_rope_table_equals_computing_each_position(scaling):
    """cos/sin sliced from the table (grown past its first 256 positions) or gathered for explicit position
    ids are the very bits of computing them for those positions."""
    cfg = LlamaConfig(hidden_size=64, num_attention_heads=2, rope_theta=10000.0, rope_scaling=scaling,
                      max_position_embeddings=128)
    rope = RotaryEmbedding(cfg)
    for start, T in [(0, 7), (5, 1), (300, 1), (250, 20)]:
        positions = torch.arange(start, start + T)[None]
        cos, sin = rope(None, torch.float32, start, T, torch.device("cpu"))
        cos2, sin2 = rope(positions, torch.float32)
        seq_len = start + T
        dynamic = scaling is not None and scaling["rope_type"] == "dynamic"
        inv_freq = rope_inv_freq(cfg, seq_len if dynamic and seq_len > 128 else None)
        freqs = positions[:, :, None].float() * inv_freq[None, None, :]
        emb = torch.cat((freqs, freqs), -1)
        half = emb.shape[-1] // 2
        sin_rot = torch.cat((-emb.sin()[..., :half], emb.sin()[..., half:]), -1)
        for c, s in ((cos, sin), (cos2, sin2)):
            assert torch.equal(c, emb.cos()[:, None]) and torch.equal(s, sin_rot[:, None])
