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


# --- cached derivatives of weights (oneDNN layouts, concatenations, int8 groups) follow every change ---
class QKV(nn.Module):
    """Three layers fused the way attention's query, key and value are."""

    def __init__(self, seed: int = 5) -> None:
        super().__init__()
        self.q, self.k, self.v = layers(seed)

    def forward(self, x):
        return kernels.linear(x, self.q, self.k, self.v)


def _swap_data(block, x):  # the way: a new tensor through .data
    block.k.weight.data = torch.randn_like(block.k.weight)


def _in_place(block, x):
    with torch.no_grad():
        block.k.weight.mul_(2)
        block.v.bias.add_(1)


def _load_state_dict(block, x):
    block.load_state_dict(QKV(seed=9).state_dict())


def _optimizer_step(block, x):
    optimizer = torch.optim.AdamW(block.parameters(), lr=0.1)
    block(x).square().sum().backward()  # outside inference_mode: the autograd path
    optimizer.step()


def _half_then_float(block, x):  # new storages; values rounded to fp16
    block.half()
    block.float()


def _new_parameter(block, x):
    block.k.weight = nn.Parameter(torch.randn_like(block.k.weight))


CHANGES = {"param.data": _swap_data, "in_place": _in_place, "load_state_dict": _load_state_dict,
           "optimizer_step": _optimizer_step, "half_then_float": _half_then_float,
           "to_double": lambda block, x: block.to(torch.float64),
           "bfloat16": lambda block, x: block.bfloat16(), "new_parameter": _new_parameter}


@pytest.mark.parametrize("onednn", [True, False], ids=["onednn", "concatenated"])
@pytest.mark.parametrize("change", list(CHANGES))
def test_cached_weights_follow_every_change(monkeypatch, onednn, change):
    """After a first call has cached the fused weights, any way of changing a weight gives the new answer,
    the same as a fresh product of the layers (issue 13: `param.data = t` kept the old weights)."""
    monkeypatch.setattr(kernels, "ENABLED", kernels.ENABLED and onednn)
    monkeypatch.setattr(kernels, "MKL_ROW", False)
    block = QKV()
    x = torch.randn(2, 5, 48)
    with torch.inference_mode():
        before = block(x)
    CHANGES[change](block, x)
    dtype = block.q.weight.dtype
    x = x.to(dtype)
    with torch.inference_mode():
        after = block(x)
    with torch.no_grad():
        fresh = separate(x, (block.q, block.k, block.v))
    assert not torch.equal(before.to(dtype), fresh)  # the change is real
    tolerance = {} if dtype == torch.bfloat16 else {"atol": 1e-5, "rtol": 1e-5}
    torch.testing.assert_close(after, fresh, **tolerance)


def test_cached_weights_follow_a_new_storage_over_the_same_memory():
    """Two `torch.from_numpy` of one array: the same address, a different storage -- not a cache hit."""
    array = torch.randn(24, 48).numpy()
    block = QKV()
    block.k.weight.data = torch.from_numpy(array)
    x = torch.randn(1, 4, 48)
    with torch.inference_mode():
        block(x)
    array *= 2  # NumPy's write is invisible to PyTorch; assigning the array again is how a user says so
    block.k.weight.data = torch.from_numpy(array)
    with torch.inference_mode():
        after = block(x)
    torch.testing.assert_close(after, separate(x, (block.q, block.k, block.v)), atol=1e-5, rtol=1e-5)


def test_clear_cache_after_a_change_pytorch_cannot_see():
    block = QKV()
    x = torch.randn(1, 4, 48)
    with torch.inference_mode():
        block(x)
    block.k.weight.data.mul_(2)  # through .data: PyTorch's version counter does not move
    kernels.clear_cache(block)
    with torch.inference_mode():
        after = block(x)
    torch.testing.assert_close(after, separate(x, (block.q, block.k, block.v)), atol=1e-5, rtol=1e-5)


