"""kernels.linear (oneDNN / MKL choice, fused layers, cached weights) and weight-only int8 (quantize_int8)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
import transformers
from torch import nn

import minformers
from minformers import kernels


def layers(seed: int = 0, n_in: int = 48, outs: tuple[int, ...] = (40, 24, 24), bias: bool = True):
    torch.manual_seed(seed)
    return tuple(nn.Linear(n_in, n, bias=bias) for n in outs)


def separate(x, group, act=None):
    y = torch.cat([F.linear(x, la.weight, la.bias) for la in group], dim=-1)
    return y if act is None else {"gelu": F.gelu, "silu": F.silu, "relu": F.relu}[act](y)


@pytest.mark.parametrize("rows", [1, 2, 7])
@pytest.mark.parametrize("act", [None, "gelu", "silu", "relu"])
def test_fused_linear_equals_separate_products(rows, act):
    group = layers()
    x = torch.randn(1, rows, 48)
    with torch.inference_mode():
        fused = kernels.linear(x, *group, act=act)
    torch.testing.assert_close(fused, separate(x, group, act), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(kernels.linear(x, *group, act=act), separate(x, group, act))  # autograd path


@pytest.mark.parametrize("mkl_row", [True, False])
def test_single_row_takes_mkl_when_asked(monkeypatch, mkl_row):
    """On Intel CPUs one-row products (a decoding step) go to MKL: the same bits as F.linear."""
    monkeypatch.setattr(kernels, "MKL_ROW", mkl_row)
    calls = []
    onednn = torch.ops.mkldnn._linear_pointwise
    monkeypatch.setattr(torch.ops.mkldnn, "_linear_pointwise", lambda *a: calls.append(1) or onednn(*a),
                        raising=False)
    group = layers(1)
    x = torch.randn(1, 1, 48)
    with torch.inference_mode():
        y = kernels.linear(x, *group)
    expected = F.linear(x, torch.cat([la.weight for la in group]), torch.cat([la.bias for la in group]))
    if mkl_row:
        assert not calls and torch.equal(y, expected)
    else:
        assert calls == ([1] if kernels.ENABLED else [])
        torch.testing.assert_close(y, expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("rows", [1, 5])
def test_cached_weights_follow_in_place_updates(rows):
    group = layers(2)
    x = torch.randn(1, rows, 48)
    with torch.inference_mode():
        before = kernels.linear(x, *group)
    with torch.no_grad():
        group[1].weight.mul_(2)  # an optimizer step: same tensor, new version
    with torch.inference_mode():
        after = kernels.linear(x, *group)
    assert not torch.allclose(before[..., 40:64], after[..., 40:64])
    torch.testing.assert_close(after, separate(x, group), atol=1e-5, rtol=1e-5)


# --- int8 ---
def test_int8_linear_approximates_the_layer():
    torch.manual_seed(3)
    layer = nn.Linear(64, 32)
    q = kernels.Int8Linear.from_linear(layer)
    dequantised = q.weight.float() * q.scale.float()[:, None]
    exact_step = layer.weight.abs().amax(dim=1) / 127
    step = q.scale.float()  # exact_step rounded to bf16
    # half a step of rounding, plus what clamping to 127 loses when the rounded step came out smaller
    bound = 0.5 * step + 127 * (exact_step - step).clamp(min=0) + 1e-7
    assert ((dequantised - layer.weight).abs() <= bound[:, None]).all()
    assert q.weight.dtype == torch.int8 and q.weight.abs().max() == 127
    x = torch.randn(3, 5, 64)
    y = q(x.bfloat16()).float()
    exact = layer(x)
    assert y.shape == exact.shape
    assert (y - exact).abs().max() < 0.03 * exact.abs().max()
    with pytest.raises(TypeError, match="bfloat16"):
        q(x)


def test_int8_fused_equals_separate():
    group = tuple(kernels.Int8Linear.from_linear(la) for la in layers(4))
    x = torch.randn(2, 3, 48).bfloat16()
    fused = kernels.linear(x, *group, act="silu")
    torch.testing.assert_close(fused, F.silu(torch.cat([la(x) for la in group], dim=-1)))


def tiny_llama(tmp_path):
    torch.manual_seed(0)
    config = transformers.LlamaConfig(vocab_size=99, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                                      num_attention_heads=4, num_key_value_heads=2, pad_token_id=0,
                                      bos_token_id=1, eos_token_id=2)
    transformers.LlamaForCausalLM(config).save_pretrained(tmp_path / "tiny")
    return minformers.AutoModelForCausalLM.from_pretrained(tmp_path / "tiny")


def test_quantize_int8_model_stays_close_and_generates(tmp_path):
    model = tiny_llama(tmp_path)
    ids = torch.randint(3, 99, (2, 9), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        exact = model(ids).logits
    minformers.quantize_int8(model, skip=("lm_head",))
    assert isinstance(model.model.layers[0].mlp.down_proj, kernels.Int8Linear)
    assert isinstance(model.lm_head, nn.Linear) and model.lm_head.weight.dtype == torch.bfloat16  # skipped
    with torch.no_grad():
        approx = model(ids).logits.float()
    assert (approx - exact).abs().max() < 0.05 * exact.abs().max()
    out = model.generate(ids[:1], max_new_tokens=5, min_new_tokens=5, do_sample=False)
    assert out.shape == (1, 14) and torch.equal(out[:, :9], ids[:1])


def test_quantized_model_refuses_to_save(tmp_path):
    model = minformers.quantize_int8(tiny_llama(tmp_path))
    with pytest.raises(ValueError, match="quantize_int8"):
        model.save_pretrained(tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_from_pretrained_quantization_config(tmp_path):
    """The reference's way to ask for weight-only int8 (TorchAoConfig("int8_weight_only")) loads quantised;
    modules_to_not_convert are left alone; other configs are refused before loading."""
    tiny_llama(tmp_path)
    folder = tmp_path / "tiny"
    model = minformers.AutoModelForCausalLM.from_pretrained(
        folder, quantization_config={"quant_type": "int8_weight_only", "modules_to_not_convert": ["lm_head"]})
    assert isinstance(model.model.layers[1].self_attn.o_proj, kernels.Int8Linear)
    assert isinstance(model.lm_head, nn.Linear)
    try:
        config = transformers.TorchAoConfig("int8_weight_only")
    except (ImportError, ValueError):  # the reference checks that torchao is installed
        config = type("TorchAoConfig", (), {"quant_type": "int8_weight_only"})()
    model = minformers.AutoModelForCausalLM.from_pretrained(folder, quantization_config=config)
    assert isinstance(model.lm_head, kernels.Int8Linear)
    with pytest.raises(ValueError, match="int8_weight_only"):
        minformers.AutoModelForCausalLM.from_pretrained(folder, quantization_config={"load_in_8bit": True})
