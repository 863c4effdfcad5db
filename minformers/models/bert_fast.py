"""BERT's pooled-head fast path: the final hidden state of each row's first token ([CLS]) only.

A pooled head (sequence classification) reads one vector per row, the last layer's state of token 0,
so the full (B, T, H) forward of :mod:`minformers.models.bert` does work nobody reads. This module
computes the same numbers with less of it, on the same weights (it only reads BertLayer's modules):

- the last layer computes one query row per sequence instead of T: keys and values still come from
  every token, but the query, output projection and MLP run for token 0 only (in training too:
  about 1/7 of a 6-layer model's work saved);
- tokens are also *packed* (right padding): the linear layers, LayerNorm and GELU run on the
  real tokens only, and attention scatters them back to (B, nh, T, hs), so padding costs almost
  nothing -- without gradients, and in training too (:func:`packed_train_layer`);
- in training, dropout draws its random numbers for the full padded shapes and keeps the rows it
  needs (:func:`_dropout_rows`, :func:`_dropout_row0`), so the random stream -- every later mask,
  and the loss -- is the same as the full forward's, which is the same as the reference's.

Entry point: :func:`first_token_state`, called by ``BertModel.pool`` (the pooled heads' path when
no hidden states, attentions or head mask are asked for). This module reads a BERT encoder's modules by
their checkpoint names (``layer.attention.self.query``, ``layer.output.dense``, ...) and imports nothing
of models/bert.py, which imports it: the ``encoder``/``layer`` arguments are a ``BertEncoder``/``BertLayer``.
"""

from __future__ import annotations

import math
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..kernels import linear


def first_token_state(encoder: nn.Module, x: Tensor, attention_mask: Tensor | None,
                      mask: Tensor | None) -> Tensor:
    """Final hidden state of each row's first token, (B, H): the encoder's layers over embeddings x (B, T, H).

    ``mask`` is ``padding_mask(attention_mask)``, the additive (B, 1, 1, T) mask or None. Rows must not
    start with padding (left padding): packing would change what token 0 sees.
    """
    layers = encoder.layer
    B, T, H = x.shape
    if encoder.training or torch.is_grad_enabled():  # gradients: (packed) layers, then token 0 of the last
        keep = None
        if mask is not None and attention_mask is not None and bool(attention_mask[:, 0].all()):
            keep = attention_mask.reshape(-1).bool().nonzero().squeeze(1)  # (N,) real tokens (no left padding)
        if keep is None or keep.numel() == B * T:
            for layer in layers[:-1]:
                x, _ = layer(x, mask)
        else:
            h = x.reshape(B * T, H).index_select(0, keep)  # (N, H)
            for layer in layers[:-1]:
                h = packed_train_layer(layer, h, keep, B, T, mask)
            x = h.new_zeros(B * T, H).index_copy(0, keep, h).view(B, T, H)  # padding rows: zeros (masked keys)
        return first_token_layer(layers[-1], x, mask)  # (B, H)
    h = x.reshape(B * T, H)  # (B*T, H)
    keep = None
    if mask is not None:
        flat = attention_mask.reshape(-1).bool()  # (B*T,)
        keep = flat.nonzero().squeeze(1)  # (N,) flat positions of real tokens, in order
        h = h.index_select(0, keep)  # (N, H)
        lengths = attention_mask.bool().sum(1)  # (B,)
        first = torch.cumsum(lengths, 0) - lengths  # packed index of token 0 of each row
    else:
        first = torch.arange(B, device=x.device) * T
    last = len(layers) - 1
    for i, layer in enumerate(layers):
        h = packed_layer(layer, h, keep, B, T, mask, first if i == last else None)
    return h  # (B, H)


def packed_layer(layer: nn.Module, h: Tensor, keep: Tensor | None, B: int, T: int, mask: Tensor | None,
                 first: Tensor | None) -> Tensor:
    """One BertLayer on packed tokens: h (N, H) holds only the real tokens of the (B, T) batch.

    keep (N,) are their flat positions in B*T (None: no padding, N = B*T). Linear layers, LayerNorm and
    GELU run on the N real rows only; attention scatters them back to (B, nh, T, hs). With `first` (B,)
    (packed index of each row's first token), only those rows are computed further: keys and values
    still come from every token, but the query, output projection and MLP run for one token per row.
    """
    sa = layer.attention.self
    H = h.shape[1]

    def heads(t: Tensor) -> Tensor:  # (N, n*H) -> (B, n*nh, T, hs): n projections side by side
        if keep is not None:
            t = t.new_zeros(B * T, t.shape[1]).index_copy_(0, keep, t)
        return t.view(B, T, -1, sa.hs).transpose(1, 2)

    if first is not None:
        k, v = heads(linear(h, sa.key, sa.value)).chunk(2, dim=1)  # each (B, nh, T, hs)
        h = h.index_select(0, first)  # (B, H): only the first token of each row goes on
        q = linear(h, sa.query).view(B, 1, sa.nh, sa.hs).transpose(1, 2)  # (B, nh, 1, hs)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # (B, nh, 1, hs)
        y = y.transpose(1, 2).reshape(B, H)  # (B, H)
    else:
        q, k, v = heads(linear(h, sa.query, sa.key, sa.value)).chunk(3, dim=1)  # each (B, nh, T, hs)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # (B, nh, T, hs)
        y = y.transpose(1, 2).reshape(B * T, H)  # (B*T, H)
        if keep is not None:
            y = y.index_select(0, keep)  # (N, H)
    a = layer.attention.output(y, h)
    return layer.output(layer.intermediate(a), a)  # (N, H), or (B, H) with `first`