def test_stale_copies_are_freed_with_the_weights():
    """`model.half()` after an fp32 call: the fp32 oneDNN copies (as big as the weights) are dropped at once,
    not kept for as long as the model lives."""
    import gc
    import weakref

    block = QKV()
    with torch.inference_mode():
        block(torch.randn(1, 4, 48))
        packed = kernels._packed((block.q, block.k, block.v))
    if packed is None:
        pytest.skip("oneDNN is not available in this PyTorch: nothing is converted")
    copy = weakref.ref(packed[0])
    del packed
    block.half()
    gc.collect()
    assert copy() is None


def test_layers_made_under_inference_mode():
    """Inference tensors have no version counter: nothing is cached, the products stay right (they raised)."""
    with torch.inference_mode():
        group = layers(6)
        x = torch.randn(2, 3, 48)
        first = kernels.linear(x, *group)
        group[1].weight.mul_(2)  # allowed on inference tensors, inside inference_mode
        second = kernels.linear(x, *group)
        fresh = separate(x, group)
    torch.testing.assert_close(second, fresh, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(first, second)


@pytest.mark.parametrize("change", ["scale_buffer", "scale_in_place", "weight.data"])
def test_int8_cached_concatenation_follows_changes(change):
    group = tuple(kernels.Int8Linear.from_linear(la) for la in layers(4))
    x = torch.randn(2, 3, 48).bfloat16()
    before = kernels.linear(x, *group)
    if change == "scale_buffer":
        group[1].scale = group[1].scale * 2
    elif change == "scale_in_place":
        group[1].scale.mul_(2)
    else:
        group[2].weight.data = -group[2].weight
    after = kernels.linear(x, *group)
    fresh = torch.cat([la(x) for la in group], dim=-1)  # one layer at a time: its own buffers, never cached
    assert not torch.equal(before, fresh)
    torch.testing.assert_close(after, fresh)


def tiny_pair(tmp_path, arch: str):
    """(ours, the reference) loaded from one tiny random checkpoint made by the reference."""
    torch.manual_seed(0)
    if arch == "llama":
        tiny_llama(tmp_path)
        return (minformers.AutoModelForCausalLM.from_pretrained(tmp_path / "tiny"),
                transformers.LlamaForCausalLM.from_pretrained(tmp_path / "tiny").eval())
    config = transformers.GPT2Config(vocab_size=99, n_positions=64, n_embd=64, n_layer=2, n_head=4,
                                     bos_token_id=1, eos_token_id=2)
    transformers.GPT2LMHeadModel(config).save_pretrained(tmp_path / "gpt2")
    return (minformers.AutoModelForCausalLM.from_pretrained(tmp_path / "gpt2"),
            transformers.GPT2LMHeadModel.from_pretrained(tmp_path / "gpt2").eval())


@pytest.mark.parametrize("arch", ["llama", "gpt2"])
@pytest.mark.parametrize("change", ["param.data", "half_then_float", "in_place"])
def test_model_fast_path_follows_weight_changes(tmp_path, arch, change):
    """Fused QKV / gate-up, GPT-2's Conv1D and the tied lm_head, after generating once: the same logits and
    tokens as the reference given the same new weights."""
    ours, theirs = tiny_pair(tmp_path, arch)
    ids = torch.randint(3, 99, (2, 7), generator=torch.Generator().manual_seed(1))
    ours.generate(ids[:1], max_new_tokens=3, do_sample=False)  # fills the caches
    torch.manual_seed(2)
    for model in (ours, theirs):
        if change == "half_then_float":
            model.half().float()
    for name, p in ours.named_parameters():
        q = theirs.get_parameter(name)
        if change == "param.data":
            new = torch.randn_like(p) * 0.2
            p.data, q.data = new, new.clone()
        elif change == "in_place":
            with torch.no_grad():
                p.mul_(1.5)
                q.mul_(1.5)
    with torch.inference_mode():
        got = ours(ids).logits
    with torch.no_grad():
        want = theirs(ids).logits
    torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)
    new_ours = ours.generate(ids[:1], max_new_tokens=6, min_new_tokens=6, do_sample=False)
    assert torch.equal(new_ours, theirs.generate(ids[:1], max_new_tokens=6, min_new_tokens=6, do_sample=False))
