"""Key/value caches for decoding: each layer's keys and values, kept between steps.

Dimension legend: B batch (× beams), nkv key/value heads, T tokens, hs head size.

Every attention layer that caches calls ``cache.update(layer_idx, k, v)`` with the
keys/values of the *new* tokens, shape (B, nkv, T_new, hs), and attends over what
it returns: the keys/values of every token so far, (B, nkv, T_past + T_new, hs).

- ``DynamicCache`` grows by concatenation (simple; used by the model tests).
- ``StaticCache`` is allocated once for ``max_length`` tokens and written in place,
  so a decoding step copies nothing but the new token's keys/values: ``update``
  returns views of the filled part. This is what ``generate()`` uses.
- ``EncoderDecoderCache`` pairs a self-attention cache with the cross-attention
  keys/values of the encoder output, computed once on the first step.

All caches support ``reorder(beam_idx)`` for beam search.
"""

from __future__ import annotations

import torch
from torch import Tensor


class DynamicCache:
    def __init__(self) -> None:
        self.keys: list[Tensor] = []
        self.values: list[Tensor] = []

    def update(self, layer_idx: int, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        if layer_idx == len(self.keys):
            self.keys.append(k)
            self.values.append(v)
        else:
            self.keys[layer_idx] = torch.cat([self.keys[layer_idx], k], dim=2)  # (B, nkv, T, hs)
            self.values[layer_idx] = torch.cat([self.values[layer_idx], v], dim=2)
        return self.keys[layer_idx], self.values[layer_idx]

    def get_seq_length(self, layer_idx: int = 0) -> int:
        return self.keys[layer_idx].shape[2] if layer_idx < len(self.keys) else 0

    def reorder(self, beam_idx: Tensor) -> None:
        self.keys = [k.index_select(0, beam_idx) for k in self.keys]
        self.values = [v.index_select(0, beam_idx) for v in self.values]

    def __len__(self) -> int:
        return len(self.keys)


class StaticCache:
    """Pre-allocated (B, nkv, max_length, hs) buffers per layer; `update` writes in place."""

    def __init__(self, num_layers: int, batch_size: int, num_kv_heads: int, head_dim: int, max_length: int,
                 dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu") -> None:
        shape = (batch_size, num_kv_heads, max_length, head_dim)
        self.keys = [torch.empty(shape, dtype=dtype, device=device) for _ in range(num_layers)]
        self.values = [torch.empty(shape, dtype=dtype, device=device) for _ in range(num_layers)]
        self.max_length = max_length
        self._filled = [0] * num_layers

    def update(self, layer_idx: int, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        start = self._filled[layer_idx]
        end = start + k.shape[2]
        if end > self.max_length:
            raise ValueError(f"the cache holds {self.max_length} tokens; {end} were asked for")
        self.keys[layer_idx][:, :, start:end] = k
        self.values[layer_idx][:, :, start:end] = v
        self._filled[layer_idx] = end
        return self.keys[layer_idx][:, :, :end], self.values[layer_idx][:, :, :end]

    def get_seq_length(self, layer_idx: int = 0) -> int:
        return self._filled[layer_idx]

    def reorder(self, beam_idx: Tensor) -> None:
        for cache in (self.keys, self.values):
            for i, buf in enumerate(cache):
                cache[i] = buf.index_select(0, beam_idx)

    def __len__(self) -> int:
        return len(self.keys)


class EncoderDecoderCache:
    """Self-attention cache of the decoder + cross-attention keys/values (computed once)."""

    def __init__(self, self_attention: DynamicCache | StaticCache | None = None) -> None:
        self.self_attention = self_attention if self_attention is not None else DynamicCache()
        self.cross_keys: dict[int, Tensor] = {}
        self.cross_values: dict[int, Tensor] = {}

    def update(self, layer_idx: int, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        return self.self_attention.update(layer_idx, k, v)

    def cross(self, layer_idx: int) -> tuple[Tensor, Tensor] | None:
        """The cached cross-attention keys/values of a layer, or None on the first step."""
        if layer_idx in self.cross_keys:
            return self.cross_keys[layer_idx], self.cross_values[layer_idx]
        return None

    def set_cross(self, layer_idx: int, k: Tensor, v: Tensor) -> None:
        self.cross_keys[layer_idx], self.cross_values[layer_idx] = k, v

    def get_seq_length(self, layer_idx: int = 0) -> int:
        return self.self_attention.get_seq_length(layer_idx)

    def reorder(self, beam_idx: Tensor) -> None:
        self.self_attention.reorder(beam_idx)
        for store in (self.cross_keys, self.cross_values):
            for i in store:
                store[i] = store[i].index_select(0, beam_idx)
