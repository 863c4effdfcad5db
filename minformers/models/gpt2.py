"""GPT-2 (Radford et al. 2019, https://openai.com/research/better-language-models), in data-flow order.

Config -> Attention -> MLP -> Block -> GPT2Model -> heads (the causal mask, grouped attention and LM loss
it shares with Llama are in models/base.py). Attribute names are checkpoint keys (``transformer.h.0.attn.c_attn.weight``).

GPT-2's projections are ``Conv1D`` layers, a relic of the original TensorFlow code: the weight is stored
**transposed** compared with ``nn.Linear`` — shape (in_features, out_features) — and applied as
``x @ W + b``. We keep that layout so checkpoints load unchanged.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from ..generation.cache import DynamicCache, StaticCache
from ..configuration import PretrainedConfig
from ..generation import GenerationMixin
from ..kernels import Conv1D  # Conv1D: GPT-2's transposed linear layer, with the other linear kernels
from ..modeling import PreTrainedModel
from ..outputs import (
    ModelOutput,
    BaseModelOutputWithPast,
    CausalLMOutputWithPast,
    QuestionAnsweringModelOutput,
    TokenClassifierOutput,
)
from .base import (
    activation,
    check_ids_or_embeds,
    check_length,
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


class GPT2Config(PretrainedConfig):
    """gpt2 (124M) by default; field names are config.json keys."""

    model_type: ClassVar[str] = "gpt2"
    attribute_map: ClassVar[dict[str, str]] = {
        "hidden_size": "n_embd", "max_position_embeddings": "n_positions",
        "num_attention_heads": "n_head", "num_hidden_layers": "n_layer",
    }
    vocab_size: int = 50257  # V
    n_positions: int = 1024  # context length
    n_embd: int = 768  # H
    n_layer: int = 12  # L
    n_head: int = 12  # nh; hs = H // nh
    n_inner: int | None = None  # MLP width; None -> 4 H
    activation_function: str = "gelu_new"  # tanh-approximated GELU
    resid_pdrop: float = 0.1
    embd_pdrop: float = 0.1
    attn_pdrop: float = 0.1
    layer_norm_epsilon: float = 1e-5
    initializer_range: float = 0.02
    summary_type: str = "cls_index"
    summary_use_proj: bool = True
    summary_activation: str | None = None
    summary_proj_to_labels: bool = True
    summary_first_dropout: float = 0.1
    scale_attn_weights: bool = True  # divide scores by sqrt(hs)
    use_cache: bool = True
    bos_token_id: int | None = 50256
    eos_token_id: int | None = 50256
    scale_attn_by_inverse_layer_idx: bool = False  # also divide scores of layer i by i + 1
    reorder_and_upcast_attn: bool = False  # fp32 attention scores (a no-op in fp32)


class GPT2Attention(nn.Module):
    # B batch, T new tokens, S cached + new, H hidden, nh heads, hs head size (H = nh * hs)
    def __init__(self, config: GPT2Config, layer_idx: int) -> None:
        super().__init__()
        if config.n_embd % config.n_head:
            raise ValueError(f"n_embd {config.n_embd} is not a multiple of n_head {config.n_head}")
        self.nh, self.hs, self.layer_idx = config.n_head, config.n_embd // config.n_head, layer_idx
        self.c_attn = Conv1D(3 * config.n_embd, config.n_embd)  # fused q, k, v
        self.c_proj = Conv1D(config.n_embd, config.n_embd)
        self.attn_dropout_p = config.attn_pdrop
        self.resid_dropout = nn.Dropout(config.resid_pdrop)
        self.scale = (1.0 / math.sqrt(self.hs) if config.scale_attn_weights else 1.0)
        if config.scale_attn_by_inverse_layer_idx:
            self.scale /= float(layer_idx + 1)

    def forward(self, x: Tensor, mask: Tensor | None, is_causal: bool, cache: Any,
                output_attentions: bool) -> tuple[Tensor, Tensor | None]:
        B, T, H = x.shape
        q, k, v = self.c_attn(x).split(H, dim=2)  # each (B, T, H)
        q = q.view(B, T, self.nh, self.hs).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, self.nh, self.hs).transpose(1, 2)
        v = v.view(B, T, self.nh, self.hs).transpose(1, 2)
        if cache is not None:
            k, v = cache.update(self.layer_idx, k, v)  # (B, nh, S, hs)
        p = self.attn_dropout_p if self.training else 0.0
        y, probs = decoder_attention(q, k, v, mask, is_causal, self.scale, p, output_attentions)  # (B, nh, T, hs)
        y = y.transpose(1, 2).reshape(B, T, H)
        return self.resid_dropout(self.c_proj(y)), probs


class GPT2MLP(nn.Module):
    def __init__(self, config: GPT2Config) -> None:
        super().__init__()
        inner = config.n_inner or 4 * config.n_embd
        self.c_fc = Conv1D(inner, config.n_embd)
        self.act = activation(config.activation_function)
        self.c_proj = Conv1D(config.n_embd, inner)
        self.dropout = nn.Dropout(config.resid_pdrop)

    def forward(self, x: Tensor) -> Tensor:
        return self.dropout(self.c_proj(self.act(self.c_fc(x))))


class GPT2Block(nn.Module):
    """Pre-norm: x + attn(ln_1(x)), then x + mlp(ln_2(x))."""

    def __init__(self, config: GPT2Config, layer_idx: int) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        self.attn = GPT2Attention(config, layer_idx)
        self.ln_2 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        self.mlp = GPT2MLP(config)

    def forward(self, x: Tensor, mask: Tensor | None, is_causal: bool, cache: Any,
                output_attentions: bool) -> tuple[Tensor, Tensor | None]:
        y, probs = self.attn(self.ln_1(x), mask, is_causal, cache, output_attentions)
        x = x + y
        return x + self.mlp(self.ln_2(x)), probs


class GPT2PreTrainedModel(PreTrainedModel):
    config_class = GPT2Config
    base_model_prefix = "transformer"
    # old checkpoints saved the causal-mask buffers ("h.0.attn.bias", "h.0.attn.masked_bias")
    _keys_to_ignore_on_load_unexpected: ClassVar[list[str]] = [r"attn\.masked_bias$", r"\.attn\.bias$"]

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, Conv1D):
            nn.init.normal_(module.weight, mean=0.0, std=self.config.initializer_range)
            nn.init.zeros_(module.bias)
        else:
            super()._init_weights(module)


class GPT2Model(GPT2PreTrainedModel):
    """Token + position embeddings -> L blocks -> final LayerNorm: hidden states (B, T, H)."""

    def __init__(self, config: GPT2Config) -> None:
        super().__init__(config)
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.n_positions, config.n_embd)
        self.drop = nn.Dropout(config.embd_pdrop)
        self.h = nn.ModuleList(GPT2Block(config, i) for i in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.wte

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.wte = value

    def make_cache(self, batch_size: int, max_length: int, dtype: torch.dtype | None = None) -> Any:
        """A StaticCache for generate(): (batch_size, nh, max_length, hs) per layer."""
        cfg = self.config
        return StaticCache(cfg.n_layer, batch_size, cfg.n_head, cfg.n_embd // cfg.n_head, max_length,
                           dtype=dtype or self.wte.weight.dtype, device=self.wte.weight.device)

    def forward(
        self,
        input_ids: Tensor | None = None,  # (B, T)
        attention_mask: Tensor | None = None,  # (B, P + T), 1 = token, 0 = padding
        position_ids: Tensor | None = None,  # (B, T); default P, P+1, ...
        past_key_values: Any = None,  # a minformers.generation.cache cache
        inputs_embeds: Tensor | None = None,  # (B, T, H)
        use_cache: bool | None = None,
        token_type_ids: Tensor | None = None,  # embedded with wte, as the reference
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
        x = self.wte(input_ids) if inputs_embeds is None else inputs_embeds  # (B, T, H)
        T = x.shape[1]
        if use_cache and past_key_values is None:
            past_key_values = DynamicCache()
        P = past_key_values.get_seq_length() if past_key_values is not None else 0
        if position_ids is None:
            check_length(P + T, cfg.n_positions)
            position_ids = torch.arange(P, P + T, device=x.device)[None]  # (1, T)
        x = x + self.wpe(position_ids)
        if token_type_ids is not None:
            x = x + self.wte(token_type_ids)
        x = self.drop(x)
        mask, is_causal = decoder_mask(attention_mask, T, P, x.dtype)

        hidden_states, attentions = (), ()
        for block in self.h:
            if output_hidden_states:
                hidden_states += (x,)
            x, probs = block(x, mask, is_causal, past_key_values, output_attentions)
            if output_attentions:
                attentions += (probs,)
        x = self.ln_f(x)
        if output_hidden_states:
            hidden_states += (x,)
        out = BaseModelOutputWithPast(last_hidden_state=x, past_key_values=past_key_values if use_cache else None,
                                      hidden_states=hidden_states or None, attentions=attentions or None)
        return out if return_dict else out.to_tuple()


# --- heads: base -> (dropout) -> linear; the loss only when labels are given ---
class GPT2LMHeadModel(GenerationMixin, GPT2PreTrainedModel):
    """Hidden states -> vocabulary logits (B, T, V); lm_head is tied to wte."""

    _absolute_positions = True  # generate(): prompt + new tokens must fit n_positions

    def __init__(self, config: GPT2Config) -> None:
        super().__init__(config)
        self.transformer = GPT2Model(config)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.post_init()

    def get_output_embeddings(self) -> nn.Linear:
        return self.lm_head

    def make_cache(self, batch_size: int, max_length: int, dtype: torch.dtype | None = None) -> Any:
        return self.transformer.make_cache(batch_size, max_length, dtype)

    def forward(self, input_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                position_ids: Tensor | None = None, past_key_values: Any = None,
                inputs_embeds: Tensor | None = None, use_cache: bool | None = None, labels: Tensor | None = None,
                token_type_ids: Tensor | None = None, output_attentions: bool | None = None,
                output_hidden_states: bool | None = None, return_dict: bool | None = None,
                logits_to_keep: int = 0) -> CausalLMOutputWithPast | tuple:
        """``logits_to_keep=n`` computes logits of the last n tokens only (0 = all), as the reference."""
        base = self.transformer(input_ids, attention_mask, position_ids, past_key_values, inputs_embeds, use_cache,
                                token_type_ids, output_attentions, output_hidden_states, return_dict=True)
        return returned(causal_lm_output(self.lm_head, base, labels, logits_to_keep), return_dict, self.config)


class _GPT2LabelledHead(GPT2PreTrainedModel):
    """The forward of the heads trained with ``labels`` (sequence and token classification): the base model,
    then the class's ``_head(base, labels, input_ids)``."""

    def forward(self, input_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                position_ids: Tensor | None = None, past_key_values: Any = None,
                inputs_embeds: Tensor | None = None, use_cache: bool | None = None, labels: Tensor | None = None,
                token_type_ids: Tensor | None = None, output_attentions: bool | None = None,
                output_hidden_states: bool | None = None, return_dict: bool | None = None
                ) -> ModelOutput | tuple:
        base = self.transformer(input_ids, attention_mask, position_ids, past_key_values, inputs_embeds, use_cache,
                                token_type_ids, output_attentions, output_hidden_states, return_dict=True)
        return returned(self._head(base, labels, input_ids), return_dict, self.config)


