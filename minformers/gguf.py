"""GGUF checkpoints (llama.cpp's format): metadata -> config, tensors -> a dequantised state dict.

Reading uses the ``gguf`` package's ``GGUFReader`` (memory-mapped; imported only when a GGUF file is
opened). What this module adds, following the reference's ``load_gguf_checkpoint``:

- ``llama.*`` metadata -> a LlamaConfig dict (``GGUF_CONFIG_KEYS``), token ids from ``tokenizer.ggml.*``,
  ``tie_word_embeddings`` true when the file has no ``output.weight``;
- llama.cpp tensor names -> our checkpoint keys (``TENSOR_NAMES``);
- llama.cpp's converter permutes the rows of ``attn_q``/``attn_k`` (per head, interleaving the two
  rotary halves); :func:`unpermute_qk` undoes it exactly as the reference does;
- dequantisation in torch, vectorised over blocks: F32, F16, BF16, Q8_0, Q4_0, Q4_1
  (block layouts: https://github.com/ggml-org/ggml/blob/master/src/ggml-common.h).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

# llama.<key> -> LlamaConfig field (the reference's GGUF_CONFIG_MAPPING["llama"])
GGUF_CONFIG_KEYS = {
    "context_length": "max_position_embeddings",
    "block_count": "num_hidden_layers",
    "feed_forward_length": "intermediate_size",
    "embedding_length": "hidden_size",
    "rope.dimension_count": "head_dim",
    "rope.freq_base": "rope_theta",
    "attention.head_count": "num_attention_heads",
    "attention.head_count_kv": "num_key_value_heads",
    "attention.layer_norm_rms_epsilon": "rms_norm_eps",
    "vocab_size": "vocab_size",
}
TOKEN_ID_KEYS = {"bos_token_id": "bos_token_id", "eos_token_id": "eos_token_id",
                 "unknown_token_id": "unk_token_id", "padding_token_id": "pad_token_id"}

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


_LAST_READER: dict[tuple, Any] = {}  # the last file opened: config, weights and tokenizer read it once


def _reader(path: str | os.PathLike) -> Any:
    """Open a GGUF file, checking that every tensor lies inside it (a truncated download fails clearly).

    Parsing the metadata (~100k tokenizer strings for a typical vocabulary) takes seconds in GGUFReader,
    so the last reader is kept, keyed by path, size, modification time, inode and change time (a file
    replaced by one of the same size with its modification time kept, as `cp -p` or `rsync -a` do, is
    read again).
    """
    from gguf import GGUFReader

    path = Path(path)
    if not path.is_file():
        raise OSError(f"GGUF file {path} does not exist")
    stat = path.stat()
    size = stat.st_size
    key = (str(path.resolve()), size, stat.st_mtime_ns, stat.st_ino, stat.st_ctime_ns)
    if key in _LAST_READER:
        return _LAST_READER[key]
    try:
        reader = GGUFReader(path)
    except Exception as e:  # the reader raises ValueError/IndexError/KeyError on damaged headers
        raise OSError(f"{path} is not a valid GGUF file or is truncated ({size} bytes): {e}") from e
    for t in reader.tensors:
        end = int(t.data_offset) + int(t.n_bytes)
        if end > size or t.data.nbytes != t.n_bytes:
            raise OSError(f"{path} is truncated: tensor {t.name!r} ends at byte {end}, but the file has {size} bytes")
    _LAST_READER.clear()
    _LAST_READER[key] = reader
    return reader


def _value(field: Any) -> Any:
    return field.contents()


def read_gguf_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """Every metadata key -> value (strings, numbers, lists) of a GGUF file."""
    reader = _reader(path)
    return {k: _value(f) for k, f in reader.fields.items() if not k.startswith("GGUF.")}


def read_gguf_tokenizer(path: str | os.PathLike) -> dict[str, Any]:
    """The raw ``tokenizer.ggml.*`` fields (keys without the prefix: model, tokens, merges, scores, token_type,
    bos_token_id, ...) plus ``chat_template`` (``tokenizer.chat_template``) when the file has one."""
    reader = _reader(path)
    out: dict[str, Any] = {}
    for key, field in reader.fields.items():
        if key.startswith("tokenizer.ggml."):
            out[key[len("tokenizer.ggml."):]] = _value(field)
        elif key == "tokenizer.chat_template":
            out["chat_template"] = _value(field)
    return out


def gguf_config_dict(reader_or_path: Any) -> dict[str, Any]:
    """A config.json-style dict for the model in a GGUF file (only the llama architecture is supported)."""
    reader = reader_or_path if hasattr(reader_or_path, "fields") else _reader(reader_or_path)
    fields = reader.fields
    arch = _value(fields["general.architecture"]) if "general.architecture" in fields else None
    if arch != "llama":
        raise ValueError(f"GGUF architecture {arch!r} is not supported by minformers (supported: llama)")
    config: dict[str, Any] = {"model_type": "llama", "architectures": ["LlamaForCausalLM"]}
    for key, name in GGUF_CONFIG_KEYS.items():
        if f"llama.{key}" in fields:
            config[name] = _value(fields[f"llama.{key}"])
    for key, name in TOKEN_ID_KEYS.items():
        if f"tokenizer.ggml.{key}" in fields:
            config[name] = _value(fields[f"tokenizer.ggml.{key}"])
    if "vocab_size" not in config and "tokenizer.ggml.tokens" in fields:
        config["vocab_size"] = len(fields["tokenizer.ggml.tokens"].data)
    config["tie_word_embeddings"] = all(t.name != "output.weight" for t in reader.tensors)
    return config


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


def load_gguf_checkpoint(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, Tensor]]:
    """(config dict, float32 state dict with our checkpoint keys) of a GGUF file."""
    reader = _reader(path)
    config = gguf_config_dict(reader)
    n_head, n_kv = config.get("num_attention_heads"), config.get("num_key_value_heads")
    state_dict: dict[str, Tensor] = {}
    unknown = []
    for t in reader.tensors:
        if t.name.split(".")[0] in SKIPPED_TENSORS:
            continue
        key = _checkpoint_key(t.name)
        if key is None:
            unknown.append(t.name)
            continue
        shape = tuple(int(d) for d in reversed(t.shape))  # GGUF lists the fastest dimension first
        w = dequantize(t.data, t.tensor_type.name, shape)
        if ".attn_q." in t.name and n_head:
            w = unpermute_qk(w, n_head)
        elif ".attn_k." in t.name and n_head:
            w = unpermute_qk(w, n_kv or n_head)
        state_dict[key] = w
    if unknown:
        raise ValueError(f"{path}: tensors with no llama counterpart: {unknown[:5]}{'...' if len(unknown) > 5 else ''}")
    return config, state_dict
