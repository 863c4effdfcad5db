"""BERT (Devlin et al. 2018, https://arxiv.org/abs/1810.04805), top to bottom in data-flow order.

Config -> Embeddings -> SelfAttention -> Layer (attention + MLP) -> Encoder -> Pooler -> BertModel -> heads.
Attribute names are checkpoint keys (``bert.encoder.layer.0.attention.self.query.weight``), so a
checkpoint loads with a plain ``load_state_dict``. The pooled heads' shortcut (only token 0 of the
last layer, tokens packed without gradients) is in models/bert_fast.py, reached by ``BertModel.pool``.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor, nn

from ..configuration import PretrainedConfig
from ..kernels import linear
from ..modeling import PreTrainedModel
from ..outputs import BaseModelOutputWithPooling, MaskedLMOutput, SequenceClassifierOutput
from .base import (
    activation,
    attention,
    check_ids_or_embeds,
    check_length,
    classifier_dropout,
    expand_head_mask,
    fused_activation,
    padding_mask,
    run_encoder_layers,
)
from .bert_fast import first_token_state
from .heads import (
    BertStyleHead,
    BertStyleMultipleChoiceHead,
    BertStyleQuestionAnsweringHead,
    TokenClassificationHead,
    masked_lm_output,
    returned,
    sequence_classifier_output,
)


class BertConfig(PretrainedConfig):
    """bert-base-uncased by default; field names are config.json keys."""

    model_type: ClassVar[str] = "bert"
    vocab_size: int = 30522  # V
    hidden_size: int = 768  # H
    num_hidden_layers: int = 12  # L
    num_attention_heads: int = 12  # nh; head size hs = H // nh
    intermediate_size: int = 3072  # MLP width
    hidden_act: str = "gelu"  # exact (erf) GELU
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    max_position_embeddings: int = 512  # longest input, in tokens
    type_vocab_size: int = 2  # segments A/B (token_type_ids)
    initializer_range: float = 0.02
    layer_norm_eps: float = 1e-12
    pad_token_id: int | None = 0
    position_embedding_type: str = "absolute"  # only "absolute" is implemented
    use_cache: bool = True
    classifier_dropout: float | None = None  # None -> hidden_dropout_prob


class BertEmbeddings(nn.Module):
    """word + absolute position + token type embeddings, then LayerNorm and dropout."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        if config.position_embedding_type != "absolute":
            raise NotImplementedError(
                f"position_embedding_type={config.position_embedding_type!r} is not supported; only 'absolute'"
            )
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)  # TF-era name, kept for keys
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, input_ids: Tensor | None = None, token_type_ids: Tensor | None = None,
                position_ids: Tensor | None = None, inputs_embeds: Tensor | None = None) -> Tensor:
        if inputs_embeds is None:
            inputs_embeds = self.word_embeddings(input_ids)  # (B, T, H)
        T = inputs_embeds.size(1)
        if position_ids is None:
            position_ids = torch.arange(T, device=inputs_embeds.device)[None]  # (1, T)
        if token_type_ids is None:  # all segment A: add row 0 by broadcasting, no (B, T) zeros tensor
            x = inputs_embeds + self.token_type_embeddings.weight[0]
        else:
            x = inputs_embeds + self.token_type_embeddings(token_type_ids)
        x = x + self.position_embeddings(position_ids)  # same order of sums as the reference
        return self.dropout(self.LayerNorm(x))  # (B, T, H)