class GPT2ForSequenceClassification(LastTokenClassificationHead, _GPT2LabelledHead):
    """The last non-pad token's hidden state -> linear (no bias): logits (B, num_labels)."""

    def __init__(self, config: GPT2Config) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.transformer = GPT2Model(config)
        self.score = nn.Linear(config.n_embd, config.num_labels, bias=False)
        self.post_init()


class GPT2ForTokenClassification(_GPT2LabelledHead):
    """Every token -> dropout -> linear: logits (B, T, num_labels)."""

    def __init__(self, config: GPT2Config) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.transformer = GPT2Model(config)
        self.dropout = nn.Dropout(decoder_classifier_dropout(config))
        self.classifier = nn.Linear(config.n_embd, config.num_labels)
        self.post_init()

    def _head(self, base: BaseModelOutputWithPast, labels: Tensor | None,
              input_ids: Tensor | None) -> TokenClassifierOutput:
        logits = self.classifier(self.dropout(base.last_hidden_state))  # (B, T, num_labels)
        return token_classifier_output(logits, labels, base)


class GPT2ForQuestionAnswering(GPT2PreTrainedModel):
    """Every token -> linear -> (start, end) logits, each (B, T)."""

    def __init__(self, config: GPT2Config) -> None:
        super().__init__(config)
        self.transformer = GPT2Model(config)
        self.qa_outputs = nn.Linear(config.n_embd, 2)
        self.post_init()

    def forward(self, input_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                position_ids: Tensor | None = None, past_key_values: Any = None,
                inputs_embeds: Tensor | None = None, start_positions: Tensor | None = None,
                end_positions: Tensor | None = None, token_type_ids: Tensor | None = None,
                output_attentions: bool | None = None, output_hidden_states: bool | None = None,
                return_dict: bool | None = None) -> QuestionAnsweringModelOutput | tuple:
        base = self.transformer(input_ids, attention_mask, position_ids, past_key_values, inputs_embeds, False,
                                token_type_ids, output_attentions, output_hidden_states, return_dict=True)
        out = question_answering_output(self.qa_outputs(base.last_hidden_state), start_positions, end_positions, base)
        return returned(out, return_dict, self.config)
