"""Marian (Junczys-Dowmunt et al. 2018, https://arxiv.org/abs/1804.00344): the Opus-MT translation models.

BART's layers (models/bart.py) with three differences, so only the embeddings are new here:
fixed sinusoidal positions (sin in the first half of the features, cos in the second; not
saved in checkpoints), no layernorm_embedding, and the pad token as decoder start. The
encoder and decoder may have separate vocabularies (``share_encoder_decoder_embeddings=False``).
Config -> SinusoidalPositions -> Encoder, Decoder -> MarianModel -> MarianMTModel.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from ..generation import GenerationMixin
from .bart import (
    BartConfig,
    BartDecoder,
    BartDecoderLayer,
    BartEncoder,
    BartEncoderLayer,
    BartForConditionalGeneration,
    BartModel,
    BartPreTrainedModel,
)
from .heads import Seq2SeqLMMixin


class MarianConfig(BartConfig):
    """Helsinki-NLP/opus-mt-en-de style by default; field names are config.json keys."""

    model_type: ClassVar[str] = "marian"
    vocab_size: int = 58101
    decoder_vocab_size: int | None = None  # None -> vocab_size
    share_encoder_decoder_embeddings: bool = True
    pad_token_id: int | None = 58100
    eos_token_id: int | None = 0
    bos_token_id: int | None = None
    decoder_start_token_id: int | None = 58100  # the pad token starts every translation
    forced_eos_token_id: int | None = 0
    _default_num_labels: ClassVar[int | None] = None  # the reference's MarianConfig() has 2 labels
    _dropped_fields: ClassVar[tuple[str, ...]] = ("classifier_dropout",)  # no Marian classification head

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.decoder_vocab_size is None:
            self.decoder_vocab_size = self.vocab_size


@lru_cache(maxsize=8)
def _sinusoidal_table(n_pos: int, dim: int) -> Tensor:
    """(n_pos, dim): sin(pos / 10000^(2i/dim)) in columns [0, dim/2), cos in [dim/2, dim). Computed in float64."""
    pos = torch.arange(n_pos, dtype=torch.float64)[:, None]  # (n_pos, 1)
    j = torch.arange(dim, dtype=torch.float64)
    angle = pos / torch.pow(10000.0, 2 * torch.div(j, 2, rounding_mode="floor") / dim)  # (n_pos, dim)
    half = (dim + 1) // 2
    table = torch.empty(n_pos, dim)
    table[:, :half] = torch.sin(angle[:, 0::2]).float()
    table[:, half:] = torch.cos(angle[:, 1::2]).float()
    return table


class MarianSinusoidalPositionalEmbedding(nn.Module):
    """Fixed positions; a computed table, not a weight (the reference neither saves nor trains it).

    The table is computed once per shape in fp32 and given in the caller's dtype, so it follows
    `model.to(dtype)` as the reference's (a weight, cast with the model) does."""

    def __init__(self, num_positions: int, embedding_dim: int) -> None:
        super().__init__()
        self.num_positions, self.embedding_dim = num_positions, embedding_dim

    def forward(self, position_ids: Tensor, dtype: torch.dtype = torch.float32) -> Tensor:  # (T,) -> (T, H)
        table = _sinusoidal_table(self.num_positions, self.embedding_dim)
        return table.to(position_ids.device)[position_ids].to(dtype)


class MarianEncoder(BartEncoder):
    def __init__(self, config: MarianConfig, embed_tokens: nn.Embedding) -> None:
        nn.Module.__init__(self)
        self.config = config
        self.embed_tokens = embed_tokens
        self.embed_scale = math.sqrt(config.d_model) if config.scale_embedding else 1.0
        self.embed_positions = MarianSinusoidalPositionalEmbedding(config.max_position_embeddings, config.d_model)
        self.layers = nn.ModuleList(BartEncoderLayer(config, i) for i in range(config.encoder_layers))

    def embed(self, input_ids: Tensor | None, inputs_embeds: Tensor | None) -> Tensor:
        if inputs_embeds is None:
            inputs_embeds = self.embed_tokens(input_ids) * self.embed_scale  # (B, S, H)
        S = inputs_embeds.size(1)
        if S > self.config.max_position_embeddings:
            raise ValueError(f"Input is {S} tokens long, but this model accepts at most "
                             f"{self.config.max_position_embeddings} (max_position_embeddings)")
        return inputs_embeds + self.embed_positions(torch.arange(S, device=inputs_embeds.device), inputs_embeds.dtype)