class BertSelfAttention(nn.Module):
    # B batch, T tokens, H hidden, nh heads, hs head size (H = nh * hs)
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        if config.hidden_size % config.num_attention_heads:
            raise ValueError(f"hidden_size {config.hidden_size} is not a multiple of "
                             f"num_attention_heads {config.num_attention_heads}")
        self.nh = config.num_attention_heads
        self.hs = config.hidden_size // self.nh
        self.query = nn.Linear(config.hidden_size, config.hidden_size)
        self.key = nn.Linear(config.hidden_size, config.hidden_size)
        self.value = nn.Linear(config.hidden_size, config.hidden_size)
        self.dropout_p = config.attention_probs_dropout_prob

    def forward(self, x: Tensor, mask: Tensor | None, output_attentions: bool = False,
                head_mask: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        B, T, H = x.shape
        qkv = linear(x, self.query, self.key, self.value).view(B, T, 3, self.nh, self.hs)  # one product
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each (B, nh, T, hs)
        p = self.dropout_p if self.training else 0.0
        y, probs = attention(q, k, v, mask, p, output_attentions, head_mask)  # (B, nh, T, hs)
        return y.transpose(1, 2).reshape(B, T, H), probs  # (B, T, H)


class BertSelfOutput(nn.Module):
    """Attention output projection, dropout, residual, LayerNorm (post-norm)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, y: Tensor, residual: Tensor) -> Tensor:
        return self.LayerNorm(self.dropout(linear(y, self.dense)) + residual)


class BertAttention(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.self = BertSelfAttention(config)  # checkpoint key "attention.self"
        self.output = BertSelfOutput(config)

    def forward(self, x: Tensor, mask: Tensor | None, output_attentions: bool = False,
                head_mask: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        y, probs = self.self(x, mask, output_attentions, head_mask)
        return self.output(y, x), probs


class BertIntermediate(nn.Module):
    """MLP up-projection and activation: (B, T, H) -> (B, T, intermediate_size)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)
        self.intermediate_act_fn = activation(config.hidden_act)
        self.act = fused_activation(config.hidden_act)  # the same, fused into the product if it can be

    def forward(self, x: Tensor) -> Tensor:
        if self.act is None:
            return self.intermediate_act_fn(linear(x, self.dense))
        return linear(x, self.dense, act=self.act)


class BertOutput(nn.Module):
    """MLP down-projection, dropout, residual, LayerNorm."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.intermediate_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, h: Tensor, residual: Tensor) -> Tensor:
        return self.LayerNorm(self.dropout(linear(h, self.dense)) + residual)


class BertLayer(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.attention = BertAttention(config)
        self.intermediate = BertIntermediate(config)
        self.output = BertOutput(config)

    def forward(self, x: Tensor, mask: Tensor | None, output_attentions: bool = False,
                head_mask: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        a, probs = self.attention(x, mask, output_attentions, head_mask)  # (B, T, H)
        return self.output(self.intermediate(a), a), probs  # (B, T, H)


class BertEncoder(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.layer = nn.ModuleList(BertLayer(config) for _ in range(config.num_hidden_layers))

    def forward(self, x: Tensor, mask: Tensor | None, head_masks: list[Tensor | None],
                output_attentions: bool, output_hidden_states: bool
                ) -> tuple[Tensor, tuple[Tensor, ...] | None, tuple[Tensor, ...] | None]:
        return run_encoder_layers(self.layer, x, mask, head_masks, output_attentions, output_hidden_states)


class BertPooler(nn.Module):
    """tanh(dense(hidden state of the first token [CLS])): (B, T, H) -> (B, H)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.activation = nn.Tanh()

    def forward(self, x: Tensor) -> Tensor:
        return self.activation(self.dense(x[:, 0]))


class BertPreTrainedModel(PreTrainedModel):
    config_class = BertConfig
    base_model_prefix = "bert"

    def _init_weights(self, module: nn.Module) -> None:
        super()._init_weights(module)
        if isinstance(module, BertLMPredictionHead):
            nn.init.zeros_(module.bias)