def packed_train_layer(layer: nn.Module, h: Tensor, keep: Tensor, B: int, T: int, mask: Tensor) -> Tensor:
    """One BertLayer with gradients on packed tokens, h (N, H) -> (N, H): the real tokens of the (B, T) batch.

    Linear layers, LayerNorm and GELU run on the N real rows only; attention runs on their scatter to
    (B, nh, T, hs) (padding rows zero: they are masked keys, and their own outputs are dropped). Dropout
    draws its masks for the full (B, T, ...) shapes, as the padded layer does, and keeps the real rows, so
    the random stream -- and every real token's value -- is the padded computation's.
    """
    sa = layer.attention.self
    H = h.shape[1]
    qkv = h.new_zeros(B * T, 3 * H).index_copy(0, keep, linear(h, sa.query, sa.key, sa.value))  # (B*T, 3H)
    q, k, v = qkv.view(B, T, 3, sa.nh, sa.hs).permute(2, 0, 3, 1, 4)  # each (B, nh, T, hs)
    p = sa.dropout_p if layer.training else 0.0
    y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)  # (B, nh, T, hs)
    y = y.transpose(1, 2).reshape(B * T, H).index_select(0, keep)  # (N, H)
    out = layer.attention.output
    a = out.LayerNorm(_dropout_rows(linear(y, out.dense), keep, B * T, out.dropout.p, layer.training) + h)
    out = layer.output
    h = _dropout_rows(linear(layer.intermediate(a), out.dense), keep, B * T, out.dropout.p, layer.training)
    return out.LayerNorm(h + a)  # (N, H)


def _dropout_rows(t: Tensor, keep: Tensor, rows: int, p: float, training: bool) -> Tensor:
    """F.dropout of the packed rows `t` (N, H) of a (rows, H) tensor: the mask drawn for all rows, as F.dropout
    draws it for the padded tensor, and the packed rows of it kept."""
    if not training or p == 0:
        return t
    noise = t.new_empty(rows, t.shape[1]).bernoulli_(1 - p).div_(1 - p)  # (B*T, H)
    return t * noise.index_select(0, keep)


def first_token_layer(layer: nn.Module, x: Tensor, mask: Tensor | None) -> Tensor:
    """One BertLayer's output for token 0 only, (B, T, H) -> (B, H), in training too.

    Keys and values come from every token; the query, output projection and MLP run for token 0.
    Dropout draws its random numbers for the full (B, T, ...) shapes and keeps row 0, so the random
    stream (and every later mask) is the same as the full layer's.
    """
    sa = layer.attention.self
    B, T, H = x.shape
    k, v = linear(x, sa.key, sa.value).view(B, T, 2, sa.nh, sa.hs).permute(2, 0, 3, 1, 4)  # (B, nh, T, hs)
    x0 = x[:, 0]  # (B, H)
    q = linear(x0, sa.query).view(B, sa.nh, 1, sa.hs)  # (B, nh, 1, hs)
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(sa.hs)  # (B, nh, 1, T)
    probs = (scores if mask is None else scores + mask).softmax(dim=-1)
    probs = _dropout_row0(probs, (B, sa.nh, T, T), sa.dropout_p, layer.training)
    y = (probs @ v).reshape(B, H)  # (B, H)
    out = layer.attention.output
    a = out.LayerNorm(_dropout_row0(linear(y, out.dense), (B, T, H), out.dropout.p, layer.training) + x0)
    out = layer.output
    h = _dropout_row0(linear(layer.intermediate(a), out.dense), (B, T, H), out.dropout.p, layer.training)
    return out.LayerNorm(h + a)  # (B, H)


def _dropout_row0(t: Tensor, full: tuple[int, ...], p: float, training: bool) -> Tensor:
    """F.dropout of token 0's row `t` of a tensor of shape `full`: (B, H) of (B, T, H), or (B, nh, 1, T) of
    attention probabilities (B, nh, T, T). The mask is drawn for the whole shape, exactly as F.dropout
    draws it, and row 0 kept, so the random stream advances as in the full computation."""
    if not training or p == 0:
        return t
    noise = t.new_empty(full).bernoulli_(1 - p).div_(1 - p)
    row = noise[:, 0] if len(full) == 3 else noise[:, :, :1]  # (B, H) or (B, nh, 1, T)
    return t * row
