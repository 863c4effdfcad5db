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

from ..outputs import (
    BaseModelOutputWithPooling,
    CausalLMOutputWithCrossAttentions,
    MaskedLMOutput,
    MultipleChoiceModelOutput,
    QuestionAnsweringModelOutput,
    SequenceClassifierOutput,
    TokenClassifierOutput,
)
from ..modeling import classification_loss, span_loss
from .seq2seq_utils import causal_mask
from .bert import (
    BertConfig,
    BertEmbeddings,
    BertEncoder,
    BertPooler,
    BertPreTrainedModel,
    _dropout_prob,
    check_length,
    expand_head_mask,
    padding_mask,
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


class RobertaModel(RobertaPreTrainedModel):
    """The encoder: last_hidden_state (B, T, H) and pooler_output (B, H). Causal when config.is_decoder."""

    def __init__(self, config: RobertaConfig, add_pooling_layer: bool = True) -> None:
        super().__init__(config)
        self.embeddings = RobertaEmbeddings(config)
        self.encoder = BertEncoder(config)
        self.pooler = BertPooler(config) if add_pooling_layer else None
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embeddings.word_embeddings

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.embeddings.word_embeddings = value

    def forward(
        self,
        input_ids: Tensor | None = None,  # (B, T)
        attention_mask: Tensor | None = None,  # (B, T), 1 = token, 0 = padding
        token_type_ids: Tensor | None = None,  # (B, T); RoBERTa checkpoints have one type
        position_ids: Tensor | None = None,  # (B, T); default: from input_ids, see module docstring
        head_mask: Tensor | None = None,
        inputs_embeds: Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> BaseModelOutputWithPooling | tuple:
        cfg = self.config
        output_attentions = cfg.output_attentions if output_attentions is None else output_attentions
        output_hidden_states = cfg.output_hidden_states if output_hidden_states is None else output_hidden_states
        return_dict = cfg.use_return_dict if return_dict is None else return_dict
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("pass exactly one of input_ids and inputs_embeds")
        self.warn_if_padding_and_no_attention_mask(input_ids, attention_mask)
        pad = cfg.pad_token_id
        if position_ids is None:
            if pad is None:
                raise ValueError("RoBERTa counts positions from the pad token, but config.pad_token_id is None: set "
                                 "it (1 in RoBERTa checkpoints) or pass position_ids")
            T = (input_ids if input_ids is not None else inputs_embeds).size(1)
            check_length(T, cfg.max_position_embeddings - pad - 1)
            if input_ids is not None:
                position_ids = create_position_ids_from_input_ids(input_ids, pad)  # (B, T)
            else:  # embeddings alone cannot show padding
                position_ids = torch.arange(pad + 1, T + pad + 1, device=inputs_embeds.device)[None]  # (1, T)

        x = self.embeddings(input_ids, token_type_ids, position_ids, inputs_embeds)  # (B, T, H)
        if cfg.is_decoder:  # RobertaForCausalLM: causal + padding mask (no cache)
            mask = causal_mask(attention_mask, x.size(1), 0, x.dtype, x.device)
        else:
            mask = padding_mask(attention_mask, x.dtype)  # (B, 1, 1, T) or None
        head_masks = expand_head_mask(head_mask, cfg.num_hidden_layers, x.dtype)
        x, hidden_states, attentions = self.encoder(x, mask, head_masks, output_attentions, output_hidden_states)
        pooled = self.pooler(x) if self.pooler is not None else None
        out = BaseModelOutputWithPooling(last_hidden_state=x, pooler_output=pooled,
                                         hidden_states=hidden_states, attentions=attentions)
        return out if return_dict else out.to_tuple()


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
        self.dropout = nn.Dropout(_dropout_prob(config))
        self.out_proj = nn.Linear(config.hidden_size, config.num_labels)

    def forward(self, x: Tensor) -> Tensor:
        x = self.dropout(x[:, 0])  # (B, H), the <s> token
        return self.out_proj(self.dropout(torch.tanh(self.dense(x))))


class RobertaForMaskedLM(RobertaPreTrainedModel):
    """Every token -> vocabulary logits (B, T, V); labels -100 are ignored by the loss."""

    def __init__(self, config: RobertaConfig) -> None:
        super().__init__(config)
        self.roberta = RobertaModel(config, add_pooling_layer=False)
        self.lm_head = RobertaLMHead(config)
        self.post_init()

    def get_output_embeddings(self) -> nn.Linear:
        return self.lm_head.decoder

    def forward(self, input_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                token_type_ids: Tensor | None = None, position_ids: Tensor | None = None,
                head_mask: Tensor | None = None, inputs_embeds: Tensor | None = None,
                labels: Tensor | None = None, output_attentions: bool | None = None,
                output_hidden_states: bool | None = None, return_dict: bool | None = None
                ) -> MaskedLMOutput | tuple:
        return_dict = self.config.use_return_dict if return_dict is None else return_dict
        base = self.roberta(input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds,
                            output_attentions, output_hidden_states, return_dict=True)
        logits = self.lm_head(base.last_hidden_state)  # (B, T, V)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.view(-1, self.config.vocab_size), labels.view(-1).to(logits.device))
        out = MaskedLMOutput(loss=loss, logits=logits, hidden_states=base.hidden_states, attentions=base.attentions)
        return out if return_dict else out.to_tuple()


class RobertaForCausalLM(RobertaPreTrainedModel):
    """Left-to-right LM (config.is_decoder=True): logits (B, T, V); the loss predicts token t+1 from t.

    No KV cache: a full forward per call (the reference offers one; RoBERTa decoders are rare).
    """

    def __init__(self, config: RobertaConfig) -> None:
        super().__init__(config)
        self.roberta = RobertaModel(config, add_pooling_layer=False)
        self.lm_head = RobertaLMHead(config)
        self.post_init()

    def get_output_embeddings(self) -> nn.Linear:
        return self.lm_head.decoder

    def forward(self, input_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                token_type_ids: Tensor | None = None, position_ids: Tensor | None = None,
                head_mask: Tensor | None = None, inputs_embeds: Tensor | None = None,
                labels: Tensor | None = None, output_attentions: bool | None = None,
                output_hidden_states: bool | None = None, return_dict: bool | None = None
                ) -> CausalLMOutputWithCrossAttentions | tuple:
        return_dict = self.config.use_return_dict if return_dict is None else return_dict
        base = self.roberta(input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds,
                            output_attentions, output_hidden_states, return_dict=True)
        logits = self.lm_head(base.last_hidden_state)  # (B, T, V)
        loss = None
        if labels is not None:
            shifted = logits[:, :-1].reshape(-1, logits.size(-1)).float()
            loss = F.cross_entropy(shifted, labels[:, 1:].reshape(-1).to(logits.device), ignore_index=-100)
        out = CausalLMOutputWithCrossAttentions(loss=loss, logits=logits, hidden_states=base.hidden_states,
                                                attentions=base.attentions)
        return out if return_dict else out.to_tuple()


class RobertaForSequenceClassification(RobertaPreTrainedModel):
    """<s> -> classification head: logits (B, num_labels)."""

    def __init__(self, config: RobertaConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.roberta = RobertaModel(config, add_pooling_layer=False)
        self.classifier = RobertaClassificationHead(config)
        self.post_init()

    def forward(self, input_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                token_type_ids: Tensor | None = None, position_ids: Tensor | None = None,
                head_mask: Tensor | None = None, inputs_embeds: Tensor | None = None,
                labels: Tensor | None = None, output_attentions: bool | None = None,
                output_hidden_states: bool | None = None, return_dict: bool | None = None
                ) -> SequenceClassifierOutput | tuple:
        return_dict = self.config.use_return_dict if return_dict is None else return_dict
        base = self.roberta(input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds,
                            output_attentions, output_hidden_states, return_dict=True)
        logits = self.classifier(base.last_hidden_state)  # (B, num_labels)
        loss = classification_loss(logits, labels, self.config) if labels is not None else None
        out = SequenceClassifierOutput(loss=loss, logits=logits, hidden_states=base.hidden_states,
                                       attentions=base.attentions)
        return out if return_dict else out.to_tuple()


class RobertaForMultipleChoice(RobertaPreTrainedModel):
    """(B, C, T) choices -> each pooled <s> -> linear -> one score: logits (B, C)."""

    def __init__(self, config: RobertaConfig) -> None:
        super().__init__(config)
        self.roberta = RobertaModel(config)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.classifier = nn.Linear(config.hidden_size, 1)
        self.post_init()

    def forward(self, input_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                token_type_ids: Tensor | None = None, position_ids: Tensor | None = None,
                head_mask: Tensor | None = None, inputs_embeds: Tensor | None = None,
                labels: Tensor | None = None, output_attentions: bool | None = None,
                output_hidden_states: bool | None = None, return_dict: bool | None = None
                ) -> MultipleChoiceModelOutput | tuple:
        return_dict = self.config.use_return_dict if return_dict is None else return_dict
        C = (input_ids if input_ids is not None else inputs_embeds).size(1)

        def flat(t: Tensor | None) -> Tensor | None:  # (B, C, T, ...) -> (B*C, T, ...)
            return None if t is None else t.reshape(-1, *t.shape[2:])

        base = self.roberta(flat(input_ids), flat(attention_mask), flat(token_type_ids), flat(position_ids),
                            head_mask, flat(inputs_embeds), output_attentions, output_hidden_states, return_dict=True)
        logits = self.classifier(self.dropout(base.pooler_output)).view(-1, C)  # (B, C)
        loss = F.cross_entropy(logits, labels.to(logits.device)) if labels is not None else None
        out = MultipleChoiceModelOutput(loss=loss, logits=logits, hidden_states=base.hidden_states,
                                        attentions=base.attentions)
        return out if return_dict else out.to_tuple()


class RobertaForTokenClassification(RobertaPreTrainedModel):
    """Every token's hidden state -> dropout -> linear: logits (B, T, num_labels)."""

    def __init__(self, config: RobertaConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.roberta = RobertaModel(config, add_pooling_layer=False)
        self.dropout = nn.Dropout(_dropout_prob(config))
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                token_type_ids: Tensor | None = None, position_ids: Tensor | None = None,
                head_mask: Tensor | None = None, inputs_embeds: Tensor | None = None,
                labels: Tensor | None = None, output_attentions: bool | None = None,
                output_hidden_states: bool | None = None, return_dict: bool | None = None
                ) -> TokenClassifierOutput | tuple:
        return_dict = self.config.use_return_dict if return_dict is None else return_dict
        base = self.roberta(input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds,
                            output_attentions, output_hidden_states, return_dict=True)
        logits = self.classifier(self.dropout(base.last_hidden_state))  # (B, T, num_labels)
        loss = None
        if labels is not None:  # -100 marks tokens without a label
            loss = F.cross_entropy(logits.view(-1, self.num_labels), labels.view(-1).to(logits.device))
        out = TokenClassifierOutput(loss=loss, logits=logits, hidden_states=base.hidden_states,
                                    attentions=base.attentions)
        return out if return_dict else out.to_tuple()


class RobertaForQuestionAnswering(RobertaPreTrainedModel):
    """Every token -> linear -> (start, end) logits, each (B, T)."""

    def __init__(self, config: RobertaConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.roberta = RobertaModel(config, add_pooling_layer=False)
        self.qa_outputs = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                token_type_ids: Tensor | None = None, position_ids: Tensor | None = None,
                head_mask: Tensor | None = None, inputs_embeds: Tensor | None = None,
                start_positions: Tensor | None = None, end_positions: Tensor | None = None,
                output_attentions: bool | None = None, output_hidden_states: bool | None = None,
                return_dict: bool | None = None) -> QuestionAnsweringModelOutput | tuple:
        return_dict = self.config.use_return_dict if return_dict is None else return_dict
        base = self.roberta(input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds,
                            output_attentions, output_hidden_states, return_dict=True)
        start_logits, end_logits = self.qa_outputs(base.last_hidden_state).split(1, dim=-1)  # (B, T, 1) each
        start_logits = start_logits.squeeze(-1).contiguous()  # (B, T)
        end_logits = end_logits.squeeze(-1).contiguous()
        loss = None
        if start_positions is not None and end_positions is not None:
            loss = span_loss(start_logits, end_logits, start_positions, end_positions)
        out = QuestionAnsweringModelOutput(loss=loss, start_logits=start_logits, end_logits=end_logits,
                                           hidden_states=base.hidden_states, attentions=base.attentions)
        return out if return_dict else out.to_tuple()
