"""DistilBERT (Sanh et al. 2019, https://arxiv.org/abs/1910.01108), top to bottom in data-flow order.

A 6-layer BERT distilled from bert-base: no token types, no pooler. Attribute names are
checkpoint keys (``distilbert.transformer.layer.0.attention.q_lin.weight``).
Config -> Embeddings -> MultiHeadSelfAttention -> FFN -> TransformerBlock -> Transformer -> model -> heads.
"""

from __future__ import annotations

from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..configuration import PretrainedConfig
from ..kernels import linear
from ..modeling import PreTrainedModel
from ..outputs import (
    BaseModelOutput,
    MaskedLMOutput,
    MultipleChoiceModelOutput,
    QuestionAnsweringModelOutput,
    SequenceClassifierOutput,
)
from .base import (
    activation,
    attention,
    check_ids_or_embeds,
    check_length,
    expand_head_mask,
    flatten_choices,
    fused_activation,
    padding_mask,
    run_encoder_layers,
)
from .heads import (
    EncoderHead,
    TokenClassificationMixin,
    masked_lm_output,
    multiple_choice_output,
    question_answering_output,
    returned,
    sequence_classifier_output,
)


class DistilBertConfig(PretrainedConfig):
    """distilbert-base-uncased by default; field names are config.json keys (note: dim, n_layers, n_heads)."""

    model_type: ClassVar[str] = "distilbert"
    attribute_map: ClassVar[dict[str, str]] = {
        "hidden_size": "dim", "num_attention_heads": "n_heads", "num_hidden_layers": "n_layers",
    }
    vocab_size: int = 30522  # V
    max_position_embeddings: int = 512
    sinusoidal_pos_embds: bool = False  # fixed sin/cos position table instead of a learnt one
    n_layers: int = 6  # L
    n_heads: int = 12  # nh
    dim: int = 768  # H
    hidden_dim: int = 3072  # MLP width
    dropout: float = 0.1
    attention_dropout: float = 0.1
    activation: str = "gelu"
    initializer_range: float = 0.02
    qa_dropout: float = 0.1
    seq_classif_dropout: float = 0.2
    pad_token_id: int | None = 0


def sinusoidal_table(n_pos: int, dim: int) -> Tensor:
    """Vaswani et al.'s fixed position table: sin on even columns, cos on odd ones. (n_pos, dim)."""
    pos = torch.arange(n_pos, dtype=torch.float64)[:, None]  # (n_pos, 1)
    j = torch.arange(dim, dtype=torch.float64)
    angle = pos / torch.pow(10000.0, 2 * torch.div(j, 2, rounding_mode="floor") / dim)  # (n_pos, dim)
    table = torch.empty(n_pos, dim)
    table[:, 0::2] = torch.sin(angle[:, 0::2]).float()
    table[:, 1::2] = torch.cos(angle[:, 1::2]).float()
    return table


class Embeddings(nn.Module):
    """word + position embeddings, LayerNorm, dropout (the reference's class name, kept)."""

    def __init__(self, config: DistilBertConfig) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.dim, padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.dim)
        self.position_embeddings.sinusoidal = config.sinusoidal_pos_embds  # read by _init_weights
        self.LayerNorm = nn.LayerNorm(config.dim, eps=1e-12)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, input_ids: Tensor | None = None, inputs_embeds: Tensor | None = None) -> Tensor:
        if inputs_embeds is None:
            inputs_embeds = self.word_embeddings(input_ids)  # (B, T, H)
        T = inputs_embeds.size(1)
        position_ids = torch.arange(T, device=inputs_embeds.device)[None]  # (1, T)
        x = inputs_embeds + self.position_embeddings(position_ids)  # (B, T, H)
        return self.dropout(self.LayerNorm(x))


class MultiHeadSelfAttention(nn.Module):
    # B batch, T tokens, H hidden (dim), nh heads, hs head size (H = nh * hs)
    def __init__(self, config: DistilBertConfig) -> None:
        super().__init__()
        if config.dim % config.n_heads:
            raise ValueError(f"dim {config.dim} is not a multiple of n_heads {config.n_heads}")
        self.nh = config.n_heads
        self.hs = config.dim // config.n_heads
        self.q_lin = nn.Linear(config.dim, config.dim)
        self.k_lin = nn.Linear(config.dim, config.dim)
        self.v_lin = nn.Linear(config.dim, config.dim)
        self.out_lin = nn.Linear(config.dim, config.dim)
        self.dropout_p = config.attention_dropout

    def forward(self, x: Tensor, mask: Tensor | None, output_attentions: bool = False,
                head_mask: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        B, T, H = x.shape
        qkv = linear(x, self.q_lin, self.k_lin, self.v_lin).view(B, T, 3, self.nh, self.hs)  # one product
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each (B, nh, T, hs)
        p = self.dropout_p if self.training else 0.0
        y, probs = attention(q, k, v, mask, p, output_attentions, head_mask)  # (B, nh, T, hs)
        return linear(y.transpose(1, 2).reshape(B, T, H), self.out_lin), probs  # (B, T, H)


class FFN(nn.Module):
    """lin1 -> activation -> lin2 -> dropout: (B, T, H) -> (B, T, hidden_dim) -> (B, T, H)."""

    def __init__(self, config: DistilBertConfig) -> None:
        super().__init__()
        self.lin1 = nn.Linear(config.dim, config.hidden_dim)
        self.lin2 = nn.Linear(config.hidden_dim, config.dim)
        self.activation = activation(config.activation)
        self.act = fused_activation(config.activation)  # the same, fused into the product if it can be
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: Tensor) -> Tensor:
        h = linear(x, self.lin1, act=self.act) if self.act else self.activation(linear(x, self.lin1))
        return self.dropout(linear(h, self.lin2))


