"""RoBERTa (Liu et al. 2019, https://arxiv.org/abs/1907.11692): BERT with different position ids and heads.

The encoder is BERT's (models/bert.py) unchanged; what differs, top to bottom:
- positions count from padding_idx + 1 and padding tokens keep position padding_idx
  (fairseq's ``make_positions``), so the longest input is max_position_embeddings - padding_idx - 1;
- no pooler in the heads except multiple choice; sequence classification uses its own
  dense -> tanh -> out_proj head on <s>; the LM head is dense -> GELU -> layer_norm -> decoder.
Checkpoint keys: ``roberta.encoder.layer.0...``, ``lm_head.dense``, ``classifier.out_proj``.
XLM-RoBERTa (models/xlm_roberta.py) is this file with another model_type.
"""

from __future__ import annotations

from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..outputs import BaseModelOutputWithPooling, CausalLMOutputWithCrossAttentions, MaskedLMOutput, SequenceClassifierOutput
from .base import causal_mask, check_length, classifier_dropout, padding_mask, shifted_lm_loss
from .bert import BertConfig, BertEmbeddings, BertModel, BertPreTrainedModel
from .heads import (
    BertStyleHead,
    BertStyleMultipleChoiceHead,
    BertStyleQuestionAnsweringHead,
    TokenClassificationHead,
    masked_lm_output,
    sequence_classifier_output,
)


class RobertaConfig(BertConfig):
    """roberta-base by default (BERT's fields; pad 1, bos 0, eos 2, 50265 tokens)."""

    model_type: ClassVar[str] = "roberta"
    vocab_size: int = 50265
    pad_token_id: int | None = 1
    bos_token_id: int | None = 0
    eos_token_id: int | None = 2


def create_position_ids_from_input_ids(input_ids: Tensor, padding_idx: int, past_length: int = 0) -> Tensor:
    """(B, T) ids -> positions padding_idx+1, padding_idx+2, ... for tokens; padding_idx for padding."""
    mask = input_ids.ne(padding_idx).int()
    return ((torch.cumsum(mask, dim=1).type_as(mask) + past_length) * mask).long() + padding_idx


class RobertaEmbeddings(BertEmbeddings):
    """BERT's embeddings; the position table has a padding row (position ids come from RobertaModel)."""

    def __init__(self, config: RobertaConfig) -> None:
        super().__init__(config)
        self.padding_idx = config.pad_token_id
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size,
                                                padding_idx=config.pad_token_id)


class RobertaPreTrainedModel(BertPreTrainedModel):
    config_class = RobertaConfig
    base_model_prefix = "roberta"

    def _init_weights(self, module: nn.Module) -> None:
        super()._init_weights(module)
        if isinstance(module, RobertaLMHead):
            nn.init.zeros_(module.bias)


class RobertaModel(RobertaPreTrainedModel, BertModel):
    """BERT's encoder with RoBERTa's positions: last_hidden_state (B, T, H) and pooler_output (B, H).
    Causal when config.is_decoder. The forward is BertModel's, with these position ids and mask."""

    embeddings_class = RobertaEmbeddings

    def _position_ids(self, input_ids: Tensor | None, inputs_embeds: Tensor | None,
                      position_ids: Tensor | None) -> Tensor | None:
        """Default: from input_ids (see the module docstring); embeddings alone cannot show padding."""
        pad = self.config.pad_token_id
        if position_ids is None:
            if pad is None:
                raise ValueError("RoBERTa counts positions from the pad token, but config.pad_token_id is None: set "
                                 "it (1 in RoBERTa checkpoints) or pass position_ids")
            T = (input_ids if input_ids is not None else inputs_embeds).size(1)
            check_length(T, self.config.max_position_embeddings - pad - 1)
            if input_ids is not None:
                position_ids = create_position_ids_from_input_ids(input_ids, pad)  # (B, T)
            else:
                position_ids = torch.arange(pad + 1, T + pad + 1, device=inputs_embeds.device)[None]  # (1, T)
        return position_ids

    def _attention_mask(self, attention_mask: Tensor | None, x: Tensor) -> Tensor | None:
        if self.config.is_decoder:  # RobertaForCausalLM: causal + padding mask (no cache)
            return causal_mask(attention_mask, x.size(1), 0, x.dtype, x.device)
        return padding_mask(attention_mask, x.dtype)  # (B, 1, 1, T) or None


