"""BART (Lewis et al. 2019, https://arxiv.org/abs/1910.13461), top to bottom in data-flow order.

A post-norm Transformer encoder-decoder: Config -> embeddings (learned positions with an
offset of 2) -> Attention (self / causal self / cross) -> EncoderLayer, DecoderLayer ->
Encoder, Decoder -> BartModel -> heads (BartForCausalLM: the decoder alone; the other heads'
forwards are models/heads.py's, shared with T5). Marian (models/marian.py) reuses the attention,
the layers and the heads. Attribute names are checkpoint keys
(``model.decoder.layers.0.encoder_attn.k_proj.weight``).

Decoding with a cache: the decoder takes an :class:`~minformers.generation.cache.EncoderDecoderCache`;
self-attention keys/values grow with ``cache.update``, cross-attention keys/values of the
encoder output are computed on the first step only (``cache.cross`` / ``cache.set_cross``).
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
from ..outputs import (
    BaseModelOutput,
    BaseModelOutputWithPastAndCrossAttentions,
    CausalLMOutputWithCrossAttentions,
    Seq2SeqModelOutput,
)
from .base import (
    activation,
    attention,
    causal_mask,
    check_ids_or_embeds,
    layer_head_masks,
    padding_mask,
    token_loss,
)
from .heads import (  # shared with T5
    Seq2SeqClassificationHead,
    Seq2SeqLMMixin,
    Seq2SeqQuestionAnsweringMixin,
    Seq2SeqSequenceClassificationMixin,
)
from .seq2seq_utils import (  # shared with Marian and T5
    default_decoder_input_ids,
    encode_decode,
    run_decoder_layers,
    self_or_cross_kv,
    shift_tokens_right,
)


class BartConfig(PretrainedConfig):
    """facebook/bart-large by default; field names are config.json keys."""

    model_type: ClassVar[str] = "bart"
    attribute_map: ClassVar[dict[str, str]] = {"num_attention_heads": "encoder_attention_heads",
                                               "hidden_size": "d_model"}
    vocab_size: int = 50265  # V
    max_position_embeddings: int = 1024
    encoder_layers: int = 12
    encoder_ffn_dim: int = 4096
    encoder_attention_heads: int = 16
    decoder_layers: int = 12
    decoder_ffn_dim: int = 4096
    decoder_attention_heads: int = 16
    encoder_layerdrop: float = 0.0  # training only: the chance to skip a layer (https://arxiv.org/abs/1909.11556)
    decoder_layerdrop: float = 0.0
    activation_function: str = "gelu"
    d_model: int = 1024  # H
    dropout: float = 0.1
    attention_dropout: float = 0.0
    activation_dropout: float = 0.0
    init_std: float = 0.02
    classifier_dropout: float = 0.0
    scale_embedding: bool = False  # multiply token embeddings by sqrt(d_model)
    use_cache: bool = True
    num_hidden_layers: int | None = None  # None -> encoder_layers (the reference stores it in config.json)
    pad_token_id: int | None = 1
    bos_token_id: int | None = 0
    eos_token_id: int | None = 2
    is_encoder_decoder: bool = True
    decoder_start_token_id: int | None = 2
    forced_eos_token_id: int | None = 2
    forced_bos_token_id: int | None = None

    _default_num_labels: ClassVar[int | None] = 3  # the reference's BartConfig() has 3 labels (MNLI)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if self._default_num_labels is not None and kwargs.get("id2label") is None and "num_labels" not in kwargs:
            kwargs["num_labels"] = self._default_num_labels
        super().__init__(*args, **kwargs)
        if self.num_hidden_layers is None:
            self.num_hidden_layers = self.encoder_layers


class BartLearnedPositionalEmbedding(nn.Embedding):
    """Learned absolute positions; position p is row p + 2 (fairseq reserved rows 0 and 1)."""

    offset: ClassVar[int] = 2

    def __init__(self, num_embeddings: int, embedding_dim: int) -> None:
        super().__init__(num_embeddings + self.offset, embedding_dim)

    def forward(self, position_ids: Tensor) -> Tensor:  # (T,) -> (T, H)
        return super().forward(position_ids + self.offset)


class BartScaledWordEmbedding(nn.Embedding):
    """Token embeddings multiplied by embed_scale (sqrt(d_model) when config.scale_embedding)."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None,
                 embed_scale: float = 1.0) -> None:
        super().__init__(num_embeddings, embedding_dim, padding_idx)
        self.embed_scale = embed_scale

    def forward(self, input_ids: Tensor) -> Tensor:
        return super().forward(input_ids) * self.embed_scale


