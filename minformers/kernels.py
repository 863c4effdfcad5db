"""Linear layers at inference on the CPU, through oneDNN with the weight converted once.

PyTorch's `F.linear` on the CPU calls MKL's sgemm. On the AMD machines this project runs on, MKL
takes its AVX2 path while oneDNN (also inside PyTorch, as `torch.ops.mkldnn`) uses AVX-512: the same
fp32 product runs 20-30 % faster, and a decode-step matrix-vector product up to 1.8x faster. oneDNN
wants the weight in its own layout, so `linear` converts it once and caches it per module (keyed
on the weight's storage and version, so loading or training new weights invalidates it); that copy
costs as much memory as the weight itself. Activations can be fused into the same call. (On Intel
Xeons MKL takes its AVX-512 path too, and the two are about equal for products of many rows; for a
single row -- a decoding step of one sequence -- MKL's matrix-vector product reads the weights faster
(20-22 GB/s against oneDNN's 12-19 GB/s for SmolLM2's layer shapes, measured on a 2-core Xeon), so
on Intel CPUs single-row products take `F.linear`.)
Fused layers that take `F.linear` at inference (other dtypes, oneDNN off) use their concatenated
weight from the same cache instead of concatenating it at every call.

The fast path is taken only under `torch.inference_mode()`, which pipelines and `generate` use:
no autograd formula is registered for the oneDNN op, and a different order of summation moves fp32
results by a few units in the last place (hidden states of MiniLM by up to 5e-5), so a model called
directly, under `torch.no_grad()` or with gradients, runs `F.linear` and gives the reference's
bits. Tensors that are not fp32 on the CPU also take `F.linear`. MINFORMERS_ONEDNN=0 turns the fast
path off everywhere.
"""

from __future__ import annotations

import os
import weakref
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

# activation name -> (oneDNN post-op, its algorithm, the same function in PyTorch)
_ACTIVATIONS = {
    None: ("none", "", None),
    "gelu": ("gelu", "none", F.gelu),  # exact (erf)
    "gelu_tanh": ("gelu", "tanh", lambda x: F.gelu(x, approximate="tanh")),
    "silu": ("swish", "", F.silu),
    "relu": ("relu", "", F.relu),
}


def _available() -> bool:
    return (os.environ.get("MINFORMERS_ONEDNN", "1") != "0" and torch.backends.mkldnn.is_available()
            and hasattr(torch.ops.mkldnn, "_linear_pointwise"))


def _intel() -> bool:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            return "GenuineIntel" in f.read(4096)
    except OSError:
        return False


ENABLED = _available()
MKL_ROW = _intel()  # single-row products go to MKL (see above)
# module -> {ids of the fused layers: (weights' identity and version, oneDNN weight, bias)}. Kept outside
# the modules, so copying, pickling or saving a model never sees it, and dropped with the module.
_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def weight_of(layer: nn.Module) -> Tensor:
    """The (out, in) weight of an nn.Linear, or of GPT-2's transposed Conv1D (stored (in, out))."""
    w = layer.weight
    return w if isinstance(layer, nn.Linear) else w.t()


def _to_onednn(w: Tensor) -> Tensor:
    """(out, in) fp32 weight -> oneDNN's blocked layout, chosen for products of about 64 rows (measured
    here: as fast as any other choice from 1 to 840 rows, and 5-25 % faster than the plain layout)."""
    try:
        return torch.ops.mkldnn._reorder_linear_weight(w, 64)
    except (AttributeError, RuntimeError):  # a PyTorch without the op: oneDNN's plain layout
        return w.to_mkldnn()


def _packed(layers: tuple[nn.Module, ...]) -> tuple[Tensor, Tensor | None] | None:
    """The layers' weights (concatenated along outputs) in oneDNN's layout and their biases, cached;
    None if a weight is not an fp32 CPU tensor."""
    return _cached(layers, (), _pack)


def _cached(layers: tuple[nn.Module, ...], kind: tuple, make: Any) -> Any:
    """make(layers), cached per module and checked against the weights' identity and version. Called for
    every product, so checking is kept cheap."""
    caches = _CACHE.get(layers[0])
    if caches is None:
        caches = _CACHE[layers[0]] = {}
    name = tuple(map(id, layers)) + kind
    params = [p for la in layers for p in _weight_and_bias(la)]
    versions = [0 if p is None else p._version for p in params]
    entry = caches.get(name)
    if entry is None or entry[1] != versions or any(a is not b for a, b in zip(entry[0], params)):
        entry = caches[name] = (params, versions, make(layers))
    return entry[2]