# --- heads ---
class RobertaLMHead(nn.Module):
    """dense -> GELU -> layer_norm -> decoder (tied to the word embeddings) + bias: (B, T, H) -> (B, T, V)."""

    def __init__(self, config: RobertaConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.decoder = nn.Linear(config.hidden_size, config.vocab_size)
        self.bias = nn.Parameter(torch.zeros(config.vocab_size))  # checkpoint key "lm_head.bias"
        self.decoder.bias = self.bias

    def _tie_weights(self) -> None:  # the decoder's bias *is* the head's bias (reference layout)
        self.decoder.bias = self.bias

    def forward(self, x: Tensor) -> Tensor:
        return self.decoder(self.layer_norm(F.gelu(self.dense(x))))


class RobertaClassificationHead(nn.Module):
    """<s> state -> dropout -> dense -> tanh -> dropout -> out_proj: (B, T, H) -> (B, num_labels)."""

    def __init__(self, config: RobertaConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.dropout = nn.Dropout(classifier_dropout(config))
        self.out_proj = nn.Linear(config.hidden_size, config.num_labels)

    def forward(self, x: Tensor) -> Tensor:
        x = self.dropout(x[:, 0])  # (B, H), the <s> token
        return self.out_proj(self.dropout(torch.tanh(self.dense(x))))


class _RobertaLMHeadModel(BertStyleHead, RobertaPreTrainedModel):
    """The language-model heads' modules: RoBERTa -> lm_head (decoder tied to the word embeddings)."""

    def __init__(self, config: RobertaConfig) -> None:
        super().__init__(config)
        self.roberta = RobertaModel(config, add_pooling_layer=False)
        self.lm_head = RobertaLMHead(config)
        self.post_init()

    def get_output_embeddings(self) -> nn.Linear:
        return self.lm_head.decoder


class RobertaForMaskedLM(_RobertaLMHeadModel):
    """Every token -> vocabulary logits (B, T, V); labels -100 are ignored by the loss."""

    def _head(self, base: BaseModelOutputWithPooling, labels: Tensor | None) -> MaskedLMOutput:
        return masked_lm_output(self.lm_head(base.last_hidden_state), labels, base)  # (B, T, V)


class RobertaForCausalLM(_RobertaLMHeadModel):
    """Left-to-right LM (config.is_decoder=True): logits (B, T, V); the loss predicts token t+1 from t.

    The masked LM's modules, with the causal mask (RobertaModel reads config.is_decoder). No KV cache: a full
    forward per call (the reference offers one; RoBERTa decoders are rare).
    """

    def _head(self, base: BaseModelOutputWithPooling, labels: Tensor | None) -> CausalLMOutputWithCrossAttentions:
        logits = self.lm_head(base.last_hidden_state)  # (B, T, V)
        loss = shifted_lm_loss(logits, labels) if labels is not None else None
        return CausalLMOutputWithCrossAttentions(loss=loss, logits=logits, hidden_states=base.hidden_states,
                                                 attentions=base.attentions)


class RobertaForSequenceClassification(BertStyleHead, RobertaPreTrainedModel):
    """<s> -> classification head: logits (B, num_labels)."""

    def __init__(self, config: RobertaConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.roberta = RobertaModel(config, add_pooling_layer=False)
        self.classifier = RobertaClassificationHead(config)
        self.post_init()

    def _head(self, base: BaseModelOutputWithPooling, labels: Tensor | None) -> SequenceClassifierOutput:
        return sequence_classifier_output(self.classifier(base.last_hidden_state), labels, self.config, base)


class RobertaForMultipleChoice(BertStyleMultipleChoiceHead, RobertaPreTrainedModel):
    """(B, C, T) choices -> each pooled <s> -> linear -> one score: logits (B, C)."""

    def __init__(self, config: RobertaConfig) -> None:
        super().__init__(config)
        self.roberta = RobertaModel(config)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.classifier = nn.Linear(config.hidden_size, 1)
        self.post_init()


class RobertaForTokenClassification(TokenClassificationHead, BertStyleHead, RobertaPreTrainedModel):
    """Every token's hidden state -> dropout -> linear: logits (B, T, num_labels)."""

    def __init__(self, config: RobertaConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.roberta = RobertaModel(config, add_pooling_layer=False)
        self.dropout = nn.Dropout(classifier_dropout(config))
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()


class RobertaForQuestionAnswering(BertStyleQuestionAnsweringHead, RobertaPreTrainedModel):
    """Every token -> linear -> (start, end) logits, each (B, T)."""

    def __init__(self, config: RobertaConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.roberta = RobertaModel(config, add_pooling_layer=False)
        self.qa_outputs = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()