class BartAttention(nn.Module):
    # B batch, T query tokens, S key tokens, H = d_model, nh heads, hs head size (H = nh * hs)
    def __init__(self, embed_dim: int, num_heads: int, dropout: float, layer_idx: int) -> None:
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"d_model {embed_dim} is not a multiple of the number of heads {num_heads}")
        self.nh, self.hs = num_heads, embed_dim // num_heads
        self.dropout_p = dropout
        self.layer_idx = layer_idx  # where this layer's keys/values live in a cache
        self.k_proj = nn.Linear(embed_dim, embed_dim)
        self.v_proj = nn.Linear(embed_dim, embed_dim)
        self.q_proj = nn.Linear(embed_dim, embed_dim)
        self.out_proj = nn.Linear(embed_dim, embed_dim)

    def _heads(self, x: Tensor) -> Tensor:  # (B, T, H) -> (B, nh, T, hs)
        return x.view(x.size(0), x.size(1), self.nh, self.hs).transpose(1, 2)

    def forward(self, x: Tensor, mask: Tensor | None, cache: EncoderDecoderCache | None = None,
                encoder_states: Tensor | None = None, output_attentions: bool = False,
                head_mask: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """Self-attention over x (keys/values appended to `cache`), or cross-attention over
        `encoder_states` (keys/values computed once and kept in `cache`)."""
        B, T, H = x.shape
        q = self._heads(self.q_proj(x))  # (B, nh, T, hs)
        k, v = self_or_cross_kv(self._heads, self.k_proj, self.v_proj, x, encoder_states, cache,
                                self.layer_idx)  # (B, nh, T_past + T or S, hs)
        p = self.dropout_p if self.training else 0.0
        y, probs = attention(q, k, v, mask, p, output_attentions, head_mask)  # (B, nh, T, hs)
        return self.out_proj(y.transpose(1, 2).reshape(B, T, H)), probs  # (B, T, H)


class BartEncoderLayer(nn.Module):
    """Post-norm: x = LN(x + SelfAttn(x)); x = LN(x + fc2(act(fc1(x))))."""

    def __init__(self, config: BartConfig, layer_idx: int) -> None:
        super().__init__()
        H = config.d_model
        self.self_attn = BartAttention(H, config.encoder_attention_heads, config.attention_dropout, layer_idx)
        self.self_attn_layer_norm = nn.LayerNorm(H)
        self.activation_fn = activation(config.activation_function)
        self.fc1 = nn.Linear(H, config.encoder_ffn_dim)
        self.fc2 = nn.Linear(config.encoder_ffn_dim, H)
        self.final_layer_norm = nn.LayerNorm(H)
        self.dropout, self.activation_dropout = config.dropout, config.activation_dropout

    def forward(self, x: Tensor, mask: Tensor | None, output_attentions: bool = False,
                head_mask: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        a, probs = self.self_attn(x, mask, output_attentions=output_attentions, head_mask=head_mask)
        x = self.self_attn_layer_norm(x + F.dropout(a, self.dropout, self.training))
        h = F.dropout(self.activation_fn(self.fc1(x)), self.activation_dropout, self.training)
        x = self.final_layer_norm(x + F.dropout(self.fc2(h), self.dropout, self.training))
        if x.dtype == torch.float16:  # as the reference: keep fp16 activations finite
            bound = torch.finfo(x.dtype).max - 1000
            x = x.clamp(-bound, bound)
        return x, probs  # (B, S, H)


class BartDecoderLayer(nn.Module):
    """Post-norm: causal self-attention, cross-attention over the encoder output, MLP."""

    def __init__(self, config: BartConfig, layer_idx: int) -> None:
        super().__init__()
        H, nh = config.d_model, config.decoder_attention_heads
        self.self_attn = BartAttention(H, nh, config.attention_dropout, layer_idx)
        self.self_attn_layer_norm = nn.LayerNorm(H)
        self.encoder_attn = BartAttention(H, nh, config.attention_dropout, layer_idx)
        self.encoder_attn_layer_norm = nn.LayerNorm(H)
        self.activation_fn = activation(config.activation_function)
        self.fc1 = nn.Linear(H, config.decoder_ffn_dim)
        self.fc2 = nn.Linear(config.decoder_ffn_dim, H)
        self.final_layer_norm = nn.LayerNorm(H)
        self.dropout, self.activation_dropout = config.dropout, config.activation_dropout

    def forward(self, x: Tensor, self_mask: Tensor | None, encoder_states: Tensor | None,
                enc_mask: Tensor | None, cache: EncoderDecoderCache | None, output_attentions: bool = False,
                head_mask: Tensor | None = None, cross_head_mask: Tensor | None = None
                ) -> tuple[Tensor, Tensor | None, Tensor | None]:
        a, self_probs = self.self_attn(x, self_mask, cache, None, output_attentions, head_mask)
        x = self.self_attn_layer_norm(x + F.dropout(a, self.dropout, self.training))
        cross_probs = None
        if encoder_states is not None:
            a, cross_probs = self.encoder_attn(x, enc_mask, cache, encoder_states, output_attentions, cross_head_mask)
            x = self.encoder_attn_layer_norm(x + F.dropout(a, self.dropout, self.training))
        h = F.dropout(self.activation_fn(self.fc1(x)), self.activation_dropout, self.training)
        x = self.final_layer_norm(x + F.dropout(self.fc2(h), self.dropout, self.training))
        return x, self_probs, cross_probs  # (B, T, H)


class BartEncoder(nn.Module):
    """Token + position embeddings, layernorm_embedding, N encoder layers: (B, S) -> (B, S, H).

    ``model.get_encoder()`` returns this; call it like the reference's encoder.
    """

    def __init__(self, config: BartConfig, embed_tokens: nn.Embedding) -> None:
        super().__init__()
        self.config = config
        self.embed_tokens = embed_tokens  # the same module as model.shared (tied)
        self.embed_positions = BartLearnedPositionalEmbedding(config.max_position_embeddings, config.d_model)
        self.layers = nn.ModuleList(BartEncoderLayer(config, i) for i in range(config.encoder_layers))
        self.layernorm_embedding = nn.LayerNorm(config.d_model)

    def embed(self, input_ids: Tensor | None, inputs_embeds: Tensor | None) -> Tensor:
        if inputs_embeds is None:
            inputs_embeds = self.embed_tokens(input_ids)  # (B, S, H)
        S = inputs_embeds.size(1)
        if S > self.config.max_position_embeddings:
            raise ValueError(f"Input is {S} tokens long, but this model accepts at most "
                             f"{self.config.max_position_embeddings} (max_position_embeddings)")
        x = inputs_embeds + self.embed_positions(torch.arange(S, device=inputs_embeds.device))
        return self.layernorm_embedding(x)

    def forward(self, input_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                head_mask: Tensor | None = None, inputs_embeds: Tensor | None = None,
                output_attentions: bool | None = None, output_hidden_states: bool | None = None,
                return_dict: bool | None = None) -> BaseModelOutput | tuple:
        cfg = self.config
        output_attentions = cfg.output_attentions if output_attentions is None else output_attentions
        output_hidden_states = cfg.output_hidden_states if output_hidden_states is None else output_hidden_states
        return_dict = cfg.use_return_dict if return_dict is None else return_dict
        check_ids_or_embeds(input_ids, inputs_embeds)
        warn_if_padding_and_no_attention_mask(self, cfg, input_ids, attention_mask)  # the encoder's input only
        x = F.dropout(self.embed(input_ids, inputs_embeds), cfg.dropout, self.training)  # (B, S, H)
        mask = padding_mask(attention_mask, x.dtype)  # (B, 1, 1, S) or None
        hidden_states = () if output_hidden_states else None
        attentions = () if output_attentions else None
        for layer, hm in zip(self.layers, layer_head_masks(head_mask, len(self.layers), x.dtype)):
            if output_hidden_states:
                hidden_states += (x,)
            if self.training and float(torch.rand([])) < cfg.encoder_layerdrop:  # LayerDrop, drawn as the reference
                probs = None  # the layer is skipped
            else:
                x, probs = layer(x, mask, output_attentions, hm)
            if output_attentions:
                attentions += (probs,)
        if output_hidden_states:
            hidden_states += (x,)
        out = BaseModelOutput(last_hidden_state=x, hidden_states=hidden_states, attentions=attentions)
        return out if return_dict else out.to_tuple()


class BartDecoder(nn.Module):
    """Token + position embeddings, layernorm_embedding, N decoder layers: (B, T) -> (B, T, H)."""

    def __init__(self, config: BartConfig, embed_tokens: nn.Embedding) -> None:
        super().__init__()
        self.config = config
        self.embed_tokens = embed_tokens
        self.embed_positions = BartLearnedPositionalEmbedding(config.max_position_embeddings, config.d_model)
        self.layers = nn.ModuleList(BartDecoderLayer(config, i) for i in range(config.decoder_layers))
        self.layernorm_embedding = nn.LayerNorm(config.d_model)

    def embed(self, input_ids: Tensor | None, inputs_embeds: Tensor | None, past: int) -> Tensor:
        if inputs_embeds is None:
            inputs_embeds = self.embed_tokens(input_ids)  # (B, T, H)
        T = inputs_embeds.size(1)
        positions = torch.arange(past, past + T, device=inputs_embeds.device)  # absolute positions of the new tokens
        return self.layernorm_embedding(inputs_embeds + self.embed_positions(positions))

    def forward(self, input_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                encoder_hidden_states: Tensor | None = None, encoder_attention_mask: Tensor | None = None,
                head_mask: Tensor | None = None, cross_attn_head_mask: Tensor | None = None,
                past_key_values: EncoderDecoderCache | None = None, inputs_embeds: Tensor | None = None,
                use_cache: bool | None = None, output_attentions: bool | None = None,
                output_hidden_states: bool | None = None, return_dict: bool | None = None
                ) -> BaseModelOutputWithPastAndCrossAttentions | tuple:
        cfg = self.config
        output_attentions = cfg.output_attentions if output_attentions is None else output_attentions
        output_hidden_states = cfg.output_hidden_states if output_hidden_states is None else output_hidden_states
        use_cache = cfg.use_cache if use_cache is None else use_cache
        return_dict = cfg.use_return_dict if return_dict is None else return_dict
        check_ids_or_embeds(input_ids, inputs_embeds, "decoder_input_ids")
        cache = past_key_values
        if use_cache and cache is None and not (self.training and cfg.decoder_layerdrop > 0):  # see LayerDrop below
            cache = EncoderDecoderCache()
        past = cache.get_seq_length() if cache is not None else 0
        x = self.embed(input_ids, inputs_embeds, past)  # (B, T, H)
        x = F.dropout(x, cfg.dropout, self.training)
        B, T, _ = x.shape
        self_mask = causal_mask(attention_mask, T, past, x.dtype, x.device)  # (B|1, 1, T, past + T) or None
        enc_mask = padding_mask(encoder_attention_mask, x.dtype) if encoder_hidden_states is not None else None
        head_masks = layer_head_masks(head_mask, len(self.layers), x.dtype)
        cross_head_masks = layer_head_masks(cross_attn_head_mask, len(self.layers), x.dtype)
        x, hidden_states, attentions, cross_attentions = run_decoder_layers(
            self.layers, x, self_mask, encoder_hidden_states, enc_mask, cache, head_masks, cross_head_masks,
            output_attentions, output_hidden_states, collect_cross=encoder_hidden_states is not None,
            layerdrop=cfg.decoder_layerdrop)
        if output_hidden_states:
            hidden_states += (x,)
        out = BaseModelOutputWithPastAndCrossAttentions(
            last_hidden_state=x, past_key_values=cache if use_cache else None, hidden_states=hidden_states,
            attentions=attentions, cross_attentions=cross_attentions)
        return out if return_dict else out.to_tuple()


class BartPreTrainedModel(PreTrainedModel):
    config_class = BartConfig
    base_model_prefix = "model"
    _keys_to_ignore_on_load_unexpected: ClassVar[list[str]] = [r"position_ids$", r"encoder\.version$",
                                                               r"decoder\.version$"]

    def _init_weights(self, module: nn.Module) -> None:
        """The reference's init with std = config.init_std."""
        std = self.config.init_std
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=std)
            if module.padding_idx is not None:
                with torch.no_grad():
                    module.weight[module.padding_idx].zero_()
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)

    def _fix_prefix(self, state_dict: dict[str, Tensor], expected: Any) -> dict[str, Tensor]:
        """final_logits_bias is zeros when the checkpoint lacks it (e.g. a BartModel checkpoint), silently,
        as the reference (its _keys_to_ignore_on_load_missing)."""
        state_dict = super()._fix_prefix(state_dict, expected)
        if "final_logits_bias" in expected and "final_logits_bias" not in state_dict:
            state_dict = {**state_dict, "final_logits_bias": torch.zeros(self.final_logits_bias.shape)}
        return state_dict

    def _shift_right(self, input_ids: Tensor) -> Tensor:
        """Labels (or, for the heads, input_ids) -> decoder inputs: the start token prepended, -100 -> pad."""
        return shift_tokens_right(input_ids, self.config.pad_token_id, self.config.decoder_start_token_id)

    def get_encoder(self) -> nn.Module:
        return self.base_model.encoder

    def get_decoder(self) -> nn.Module:
        return self.base_model.decoder

    def can_generate(self) -> bool:
        return self.get_output_embeddings() is not None

    def make_cache(self, batch_size: int, max_length: int, dtype: torch.dtype | None = None) -> EncoderDecoderCache:
        """For generate(): decoder self-attention keys/values pre-allocated for max_length tokens."""
        cfg, weight = self.config, self.get_input_embeddings().weight
        nh = cfg.decoder_attention_heads
        return EncoderDecoderCache(StaticCache(cfg.decoder_layers, batch_size, nh, cfg.d_model // nh, max_length,
                                               dtype=dtype or weight.dtype, device=weight.device))


