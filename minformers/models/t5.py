"""T5 (Raffel et al. 2019, https://arxiv.org/abs/1910.10683), top to bottom in data-flow order.

A pre-norm encoder-decoder with T5's quirks, each ported from the reference:
- T5LayerNorm is RMS normalisation without mean subtraction or bias;
- no absolute positions: a learned bias per (bucketed relative distance, head) is added to the
  attention scores, computed by the first layer of each stack and reused by the others
  (bidirectional buckets in the encoder, causal ones in the decoder);
- attention scores are *not* scaled by 1/sqrt(head size) (the scale is folded into the init);
- v1.0 uses a ReLU MLP (wi, wo); v1.1 / FLAN a gated-GELU MLP (wi_0, wi_1, wo) and an untied
  lm_head; the decoder output is rescaled by d_model**-0.5 only when the lm_head is tied.
Config -> LayerNorm -> MLPs -> Attention -> LayerSelfAttention/CrossAttention/FF -> Block ->
Stack -> T5Model, T5ForConditionalGeneration, T5EncoderModel -> the task heads
(T5ForSequenceClassification, T5ForTokenClassification, T5ForQuestionAnswering), whose forwards
are the ones BART and DistilBERT use too (models/heads.py).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..generation.cache import EncoderDecoderCache, StaticCache
from ..configuration import PretrainedConfig
from ..generation import GenerationMixin
from ..modeling import PreTrainedModel, warn_if_padding_and_no_attention_mask
from ..outputs import BaseModelOutput, BaseModelOutputWithPastAndCrossAttentions, Seq2SeqModelOutput
from .base import activation, causal_mask, expand_head_mask, padding_mask
from .heads import (
    Seq2SeqClassificationHead,
    Seq2SeqLMMixin,
    Seq2SeqQuestionAnsweringMixin,
    Seq2SeqSequenceClassificationMixin,
    TokenClassificationMixin,
)
from .seq2seq_utils import encode_decode, run_decoder_layers, self_or_cross_kv


class T5Config(PretrainedConfig):
    """t5-small by default; field names are config.json keys."""

    model_type: ClassVar[str] = "t5"
    attribute_map: ClassVar[dict[str, str]] = {"hidden_size": "d_model", "num_attention_heads": "num_heads",
                                               "num_hidden_layers": "num_layers", "head_dim": "d_kv"}
    vocab_size: int = 32128  # V
    d_model: int = 512  # H
    d_kv: int = 64  # hs: head size (nh * hs need not equal H)
    d_ff: int = 2048  # MLP width
    num_layers: int = 6  # encoder layers
    num_decoder_layers: int | None = None  # None -> num_layers
    num_heads: int = 8  # nh
    relative_attention_num_buckets: int = 32
    relative_attention_max_distance: int = 128
    dropout_rate: float = 0.1
    layer_norm_epsilon: float = 1e-6
    initializer_factor: float = 1.0
    feed_forward_proj: str = "relu"  # "relu" (v1.0) | "gated-gelu" (v1.1) | "gated-<act>" | "<act>"
    is_encoder_decoder: bool = True
    use_cache: bool = True
    pad_token_id: int | None = 0
    eos_token_id: int | None = 1
    classifier_dropout: float = 0.0
    dense_act_fn: str | None = None  # derived from feed_forward_proj (stored in config.json by the reference)
    is_gated_act: bool | None = None  # derived from feed_forward_proj

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.num_decoder_layers is None:
            self.num_decoder_layers = self.num_layers
        parts = self.feed_forward_proj.split("-")
        if (len(parts) > 1 and parts[0] != "gated") or len(parts) > 2:
            raise ValueError(f"`feed_forward_proj`: {self.feed_forward_proj} is not a valid activation function of "
                             "the dense layer. Please make sure `feed_forward_proj` is of the format "
                             "`gated-{ACT_FN}` or `{ACT_FN}`, e.g. 'gated-gelu' or 'relu'")
        if self.dense_act_fn is None:  # "gated-gelu" means the tanh GELU, for backward compatibility
            self.dense_act_fn = "gelu_new" if self.feed_forward_proj == "gated-gelu" else parts[-1]
        if self.is_gated_act is None:
            self.is_gated_act = parts[0] == "gated"


class T5LayerNorm(nn.Module):
    """RMS norm: x / sqrt(mean(x^2) + eps) * weight; no mean subtraction, no bias (computed in fp32)."""

    def __init__(self, hidden_size: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size))
        self.variance_epsilon = eps

    def forward(self, x: Tensor) -> Tensor:
        variance = x.to(torch.float32).pow(2).mean(-1, keepdim=True)  # (B, T, 1)
        x = x * torch.rsqrt(variance + self.variance_epsilon)
        if self.weight.dtype in (torch.float16, torch.bfloat16):
            x = x.to(self.weight.dtype)
        return self.weight * x


class T5DenseActDense(nn.Module):
    """v1.0 MLP: wo(dropout(act(wi(x)))), no biases."""

    def __init__(self, config: T5Config) -> None:
        super().__init__()
        self.wi = nn.Linear(config.d_model, config.d_ff, bias=False)
        self.wo = nn.Linear(config.d_ff, config.d_model, bias=False)
        self.dropout = nn.Dropout(config.dropout_rate)
        self.act = activation(config.dense_act_fn)

    def forward(self, x: Tensor) -> Tensor:
        h = self.dropout(self.act(self.wi(x)))  # (B, T, d_ff)
        return self.wo(h.to(self.wo.weight.dtype))


class T5DenseGatedActDense(nn.Module):
    """v1.1 MLP: wo(dropout(act(wi_0(x)) * wi_1(x))), no biases."""

    def __init__(self, config: T5Config) -> None:
        super().__init__()
        self.wi_0 = nn.Linear(config.d_model, config.d_ff, bias=False)
        self.wi_1 = nn.Linear(config.d_model, config.d_ff, bias=False)
        self.wo = nn.Linear(config.d_ff, config.d_model, bias=False)
        self.dropout = nn.Dropout(config.dropout_rate)
        self.act = activation(config.dense_act_fn)

    def forward(self, x: Tensor) -> Tensor:
        h = self.dropout(self.act(self.wi_0(x)) * self.wi_1(x))  # (B, T, d_ff)
        return self.wo(h.to(self.wo.weight.dtype))


def relative_position_bucket(relative_position: Tensor, bidirectional: bool, num_buckets: int,
                             max_distance: int) -> Tensor:
    """Relative distance (key - query) -> bucket id, as Mesh TensorFlow's T5.

    Half the buckets (per direction when bidirectional) hold exact distances 0..max_exact-1;
    the rest grow logarithmically up to max_distance, beyond which everything shares the last bucket.
    A causal (decoder) bucketing only distinguishes keys in the past.
    """
    buckets = torch.zeros_like(relative_position)
    if bidirectional:
        num_buckets //= 2
        buckets = buckets + (relative_position > 0).long() * num_buckets
        distance = relative_position.abs()
    else:
        distance = -torch.clamp(relative_position, max=0)
    max_exact = num_buckets // 2
    is_small = distance < max_exact
    large = max_exact + (torch.log(distance.float() / max_exact) / math.log(max_distance / max_exact)
                         * (num_buckets - max_exact)).long()
    large = torch.clamp(large, max=num_buckets - 1)
    return buckets + torch.where(is_small, distance, large)


class T5Attention(nn.Module):
    # B batch, T query tokens, K key tokens, H = d_model, nh heads, hs = d_kv head size
    def __init__(self, config: T5Config, has_relative_attention_bias: bool, is_decoder: bool, layer_idx: int) -> None:
        super().__init__()
        self.nh, self.hs = config.num_heads, config.d_kv
        self.is_decoder, self.layer_idx = is_decoder, layer_idx
        self.num_buckets = config.relative_attention_num_buckets
        self.max_distance = config.relative_attention_max_distance
        self.dropout_p = config.dropout_rate
        inner = self.nh * self.hs
        self.q = nn.Linear(config.d_model, inner, bias=False)
        self.k = nn.Linear(config.d_model, inner, bias=False)
        self.v = nn.Linear(config.d_model, inner, bias=False)
        self.o = nn.Linear(inner, config.d_model, bias=False)
        self.has_relative_attention_bias = has_relative_attention_bias
        if has_relative_attention_bias:
            self.relative_attention_bias = nn.Embedding(self.num_buckets, self.nh)

    def compute_bias(self, query_positions: Tensor, key_length: int) -> Tensor:
        """Learned bias for each (query, key) pair: (T,) absolute query positions -> (1, nh, T, K)."""
        keys = torch.arange(key_length, device=query_positions.device)
        relative = keys[None, :] - query_positions[:, None]  # (T, K)
        buckets = relative_position_bucket(relative, not self.is_decoder, self.num_buckets, self.max_distance)
        return self.relative_attention_bias(buckets).permute(2, 0, 1)[None]  # (1, nh, T, K)

    def _heads(self, x: Tensor) -> Tensor:  # (B, T, nh*hs) -> (B, nh, T, hs)
        return x.view(x.size(0), x.size(1), self.nh, self.hs).transpose(1, 2)

    def forward(self, x: Tensor, bias: Tensor | None, cache: EncoderDecoderCache | None = None,
                encoder_states: Tensor | None = None, output_attentions: bool = False,
                head_mask: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """softmax(q k^T + bias) v, unscaled; `bias` holds position bias and mask, (B|1, nh|1, T, K)."""
        B, T, _ = x.shape
        q = self._heads(self.q(x))  # (B, nh, T, hs)
        k, v = self_or_cross_kv(self._heads, self.k, self.v, x, encoder_states, cache, self.layer_idx)  # (B,nh,K,hs)
        p = self.dropout_p if self.training else 0.0
        probs = None
        if output_attentions or head_mask is not None:
            scores = q @ k.transpose(-1, -2)  # (B, nh, T, K), no 1/sqrt(hs): T5 folds it into the init
            if bias is not None:
                scores = scores + bias
            probs = F.dropout(scores.float().softmax(-1).type_as(scores), p, self.training)
            if head_mask is not None:
                probs = probs * head_mask
            y = probs @ v  # (B, nh, T, hs)
        else:
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=p, scale=1.0)  # (B, nh, T, hs)
        return self.o(y.transpose(1, 2).reshape(B, T, self.nh * self.hs)), probs


class T5LayerSelfAttention(nn.Module):
    """Pre-norm: x + dropout(SelfAttention(layer_norm(x)))."""

    def __init__(self, config: T5Config, has_relative_attention_bias: bool, is_decoder: bool, layer_idx: int) -> None:
        super().__init__()
        self.SelfAttention = T5Attention(config, has_relative_attention_bias, is_decoder, layer_idx)
        self.layer_norm = T5LayerNorm(config.d_model, eps=config.layer_norm_epsilon)
        self.dropout = nn.Dropout(config.dropout_rate)

    def forward(self, x: Tensor, bias: Tensor | None, cache: EncoderDecoderCache | None, output_attentions: bool,
                head_mask: Tensor | None) -> tuple[Tensor, Tensor | None]:
        a, probs = self.SelfAttention(self.layer_norm(x), bias, cache, None, output_attentions, head_mask)
        return x + self.dropout(a), probs


class T5LayerCrossAttention(nn.Module):
    """Pre-norm: x + dropout(EncDecAttention(layer_norm(x), encoder output))."""

    def __init__(self, config: T5Config, layer_idx: int) -> None:
        super().__init__()
        self.EncDecAttention = T5Attention(config, False, True, layer_idx)
        self.layer_norm = T5LayerNorm(config.d_model, eps=config.layer_norm_epsilon)
        self.dropout = nn.Dropout(config.dropout_rate)

    def forward(self, x: Tensor, encoder_states: Tensor, mask: Tensor | None, cache: EncoderDecoderCache | None,
                output_attentions: bool, head_mask: Tensor | None) -> tuple[Tensor, Tensor | None]:
        a, probs = self.EncDecAttention(self.layer_norm(x), mask, cache, encoder_states, output_attentions, head_mask)
        return x + self.dropout(a), probs


class T5LayerFF(nn.Module):
    """Pre-norm: x + dropout(MLP(layer_norm(x)))."""

    def __init__(self, config: T5Config) -> None:
        super().__init__()
        self.DenseReluDense = T5DenseGatedActDense(config) if config.is_gated_act else T5DenseActDense(config)
        self.layer_norm = T5LayerNorm(config.d_model, eps=config.layer_norm_epsilon)
        self.dropout = nn.Dropout(config.dropout_rate)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.dropout(self.DenseReluDense(self.layer_norm(x)))


def _clamp_fp16(x: Tensor) -> Tensor:
    """As the reference: keep fp16 activations finite."""
    if x.dtype == torch.float16:
        bound = torch.finfo(x.dtype).max - (1000 if torch.isinf(x).any() else 0)
        x = x.clamp(-bound, bound)
    return x


class T5Block(nn.Module):
    """layer[0] self-attention, (decoder) layer[1] cross-attention, layer[-1] MLP."""

    def __init__(self, config: T5Config, has_relative_attention_bias: bool, is_decoder: bool, layer_idx: int) -> None:
        super().__init__()
        self.layer = nn.ModuleList([T5LayerSelfAttention(config, has_relative_attention_bias, is_decoder, layer_idx)])
        if is_decoder:
            self.layer.append(T5LayerCrossAttention(config, layer_idx))
        self.layer.append(T5LayerFF(config))

    def forward(self, x: Tensor, bias: Tensor | None, encoder_states: Tensor | None, cross_bias: Tensor | None,
                cache: EncoderDecoderCache | None, output_attentions: bool, head_mask: Tensor | None,
                cross_head_mask: Tensor | None) -> tuple[Tensor, Tensor | None, Tensor | None]:
        x, self_probs = self.layer[0](x, bias, cache, output_attentions, head_mask)
        x = _clamp_fp16(x)
        cross_probs = None
        if encoder_states is not None and len(self.layer) == 3:
            x, cross_probs = self.layer[1](x, encoder_states, cross_bias, cache, output_attentions, cross_head_mask)
            x = _clamp_fp16(x)
        return _clamp_fp16(self.layer[-1](x)), self_probs, cross_probs  # (B, T, H)


class T5Stack(nn.Module):
    """Encoder or decoder: embeddings -> dropout -> blocks -> final_layer_norm -> dropout.

    ``model.get_encoder()`` returns the encoder stack; call it like the reference's.
    """

    def __init__(self, config: T5Config, embed_tokens: nn.Embedding, is_decoder: bool) -> None:
        super().__init__()
        self.config, self.is_decoder = config, is_decoder
        self.embed_tokens = embed_tokens  # the same module as model.shared (tied)
        n = config.num_decoder_layers if is_decoder else config.num_layers
        self.block = nn.ModuleList(T5Block(config, i == 0, is_decoder, i) for i in range(n))
        self.final_layer_norm = T5LayerNorm(config.d_model, eps=config.layer_norm_epsilon)
        self.dropout = nn.Dropout(config.dropout_rate)

    def forward(self, input_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                encoder_hidden_states: Tensor | None = None, encoder_attention_mask: Tensor | None = None,
                inputs_embeds: Tensor | None = None, head_mask: Tensor | None = None,
                cross_attn_head_mask: Tensor | None = None, past_key_values: EncoderDecoderCache | None = None,
                use_cache: bool | None = None, output_attentions: bool | None = None,
                output_hidden_states: bool | None = None, return_dict: bool | None = None
                ) -> BaseModelOutputWithPastAndCrossAttentions | BaseModelOutput | tuple:
        cfg = self.config
        output_attentions = cfg.output_attentions if output_attentions is None else output_attentions
        output_hidden_states = cfg.output_hidden_states if output_hidden_states is None else output_hidden_states
        return_dict = cfg.use_return_dict if return_dict is None else return_dict
        use_cache = (cfg.use_cache if use_cache is None else use_cache) and self.is_decoder
        prefix = "decoder_" if self.is_decoder else ""
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError(f"You have to specify exactly one of {prefix}input_ids or {prefix}inputs_embeds")
        if not self.is_decoder:  # decoder inputs start with the pad token (T5's decoder start)
            warn_if_padding_and_no_attention_mask(self, cfg, input_ids, attention_mask)
        if inputs_embeds is None:
            inputs_embeds = self.embed_tokens(input_ids)  # (B, T, H)
        B, T, _ = inputs_embeds.shape
        cache = past_key_values if self.is_decoder else None
        if use_cache and cache is None:
            cache = EncoderDecoderCache()
        past = cache.get_seq_length() if cache is not None else 0
        x = self.dropout(inputs_embeds)

        # position bias (+ mask), computed once by the first block's attention and shared by all blocks
        if self.is_decoder:
            mask = causal_mask(attention_mask, T, past, x.dtype, x.device)  # (B|1, 1, T, past + T) or None
        else:
            mask = padding_mask(attention_mask, x.dtype)  # (B, 1, 1, T) or None
        attn0 = self.block[0].layer[0].SelfAttention
        bias = attn0.compute_bias(torch.arange(past, past + T, device=x.device), past + T)  # (1, nh, T, past + T)
        bias = bias.to(x.dtype) if mask is None else bias + mask
        cross_bias = None
        if self.is_decoder and encoder_hidden_states is not None:
            cross_bias = padding_mask(encoder_attention_mask, x.dtype)  # (B, 1, 1, S) or None

        head_masks = expand_head_mask(head_mask, len(self.block), x.dtype)  # (nh,) or (L, nh) -> per block
        cross_head_masks = expand_head_mask(cross_attn_head_mask, len(self.block), x.dtype)
        x, hidden_states, attentions, cross_attentions = run_decoder_layers(
            self.block, x, bias, encoder_hidden_states, cross_bias, cache, head_masks, cross_head_masks,
            output_attentions, output_hidden_states, collect_cross=self.is_decoder)
        x = self.dropout(self.final_layer_norm(x))
        if output_hidden_states:
            hidden_states += (x,)
        if not self.is_decoder:
            out = BaseModelOutput(last_hidden_state=x, hidden_states=hidden_states, attentions=attentions)
        else:
            out = BaseModelOutputWithPastAndCrossAttentions(
                last_hidden_state=x, past_key_values=cache if use_cache else None, hidden_states=hidden_states,
                attentions=attentions, cross_attentions=cross_attentions)
        return out if return_dict else out.to_tuple()


class T5PreTrainedModel(PreTrainedModel):
    config_class = T5Config
    base_model_prefix = "transformer"
    # old checkpoints carry a relative bias in the first cross-attention; the reference ignores it too
    _keys_to_ignore_on_load_unexpected: ClassVar[list[str]] = [
        r"decoder\.block\.0\.layer\.1\.EncDecAttention\.relative_attention_bias\.weight$"]

    def _init_weights(self, module: nn.Module) -> None:
        """The reference's init: each weight's std is scaled by its fan-in (x initializer_factor)."""
        f, d, ff, hs, nh = (self.config.initializer_factor, self.config.d_model, self.config.d_ff,
                            self.config.d_kv, self.config.num_heads)
        normal = nn.init.normal_
        if isinstance(module, T5LayerNorm):
            nn.init.constant_(module.weight, f * 1.0)
        elif isinstance(module, nn.Embedding):  # shared token embeddings
            normal(module.weight, std=f * 1.0)
        elif isinstance(module, nn.Linear):  # lm_head, the token classifier, a lone missing projection: std f;
            head = getattr(self, "classification_head", None)  # QA and classification-head projections: f/sqrt(d)
            scaled = module is getattr(self, "qa_outputs", None) or (
                head is not None and (module is head.dense or module is head.out_proj))
            normal(module.weight, std=f * d ** -0.5 if scaled else f * 1.0)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, T5DenseActDense):
            normal(module.wi.weight, std=f * d ** -0.5)
            normal(module.wo.weight, std=f * ff ** -0.5)
        elif isinstance(module, T5DenseGatedActDense):
            normal(module.wi_0.weight, std=f * d ** -0.5)
            normal(module.wi_1.weight, std=f * d ** -0.5)
            normal(module.wo.weight, std=f * ff ** -0.5)
        elif isinstance(module, T5Attention):
            normal(module.q.weight, std=f * (d * hs) ** -0.5)
            normal(module.k.weight, std=f * d ** -0.5)
            normal(module.v.weight, std=f * d ** -0.5)
            normal(module.o.weight, std=f * (nh * hs) ** -0.5)
            if module.has_relative_attention_bias:
                normal(module.relative_attention_bias.weight, std=f * d ** -0.5)

    # the heads that wrap a base model keep it under `transformer` (base_model_prefix); the others are their own base
    def get_input_embeddings(self) -> nn.Embedding:
        return self.base_model.shared

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        base = self.base_model
        base.shared = value
        for stack in (getattr(base, "encoder", None), getattr(base, "decoder", None)):
            if stack is not None:
                stack.embed_tokens = value

    def get_encoder(self) -> T5Stack:
        return self.base_model.encoder

    def get_decoder(self) -> T5Stack | None:
        return getattr(self.base_model, "decoder", None)

    def _shift_right(self, input_ids: Tensor) -> Tensor:
        """Labels -> decoder inputs: prepend decoder_start_token_id (T5: the pad token), -100 -> pad."""
        start, pad = self.config.decoder_start_token_id, self.config.pad_token_id
        if start is None:
            raise ValueError("self.model.config.decoder_start_token_id has to be defined. In T5 it is usually set to "
                             "the pad_token_id. See T5 docs for more information.")
        if pad is None:
            raise ValueError("self.model.config.pad_token_id has to be defined.")
        shifted = input_ids.new_zeros(input_ids.shape)
        shifted[..., 1:] = input_ids[..., :-1]
        shifted[..., 0] = start
        return shifted.masked_fill_(shifted == -100, pad)


class T5Model(T5PreTrainedModel):
    """Encoder-decoder: decoder last_hidden_state (B, T, H), encoder_last_hidden_state (B, S, H)."""

    def __init__(self, config: T5Config) -> None:
        super().__init__(config)
        self.shared = nn.Embedding(config.vocab_size, config.d_model)
        self.encoder = T5Stack(config, self.shared, is_decoder=False)
        self.decoder = T5Stack(config, self.shared, is_decoder=True)
        self.post_init()

    def _encode_decode(self, input_ids: Tensor | None, attention_mask: Tensor | None,
                       decoder_input_ids: Tensor | None, decoder_attention_mask: Tensor | None,
                       head_mask: Tensor | None, decoder_head_mask: Tensor | None,
                       cross_attn_head_mask: Tensor | None, encoder_outputs: Any,
                       past_key_values: EncoderDecoderCache | None, inputs_embeds: Tensor | None,
                       decoder_inputs_embeds: Tensor | None, use_cache: bool | None, output_attentions: bool | None,
                       output_hidden_states: bool | None) -> Seq2SeqModelOutput:
        if head_mask is not None and decoder_head_mask is None and \
                self.config.num_layers == self.config.num_decoder_layers:
            decoder_head_mask = head_mask  # as the reference (with its FutureWarning)
        return encode_decode(self.encoder, self.decoder, input_ids, attention_mask, decoder_input_ids,
                             decoder_attention_mask, head_mask, decoder_head_mask, cross_attn_head_mask,
                             encoder_outputs, past_key_values, inputs_embeds, decoder_inputs_embeds, use_cache,
                             output_attentions, output_hidden_states)

    def forward(
        self,
        input_ids: Tensor | None = None,  # (B, S)
        attention_mask: Tensor | None = None,  # (B, S), 1 = token, 0 = padding
        decoder_input_ids: Tensor | None = None,  # (B, T)
        decoder_attention_mask: Tensor | None = None,  # (B, T_past + T)
        head_mask: Tensor | None = None,
        decoder_head_mask: Tensor | None = None,
        cross_attn_head_mask: Tensor | None = None,
        encoder_outputs: Any = None,
        past_key_values: EncoderDecoderCache | None = None,
        inputs_embeds: Tensor | None = None,
        decoder_inputs_embeds: Tensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> Seq2SeqModelOutput | tuple:
        return_dict = self.config.use_return_dict if return_dict is None else return_dict
        out = self._encode_decode(input_ids, attention_mask, decoder_input_ids, decoder_attention_mask, head_mask,
                                  decoder_head_mask, cross_attn_head_mask, encoder_outputs, past_key_values,
                                  inputs_embeds, decoder_inputs_embeds, use_cache, output_attentions,
                                  output_hidden_states)
        return out if return_dict else out.to_tuple()


class T5ForConditionalGeneration(GenerationMixin, Seq2SeqLMMixin, T5PreTrainedModel):
    """Decoder states (x d_model**-0.5 when tied) -> lm_head: logits (B, T, V). Labels leave the cache on."""

    _labels_disable_cache = False  # unlike BART, as the reference

    def __init__(self, config: T5Config) -> None:
        super().__init__(config)
        self.model_dim = config.d_model
        self.shared = nn.Embedding(config.vocab_size, config.d_model)
        self.encoder = T5Stack(config, self.shared, is_decoder=False)
        self.decoder = T5Stack(config, self.shared, is_decoder=True)
        self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        self.post_init()

    _encode_decode = T5Model._encode_decode

    def get_output_embeddings(self) -> nn.Linear:
        return self.lm_head

    def make_cache(self, batch_size: int, max_length: int, dtype: torch.dtype | None = None) -> EncoderDecoderCache:
        """For generate(): decoder self-attention keys/values pre-allocated for max_length tokens."""
        cfg, weight = self.config, self.shared.weight
        return EncoderDecoderCache(StaticCache(cfg.num_decoder_layers, batch_size, cfg.num_heads, cfg.d_kv,
                                               max_length, dtype=dtype or weight.dtype, device=weight.device))

    def _lm_logits(self, h: Tensor) -> Tensor:  # (B, T, H) -> (B, T, V)
        if self.config.tie_word_embeddings:  # Mesh TensorFlow rescales before the tied projection
            h = h * self.model_dim ** -0.5
        return self.lm_head(h)


class T5EncoderModel(T5PreTrainedModel):
    """The encoder alone (sentence embeddings, classifiers): last_hidden_state (B, S, H)."""

    _keys_to_ignore_on_load_unexpected: ClassVar[list[str]] = [r"^decoder\.", r"^lm_head\."]

    def __init__(self, config: T5Config) -> None:
        super().__init__(config)
        config.use_cache = False  # as the reference, which edits the config it is given
        config.is_encoder_decoder = False
        self.shared = nn.Embedding(config.vocab_size, config.d_model)
        self.encoder = T5Stack(config, self.shared, is_decoder=False)
        self.post_init()

    def get_decoder(self) -> None:  # type: ignore[override]
        return None

    def forward(self, input_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                head_mask: Tensor | None = None, inputs_embeds: Tensor | None = None,
                output_attentions: bool | None = None, output_hidden_states: bool | None = None,
                return_dict: bool | None = None) -> BaseModelOutput | tuple:
        return self.encoder(input_ids, attention_mask, inputs_embeds=inputs_embeds, head_mask=head_mask,
                            output_attentions=output_attentions, output_hidden_states=output_hidden_states,
                            return_dict=return_dict)


# --- task heads: the forwards are models/heads.py's (shared with BART, DistilBERT) ---
class T5ClassificationHead(Seq2SeqClassificationHead):
    """dropout -> dense -> tanh -> dropout -> out_proj: (B, H) -> (B, num_labels), on d_model."""

    def __init__(self, config: T5Config) -> None:
        super().__init__(config.d_model, config.d_model, config.num_labels, config.classifier_dropout)


class T5ForSequenceClassification(Seq2SeqSequenceClassificationMixin, T5PreTrainedModel):
    """Decoder state at the last </s> of input_ids -> classification head: logits (B, num_labels), as BART."""

    def __init__(self, config: T5Config) -> None:
        super().__init__(config)
        self.transformer = T5Model(config)
        self.classification_head = T5ClassificationHead(config)
        self.post_init()


class T5ForTokenClassification(TokenClassificationMixin, T5PreTrainedModel):
    """Encoder states -> dropout -> linear: logits (B, S, num_labels). No decoder."""

    def __init__(self, config: T5Config) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.transformer = T5EncoderModel(config)  # sets use_cache, is_encoder_decoder False (as the reference)
        self.dropout = nn.Dropout(config.classifier_dropout)
        self.classifier = nn.Linear(config.d_model, config.num_labels)
        self.post_init()


class T5ForQuestionAnswering(Seq2SeqQuestionAnsweringMixin, T5PreTrainedModel):
    """The full encoder-decoder (its own base, as the reference); every decoder state -> linear -> (start, end)
    logits, each (B, T). qa_outputs has config.num_labels outputs (2)."""

    def __init__(self, config: T5Config) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.shared = nn.Embedding(config.vocab_size, config.d_model)
        self.encoder = T5Stack(config, self.shared, is_decoder=False)
        self.decoder = T5Stack(config, self.shared, is_decoder=True)
        self.qa_outputs = nn.Linear(config.d_model, config.num_labels)
        self.post_init()

    _encode_decode = T5Model._encode_decode
