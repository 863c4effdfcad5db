"""The encoder-decoder wiring the seq2seq families share (BART, Marian, T5): decoder inputs from labels,
self- or cross-attention keys/values over a cache, the decoder's layer loop, and the encoder -> decoder
forward of a base model with its Seq2Seq output. (Their masks are in models/base.py, the task heads built
on them in models/heads.py.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from ..generation.cache import EncoderDecoderCache
from ..outputs import BaseModelOutput, Seq2SeqModelOutput


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


def default_decoder_input_ids(input_ids: Tensor | None, decoder_input_ids: Tensor | None,
                              decoder_inputs_embeds: Tensor | None, shift: Callable[[Tensor], Tensor]
                              ) -> Tensor | None:
    """Without decoder inputs the decoder reads ``shift(input_ids)`` (input_ids shifted right), as the
    reference's BartModel and its T5/BART classification and QA heads do."""
    if decoder_input_ids is not None or decoder_inputs_embeds is not None:
        return decoder_input_ids
    if input_ids is None:
        raise ValueError("If no `decoder_input_ids` or `decoder_inputs_embeds` are passed, `input_ids` "
                         "cannot be `None`. Please pass either `input_ids` or `decoder_input_ids` or "
                         "`decoder_inputs_embeds`.")
    return shift(input_ids)  # (B, S)


def self_or_cross_kv(heads: Callable[[Tensor], Tensor], k_proj: nn.Module, v_proj: nn.Module, x: Tensor,
                     encoder_states: Tensor | None, cache: EncoderDecoderCache | None,
                     layer_idx: int) -> tuple[Tensor, Tensor]:
    """Keys and values of one attention layer, each (B, nh, K, hs); ``heads`` splits (B, T, nh*hs) into heads.

    Self-attention (``encoder_states`` None): from x, appended to the cache (K = T_past + T).
    Cross-attention: from the encoder output (K = S), computed on the first decoding step and kept in the cache.
    """
    if encoder_states is None:
        k, v = heads(k_proj(x)), heads(v_proj(x))  # (B, nh, T, hs)
        return cache.update(layer_idx, k, v) if cache is not None else (k, v)  # (B, nh, T_past + T, hs)
    kv = cache.cross(layer_idx) if cache is not None else None
    if kv is None:
        kv = heads(k_proj(encoder_states)), heads(v_proj(encoder_states))  # (B, nh, S, hs)
        if cache is not None:
            cache.set_cross(layer_idx, *kv)
    return kv


def run_decoder_layers(layers: nn.ModuleList, x: Tensor, self_mask: Tensor | None, encoder_states: Tensor | None,
                       enc_mask: Tensor | None, cache: EncoderDecoderCache | None,
                       head_masks: list[Tensor | None], cross_head_masks: list[Tensor | None],
                       output_attentions: bool, output_hidden_states: bool, collect_cross: bool,
                       layerdrop: float | None = None) -> tuple[Tensor, tuple | None, tuple | None, tuple | None]:
    """x (B, T, H) through each layer ``layer(x, self_mask, encoder_states, enc_mask, cache, output_attentions,
    head_mask, cross_head_mask) -> (x, self_probs, cross_probs)``, collecting what was asked for.

    Returns x, the hidden states *entering* each layer (the caller appends the final one), the self-attention
    and (when ``collect_cross``) the cross-attention probabilities. ``layerdrop`` (BART, Marian): in training,
    each layer draws one ``torch.rand([])`` and is skipped when it is below ``layerdrop`` -- drawn even at 0,
    as the reference does, so the random stream (every later dropout mask) stays the reference's.
    """
    hidden_states = () if output_hidden_states else None
    attentions = () if output_attentions else None
    cross_attentions = () if output_attentions and collect_cross else None
    for i, layer in enumerate(layers):
        if output_hidden_states:
            hidden_states += (x,)
        if layerdrop is not None and layer.training and float(torch.rand([])) < layerdrop:
            if cache is not None:
                raise ValueError(f"LayerDrop skipped decoder layer {i}, which a KV cache cannot represent: pass "
                                 "use_cache=False in training, or set decoder_layerdrop=0")
            continue  # LayerDrop (https://arxiv.org/abs/1909.11556): this layer is skipped, as the reference
        x, self_probs, cross_probs = layer(x, self_mask, encoder_states, enc_mask, cache, output_attentions,
                                           head_masks[i], cross_head_masks[i])
        if output_attentions:
            attentions += (self_probs,)
            if cross_attentions is not None:
                cross_attentions += (cross_probs,)
    return x, hidden_states, attentions, cross_attentions


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


def encode_decode(encoder: nn.Module, decoder: nn.Module, input_ids: Tensor | None, attention_mask: Tensor | None,
                  decoder_input_ids: Tensor | None, decoder_attention_mask: Tensor | None,
                  head_mask: Tensor | None, decoder_head_mask: Tensor | None, cross_attn_head_mask: Tensor | None,
                  encoder_outputs: Any, past_key_values: EncoderDecoderCache | None, inputs_embeds: Tensor | None,
                  decoder_inputs_embeds: Tensor | None, use_cache: bool | None, output_attentions: bool | None,
                  output_hidden_states: bool | None) -> Seq2SeqModelOutput:
    """A base encoder-decoder's forward: the encoder (unless ``encoder_outputs`` is given), then the decoder
    with cross-attention over its output (masked by ``attention_mask``). The stacks are called by keyword."""
    if encoder_outputs is None:
        encoder_outputs = encoder(input_ids=input_ids, attention_mask=attention_mask, head_mask=head_mask,
                                  inputs_embeds=inputs_embeds, output_attentions=output_attentions,
                                  output_hidden_states=output_hidden_states, return_dict=True)
    else:
        encoder_outputs = as_encoder_output(encoder_outputs)
    dec = decoder(input_ids=decoder_input_ids, attention_mask=decoder_attention_mask,
                  encoder_hidden_states=encoder_outputs.last_hidden_state, encoder_attention_mask=attention_mask,
                  head_mask=decoder_head_mask, cross_attn_head_mask=cross_attn_head_mask,
                  past_key_values=past_key_values, inputs_embeds=decoder_inputs_embeds, use_cache=use_cache,
                  output_attentions=output_attentions, output_hidden_states=output_hidden_states, return_dict=True)
    return Seq2SeqModelOutput(
        last_hidden_state=dec.last_hidden_state, past_key_values=dec.past_key_values,
        decoder_hidden_states=dec.hidden_states, decoder_attentions=dec.attentions,
        cross_attentions=dec.cross_attentions, encoder_last_hidden_state=encoder_outputs.last_hidden_state,
        encoder_hidden_states=encoder_outputs.hidden_states, encoder_attentions=encoder_outputs.attentions)