class BartModel(BartPreTrainedModel):
    """Encoder-decoder: decoder last_hidden_state (B, T, H), encoder_last_hidden_state (B, S, H)."""

    def __init__(self, config: BartConfig) -> None:
        super().__init__(config)
        embed_scale = math.sqrt(config.d_model) if config.scale_embedding else 1.0
        self.shared = BartScaledWordEmbedding(config.vocab_size, config.d_model, config.pad_token_id, embed_scale)
        # one embedding module, three checkpoint names: shared, encoder.embed_tokens, decoder.embed_tokens
        self.encoder = BartEncoder(config, self.shared)
        self.decoder = BartDecoder(config, self.shared)
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.shared

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.shared = self.encoder.embed_tokens = self.decoder.embed_tokens = value

    def get_encoder(self) -> nn.Module:
        return self.encoder

    def get_decoder(self) -> nn.Module:
        return self.decoder

    def forward(
        self,
        input_ids: Tensor | None = None,  # (B, S) encoder input
        attention_mask: Tensor | None = None,  # (B, S), 1 = token, 0 = padding
        decoder_input_ids: Tensor | None = None,  # (B, T); default: input_ids shifted right
        decoder_attention_mask: Tensor | None = None,  # (B, T_past + T)
        head_mask: Tensor | None = None,  # (L_enc, nh)
        decoder_head_mask: Tensor | None = None,  # (L_dec, nh)
        cross_attn_head_mask: Tensor | None = None,  # (L_dec, nh)
        encoder_outputs: Any = None,  # precomputed encoder output: ModelOutput or tuple
        past_key_values: EncoderDecoderCache | None = None,
        inputs_embeds: Tensor | None = None,
        decoder_inputs_embeds: Tensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> Seq2SeqModelOutput | tuple:
        return_dict = self.config.use_return_dict if return_dict is None else return_dict
        decoder_input_ids = default_decoder_input_ids(input_ids, decoder_input_ids, decoder_inputs_embeds,
                                                      self._shift_right)
        out = encode_decode(self.encoder, self.decoder, input_ids, attention_mask, decoder_input_ids,
                            decoder_attention_mask, head_mask, decoder_head_mask, cross_attn_head_mask,
                            encoder_outputs, past_key_values, inputs_embeds, decoder_inputs_embeds, use_cache,
                            output_attentions, output_hidden_states)
        return out if return_dict else out.to_tuple()


class BartForConditionalGeneration(GenerationMixin, Seq2SeqLMMixin, BartPreTrainedModel):
    """Decoder states -> lm_head (tied to the shared embeddings) + final_logits_bias: logits (B, T, V)."""

    def __init__(self, config: BartConfig) -> None:
        super().__init__(config)
        self.model = BartModel(config)
        self.register_buffer("final_logits_bias", torch.zeros(1, config.vocab_size))  # (1, V), saved
        self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        self.post_init()

    def get_output_embeddings(self) -> nn.Linear:
        return self.lm_head

    def _lm_logits(self, h: Tensor) -> Tensor:  # (B, T, H) -> (B, T, V)
        return self.lm_head(h) + self.final_logits_bias


class BartClassificationHead(Seq2SeqClassificationHead):
    """dropout -> dense -> tanh -> dropout -> out_proj: (B, H) -> (B, num_labels)."""


class BartForSequenceClassification(Seq2SeqSequenceClassificationMixin, BartPreTrainedModel):
    """Decoder state at the last <eos> -> classification head: logits (B, num_labels). Used by zero-shot NLI."""

    def __init__(self, config: BartConfig) -> None:
        super().__init__(config)
        self.model = BartModel(config)
        self.classification_head = BartClassificationHead(config.d_model, config.d_model, config.num_labels,
                                                          config.classifier_dropout)
        self.post_init()


class BartForQuestionAnswering(Seq2SeqQuestionAnsweringMixin, BartPreTrainedModel):
    """Every decoder state -> linear -> (start, end) logits, each (B, T)."""

    def __init__(self, config: BartConfig) -> None:
        super().__init__(config)
        config.num_labels = 2  # as the reference
        self.num_labels = 2
        self.model = BartModel(config)
        self.qa_outputs = nn.Linear(config.d_model, 2)
        self.post_init()


class BartDecoderWrapper(nn.Module):
    """Holds the decoder as ``decoder``, so BartForCausalLM's keys are the reference's (``model.decoder.*``)."""

    def __init__(self, config: BartConfig) -> None:
        super().__init__()
        embed_scale = math.sqrt(config.d_model) if config.scale_embedding else 1.0
        self.decoder = BartDecoder(config, BartScaledWordEmbedding(config.vocab_size, config.d_model,
                                                                   config.pad_token_id, embed_scale))


class BartForCausalLM(GenerationMixin, BartPreTrainedModel):
    """The decoder alone as a left-to-right LM: states -> lm_head (tied to the decoder's embeddings): (B, T, V).

    Decodes over a KV cache like BartForConditionalGeneration's decoder; with ``encoder_hidden_states`` the
    cross-attention is used too (the reference's EncoderDecoderModel use), otherwise it is skipped. As the
    reference, the constructor marks the config ``is_decoder=True, is_encoder_decoder=False``.
    """

    _absolute_positions: ClassVar[bool] = True  # learned positions: prompt + new tokens must fit the table

    def __init__(self, config: BartConfig) -> None:
        config.is_decoder = True
        config.is_encoder_decoder = False
        super().__init__(config)
        self.model = BartDecoderWrapper(config)
        self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.model.decoder.embed_tokens

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.model.decoder.embed_tokens = value

    def get_output_embeddings(self) -> nn.Linear:
        return self.lm_head

    def _fix_prefix(self, state_dict: dict[str, Tensor], expected: Any) -> dict[str, Tensor]:
        """A BartModel / BartForConditionalGeneration checkpoint saves the tied token embeddings once, as
        ``model.shared.weight``: the decoder's embeddings come from there. (The reference leaves them randomly
        initialised in that case; a checkpoint that has ``model.decoder.embed_tokens.weight`` is unaffected.)"""
        state_dict = super()._fix_prefix(state_dict, expected)
        key = "model.decoder.embed_tokens.weight"
        if key not in state_dict and "model.shared.weight" in state_dict:
            state_dict = {**state_dict, key: state_dict["model.shared.weight"]}
        return state_dict

    def forward(self, input_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                encoder_hidden_states: Tensor | None = None, encoder_attention_mask: Tensor | None = None,
                head_mask: Tensor | None = None, cross_attn_head_mask: Tensor | None = None,
                past_key_values: EncoderDecoderCache | None = None, inputs_embeds: Tensor | None = None,
                labels: Tensor | None = None, use_cache: bool | None = None,
                output_attentions: bool | None = None, output_hidden_states: bool | None = None,
                return_dict: bool | None = None, position_ids: Tensor | None = None, logits_to_keep: int = 0
                ) -> CausalLMOutputWithCrossAttentions | tuple:
        """``attention_mask`` is (B, T_past + T). ``logits_to_keep=n`` computes the logits of the last n tokens only
        (0 = all), for generate(). ``position_ids`` is accepted for generate()'s protocol and not used: BART's
        positions count the tokens before (padding included), as the reference's, which has no such argument.

        The loss is the reference's: cross-entropy of logits[:, t] against labels[:, t], *not shifted* --
        labels must already hold the next token of each position (-100 = ignored).
        """
        return_dict = self.config.use_return_dict if return_dict is None else return_dict
        if past_key_values is None:  # cached decoding (generate) masks its own padding
            self.warn_if_padding_and_no_attention_mask(input_ids, attention_mask)
        base = self.model.decoder(input_ids, attention_mask, encoder_hidden_states, encoder_attention_mask,
                                  head_mask, cross_attn_head_mask, past_key_values, inputs_embeds, use_cache,
                                  output_attentions, output_hidden_states, return_dict=True)
        h = base.last_hidden_state  # (B, T, H)
        logits = self.lm_head(h[:, -logits_to_keep:] if logits_to_keep else h)  # (B, T, V)
        loss = token_loss(logits, labels) if labels is not None else None
        out = CausalLMOutputWithCrossAttentions(loss=loss, logits=logits, past_key_values=base.past_key_values,
                                                hidden_states=base.hidden_states, attentions=base.attentions,
                                                cross_attentions=base.cross_attentions)
        return out if return_dict else out.to_tuple()