class BertModel(BertPreTrainedModel):
    """The encoder: last_hidden_state (B, T, H) and pooler_output (B, H)."""

    embeddings_class: ClassVar[type[nn.Module]] = BertEmbeddings  # RoBERTa's differ

    def __init__(self, config: BertConfig, add_pooling_layer: bool = True) -> None:
        super().__init__(config)
        self.embeddings = self.embeddings_class(config)
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
        token_type_ids: Tensor | None = None,  # (B, T), segment 0/1
        position_ids: Tensor | None = None,  # (B, T) or (1, T)
        head_mask: Tensor | None = None,  # (nh,) or (L, nh), 1 = keep
        inputs_embeds: Tensor | None = None,  # (B, T, H) instead of input_ids
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> BaseModelOutputWithPooling | tuple:
        cfg = self.config
        output_attentions = cfg.output_attentions if output_attentions is None else output_attentions
        output_hidden_states = cfg.output_hidden_states if output_hidden_states is None else output_hidden_states
        return_dict = cfg.use_return_dict if return_dict is None else return_dict
        check_ids_or_embeds(input_ids, inputs_embeds)
        self.warn_if_padding_and_no_attention_mask(input_ids, attention_mask)
        position_ids = self._position_ids(input_ids, inputs_embeds, position_ids)

        x = self.embeddings(input_ids, token_type_ids, position_ids, inputs_embeds)  # (B, T, H)
        mask = self._attention_mask(attention_mask, x)  # (B, 1, 1, T) or None, built once for all layers
        head_masks = expand_head_mask(head_mask, cfg.num_hidden_layers, x.dtype)
        x, hidden_states, attentions = self.encoder(x, mask, head_masks, output_attentions, output_hidden_states)
        pooled = self.pooler(x) if self.pooler is not None else None
        out = BaseModelOutputWithPooling(last_hidden_state=x, pooler_output=pooled,
                                         hidden_states=hidden_states, attentions=attentions)
        return out if return_dict else out.to_tuple()

    def _position_ids(self, input_ids: Tensor | None, inputs_embeds: Tensor | None,
                      position_ids: Tensor | None) -> Tensor | None:
        """The position ids the embeddings get (None: 0, 1, ..., made there), the length checked against the table.
        RoBERTa overrides it (positions counted from the pad token)."""
        if position_ids is None:
            check_length((input_ids if input_ids is not None else inputs_embeds).size(1),
                         self.config.max_position_embeddings)
        return position_ids

    def _attention_mask(self, attention_mask: Tensor | None, x: Tensor) -> Tensor | None:
        """(B, T) padding -> the additive mask every layer adds. RoBERTa's decoder overrides it (causal)."""
        return padding_mask(attention_mask, x.dtype)  # (B, 1, 1, T) or None

    def pool(self, input_ids: Tensor | None = None, attention_mask: Tensor | None = None,
             token_type_ids: Tensor | None = None, position_ids: Tensor | None = None,
             inputs_embeds: Tensor | None = None) -> Tensor:
        """pooler_output (B, H) alone, by the first-token fast path (models/bert_fast.py).

        Equal to ``forward(...).pooler_output`` (with the same dropout masks in training); used by the
        pooled heads when no hidden states, attentions or head mask are asked for. Falls back to ``forward`` when a
        row starts with padding (left padding), where packing would change what token 0 sees.
        """
        if self.pooler is None or (attention_mask is not None and not bool(attention_mask[:, 0].all())):
            return self.forward(input_ids, attention_mask, token_type_ids, position_ids,
                                inputs_embeds=inputs_embeds, return_dict=True).pooler_output
        check_ids_or_embeds(input_ids, inputs_embeds)
        self.warn_if_padding_and_no_attention_mask(input_ids, attention_mask)
        position_ids = self._position_ids(input_ids, inputs_embeds, position_ids)
        x = self.embeddings(input_ids, token_type_ids, position_ids, inputs_embeds)  # (B, T, H)
        first = first_token_state(self.encoder, x, attention_mask, padding_mask(attention_mask, x.dtype))  # (B, H)
        return self.pooler.activation(self.pooler.dense(first))  # (B, H)