def _weight_and_bias(layer: nn.Module) -> tuple[Tensor, Tensor | None]:
    """Read from the module's dicts (parameters, or an Int8Linear's buffers): cheaper than attribute access."""
    tensors = layer._parameters if "weight" in layer._parameters else layer._buffers
    return tensors["weight"], tensors.get("bias")


def _pack(layers: tuple[nn.Module, ...]) -> tuple[Tensor, Tensor | None] | None:
    if any(la.weight.dtype != torch.float32 or la.weight.device.type != "cpu" for la in layers):
        return None
    with torch.inference_mode(False), torch.no_grad():
        w, b = _concatenated(layers)
        return _to_onednn(w.contiguous()), b


# config.json activation names -> `linear`'s act (None: not fusable, apply the module afterwards)
CONFIG_ACTIVATIONS = {"gelu": "gelu", "gelu_new": "gelu_tanh", "gelu_pytorch_tanh": "gelu_tanh",
                      "relu": "relu", "silu": "silu", "swish": "silu"}


def linear(x: Tensor, *layers: nn.Module, act: str | None = None) -> Tensor:
    """act(x W^T + b) for one layer, or for several fused into one product (outputs concatenated).

    layers: nn.Linear (or Conv1D) modules with the same input size; `act` one of None, "gelu",
    "gelu_tanh", "silu", "relu" (CONFIG_ACTIVATIONS maps config.json names to these).
    """
    post, algorithm, fn = _ACTIVATIONS[act]
    if isinstance(layers[0], Int8Linear):
        return Int8Linear.fused(x, layers, fn)
    if (ENABLED and x.dtype == torch.float32 and x.is_cpu and torch.is_inference_mode_enabled()
            and not (MKL_ROW and x.numel() <= 2 * x.shape[-1])):
        packed = _packed(layers)
        if packed is not None:
            return torch.ops.mkldnn._linear_pointwise(x, packed[0], packed[1], post, [], algorithm)
    if len(layers) == 1:
        y = F.linear(x, weight_of(layers[0]), layers[0].bias)
    elif torch.is_inference_mode_enabled():  # the weights side by side, concatenated once and cached
        y = F.linear(x, *_cached(layers, ("cat",), _concatenated))
    else:  # one product with the weights side by side (cheaper than concatenating the outputs)
        y = F.linear(x, *_concatenated(layers))
    return y if fn is None else fn(y)


def _concatenated(layers: tuple[nn.Module, ...]) -> tuple[Tensor, Tensor | None]:
    """The (out, in) weights side by side (one layer's own weight when alone) and the biases alike."""
    weights = [weight_of(la) for la in layers]
    return (torch.cat(weights) if len(weights) > 1 else weights[0]), _cat(layers, "bias", [len(w) for w in weights])


def _cat(layers: tuple[nn.Module, ...], name: str, sizes: list[int]) -> Tensor | None:
    """The layers' `name` vectors concatenated (zeros for a layer without one); None if none has one."""
    vectors = [getattr(la, name) for la in layers]
    present = [v for v in vectors if v is not None]
    if not present:
        return None
    if len(vectors) == 1:
        return present[0]
    return torch.cat([v if v is not None else present[0].new_zeros(n) for v, n in zip(vectors, sizes)])


