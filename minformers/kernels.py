"""Linear layers at inference on the CPU, through oneDNN with the weight converted once.

PyTorch's `F.linear` on the CPU calls MKL's sgemm. On the AMD machines this project runs on, MKL
takes its AVX2 path while oneDNN (also inside PyTorch, as `torch.ops.mkldnn`) uses AVX-512: the same
fp32 product runs 20-30 % faster, and a decode-step matrix-vector product up to 1.8x faster. oneDNN
wants the weight in its own layout, so `linear` converts it once and caches it per module (keyed
on the weight's storage and version, so loading or training new weights invalidates it); that copy
costs as much memory as the weight itself. Activations can be fused into the same call. (On Intel
Xeons MKL takes its AVX-512 path too, and the two are about equal: SmolLM2 decoding measured 0.95-1.0x.)
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


ENABLED = _available()
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
    params = [p for la in layers for p in (la._parameters["weight"], la._parameters.get("bias"))]
    versions = [0 if p is None else p._version for p in params]
    entry = caches.get(name)
    if entry is None or entry[1] != versions or any(a is not b for a, b in zip(entry[0], params)):
        entry = caches[name] = (params, versions, make(layers))
    return entry[2]


def _pack(layers: tuple[nn.Module, ...]) -> tuple[Tensor, Tensor | None] | None:
    weights = [weight_of(la) for la in layers]
    if any(w.dtype != torch.float32 or w.device.type != "cpu" for w in weights):
        return None
    with torch.inference_mode(False), torch.no_grad():
        w = torch.cat(weights) if len(weights) > 1 else weights[0]
        biases = [la.bias for la in layers]
        b = None
        if any(bb is not None for bb in biases):
            b = torch.cat([bb if bb is not None else w.new_zeros(ww.shape[0]) for ww, bb in zip(weights, biases)])
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
    if ENABLED and x.dtype == torch.float32 and x.is_cpu and torch.is_inference_mode_enabled():
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
    weights = [weight_of(la) for la in layers]
    if not any(la.bias is not None for la in layers):
        return torch.cat(weights), None
    return torch.cat(weights), torch.cat([la.bias if la.bias is not None else w.new_zeros(w.shape[0])
                                          for la, w in zip(layers, weights)])