# --- heads: base -> dropout -> linear; the loss only when labels are given (models/heads.py) ---
class BertForSequenceClassification(BertPreTrainedModel):
    """Pooled [CLS] -> dropout -> linear: logits (B, num_labels)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.bert = BertModel(config)
        self.dropout = nn.Dropout(classifier_dropout(config))
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                token_type_ids: Tensor | None = None, position_ids: Tensor | None = None,
                head_mask: Tensor | None = None, inputs_embeds: Tensor | None = None,
                labels: Tensor | None = None, output_attentions: bool | None = None,
                output_hidden_states: bool | None = None, return_dict: bool | None = None
                ) -> SequenceClassifierOutput | tuple:
        cfg = self.config
        if head_mask is None and not (output_attentions or cfg.output_attentions) and not (
                output_hidden_states or cfg.output_hidden_states):  # the first-token fast path
            base, pooled = None, self.bert.pool(input_ids, attention_mask, token_type_ids, position_ids, inputs_embeds)
        else:
            base = self.bert(input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds,
                             output_attentions, output_hidden_states, return_dict=True)
            pooled = base.pooler_output
        logits = self.classifier(self.dropout(pooled))  # (B, num_labels)
        return returned(sequence_classifier_output(logits, labels, cfg, base), return_dict, cfg)


class BertForTokenClassification(TokenClassificationHead, BertStyleHead, BertPreTrainedModel):
    """Every token's hidden state -> dropout -> linear: logits (B, T, num_labels)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.bert = BertModel(config, add_pooling_layer=False)
        self.dropout = nn.Dropout(classifier_dropout(config))
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()


class BertForQuestionAnswering(BertStyleQuestionAnsweringHead, BertPreTrainedModel):
    """Every token -> linear -> (start, end) logits, each (B, T)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.bert = BertModel(config, add_pooling_layer=False)
        self.qa_outputs = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()


class BertPredictionHeadTransform(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.transform_act_fn = activation(config.hidden_act)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, x: Tensor) -> Tensor:
        return self.LayerNorm(self.transform_act_fn(self.dense(x)))


class BertLMPredictionHead(nn.Module):
    """transform -> decoder (weight tied to the word embeddings) + bias: (B, T, H) -> (B, T, V)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(config.vocab_size))  # checkpoint key "cls.predictions.bias"
        self.transform = BertPredictionHeadTransform(config)
        self.decoder = nn.Linear(config.hidden_size, config.vocab_size)
        self.decoder.bias = self.bias

    def _tie_weights(self) -> None:  # the decoder's bias *is* the head's bias (reference layout)
        self.decoder.bias = self.bias

    def forward(self, x: Tensor) -> Tensor:
        return self.decoder(self.transform(x))


class BertOnlyMLMHead(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.predictions = BertLMPredictionHead(config)

    def forward(self, x: Tensor) -> Tensor:
        return self.predictions(x)


class BertForMaskedLM(BertStyleHead, BertPreTrainedModel):
    """Every token -> vocabulary logits (B, T, V); labels -100 are ignored by the loss."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.bert = BertModel(config, add_pooling_layer=False)
        self.cls = BertOnlyMLMHead(config)
        self.post_init()

    def get_output_embeddings(self) -> nn.Linear:
        return self.cls.predictions.decoder

    def _head(self, base: BaseModelOutputWithPooling, labels: Tensor | None) -> MaskedLMOutput:
        return masked_lm_output(self.cls(base.last_hidden_state), labels, base)  # (B, T, V)


class BertForMultipleChoice(BertStyleMultipleChoiceHead, BertPreTrainedModel):
    """(B, C, T) choices -> each pooled [CLS] -> linear -> one score: logits (B, C)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.bert = BertModel(config)
        self.dropout = nn.Dropout(classifier_dropout(config))
        self.classifier = nn.Linear(config.hidden_size, 1)
        self.post_init()