class MarianDecoder(BartDecoder):
    def __init__(self, config: MarianConfig, embed_tokens: nn.Embedding) -> None:
        nn.Module.__init__(self)
        self.config = config
        self.embed_tokens = embed_tokens
        self.embed_scale = math.sqrt(config.d_model) if config.scale_embedding else 1.0
        self.embed_positions = MarianSinusoidalPositionalEmbedding(config.max_position_embeddings, config.d_model)
        self.layers = nn.ModuleList(BartDecoderLayer(config, i) for i in range(config.decoder_layers))

    def embed(self, input_ids: Tensor | None, inputs_embeds: Tensor | None, past: int) -> Tensor:
        if inputs_embeds is None:
            inputs_embeds = self.embed_tokens(input_ids) * self.embed_scale  # (B, T, H)
        T = inputs_embeds.size(1)
        positions = torch.arange(past, past + T, device=inputs_embeds.device)
        return inputs_embeds + self.embed_positions(positions, inputs_embeds.dtype)


class MarianPreTrainedModel(BartPreTrainedModel):
    config_class = MarianConfig
    # old checkpoints saved the sinusoidal tables; they are recomputed
    _keys_to_ignore_on_load_unexpected: ClassVar[list[str]] = [r"position_ids$", r"embed_positions\.weight$"]


class MarianModel(MarianPreTrainedModel):
    """Encoder-decoder: decoder last_hidden_state (B, T, H), encoder_last_hidden_state (B, S, H)."""

    def __init__(self, config: MarianConfig) -> None:
        super().__init__(config)
        pad = config.pad_token_id
        if config.share_encoder_decoder_embeddings:
            self.shared = nn.Embedding(config.vocab_size, config.d_model, pad)
            encoder_embed = decoder_embed = self.shared  # one module, three checkpoint names
        else:
            self.shared = None
            encoder_embed = nn.Embedding(config.vocab_size, config.d_model, pad)
            decoder_embed = nn.Embedding(config.vocab_size, config.d_model, pad)  # vocab_size rows, as the reference
        self.encoder = MarianEncoder(config, encoder_embed)
        self.decoder = MarianDecoder(config, decoder_embed)
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.encoder.embed_tokens

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        if self.config.share_encoder_decoder_embeddings:
            self.shared = self.encoder.embed_tokens = self.decoder.embed_tokens = value
        else:
            self.encoder.embed_tokens = value

    def get_encoder(self) -> nn.Module:
        return self.encoder

    def get_decoder(self) -> nn.Module:
        return self.decoder

    forward = BartModel.forward  # the same wiring: encoder once, decoder with cross-attention


class MarianMTModel(GenerationMixin, Seq2SeqLMMixin, MarianPreTrainedModel):
    """Translation: decoder states -> lm_head (tied to the decoder embeddings) + final_logits_bias."""

    def __init__(self, config: MarianConfig) -> None:
        super().__init__(config)
        self.model = MarianModel(config)
        V = config.vocab_size if config.share_encoder_decoder_embeddings else config.decoder_vocab_size
        self.register_buffer("final_logits_bias", torch.zeros(1, V))  # (1, V), saved
        self.lm_head = nn.Linear(config.d_model, V, bias=False)
        self.post_init()

    def get_output_embeddings(self) -> nn.Linear:
        return self.lm_head

    def tie_weights(self) -> None:
        """lm_head shares the *decoder's* embeddings (they differ from the encoder's when not shared)."""
        if self.config.tie_word_embeddings:
            self.lm_head.weight = self.model.decoder.embed_tokens.weight

    _lm_logits = BartForConditionalGeneration._lm_logits  # + final_logits_bias; the forward is heads.py's


MarianForConditionalGeneration = MarianMTModel  # the naming convention AutoModelForSeq2SeqLM looks for
