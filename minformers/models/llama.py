"""Llama (Touvron et al. 2023, https://arxiv.org/abs/2302.13971), top to bottom in data-flow order.

Config -> RMSNorm -> Attention (grouped-query, rotary positions) -> MLP (SiLU-gated) -> DecoderLayer ->
LlamaModel -> heads. RoPE (and its rope_scaling variants), the causal mask and the grouped attention are
in models/base.py (GPT-2 shares the last two). Attribute names are checkpoint keys
(``model.layers.0.self_attn.q_proj.weight``). GGUF files map onto these names in :mod:`minformers.weights.gguf_tensors`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..generation.cache import DynamicCache, StaticCache
from ..configuration import PretrainedConfig
from ..generation import GenerationMixin
from ..kernels import linear
from ..modeling import PreTrainedModel
from ..outputs import (
    ModelOutput,
    BaseModelOutputWithPast,
    CausalLMOutputWithPast,
    QuestionAnsweringModelOutput,
    TokenClassifierOutput,
)
from .base import (
    RotaryEmbedding,
    activation,
    apply_rope,
    check_ids_or_embeds,
    decoder_attention,
    decoder_classifier_dropout,
    decoder_mask,
)
from .heads import (
    LastTokenClassificationHead,
    causal_lm_output,
    question_answering_output,
    returned,
    token_classifier_output,
)


class LlamaConfig(PretrainedConfig):
    """Llama-2-7B by default; field names are config.json keys."""

    model_type: ClassVar[str] = "llama"
    vocab_size: int = 32000  # V
    hidden_size: int = 4096  # H
    intermediate_size: int = 11008  # MLP width
    num_hidden_layers: int = 32  # L
    num_attention_heads: int = 32  # nh
    num_key_value_heads: int | None = None  # nkv (grouped-query attention); None -> nh
    hidden_act: str = "silu"
    max_position_embeddings: int = 2048
    initializer_range: float = 0.02
    rms_norm_eps: float = 1e-6
    use_cache: bool = True
    pad_token_id: int | None = None
    bos_token_id: int | None = 1
    eos_token_id: int | list[int] | None = 2
    pretraining_tp: int = 1
    tie_word_embeddings: bool = False
    rope_theta: float = 10000.0
    rope_scaling: dict | None = None  # {"rope_type": "linear" | "dynamic" | "llama3", "factor": ..., ...}
    attention_bias: bool = False
    attention_dropout: float = 0.0
    mlp_bias: bool = False
    head_dim: int | None = None  # hs; None -> H // nh

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.num_key_value_heads is None:
            self.num_key_value_heads = self.num_attention_heads
        if self.head_dim is None:
            self.head_dim = self.hidden_size // self.num_attention_heads
        if isinstance(self.rope_scaling, dict) and "type" in self.rope_scaling:  # old name of rope_type
            self.rope_scaling.setdefault("rope_type", self.rope_scaling["type"])


class LlamaRMSNorm(nn.Module):
    """x / sqrt(mean(x^2) + eps) * weight, computed in float32 (https://arxiv.org/abs/1910.07467)."""

    def __init__(self, hidden_size: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size))
        self.variance_epsilon = eps

    def forward(self, x: Tensor) -> Tensor:
        dtype = x.dtype
        if dtype == torch.float32 and self.weight.dtype == torch.float32:  # one fused op, the same bits
            return F.rms_norm(x, self.weight.shape, self.weight, self.variance_epsilon)
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.variance_epsilon)
        return self.weight * x.to(dtype)