class TransformerBlock(nn.Module):
    """Post-norm block: LN(x + attention(x)), then LN(a + FFN(a))."""

    def __init__(self, config: DistilBertConfig) -> None:
        super().__init__()
        self.attention = MultiHeadSelfAttention(config)
        self.sa_layer_norm = nn.LayerNorm(config.dim, eps=1e-12)
        self.ffn = FFN(config)
        self.output_layer_norm = nn.LayerNorm(config.dim, eps=1e-12)

    def forward(self, x: Tensor, mask: Tensor | None, output_attentions: bool = False,
                head_mask: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        y, probs = self.attention(x, mask, output_attentions, head_mask)
        a = self.sa_layer_norm(y + x)  # (B, T, H)
        return self.output_layer_norm(self.ffn(a) + a), probs  # (B, T, H)


class Transformer(nn.Module):
    def __init__(self, config: DistilBertConfig) -> None:
        super().__init__()
        self.layer = nn.ModuleList(TransformerBlock(config) for _ in range(config.n_layers))

    def forward(self, x: Tensor, mask: Tensor | None, head_masks: list[Tensor | None],
                output_attentions: bool, output_hidden_states: bool
                ) -> tuple[Tensor, tuple[Tensor, ...] | None, tuple[Tensor, ...] | None]:
        return run_encoder_layers(self.layer, x, mask, head_masks, output_attentions, output_hidden_states)


class DistilBertPreTrainedModel(PreTrainedModel):
    config_class = DistilBertConfig
    base_model_prefix = "distilbert"

    def _init_weights(self, module: nn.Module) -> None:
        super()._init_weights(module)
        if isinstance(module, nn.Embedding) and getattr(module, "sinusoidal", False):
            with torch.no_grad():
                module.weight.copy_(sinusoidal_table(*module.weight.shape))
            module.weight.requires_grad = False


class DistilBertModel(DistilBertPreTrainedModel):
    """The encoder: last_hidden_state (B, T, H). No pooler."""

    def __init__(self, config: DistilBertConfig) -> None:
        super().__init__(config)
        self.embeddings = Embeddings(config)
        self.transformer = Transformer(config)
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embeddings.word_embeddings

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.embeddings.word_embeddings = value

    def forward(
        self,
        input_ids: Tensor | None = None,  # (B, T)
        attention_mask: Tensor | None = None,  # (B, T), 1 = token, 0 = padding
        head_mask: Tensor | None = None,  # (nh,) or (L, nh), 1 = keep
        inputs_embeds: Tensor | None = None,  # (B, T, H) instead of input_ids
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> BaseModelOutput | tuple:
        cfg = self.config
        output_attentions = cfg.output_attentions if output_attentions is None else output_attentions
        output_hidden_states = cfg.output_hidden_states if output_hidden_states is None else output_hidden_states
        return_dict = cfg.use_return_dict if return_dict is None else return_dict
        check_ids_or_embeds(input_ids, inputs_embeds)
        self.warn_if_padding_and_no_attention_mask(input_ids, attention_mask)
        check_length((input_ids if input_ids is not None else inputs_embeds).size(1), cfg.max_position_embeddings)

        x = self.embeddings(input_ids, inputs_embeds)  # (B, T, H)
        mask = padding_mask(attention_mask, x.dtype)  # (B, 1, 1, T) or None, built once for all layers
        head_masks = expand_head_mask(head_mask, cfg.n_layers, x.dtype)
        x, hidden_states, attentions = self.transformer(x, mask, head_masks, output_attentions, output_hidden_states)
        out = BaseModelOutput(last_hidden_state=x, hidden_states=hidden_states, attentions=attentions)
        return out if return_dict else out.to_tuple()


# --- heads: base -> dropout -> linear; the loss only when labels are given (models/heads.py) ---
class DistilBertForSequenceClassification(EncoderHead, DistilBertPreTrainedModel):
    """[CLS] hidden state -> pre_classifier -> ReLU -> dropout -> classifier: logits (B, num_labels)."""

    def __init__(self, config: DistilBertConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.distilbert = DistilBertModel(config)
        self.pre_classifier = nn.Linear(config.dim, config.dim)
        self.classifier = nn.Linear(config.dim, config.num_labels)
        self.dropout = nn.Dropout(config.seq_classif_dropout)
        self.post_init()

    def _head(self, base: BaseModelOutput, labels: Tensor | None) -> SequenceClassifierOutput:
        pooled = F.relu(self.pre_classifier(base.last_hidden_state[:, 0]))  # (B, H)
        logits = self.classifier(self.dropout(pooled))  # (B, num_labels)
        return sequence_classifier_output(logits, labels, self.config, base)


class DistilBertForTokenClassification(TokenClassificationMixin, DistilBertPreTrainedModel):
    """Every token -> dropout -> linear: logits (B, T, num_labels). The forward is models/heads.py's (as T5's)."""

    def __init__(self, config: DistilBertConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.distilbert = DistilBertModel(config)
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(config.dim, config.num_labels)
        self.post_init()


class DistilBertForQuestionAnswering(DistilBertPreTrainedModel):
    """Every token -> dropout -> linear -> (start, end) logits, each (B, T)."""

    def __init__(self, config: DistilBertConfig) -> None:
        super().__init__(config)
        if config.num_labels != 2:
            raise ValueError(f"config.num_labels should be 2 for question answering, but it is {config.num_labels}")
        self.distilbert = DistilBertModel(config)
        self.qa_outputs = nn.Linear(config.dim, config.num_labels)
        self.dropout = nn.Dropout(config.qa_dropout)
        self.post_init()

    def forward(self, input_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                head_mask: Tensor | None = None, inputs_embeds: Tensor | None = None,
                start_positions: Tensor | None = None, end_positions: Tensor | None = None,
                output_attentions: bool | None = None, output_hidden_states: bool | None = None,
                return_dict: bool | None = None) -> QuestionAnsweringModelOutput | tuple:
        base = self.distilbert(input_ids, attention_mask, head_mask, inputs_embeds, output_attentions,
                               output_hidden_states, return_dict=True)
        qa_logits = self.qa_outputs(self.dropout(base.last_hidden_state))  # (B, T, 2)
        return returned(question_answering_output(qa_logits, start_positions, end_positions, base), return_dict,
                        self.config)


class DistilBertForMaskedLM(EncoderHead, DistilBertPreTrainedModel):
    """Every token -> transform -> LayerNorm -> vocab_projector (tied to word embeddings): (B, T, V)."""

    def __init__(self, config: DistilBertConfig) -> None:
        super().__init__(config)
        self.activation = activation(config.activation)
        self.distilbert = DistilBertModel(config)
        self.vocab_transform = nn.Linear(config.dim, config.dim)
        self.vocab_layer_norm = nn.LayerNorm(config.dim, eps=1e-12)
        self.vocab_projector = nn.Linear(config.dim, config.vocab_size)
        self.post_init()

    def get_output_embeddings(self) -> nn.Linear:
        return self.vocab_projector

    def _head(self, base: BaseModelOutput, labels: Tensor | None) -> MaskedLMOutput:
        h = self.vocab_layer_norm(self.activation(self.vocab_transform(base.last_hidden_state)))  # (B, T, H)
        return masked_lm_output(self.vocab_projector(h), labels, base)  # (B, T, V)


class DistilBertForMultipleChoice(DistilBertPreTrainedModel):
    """(B, C, T) choices -> each [CLS] -> pre_classifier -> ReLU -> dropout -> one score: logits (B, C)."""

    def __init__(self, config: DistilBertConfig) -> None:
        super().__init__(config)
        self.distilbert = DistilBertModel(config)
        self.pre_classifier = nn.Linear(config.dim, config.dim)
        self.classifier = nn.Linear(config.dim, 1)
        self.dropout = nn.Dropout(config.seq_classif_dropout)
        self.post_init()

    def forward(self, input_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                head_mask: Tensor | None = None, inputs_embeds: Tensor | None = None,
                labels: Tensor | None = None, output_attentions: bool | None = None,
                output_hidden_states: bool | None = None, return_dict: bool | None = None
                ) -> MultipleChoiceModelOutput | tuple:
        C = (input_ids if input_ids is not None else inputs_embeds).size(1)
        flat = flatten_choices
        base = self.distilbert(flat(input_ids), flat(attention_mask), head_mask, flat(inputs_embeds),
                               output_attentions, output_hidden_states, return_dict=True)
        pooled = F.relu(self.pre_classifier(base.last_hidden_state[:, 0]))  # (B*C, H)
        logits = self.classifier(self.dropout(pooled)).view(-1, C)  # (B, C)
        return returned(multiple_choice_output(logits, labels, base), return_dict, self.config)
