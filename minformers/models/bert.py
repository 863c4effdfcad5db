"""BERT (Devlin et al. 2018, https://arxiv.org/abs/1810.04805), top to bottom in data-flow order.

Config -> Embeddings -> SelfAttention -> Layer (attention + MLP) -> Encoder -> Pooler -> BertModel -> heads.
Attribute names are checkpoint keys (``bert.encoder.layer.0.attention.self.query.weight``), so a
checkpoint loads with a plain ``load_state_dict``. The pooled heads' shortcut (only token 0 of the
last layer, tokens packed without gradients) is in models/bert_fast.py, reached by ``BertModel.pool``.
"""

from __future__ import annotations

import math
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..configuration import PretrainedConfig
from ..kernels import CONFIG_ACTIVATIONS, linear
from ..modeling import PreTrainedModel, classification_loss, span_loss
from ..outputs import (
    BaseModelOutputWithPooling,
    MaskedLMOutput,
    MultipleChoiceModelOutput,
    QuestionAnsweringModelOutput,
    SequenceClassifierOutput,
    TokenClassifierOutput,
)
from .bert_fast import first_token_state


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


ACT2FN = {
    "gelu": nn.GELU,  # exact, erf-based, as the reference's "gelu"
    "gelu_new": lambda: nn.GELU(approximate="tanh"),
    "gelu_pytorch_tanh": lambda: nn.GELU(approximate="tanh"),
    "relu": nn.ReLU,
    "silu": nn.SiLU,
    "swish": nn.SiLU,
    "tanh": nn.Tanh,
}


def activation(name: str) -> nn.Module:
    if name not in ACT2FN:
        raise ValueError(f"unsupported activation {name!r}; supported: {sorted(ACT2FN)}")
    return ACT2FN[name]()


def check_length(seq_len: int, max_len: int) -> None:
    """Refuse inputs longer than the position table before running (instead of an index error deep inside)."""
    if seq_len > max_len:
        raise ValueError(
            f"Input is {seq_len} tokens long, but this model accepts at most {max_len} tokens "
            f"(max_position_embeddings={max_len}). Truncate the input, e.g. tokenizer(..., truncation=True)."
        )


def padding_mask(attention_mask: Tensor | None, dtype: torch.dtype) -> Tensor | None:
    """(B, T) 1 = token, 0 = padding -> additive mask (B, 1, 1, T): 0 where attended, dtype-min where padded.

    None when there is nothing to mask, so attention runs unmasked. An additive mask (not boolean)
    keeps fully padded rows finite, as in the reference.
    """
    if attention_mask is None or bool(attention_mask.all()):
        return None
    mask = attention_mask[:, None, None, :].to(dtype)  # (B, 1, 1, T)
    return (1.0 - mask) * torch.finfo(dtype).min


def attention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, dropout_p: float, need_weights: bool,
              head_mask: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
    """Scaled dot-product attention. B batch, nh heads, T tokens, hs head size; q, k, v: (B, nh, T, hs).

    The fused SDPA kernel unless attention weights are asked for or heads are masked; then the same
    maths written out (softmax(q k^T / sqrt(hs) + mask) v).
    """
    if not need_weights and head_mask is None:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p), None  # (B, nh, T, hs)
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.size(-1))  # (B, nh, T, T)
    if mask is not None:
        scores = scores + mask
    probs = scores.softmax(dim=-1)  # (B, nh, T, T)
    if dropout_p > 0:
        probs = F.dropout(probs, p=dropout_p)
    if head_mask is not None:
        probs = probs * head_mask
    return probs @ v, probs  # (B, nh, T, hs), (B, nh, T, T)


