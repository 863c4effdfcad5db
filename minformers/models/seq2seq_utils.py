"""Helpers the encoder-decoder families share (BART, Marian, T5; RoBERTa's causal LM):
decoder inputs from labels, the causal and cross-attention masks, per-layer head masks,
and the plumbing of encoder outputs into a head's Seq2Seq output.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ..outputs import BaseModelOutput, Seq2SeqModelOutput
from .bert import padding_mask


def shift_tokens_right(input_ids: Tensor, pad_token_id: int | None, decoder_start_token_id: int | None) -> Tensor:
    """Labels -> decoder inputs: prepend the start token, drop the last token, -100 -> pad. (B, T) -> (B, T)."""
    if decoder_start_token_id is None:
        raise ValueError("config.decoder_start_token_id has to be defined to build decoder inputs from labels")
    if pad_token_id is None:
        raise ValueError("config.pad_token_id has to be defined.")
    shifted = input_ids.new_zeros(input_ids.shape)
    shifted[:, 1:] = input_ids[:, :-1]
    shifted[:, 0] = decoder_start_token_id
    return shifted.masked_fill_(shifted == -100, pad_token_id)


def causal_mask(attention_mask: Tensor | None, T: int, past: int, dtype: torch.dtype,
                device: torch.device) -> Tensor | None:
    """Additive decoder self-attention mask (B or 1, 1, T, past + T): 0 = attend, dtype-min = not.

    Query i (absolute position past + i) sees keys j <= past + i that are not padding in
    ``attention_mask`` (B, past + T). None when nothing is masked (one new token, no padding).
    Built like the reference's, so fully masked rows give the same (uniform) attention.
    """
    has_padding = attention_mask is not None and not bool(attention_mask.all())
    if T == 1 and not has_padding:
        return None
    K = past + T
    allowed = torch.arange(K, device=device)[None, :] <= torch.arange(past, K, device=device)[:, None]  # (T, K)
    allowed = allowed[None, None]  # (1, 1, T, K)
    if has_padding:
        allowed = allowed & attention_mask[:, None, None, -K:].bool()  # (B, 1, T, K)
    mask = torch.zeros(allowed.shape, dtype=dtype, device=device)
    return mask.masked_fill_(~allowed, torch.finfo(dtype).min)


def cross_mask(attention_mask: Tensor | None, dtype: torch.dtype) -> Tensor | None:
    """Encoder padding (B, S) -> additive (B, 1, 1, S) mask for cross-attention, or None."""
    return padding_mask(attention_mask, dtype)


def _layer_masks(head_mask: Tensor | None, n: int, dtype: torch.dtype) -> list[Tensor | None]:
    """(L, nh) head mask, 1 = keep -> one (1, nh, 1, 1) multiplier per layer (or None)."""
    if head_mask is None:
        return [None] * n
    if head_mask.size(0) != n:
        raise ValueError(f"The head_mask should be specified for {n} layers, but it is for {head_mask.size(0)}.")
    return [m.to(dtype)[None, :, None, None] for m in head_mask]


def _ids_or_embeds(input_ids: Tensor | None, inputs_embeds: Tensor | None, what: str = "input_ids") -> None:
    if (input_ids is None) == (inputs_embeds is None):
        raise ValueError(f"pass exactly one of {what} and {what.replace('input_ids', 'inputs_embeds')}")


def as_encoder_output(encoder_outputs: Any) -> BaseModelOutput:
    """encoder_outputs given by the caller (ModelOutput, tuple or list) -> BaseModelOutput."""
    if isinstance(encoder_outputs, BaseModelOutput):
        return encoder_outputs
    if isinstance(encoder_outputs, Tensor):
        return BaseModelOutput(last_hidden_state=encoder_outputs)
    if hasattr(encoder_outputs, "last_hidden_state"):
        return BaseModelOutput(last_hidden_state=encoder_outputs.last_hidden_state,
                               hidden_states=getattr(encoder_outputs, "hidden_states", None),
                               attentions=getattr(encoder_outputs, "attentions", None))
    items = list(encoder_outputs)
    return BaseModelOutput(last_hidden_state=items[0], hidden_states=items[1] if len(items) > 1 else None,
                           attentions=items[2] if len(items) > 2 else None)


def seq2seq_fields(base: Seq2SeqModelOutput) -> dict[str, Any]:
    """The fields every seq2seq head output copies from the base model's output."""
    return dict(past_key_values=base.past_key_values, decoder_hidden_states=base.decoder_hidden_states,
                decoder_attentions=base.decoder_attentions, cross_attentions=base.cross_attentions,
                encoder_last_hidden_state=base.encoder_last_hidden_state,
                encoder_hidden_states=base.encoder_hidden_states, encoder_attentions=base.encoder_attentions)


# --- heads ---
