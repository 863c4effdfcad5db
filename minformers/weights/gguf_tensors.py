"""GGUF checkpoints, part 2: tensors -> a dequantised state dict with our checkpoint keys.

Following the reference's ``load_gguf_checkpoint``:

- llama.cpp tensor names -> our checkpoint keys (``TENSOR_NAMES``);
- llama.cpp's converter permutes the rows of ``attn_q``/``attn_k`` (per head, interleaving the two
  rotary halves); :func:`unpermute_qk` undoes it exactly as the reference does;
- dequantisation in torch, vectorised over blocks: F32, F16, BF16, Q8_0, Q4_0, Q4_1
  (block layouts: https://github.com/ggml-org/ggml/blob/master/src/ggml-common.h).

The file and its metadata are read by :mod:`minformers.weights.gguf`.
"""

from __future__ import annotations

import os
import re
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .gguf import _reader, gguf_config_dict

# llama.cpp tensor name -> checkpoint key ("{n}" is the layer number); renames are data (DESIGN rule 2)
TENSOR_NAMES = {
    "token_embd": "model.embed_tokens",
    "output_norm": "model.norm",
    "output": "lm_head",
    "blk.{n}.attn_norm": "model.layers.{n}.input_layernorm",
    "blk.{n}.attn_q": "model.layers.{n}.self_attn.q_proj",
    "blk.{n}.attn_k": "model.layers.{n}.self_attn.k_proj",
    "blk.{n}.attn_v": "model.layers.{n}.self_attn.v_proj",
    "blk.{n}.attn_output": "model.layers.{n}.self_attn.o_proj",
    "blk.{n}.ffn_norm": "model.layers.{n}.post_attention_layernorm",
    "blk.{n}.ffn_gate": "model.layers.{n}.mlp.gate_proj",
    "blk.{n}.ffn_up": "model.layers.{n}.mlp.up_proj",
    "blk.{n}.ffn_down": "model.layers.{n}.mlp.down_proj",
}
SKIPPED_TENSORS = ("rope_freqs",)  # recomputed from the config


# --- dequantisation: raw bytes (rows, bytes per row) -> float32 (rows, values per row) ---
def _blocks(raw: Tensor, block_bytes: int) -> Tensor:
    return raw.reshape(-1, block_bytes)  # (n_blocks, block_bytes)


def _f16(raw: Tensor) -> Tensor:  # 2 little-endian bytes per block -> (n_blocks, 1) float32
    return raw.contiguous().view(torch.float16).float()


def _q8_0(raw: Tensor) -> Tensor:
    """Blocks of 32: fp16 scale d, then 32 int8: x = d * q."""
    b = _blocks(raw, 34)
    return b[:, 2:].contiguous().view(torch.int8).float() * _f16(b[:, :2])  # (n_blocks, 32)


def _nibbles(qs: Tensor) -> Tensor:
    """16 bytes -> 32 values: the low nibbles are values 0..15, the high nibbles 16..31."""
    return torch.cat((qs & 0x0F, qs >> 4), dim=1)


def _q4_0(raw: Tensor) -> Tensor:
    """Blocks of 32: fp16 scale d, 16 bytes of 4-bit q: x = d * (q - 8)."""
    b = _blocks(raw, 18)
    q = (_nibbles(b[:, 2:]).to(torch.int8) - 8).float()
    return _f16(b[:, :2]) * q


def _q4_1(raw: Tensor) -> Tensor:
    """Blocks of 32: fp16 scale d, fp16 minimum m, 16 bytes of 4-bit q: x = d * q + m."""
    b = _blocks(raw, 20)
    return _f16(b[:, :2]) * _nibbles(b[:, 4:]).float() + _f16(b[:, 2:4])


DEQUANTIZERS = {"Q8_0": _q8_0, "Q4_0": _q4_0, "Q4_1": _q4_1}