def expand_head_mask(head_mask: Tensor | None, num_layers: int, dtype: torch.dtype) -> list[Tensor | None]:
    """(nh,) or (L, nh) with 1 = keep -> one (1, nh, 1, 1) multiplier per layer (or None)."""
    if head_mask is None:
        return [None] * num_layers
    head_mask = head_mask.to(dtype)
    if head_mask.dim() == 1:
        head_mask = head_mask.expand(num_layers, -1)
    return [m[None, :, None, None] for m in head_mask]  # each (1, nh, 1, 1)


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
        self.act = CONFIG_ACTIVATIONS.get(config.hidden_act)  # the same, fused into the product if it can be

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
        hidden_states = (x,) if output_hidden_states else None
        attentions = () if output_attentions else None
        for layer, head_mask in zip(self.layer, head_masks):
            x, probs = layer(x, mask, output_attentions, head_mask)
            if output_hidden_states:
                hidden_states += (x,)
            if output_attentions:
                attentions += (probs,)
        return x, hidden_states, attentions


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

    def __init__(self, config: BertConfig, add_pooling_layer: bool = True) -> None:
        super().__init__(config)
        self.embeddings = BertEmbeddings(config)
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
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("pass exactly one of input_ids and inputs_embeds")
        self.warn_if_padding_and_no_attention_mask(input_ids, attention_mask)
        if position_ids is None:
            check_length((input_ids if input_ids is not None else inputs_embeds).size(1), cfg.max_position_embeddings)

        x = self.embeddings(input_ids, token_type_ids, position_ids, inputs_embeds)  # (B, T, H)
        mask = padding_mask(attention_mask, x.dtype)  # (B, 1, 1, T) or None, built once for all layers
        head_masks = expand_head_mask(head_mask, cfg.num_hidden_layers, x.dtype)
        x, hidden_states, attentions = self.encoder(x, mask, head_masks, output_attentions, output_hidden_states)
        pooled = self.pooler(x) if self.pooler is not None else None
        out = BaseModelOutputWithPooling(last_hidden_state=x, pooler_output=pooled,
                                         hidden_states=hidden_states, attentions=attentions)
        return out if return_dict else out.to_tuple()

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
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("pass exactly one of input_ids and inputs_embeds")
        self.warn_if_padding_and_no_attention_mask(input_ids, attention_mask)
        if position_ids is None:
            check_length((input_ids if input_ids is not None else inputs_embeds).size(1),
                         self.config.max_position_embeddings)
        x = self.embeddings(input_ids, token_type_ids, position_ids, inputs_embeds)  # (B, T, H)
        first = first_token_state(self.encoder, x, attention_mask, padding_mask(attention_mask, x.dtype))  # (B, H)
        return self.pooler.activation(self.pooler.dense(first))  # (B, H)


# --- heads: base -> dropout -> linear; the loss only when labels are given ---
def _dropout_prob(config: BertConfig) -> float:
    return config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob


class BertForSequenceClassification(BertPreTrainedModel):
    """Pooled [CLS] -> dropout -> linear: logits (B, num_labels)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.bert = BertModel(config)
        self.dropout = nn.Dropout(_dropout_prob(config))
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                token_type_ids: Tensor | None = None, position_ids: Tensor | None = None,
                head_mask: Tensor | None = None, inputs_embeds: Tensor | None = None,
                labels: Tensor | None = None, output_attentions: bool | None = None,
                output_hidden_states: bool | None = None, return_dict: bool | None = None
                ) -> SequenceClassifierOutput | tuple:
        return_dict = self.config.use_return_dict if return_dict is None else return_dict
        cfg = self.config
        if head_mask is None and not (output_attentions or cfg.output_attentions) and not (
                output_hidden_states or cfg.output_hidden_states):
            pooled, hidden_states, attentions = self.bert.pool(
                input_ids, attention_mask, token_type_ids, position_ids, inputs_embeds), None, None
        else:
            base = self.bert(input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds,
                             output_attentions, output_hidden_states, return_dict=True)
            pooled, hidden_states, attentions = base.pooler_output, base.hidden_states, base.attentions
        logits = self.classifier(self.dropout(pooled))  # (B, num_labels)
        loss = classification_loss(logits, labels, self.config) if labels is not None else None
        out = SequenceClassifierOutput(loss=loss, logits=logits, hidden_states=hidden_states,
                                       attentions=attentions)
        return out if return_dict else out.to_tuple()


class BertForTokenClassification(BertPreTrainedModel):
    """Every token's hidden state -> dropout -> linear: logits (B, T, num_labels)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.bert = BertModel(config, add_pooling_layer=False)
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
        base = self.bert(input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds,
                         output_attentions, output_hidden_states, return_dict=True)
        logits = self.classifier(self.dropout(base.last_hidden_state))  # (B, T, num_labels)
        loss = None
        if labels is not None:  # -100 marks tokens without a label
            loss = F.cross_entropy(logits.view(-1, self.num_labels), labels.view(-1).to(logits.device))
        out = TokenClassifierOutput(loss=loss, logits=logits, hidden_states=base.hidden_states,
                                    attentions=base.attentions)
        return out if return_dict else out.to_tuple()


