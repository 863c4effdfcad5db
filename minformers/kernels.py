"""Linear layers at inference on the CPU, through oneDNN with the weight converted once.

PyTorch's `F.linear` on the CPU calls MKL's sgemm. On the AMD machines this project runs on, MKL
takes its AVX2 path while oneDNN (also inside PyTorch, as `torch.ops.mkldnn`) uses AVX-512: the same
fp32 product runs 20-30 % faster, and a decode-step matrix-vector product up to 1.8x faster. oneDNN
wants the weight in its own layout, so `linear` converts it once and caches it per module; that copy
costs as much memory as the weight itself. The cache follows every way of changing a weight
(`param.data = t`, in-place ops, `load_state_dict`, an optimiser step, `model.to(dtype)`, a new
Parameter): see `_cached` for the key, and `clear_cache` for the one change PyTorch cannot report. Activations can be fused into the same call. (On Intel
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
# (ids of the layers..., kind...) -> (the tensors' keys, derived value, token, weakrefs); see `_cached`. Kept
# outside the modules, so copying, pickling or saving a model never sees it; an entry goes with its layers.
_CACHE: dict[tuple, tuple] = {}


class Conv1D(nn.Module):
    """A linear layer whose weight is stored transposed, (in, out): y = x @ W + b (GPT-2 checkpoint layout)."""

    def __init__(self, nf: int, nx: int) -> None:  # nf outputs, nx inputs (the reference's argument order)
        super().__init__()
        self.weight = nn.Parameter(torch.empty(nx, nf))
        self.bias = nn.Parameter(torch.zeros(nf))

    def forward(self, x: Tensor) -> Tensor:
        return linear(x, self)  # x @ W + b (weight_of reads the transposed layout)


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
    """make(layers), cached while the layers and their tensors stay as they were; None if they cannot be
    followed (inference tensors). Called for every product (every token when decoding), so checking is cheap.

    The key of each tensor (every parameter and buffer of the layers) is the tensor object, its storage
    object, the address of its data, its version counter, dtype, shape and strides: `param.data = t` (also
    what `model.to(dtype)`, `.half()` do) changes the storage (even one over the same memory, as two
    `torch.from_numpy` of one array) or the layout; in-place changes (`with torch.no_grad(): p.mul_(2)`,
    `load_state_dict`, an optimiser step) move the version; `layer.weight = nn.Parameter(t)` changes the
    object. The entry holds only weak references to the layers, tensors and storages, and is dropped when
    any of them is freed, so an object or address reused after a free can never match an old entry (and
    no memory is held for weights that are gone). Changes PyTorch does not count cannot be seen: in place
    through `.data` (`p.data.mul_(2)`), or in a NumPy array the weight shares; call `clear_cache` after one.
    Tensors made under `torch.inference_mode()` have no version counter either, so nothing is cached for
    them (products are computed from the weights at every call).
    """
    name = (*map(id, layers), *kind)
    try:
        state = [(id(t), id(t.untyped_storage()), t.data_ptr(), t._version, t.dtype, t.shape, t.stride())
                 for la in layers for d in (la._parameters, la._buffers) for t in d.values() if t is not None]
    except RuntimeError:  # an inference tensor: "Inference tensors do not track version counter"
        return None
    entry = _CACHE.get(name)
    if entry is not None and entry[0] == state:
        return entry[1]
    n = len(layers)
    for other, e in list(_CACHE.items()):  # (a copy: callbacks may run in other threads)
        if other[:n] == name[:n] and e[0] != state:
            _CACHE.pop(other, None)  # another derivative of the same weights (oneDNN / concatenated), stale
    token = object()  # this entry's identity, for the callbacks below (which must not hold the entry)

    def forget(_: Any) -> None:  # a layer, tensor or storage of the entry is freed: its address may be reused
        entry = _CACHE.get(name)
        if entry is not None and entry[2] is token:
            _CACHE.pop(name, None)

    tensors = [t for la in layers for d in (la._parameters, la._buffers) for t in d.values() if t is not None]
    refs = [weakref.ref(x, forget) for x in (*layers, *tensors, *(t.untyped_storage() for t in tensors))]
    value = make(layers)
    _CACHE[name] = (state, value, token, refs)
    return value


def clear_cache(module: nn.Module | None = None) -> None:
    """Forget the converted and concatenated weights cached for `module`'s layers (all, if None).

    Every documented way of changing a weight is followed automatically (see `_cached`); only a change
    made where PyTorch does not count it (in place through `.data`, as `p.data.copy_(t)`, or in a NumPy array
    the weight shares) needs this."""
    ids = None if module is None else {id(m) for m in module.modules()}
    for name in list(_CACHE):
        if ids is None or not ids.isdisjoint(i for i in name if isinstance(i, int)):
            _CACHE.pop(name, None)


def _pack(layers: tuple[nn.Module, ...]) -> tuple[Tensor, Tensor | None] | None:
    if any(la.weight.dtype != torch.float32 or la.weight.device.type != "cpu" for la in layers):
        return None
    with torch.inference_mode(False), torch.no_grad():
        w, b = _concatenated(layers)
        return _to_onednn(w.contiguous()), b


def linear(x: Tensor, *layers: nn.Module, act: str | None = None) -> Tensor:
    """act(x W^T + b) for one layer, or for several fused into one product (outputs concatenated).

    layers: nn.Linear (or Conv1D) modules with the same input size; `act` one of None, "gelu",
    "gelu_tanh", "silu", "relu" (models/base.py's `fused_activation` maps config.json names to these).
    """
    post, algorithm, fn = _ACTIVATIONS[act]
    if isinstance(layers[0], (Int8Linear, GGUFLinear)):
        return type(layers[0]).fused(x, layers, fn)
    if (ENABLED and x.dtype == torch.float32 and x.is_cpu and torch.is_inference_mode_enabled()
            and not (MKL_ROW and x.numel() <= 2 * x.shape[-1])):
        packed = _packed(layers)
        if packed:
            return torch.ops.mkldnn._linear_pointwise(x, packed[0], packed[1], post, [], algorithm)
    if len(layers) == 1:
        y = F.linear(x, weight_of(layers[0]), layers[0].bias)
    else:  # one product with the weights side by side (cheaper than concatenating the outputs); under
        # inference_mode concatenated once and cached
        cat = _cached(layers, ("cat",), _concatenated) if torch.is_inference_mode_enabled() else None
        y = F.linear(x, *(cat or _concatenated(layers)))
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
        w, scale, bias = (_cached(layers, ("int8",), _int8_concatenated) or _int8_concatenated(layers)
                          if len(layers) > 1 else (layers[0].weight, layers[0].scale, layers[0].bias))
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


# --- GGUF blocks kept quantized (from_pretrained(gguf_file=..., dequantize=False)) ---
# A GGUF block holds 32 consecutive weights of a row and its own scale (ggml-common.h):
#   Q4_0: w = d * (q - 8),  Q4_1: w = d * q + m  (q in 0..15),  Q8_0: w = d * q  (q in -128..127).
# PyTorch's CPU int4 product (`_weight_int4pack_mm_for_cpu`) computes w = (q - 8) * scale + zero per group
# of 32 along the input, with q in 0..15 packed once by `_convert_weight_to_int4pack_for_cpu`, so
#   Q4_0 -> scale = d, zero = 0;   Q4_1 -> scale = d, zero = m + 8 d;
#   Q8_0 -> two 4-bit planes, q = 16 hi + lo (hi = q >> 4 in -8..7, lo = q & 15): w = 16 d hi + d lo, i.e.
#           plane hi + 8 with scale 16 d, zero 0, plus plane lo with scale d, zero 8 d -- exact, two products.
# The kernel's scales and activations are bf16 (its fp32 path is 10-30x slower here: no vectorised code), so
# the only changes from the GGUF's own weights are d and m rounded from fp16 to bf16 (2^-9 relative).
GGUF_KERNEL_TYPES = ("Q4_0", "Q4_1", "Q8_0")
_GROUP = 32


def _gguf_f16(b: Tensor) -> Tensor:  # (n_blocks, 2) bytes -> (n_blocks,) float32
    return b.contiguous().view(torch.float16).float().reshape(-1)


def _gguf_planes(raw: Tensor, type_name: str, n: int, k: int) -> list[tuple[Tensor, Tensor, Tensor]]:
    """A GGUF tensor's raw blocks (uint8) -> [(q int32 (n, k) in 0..15, scale (n, k/32), zero (n, k/32))]."""
    size = {"Q4_0": 18, "Q4_1": 20, "Q8_0": 34}[type_name]
    b = raw.reshape(-1, size)  # (n_blocks, bytes per block)
    d = _gguf_f16(b[:, :2]).view(n, k // _GROUP)
    if type_name == "Q8_0":
        q = b[:, 2:].contiguous().view(torch.int8).to(torch.int32).view(n, k)
        return [((q >> 4) + 8, 16 * d, torch.zeros_like(d)), (q & 15, d, 8 * d)]
    qs = b[:, size - 16:]
    q = torch.cat((qs & 0x0F, qs >> 4), dim=1).to(torch.int32).view(n, k)  # low nibbles: weights 0..15
    zero = _gguf_f16(b[:, 2:4]).view(n, -1) + 8 * d if type_name == "Q4_1" else torch.zeros_like(d)
    return [(q, d, zero)]


class GGUFLinear(nn.Module):
    """An nn.Linear whose weight stays in a GGUF file's Q4_0 / Q4_1 / Q8_0 blocks, repacked once for PyTorch's
    CPU int4 product (see above). Inputs of any float dtype are computed in bf16 and returned in their own
    dtype. The plain PyTorch reference is the dequantized weight (`weights.gguf_tensors.dequantize`) and
    F.linear; tests compare the two. Made by `gguf_linears`; inference only (not saved, not trained)."""

    def __init__(self, in_features: int, out_features: int, type_name: str, planes: int) -> None:
        super().__init__()
        self.in_features, self.out_features, self.type_name = in_features, out_features, type_name
        # not in state_dict (persistent=False): a checkpoint's keys stay those of the dense model
        self.register_buffer("packed", torch.empty(planes, out_features, in_features // 2, dtype=torch.uint8),
                             persistent=False)  # (P, N, K/2), the kernel's own layout
        self.register_buffer("scale_zeros", torch.empty(planes, in_features // _GROUP, out_features, 2,
                                                        dtype=torch.bfloat16), persistent=False)  # (P, K/32, N, 2)
        self.bias = None

    @classmethod
    def from_blocks(cls, raw: Tensor, type_name: str, shape: tuple[int, int]) -> GGUFLinear:
        """raw: the tensor's blocks as uint8 (any shape), row-major over `shape` = (out, in)."""
        n, k = shape
        if type_name not in GGUF_KERNEL_TYPES:
            raise ValueError(f"GGUF tensor type {type_name} has no quantized kernel in minformers (it runs "
                             f"{', '.join(GGUF_KERNEL_TYPES)}); load with dequantize=True")
        if not hasattr(torch.ops.aten, "_weight_int4pack_mm_for_cpu"):
            raise RuntimeError("this PyTorch has no CPU int4 product (_weight_int4pack_mm_for_cpu, PyTorch >= 2.5); "
                               "load with dequantize=True")
        if n % 16 or k % _GROUP:
            raise ValueError(f"a {n}x{k} {type_name} weight does not fit the int4 kernel (outputs must be a "
                             "multiple of 16, inputs of 32); load with dequantize=True")
        planes = _gguf_planes(raw, type_name, n, k)
        layer = cls(k, n, type_name, len(planes))
        layer.packed = torch.stack([torch.ops.aten._convert_weight_to_int4pack_for_cpu(q, 2) for q, _, _ in planes])
        layer.scale_zeros = torch.stack([torch.stack((s, z), dim=-1).transpose(0, 1) for _, s, z in planes]
                                        ).to(torch.bfloat16).contiguous()
        return layer

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, type={self.type_name}"

    def forward(self, x: Tensor) -> Tensor:
        return GGUFLinear.fused(x, (self,), None)

    @staticmethod
    def fused(x: Tensor, layers: tuple[nn.Module, ...], fn: Any) -> Tensor:
        """act(x W^T) for GGUF layers side by side (outputs concatenated; packed weights concatenated once)."""
        if len(layers) == 1:
            packed, sz = layers[0].packed, layers[0].scale_zeros
        else:
            cat = _cached(layers, ("gguf",), _gguf_concatenated) or _gguf_concatenated(layers)
            if cat is None:  # layers of different types: one product each
                y = torch.cat([GGUFLinear.fused(x, (la,), None) for la in layers], dim=-1)
                return y if fn is None else fn(y)
            packed, sz = cat
        sz = sz if sz.dtype == torch.bfloat16 else sz.to(torch.bfloat16)  # (after a model.to(dtype))
        x2 = x.reshape(-1, x.shape[-1]).to(torch.bfloat16)  # (rows, K)
        y = torch.ops.aten._weight_int4pack_mm_for_cpu(x2, packed[0], _GROUP, sz[0])
        for p in range(1, len(packed)):  # Q8_0's second plane
            y += torch.ops.aten._weight_int4pack_mm_for_cpu(x2, packed[p], _GROUP, sz[p])
        y = y.view(*x.shape[:-1], y.shape[-1]).to(x.dtype)
        return y if fn is None else fn(y)


def _gguf_concatenated(layers: tuple[GGUFLinear, ...]) -> tuple[Tensor, Tensor] | None:
    """The layers' packed weights side by side; None when they cannot be. The packed layout interleaves
    blocks of 64 output rows, so concatenating is packing the concatenated weight only when every layer but
    the last has a multiple of 64 outputs (checked by the tests); and Q8_0's two planes go with Q8_0 only."""
    if len({la.packed.shape[0] for la in layers}) > 1 or any(la.out_features % 64 for la in layers[:-1]):
        return None
    return torch.cat([la.packed for la in layers], dim=1), torch.cat([la.scale_zeros for la in layers], dim=2)


def gguf_linears(model: nn.Module, blocks: dict[str, tuple[Tensor, str, tuple[int, int]]]) -> list[str]:
    """Replace each nn.Linear whose weight key ("model.layers.0.mlp.up_proj.weight") is in `blocks`
    ({key: (raw uint8 blocks, GGUF type name, (out, in))}) by a GGUFLinear, in place (the model may be on the
    meta device: the new layers are real). Returns the keys replaced."""
    done = []
    for key, (raw, type_name, shape) in blocks.items():
        name = key.removesuffix(".weight")
        parent_name, _, child = name.rpartition(".")
        try:
            old = model.get_submodule(name)
        except AttributeError:
            continue
        if not isinstance(old, nn.Linear) or old.bias is not None:
            continue
        setattr(model.get_submodule(parent_name), child, GGUFLinear.from_blocks(raw, type_name, shape))
        done.append(key)
    return done
