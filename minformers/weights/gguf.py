"""GGUF checkpoints (llama.cpp's format), part 1: the file and its metadata -> a config dict.

Reading uses the ``gguf`` package's ``GGUFReader`` (memory-mapped; imported only when a GGUF file is
opened). What this module adds, following the reference's ``load_gguf_checkpoint``:

- ``llama.*`` metadata -> a LlamaConfig dict (``GGUF_CONFIG_KEYS``), token ids from ``tokenizer.ggml.*``,
  ``tie_word_embeddings`` true when the file has no ``output.weight``;
- the tokenizer's ``tokenizer.ggml.*`` fields, for the tokenizer loader.

The tensors (names, dequantisation) are :mod:`minformers.weights.gguf_tensors`'s. This module imports
neither torch nor numpy, so reading a GGUF model's config stays as cheap as reading a config.json.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

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



_LAST_READER: dict[tuple, Any] = {}  # the last file opened: config, weights and tokenizer read it once


def _reader(path: str | os.PathLike) -> Any:
    """Open a GGUF file, checking that every tensor lies inside it (a truncated download fails clearly).

    Parsing the metadata (~100k tokenizer strings for a typical vocabulary) takes seconds in GGUFReader,
    so the last reader is kept, keyed by path, size, modification time, inode and change time (a file
    replaced by one of the same size with its modification time kept, as `cp -p` or `rsync -a` do, is
    read again).
    """
    from gguf import GGUFReader  # lazy: the gguf package (numpy) only when a GGUF file is read

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