class LlamaAttention(nn.Module):
    # B batch, T new tokens, S cached + new, H hidden, nh query heads, nkv key/value heads, hs head size
    def __init__(self, config: LlamaConfig, layer_idx: int) -> None:
        super().__init__()
        self.layer_idx = layer_idx
        self.nh, self.nkv, self.hs = config.num_attention_heads, config.num_key_value_heads, config.head_dim
        if self.nh % self.nkv:
            raise ValueError(f"num_attention_heads {self.nh} is not a multiple of num_key_value_heads {self.nkv}")
        bias = config.attention_bias
        self.q_proj = nn.Linear(config.hidden_size, self.nh * self.hs, bias=bias)
        self.k_proj = nn.Linear(config.hidden_size, self.nkv * self.hs, bias=bias)
        self.v_proj = nn.Linear(config.hidden_size, self.nkv * self.hs, bias=bias)
        self.o_proj = nn.Linear(self.nh * self.hs, config.hidden_size, bias=bias)
        self.dropout_p = config.attention_dropout
        self.scale = self.hs ** -0.5

    def forward(self, x: Tensor, cos: Tensor, sin: Tensor, mask: Tensor | None, is_causal: bool, cache: Any,
                output_attentions: bool) -> tuple[Tensor, Tensor | None]:
        B, T, _ = x.shape
        qkv = linear(x, self.q_proj, self.k_proj, self.v_proj)  # (B, T, (nh + 2 nkv) hs)
        if T == 1:  # a decoding step: the heads axis can come first as it is (one view, no transpose)
            qkv = qkv.view(B, self.nh + 2 * self.nkv, 1, self.hs)
        else:
            qkv = qkv.view(B, T, self.nh + 2 * self.nkv, self.hs).transpose(1, 2)
        qk, v = qkv.split((self.nh + self.nkv, self.nkv), dim=1)  # (B, nh+nkv|nkv, T, hs)
        q, k = apply_rope(qk, cos, sin).split((self.nh, self.nkv), dim=1)  # queries and keys rotated at once
        if cache is not None:
            k, v = cache.update(self.layer_idx, k, v)  # (B, nkv, S, hs)
        p = self.dropout_p if self.training else 0.0
        y, probs = decoder_attention(q, k, v, mask, is_causal, self.scale, p, output_attentions)  # (B, nh, T, hs)
        y = y.reshape(B, 1, self.nh * self.hs) if T == 1 else y.transpose(1, 2).reshape(B, T, self.nh * self.hs)
        return linear(y, self.o_proj), probs


class LlamaMLP(nn.Module):
    """down(act(gate(x)) * up(x)) — the SwiGLU MLP (https://arxiv.org/abs/2002.05202)."""

    def __init__(self, config: LlamaConfig) -> None:
        super().__init__()
        H, I, bias = config.hidden_size, config.intermediate_size, config.mlp_bias
        self.gate_proj = nn.Linear(H, I, bias=bias)
        self.up_proj = nn.Linear(H, I, bias=bias)
        self.down_proj = nn.Linear(I, H, bias=bias)
        self.act_fn = activation(config.hidden_act)

    def forward(self, x: Tensor) -> Tensor:
        gate, up = linear(x, self.gate_proj, self.up_proj).chunk(2, dim=-1)  # one product, (..., I) each
        return linear(self.act_fn(gate) * up, self.down_proj)


class LlamaDecoderLayer(nn.Module):
    """Pre-norm: x + attn(norm(x)), then x + mlp(norm(x))."""

    def __init__(self, config: LlamaConfig, layer_idx: int) -> None:
        super().__init__()
        self.self_attn = LlamaAttention(config, layer_idx)
        self.mlp = LlamaMLP(config)
        self.input_layernorm = LlamaRMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.post_attention_layernorm = LlamaRMSNorm(config.hidden_size, eps=config.rms_norm_eps)

    def forward(self, x: Tensor, cos: Tensor, sin: Tensor, mask: Tensor | None, is_causal: bool, cache: Any,
                output_attentions: bool) -> tuple[Tensor, Tensor | None]:
        y, probs = self.self_attn(self.input_layernorm(x), cos, sin, mask, is_causal, cache, output_attentions)
        x = x + y
        return x + self.mlp(self.post_attention_layernorm(x)), probs