def dequantize(data: np.ndarray, type_name: str, shape: tuple[int, ...]) -> Tensor:
    """A GGUF tensor's data (as GGUFReader gives it) -> float32 torch tensor of `shape` (torch order)."""
    if type_name == "F32":
        return torch.from_numpy(np.array(data, dtype=np.float32)).reshape(shape)
    if type_name == "F16":
        return torch.from_numpy(np.array(data, dtype=np.float16)).float().reshape(shape)
    raw = torch.from_numpy(np.array(data).view(np.uint8))
    if type_name == "BF16":
        return raw.view(torch.bfloat16).float().reshape(shape)
    if type_name not in DEQUANTIZERS:
        raise NotImplementedError(f"GGUF tensor type {type_name} is not supported; minformers reads "
                                  f"F32, F16, BF16, {', '.join(DEQUANTIZERS)}")
    return DEQUANTIZERS[type_name](raw).reshape(shape)


def unpermute_qk(w: Tensor, n_head: int) -> Tensor:
    """Undo llama.cpp's q/k row permutation: rows (n_head, 2, dim/2) were stored as (n_head, dim/2, 2)."""
    dim = w.shape[0] // n_head // 2
    return w.reshape(n_head, dim, 2, *w.shape[1:]).transpose(1, 2).reshape(w.shape)


def _checkpoint_key(name: str) -> str | None:
    base, _, suffix = name.rpartition(".")  # "blk.3.attn_q", "weight"
    m = re.match(r"blk\.(\d+)\.(.+)$", base)
    pattern = f"blk.{{n}}.{m.group(2)}" if m else base
    target = TENSOR_NAMES.get(pattern)
    if target is None:
        return None
    return f"{target.format(n=m.group(1)) if m else target}.{suffix}"


QUANTIZED_TYPES = ("Q4_0", "Q4_1", "Q8_0")  # kept as raw blocks by load_gguf_checkpoint(keep_quantized=True)


def load_gguf_checkpoint(path: str | os.PathLike, keep_quantized: bool = False
                         ) -> tuple[dict[str, Any], dict[str, Tensor], dict[str, tuple[Tensor, str, tuple[int, int]]]]:
    """(config dict, float32 state dict with our checkpoint keys, quantized blocks) of a GGUF file.

    keep_quantized: every 2-d tensor of a quantized type is also returned as its raw blocks, {key: (uint8
    (rows, bytes per row) with the q/k rows un-permuted, type name, (out, in))}, for
    `kernels.gguf_linears`, and only the embedding's is dequantized as well. A quantized type with no kernel
    raises, naming it."""
    reader = _reader(path)
    config = gguf_config_dict(reader)
    n_head, n_kv = config.get("num_attention_heads"), config.get("num_key_value_heads")
    state_dict: dict[str, Tensor] = {}
    blocks: dict[str, tuple[Tensor, str, tuple[int, int]]] = {}
    unknown = []
    for t in reader.tensors:
        if t.name.split(".")[0] in SKIPPED_TENSORS:
            continue
        key = _checkpoint_key(t.name)
        if key is None:
            unknown.append(t.name)
            continue
        shape = tuple(int(d) for d in reversed(t.shape))  # GGUF lists the fastest dimension first
        type_name = t.tensor_type.name
        heads = (n_head if ".attn_q." in t.name else n_kv or n_head if ".attn_k." in t.name else None) or None
        if keep_quantized and type_name not in QUANTIZED_TYPES + ("F32", "F16", "BF16"):
            hint = "load with dequantize=True" if type_name in DEQUANTIZERS else \
                "dequantize=True reads F32, F16, BF16, " + ", ".join(DEQUANTIZERS)
            raise NotImplementedError(f"{path}: tensor {t.name} is {type_name}, which minformers cannot keep quantized "
                                      f"(dequantize=False runs {', '.join(QUANTIZED_TYPES)}); {hint}")
        if keep_quantized and type_name in QUANTIZED_TYPES and len(shape) == 2:
            raw = torch.from_numpy(np.array(t.data).view(np.uint8)).reshape(shape[0], -1)  # (rows, bytes per row)
            blocks[key] = (raw if heads is None else unpermute_qk(raw, heads), type_name, shape)
            if key != "model.embed_tokens.weight":  # an embedding is a table: it is dequantized too
                continue
        w = dequantize(t.data, type_name, shape)
        state_dict[key] = w if heads is None else unpermute_qk(w, heads)
    if unknown:
        raise ValueError(f"{path}: tensors with no llama counterpart: {unknown[:5]}{'...' if len(unknown) > 5 else ''}")
    return config, state_dict, blocks