# --- weight-only int8 (opt-in): half the bytes of bf16, a quarter of fp32, read per decoding step ---
class Int8Linear(nn.Module):
    """An nn.Linear whose weight is stored as int8 with one bf16 scale per output (symmetric, per channel):
    W ~ weight * scale[:, None]. Inputs are bf16; the product is PyTorch's `_weight_int8pack_mm`, which
    reads the int8 weight directly. Made by `quantize_int8`; inference only."""

    def __init__(self, in_features: int, out_features: int, bias: Tensor | None = None) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.register_buffer("weight", torch.zeros(out_features, in_features, dtype=torch.int8))
        self.register_buffer("scale", torch.ones(out_features, dtype=torch.bfloat16))
        self.register_buffer("bias", bias)

    @classmethod
    def from_linear(cls, layer: nn.Module) -> Int8Linear:
        w = weight_of(layer).detach().float()  # (out, in)
        # the scale is rounded to bf16 first and the weight divided by that: rounding errors stay within
        # half a step (plus the clamp when the rounded scale came out smaller)
        scale = (w.abs().amax(dim=1) / 127).clamp(min=torch.finfo(torch.bfloat16).tiny).to(torch.bfloat16)
        bias = None if layer.bias is None else layer.bias.detach().to(torch.bfloat16)
        q = cls(w.shape[1], w.shape[0], bias)
        q.weight = torch.round(w / scale.float()[:, None]).clamp(-127, 127).to(torch.int8)
        q.scale = scale
        return q

    def forward(self, x: Tensor) -> Tensor:
        return Int8Linear.fused(x, (self,), None)

    @staticmethod
    def fused(x: Tensor, layers: tuple[nn.Module, ...], fn: Any) -> Tensor:
        """act(x W^T + b) for int8 layers side by side (outputs concatenated; weights concatenated once)."""
        if x.dtype != torch.bfloat16:
            raise TypeError(f"int8 layers take bfloat16 inputs, got {x.dtype}; quantize_int8 converts the model")
        w, scale, bias = _cached(layers, ("int8",), _int8_concatenated) if len(layers) > 1 else (
            layers[0].weight, layers[0].scale, layers[0].bias)
        y = torch._weight_int8pack_mm(x.reshape(-1, x.shape[-1]), w, scale).view(*x.shape[:-1], w.shape[0])
        if bias is not None:
            y = y + bias
        return y if fn is None else fn(y)


def _int8_concatenated(layers: tuple[Int8Linear, ...]) -> tuple[Tensor, Tensor, Tensor | None]:
    sizes = [la.out_features for la in layers]
    return torch.cat([la.weight for la in layers]), _cat(layers, "scale", sizes), _cat(layers, "bias", sizes)


def quantize_int8(model: nn.Module, skip: tuple[str, ...] = ()) -> nn.Module:
    """Weight-only int8 for CPU decoding, in place: the model goes to bf16 and every nn.Linear (and GPT-2
    Conv1D) except those whose qualified name contains one of `skip` becomes an Int8Linear.

    For memory-bound decoding of one sequence this reads a quarter of fp32's bytes per token. Outputs are
    approximations (about 0.5 % per-weight error), so generated text differs from fp32's after a few
    tokens; there is no bit-for-bit reference. A quantised model can be used, not trained or saved.
    """
    if not hasattr(torch, "_weight_int8pack_mm"):
        raise RuntimeError("this PyTorch has no int8 weight-only product (torch._weight_int8pack_mm); "
                           "use PyTorch >= 2.4")
    from .models.gpt2 import Conv1D

    model.to(torch.bfloat16).eval()
    targets = [(name, mod) for name, mod in model.named_modules()
               if isinstance(mod, (nn.Linear, Conv1D)) and not any(s in name for s in skip)]
    for name, mod in targets:
        parent_name, _, child = name.rpartition(".")
        setattr(model.get_submodule(parent_name), child, Int8Linear.from_linear(mod))
    return model


def int8_request(quantization_config: Any) -> tuple[str, ...] | None:
    """from_pretrained(quantization_config=...): weight-only int8 -- the reference's
    ``TorchAoConfig("int8_weight_only")`` or a dict ``{"quant_type": "int8_weight_only"}`` -- is done by
    `quantize_int8`; returns the modules to leave alone (``modules_to_not_convert``),
    or None when nothing is asked for. Anything else is refused before loading."""
    if quantization_config is None:
        return None
    get = quantization_config.get if isinstance(quantization_config, dict) else (
        lambda key, default=None: getattr(quantization_config, key, default))
    quant_type = get("quant_type")
    if quant_type != "int8_weight_only":
        raise ValueError(
            f"quantization_config {quantization_config!r} is not supported: minformers runs on the CPU with PyTorch "
            "only and quantises weights to int8 (quant_type='int8_weight_only', e.g. "
            "transformers.TorchAoConfig('int8_weight_only') or {'quant_type': 'int8_weight_only'}); "
            "bitsandbytes / GPTQ / AWQ need a GPU library")
    return tuple(get("modules_to_not_convert", None) or ())