class BertForQuestionAnswering(BertPreTrainedModel):
    """Every token -> linear -> (start, end) logits, each (B, T)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.bert = BertModel(config, add_pooling_layer=False)
        self.qa_outputs = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                token_type_ids: Tensor | None = None, position_ids: Tensor | None = None,
                head_mask: Tensor | None = None, inputs_embeds: Tensor | None = None,
                start_positions: Tensor | None = None, end_positions: Tensor | None = None,
                output_attentions: bool | None = None, output_hidden_states: bool | None = None,
                return_dict: bool | None = None) -> QuestionAnsweringModelOutput | tuple:
        return_dict = self.config.use_return_dict if return_dict is None else return_dict
        base = self.bert(input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds,
                         output_attentions, output_hidden_states, return_dict=True)
        logits = self.qa_outputs(base.last_hidden_state)  # (B, T, 2)
        start_logits, end_logits = logits.split(1, dim=-1)
        start_logits = start_logits.squeeze(-1).contiguous()  # (B, T)
        end_logits = end_logits.squeeze(-1).contiguous()  # (B, T)
        loss = None
        if start_positions is not None and end_positions is not None:
            loss = span_loss(start_logits, end_logits, start_positions, end_positions)
        out = QuestionAnsweringModelOutput(loss=loss, start_logits=start_logits, end_logits=end_logits,
                                           hidden_states=base.hidden_states, attentions=base.attentions)
        return out if return_dict else out.to_tuple()


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


class BertForMaskedLM(BertPreTrainedModel):
    """Every token -> vocabulary logits (B, T, V); labels -100 are ignored by the loss."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.bert = BertModel(config, add_pooling_layer=False)
        self.cls = BertOnlyMLMHead(config)
        self.post_init()

    def get_output_embeddings(self) -> nn.Linear:
        return self.cls.predictions.decoder

    def forward(self, input_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                token_type_ids: Tensor | None = None, position_ids: Tensor | None = None,
                head_mask: Tensor | None = None, inputs_embeds: Tensor | None = None,
                labels: Tensor | None = None, output_attentions: bool | None = None,
                output_hidden_states: bool | None = None, return_dict: bool | None = None
                ) -> MaskedLMOutput | tuple:
        return_dict = self.config.use_return_dict if return_dict is None else return_dict
        base = self.bert(input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds,
                         output_attentions, output_hidden_states, return_dict=True)
        logits = self.cls(base.last_hidden_state)  # (B, T, V)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.view(-1, self.config.vocab_size), labels.view(-1).to(logits.device))
        out = MaskedLMOutput(loss=loss, logits=logits, hidden_states=base.hidden_states, attentions=base.attentions)
        return out if return_dict else out.to_tuple()


class BertForMultipleChoice(BertPreTrainedModel):
    """(B, C, T) choices -> each pooled [CLS] -> linear -> one score: logits (B, C)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.bert = BertModel(config)
        self.dropout = nn.Dropout(_dropout_prob(config))
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

        base = self.bert(flat(input_ids), flat(attention_mask), flat(token_type_ids), flat(position_ids), head_mask,
                         flat(inputs_embeds), output_attentions, output_hidden_states, return_dict=True)
        logits = self.classifier(self.dropout(base.pooler_output)).view(-1, C)  # (B, C)
        loss = F.cross_entropy(logits, labels.to(logits.device)) if labels is not None else None
        out = MultipleChoiceModelOutput(loss=loss, logits=logits, hidden_states=base.hidden_states,
                                        attentions=base.attentions)
        return out if return_dict else out.to_tuple()
