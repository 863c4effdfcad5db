"""GGUF blocks kept quantized (from_pretrained(..., dequantize=False)): kernels.GGUFLinear against its plain
PyTorch reference (the dequantized weight and F.linear), and the real SmolLM2-135M-Instruct Q4_1 file (its
embedding / lm_head are Q8_0) against the same file dequantized."""

from __future__ import annotations


import numpy as np
import pytest
import torch
import torch.nn.functional as F
from gguf import GGMLQuantizationType, GGUFWriter, quants

import minformers
from minformers.kernels import GGUFLinear, linear
from minformers.weights.gguf_tensors import dequantize, load_gguf_checkpoint

GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
# Relative error ||y - y_ref|| / ||y_ref|| of a product against the dequantized fp32 one. Its sources: the
# activations rounded to bf16 (2^-9 per element), the block scales/minima rounded fp16 -> bf16 (2^-9), bf16
# output; measured 2.8e-3 (Q4_0), 3.0e-3 (Q4_1), 3.5e-3 (Q8_0), so 1e-2 leaves room and still catches a wrong block layout
# (a swapped nibble order or scale gives errors of order 1).
KERNEL_RTOL = 1e-2


def _blocks(w: np.ndarray, qtype: str) -> torch.Tensor:
    return torch.from_numpy(np.asarray(quants.quantize(w, GGMLQuantizationType[qtype])).view(np.uint8))


def _rel(y: torch.Tensor, ref: torch.Tensor) -> float:
    return ((y.float() - ref).norm() / ref.norm()).item()


@pytest.mark.parametrize("qtype", ["Q4_0", "Q4_1", "Q8_0"])
@pytest.mark.parametrize("rows", [1, 7])
def test_kernel_matches_dequantized_reference(qtype, rows):
    rng = np.random.default_rng(0)
    n, k = 96, 256
    w = (rng.standard_normal((n, k)) * 0.05 + rng.standard_normal((n, 1)) * 0.02).astype(np.float32)
    raw = _blocks(w, qtype)
    layer = GGUFLinear.from_blocks(raw, qtype, (n, k))
    x = torch.from_numpy(rng.standard_normal((2, rows, k)).astype(np.float32))
    ref = F.linear(x, dequantize(raw.numpy(), qtype, (n, k)))  # the plain PyTorch reference
    with torch.inference_mode():
        y = layer(x)
    assert y.shape == ref.shape and y.dtype == torch.float32
    assert _rel(y, ref) < KERNEL_RTOL
    with torch.inference_mode():
        assert layer(x.bfloat16()).dtype == torch.bfloat16


def test_fused_layers_equal_separate_products():
    rng = np.random.default_rng(1)
    layers = [GGUFLinear.from_blocks(_blocks(rng.standard_normal((n, 128)).astype(np.float32), t), t, (n, 128))
              for n, t in [(64, "Q4_1"), (32, "Q4_0"), (48, "Q8_0"), (16, "Q8_0")]]
    x = torch.randn(3, 128)
    with torch.inference_mode():
        separate = torch.cat([la(x) for la in layers], dim=-1)
        torch.testing.assert_close(linear(x, *layers[:2]), separate[:, :96], atol=0, rtol=0)
        torch.testing.assert_close(linear(x, *layers), separate, atol=0, rtol=0)  # 32 rows: not concatenated
        torch.testing.assert_close(linear(x, *layers[2:]), separate[:, 96:], atol=0, rtol=0)  # Q8_0, 48 rows: alike
        torch.testing.assert_close(linear(x, *layers, act="silu"), F.silu(separate), atol=0, rtol=0)


def test_unsupported_type_names_it_and_suggests_dequantize(tmp_path):
    with pytest.raises(ValueError, match=r"Q5_0.*dequantize=True"):
        GGUFLinear.from_blocks(torch.zeros(16 * 22, dtype=torch.uint8), "Q5_0", (16, 32))
    w = np.random.default_rng(2).standard_normal((16, 64)).astype(np.float32)
    path = tmp_path / "q5.gguf"
    writer = GGUFWriter(path, "llama")
    writer.add_tensor("blk.0.ffn_up.weight", np.asarray(quants.quantize(w, GGMLQuantizationType.Q5_0)),
                      raw_dtype=GGMLQuantizationType.Q5_0)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(NotImplementedError, match=r"Q5_0.*dequantize=True"):
        load_gguf_checkpoint(path, keep_quantized=True)


@pytest.fixture(scope="module")
def smollm2(smollm2_folder):
    folder = smollm2_folder
    dense = minformers.AutoModelForCausalLM.from_pretrained(folder, gguf_file=GGUF)
    quant = minformers.AutoModelForCausalLM.from_pretrained(folder, gguf_file=GGUF, dequantize=False)
    tok = minformers.AutoTokenizer.from_pretrained(folder, gguf_file=GGUF)
    return dense, quant, tok


def test_quantized_model_keeps_blocks(smollm2):
    dense, quant, _ = smollm2
    assert all(p.dtype == torch.float32 for p in dense.parameters())  # dequantize=True: today's model
    kinds = {type(m).__name__ for m in dense.modules()}
    assert "GGUFLinear" not in kinds
    layers = [m for m in quant.modules() if isinstance(m, GGUFLinear)]
    assert len(layers) == 30 * 7 + 1  # every projection, and lm_head from the tied Q8_0 embedding
    assert quant.lm_head.type_name == "Q8_0" and quant.model.layers[0].mlp.down_proj.type_name == "Q4_1"
    assert "lm_head.weight" not in quant.state_dict()
    with pytest.raises(ValueError, match="dequantize=False"):
        quant.save_pretrained("/nonexistent/never-written")


# The whole model's logits against the dequantized model's, for a prompt: every product carries the kernel's
# bf16 rounding (above), through 30 layers. Measured: relative error 1.1e-2, max |diff| 0.41 on logits of
# magnitude up to 31; the bound 5e-2 fails for a wrong layer (a q/k permutation left out gives ~1).
MODEL_RTOL = 5e-2


def test_quantized_logits_close_to_dequantized(smollm2):
    dense, quant, tok = smollm2
    ids = tok("The capital of France is", return_tensors="pt").input_ids
    with torch.inference_mode():
        ref = dense(ids).logits
        got = quant(ids).logits
    assert got.dtype == torch.float32
    assert _rel(got, ref) < MODEL_RTOL
    assert torch.equal(got[0, -1].argmax(), ref[0, -1].argmax())


def test_quantized_greedy_text(smollm2):
    _, quant, tok = smollm2
    ids = tok("The capital of France is", return_tensors="pt").input_ids
    out = quant.generate(ids, max_new_tokens=8, do_sample=False)
    assert tok.decode(out[0, ids.shape[1]:]).startswith(" Paris")