class LlamaPreTrainedModel(PreTrainedModel):
    config_class = LlamaConfig
    base_model_prefix = "model"

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, LlamaRMSNorm):
            nn.init.ones_(module.weight)
        else:
            super()._init_weights(module)


class LlamaModel(LlamaPreTrainedModel):
    """Token embeddings -> L decoder layers (RoPE inside attention) -> final RMSNorm: (B, T, H)."""

    def __init__(self, config: LlamaConfig) -> None:
        super().__init__(config)
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id)
        self.layers = nn.ModuleList(LlamaDecoderLayer(config, i) for i in range(config.num_hidden_layers))
        self.norm = LlamaRMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.rotary_emb = RotaryEmbedding(config)  # no weights: cos/sin from the config
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embed_tokens

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.embed_tokens = value

    def make_cache(self, batch_size: int, max_length: int, dtype: torch.dtype | None = None) -> Any:
        """A StaticCache for generate(): (batch_size, nkv, max_length, hs) per layer."""
        cfg, w = self.config, self.embed_tokens.weight
        return StaticCache(cfg.num_hidden_layers, batch_size, cfg.num_key_value_heads, cfg.head_dim, max_length,
                           dtype=dtype or w.dtype, device=w.device)

    def forward(
        self,
        input_ids: Tensor | None = None,  # (B, T)
        attention_mask: Tensor | None = None,  # (B, P + T), 1 = token, 0 = padding
        position_ids: Tensor | None = None,  # (B, T); default P, P+1, ... (generate() derives them from the mask)
        past_key_values: Any = None,  # a minformers.generation.cache cache
        inputs_embeds: Tensor | None = None,  # (B, T, H)
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> BaseModelOutputWithPast | tuple:
        cfg = self.config
        output_attentions = cfg.output_attentions if output_attentions is None else output_attentions
        output_hidden_states = cfg.output_hidden_states if output_hidden_states is None else output_hidden_states
        return_dict = cfg.use_return_dict if return_dict is None else return_dict
        use_cache = (cfg.use_cache and not self.training) if use_cache is None else use_cache
        check_ids_or_embeds(input_ids, inputs_embeds)
        if past_key_values is None:  # cached decoding (generate) masks its own padding
            self.warn_if_padding_and_no_attention_mask(input_ids, attention_mask)
        x = self.embed_tokens(input_ids) if inputs_embeds is None else inputs_embeds  # (B, T, H)
        T = x.shape[1]
        if use_cache and past_key_values is None:
            past_key_values = DynamicCache()
        P = past_key_values.get_seq_length() if past_key_values is not None else 0
        # positions P .. P + T - 1 unless given; (B|1, 1, T, hs), once for all layers
        cos, sin = self.rotary_emb(position_ids, x.dtype, P, T, x.device)
        mask, is_causal = decoder_mask(attention_mask, T, P, x.dtype)

        hidden_states, attentions = (), ()
        for layer in self.layers:
            if output_hidden_states:
                hidden_states += (x,)
            x, probs = layer(x, cos, sin, mask, is_causal, past_key_values, output_attentions)
            if output_attentions:
                attentions += (probs,)
        x = self.norm(x)
        if output_hidden_states:
            hidden_states += (x,)
        out = BaseModelOutputWithPast(last_hidden_state=x, past_key_values=past_key_values if use_cache else None,
                                      hidden_states=hidden_states or None, attentions=attentions or None)
        return out if return_dict else out.to_tuple()


# --- heads: base -> (dropout) -> linear; the loss only when labels are given ---
class LlamaForCausalLM(GenerationMixin, LlamaPreTrainedModel):
    """Hidden states -> vocabulary logits (B, T, V); lm_head tied to embed_tokens if tie_word_embeddings."""

    def __init__(self, config: LlamaConfig) -> None:
        super().__init__(config)
        self.model = LlamaModel(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.post_init()

    def get_output_embeddings(self) -> nn.Linear:
        return self.lm_head

    def make_cache(self, batch_size: int, max_length: int, dtype: torch.dtype | None = None) -> Any:
        return self.model.make_cache(batch_size, max_length, dtype)

    def forward(self, input_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                position_ids: Tensor | None = None, past_key_values: Any = None,
                inputs_embeds: Tensor | None = None, use_cache: bool | None = None, labels: Tensor | None = None,
                output_attentions: bool | None = None, output_hidden_states: bool | None = None,
                return_dict: bool | None = None, logits_to_keep: int = 0) -> CausalLMOutputWithPast | tuple:
        """``logits_to_keep=n`` computes logits of the last n tokens only (0 = all), as the reference."""
        base = self.model(input_ids, attention_mask, position_ids, past_key_values, inputs_embeds, use_cache,
                          output_attentions, output_hidden_states, return_dict=True)
        return returned(causal_lm_output(self.lm_head, base, labels, logits_to_keep), return_dict, self.config)


class _LlamaLabelledHead(LlamaPreTrainedModel):
    """The forward of the heads trained with ``labels`` (sequence and token classification): the base model,
    then the class's ``_head(base, labels, input_ids)``."""

    def forward(self, input_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                position_ids: Tensor | None = None, past_key_values: Any = None,
                inputs_embeds: Tensor | None = None, use_cache: bool | None = None, labels: Tensor | None = None,
                output_attentions: bool | None = None, output_hidden_states: bool | None = None,
                return_dict: bool | None = None) -> ModelOutput | tuple:
        base = self.model(input_ids, attention_mask, position_ids, past_key_values, inputs_embeds, use_cache,
                          output_attentions, output_hidden_states, return_dict=True)
        return returned(self._head(base, labels, input_ids), return_dict, self.config)


class LlamaForSequenceClassification(LastTokenClassificationHead, _LlamaLabelledHead):
    """The last non-pad token's hidden state -> linear (no bias): logits (B, num_labels)."""

    def __init__(self, config: LlamaConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.model = LlamaModel(config)
        self.score = nn.Linear(config.hidden_size, config.num_labels, bias=False)
        self.post_init()


class LlamaForTokenClassification(_LlamaLabelledHead):
    """Every token -> dropout -> linear ("score"): logits (B, T, num_labels)."""

    def __init__(self, config: LlamaConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.model = LlamaModel(config)
        self.dropout = nn.Dropout(decoder_classifier_dropout(config))
        self.score = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def _head(self, base: BaseModelOutputWithPast, labels: Tensor | None,
              input_ids: Tensor | None) -> TokenClassifierOutput:
        logits = self.score(self.dropout(base.last_hidden_state))  # (B, T, num_labels)
        return token_classifier_output(logits, labels, base, upcast=True)


class LlamaForQuestionAnswering(LlamaPreTrainedModel):
    """Every token -> linear -> (start, end) logits, each (B, T)."""

    base_model_prefix = "transformer"  # the reference's checkpoint key for this head (kept for compatibility)

    def __init__(self, config: LlamaConfig) -> None:
        super().__init__(config)
        self.transformer = LlamaModel(config)
        self.qa_outputs = nn.Linear(config.hidden_size, 2)
        self.post_init()

    def forward(self, input_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                position_ids: Tensor | None = None, past_key_values: Any = None,
                inputs_embeds: Tensor | None = None, start_positions: Tensor | None = None,
                end_positions: Tensor | None = None, output_attentions: bool | None = None,
                output_hidden_states: bool | None = None, return_dict: bool | None = None
                ) -> QuestionAnsweringModelOutput | tuple:
        base = self.transformer(input_ids, attention_mask, position_ids, past_key_values, inputs_embeds, False,
                                output_attentions, output_hidden_states, return_dict=True)
        out = question_answering_output(self.qa_outputs(base.last_hidden_state), start_positions, end_positions, base)
        return returned(out, return_dict, self.config)
