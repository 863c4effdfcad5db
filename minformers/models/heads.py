"""Task heads that several architectures share, written once (DESIGN rule 7: heads are thin).

A head class in a model file keeps its constructor -- its attribute names are checkpoint keys
(``classification_head.dense``, ``qa_outputs``, ``classifier``, ``lm_head``) -- and takes its
``forward`` from one of these mixins, listed before the family's PreTrainedModel in its bases:

- :class:`Seq2SeqLMMixin` (BART, Marian, T5 ``...ForConditionalGeneration``): decoder states ->
  ``self._lm_logits`` -> logits (B, T, V), the loss over every position;
- :class:`Seq2SeqSequenceClassificationMixin` (BART, T5): the decoder state at the last </s>
  (:func:`eos_pool`) -> ``self.classification_head`` (a :class:`Seq2SeqClassificationHead`);
- :class:`Seq2SeqQuestionAnsweringMixin` (BART, T5): every decoder state -> ``self.qa_outputs`` ->
  (start, end) logits;
- :class:`TokenClassificationMixin` (DistilBERT, the T5 encoder): every encoder state -> dropout ->
  ``self.classifier``.

The seq2seq mixins reach the encoder-decoder through ``self._encode_decode`` -- the base model's forward
(``self.base_model``) by default; the T5 heads that are their own base point it at ``T5Model._encode_decode``.
Decoder inputs come from ``self._shift_right`` (each family's labels -> decoder inputs).
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..cache import EncoderDecoderCache
from ..modeling import classification_loss, span_loss
from ..outputs import (
    Seq2SeqLMOutput,
    Seq2SeqModelOutput,
    Seq2SeqQuestionAnsweringModelOutput,
    Seq2SeqSequenceClassifierOutput,
    TokenClassifierOutput,
)
from .seq2seq_utils import default_decoder_input_ids, seq2seq_fields


def token_loss(logits: Tensor, labels: Tensor) -> Tensor:
    """Cross-entropy of every position's logits (..., C) against labels (...); -100 marks ignored positions."""
    return F.cross_entropy(logits.view(-1, logits.size(-1)), labels.view(-1).to(logits.device))


def span_logits(logits: Tensor) -> tuple[Tensor, Tensor]:
    """QA projection (B, T, 2) -> start and end logits, each (B, T)."""
    start_logits, end_logits = logits.split(1, dim=-1)  # (B, T, 1) each
    return start_logits.squeeze(-1).contiguous(), end_logits.squeeze(-1).contiguous()


def eos_pool(hidden: Tensor, input_ids: Tensor, eos_token_id: int) -> Tensor:
    """The decoder state at each row's last <eos>: (B, T, H) -> (B, H). Rows must hold as many <eos> each."""
    eos = input_ids.eq(eos_token_id).to(hidden.device)  # (B, T)
    counts = eos.sum(1)
    if len(torch.unique_consecutive(counts)) > 1:
        raise ValueError("All examples must have the same number of <eos> tokens.")
    if int(counts[0]) == 0:
        raise ValueError(f"sequence classification needs an <eos> token (id {eos_token_id}) in every input")
    return hidden[eos, :].view(hidden.size(0), -1, hidden.size(-1))[:, -1, :]


class Seq2SeqClassificationHead(nn.Module):
    """dropout -> dense -> tanh -> dropout -> out_proj: (B, H) -> (B, num_labels). BART's and T5's."""

    def __init__(self, input_dim: int, inner_dim: int, num_classes: int, pooler_dropout: float) -> None:
        super().__init__()
        self.dense = nn.Linear(input_dim, inner_dim)
        self.dropout = nn.Dropout(p=pooler_dropout)
        self.out_proj = nn.Linear(inner_dim, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.out_proj(self.dropout(torch.tanh(self.dense(self.dropout(x)))))


class _Seq2SeqHead:
    """What the seq2seq mixins need from the model: the base encoder-decoder's output."""

    def _encode_decode(self, *args: Any) -> Seq2SeqModelOutput:
        """The base model's forward with these positional arguments (input_ids ... output_hidden_states)."""
        return self.base_model(*args, return_dict=True)


class Seq2SeqLMMixin(_Seq2SeqHead):
    """Decoder states -> ``self._lm_logits`` -> logits (B, T, V). With labels and no decoder inputs, the decoder
    reads the labels shifted right; ``_labels_disable_cache``: labels also turn the cache off (BART, Marian)."""

    _labels_disable_cache: ClassVar[bool] = True

    def _lm_logits(self, h: Tensor) -> Tensor:  # (B, T, H) -> (B, T, V)
        raise NotImplementedError

    def prepare_decoder_input_ids_from_labels(self, labels: Tensor) -> Tensor:
        return self._shift_right(labels)

    def forward(self, input_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                decoder_input_ids: Tensor | None = None, decoder_attention_mask: Tensor | None = None,
                head_mask: Tensor | None = None, decoder_head_mask: Tensor | None = None,
                cross_attn_head_mask: Tensor | None = None, encoder_outputs: Any = None,
                past_key_values: EncoderDecoderCache | None = None, inputs_embeds: Tensor | None = None,
                decoder_inputs_embeds: Tensor | None = None, labels: Tensor | None = None,
                use_cache: bool | None = None, output_attentions: bool | None = None,
                output_hidden_states: bool | None = None, return_dict: bool | None = None
                ) -> Seq2SeqLMOutput | tuple:
        return_dict = self.config.use_return_dict if return_dict is None else return_dict
        if labels is not None:
            if self._labels_disable_cache:
                use_cache = False
            if decoder_input_ids is None and decoder_inputs_embeds is None:
                decoder_input_ids = self.prepare_decoder_input_ids_from_labels(labels)
        base = self._encode_decode(input_ids, attention_mask, decoder_input_ids, decoder_attention_mask, head_mask,
                                   decoder_head_mask, cross_attn_head_mask, encoder_outputs, past_key_values,
                                   inputs_embeds, decoder_inputs_embeds, use_cache, output_attentions,
                                   output_hidden_states)
        logits = self._lm_logits(base.last_hidden_state)  # (B, T, V)
        loss = token_loss(logits, labels) if labels is not None else None
        out = Seq2SeqLMOutput(loss=loss, logits=logits, **seq2seq_fields(base))
        return out if return_dict else out.to_tuple()


class Seq2SeqSequenceClassificationMixin(_Seq2SeqHead):
    """Decoder state at the last </s> of input_ids -> ``self.classification_head``: logits (B, num_labels).

    As the reference: without decoder inputs the decoder reads input_ids shifted right, and every row must
    hold the same number of </s> tokens.
    """

    def forward(self, input_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                decoder_input_ids: Tensor | None = None, decoder_attention_mask: Tensor | None = None,
                head_mask: Tensor | None = None, decoder_head_mask: Tensor | None = None,
                cross_attn_head_mask: Tensor | None = None, encoder_outputs: Any = None,
                inputs_embeds: Tensor | None = None, decoder_inputs_embeds: Tensor | None = None,
                labels: Tensor | None = None, use_cache: bool | None = None,
                output_attentions: bool | None = None, output_hidden_states: bool | None = None,
                return_dict: bool | None = None) -> Seq2SeqSequenceClassifierOutput | tuple:
        return_dict = self.config.use_return_dict if return_dict is None else return_dict
        if labels is not None:
            use_cache = False
        if input_ids is None and inputs_embeds is not None:
            raise NotImplementedError(f"Passing input embeddings is currently not supported for {type(self).__name__}")
        decoder_input_ids = default_decoder_input_ids(input_ids, decoder_input_ids, decoder_inputs_embeds,
                                                      self._shift_right)
        base = self._encode_decode(input_ids, attention_mask, decoder_input_ids, decoder_attention_mask, head_mask,
                                   decoder_head_mask, cross_attn_head_mask, encoder_outputs, None, inputs_embeds,
                                   decoder_inputs_embeds, use_cache, output_attentions, output_hidden_states)
        pooled = eos_pool(base.last_hidden_state, input_ids, self.config.eos_token_id)  # (B, H)
        logits = self.classification_head(pooled)  # (B, num_labels)
        loss = classification_loss(logits, labels, self.config) if labels is not None else None
        out = Seq2SeqSequenceClassifierOutput(loss=loss, logits=logits, **seq2seq_fields(base))
        return out if return_dict else out.to_tuple()


class Seq2SeqQuestionAnsweringMixin(_Seq2SeqHead):
    """Every decoder state -> ``self.qa_outputs`` -> (start, end) logits, each (B, T).

    As the reference: without decoder inputs the decoder reads input_ids shifted right, so the spans index
    input_ids.
    """

    def forward(self, input_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                decoder_input_ids: Tensor | None = None, decoder_attention_mask: Tensor | None = None,
                head_mask: Tensor | None = None, decoder_head_mask: Tensor | None = None,
                cross_attn_head_mask: Tensor | None = None, encoder_outputs: Any = None,
                start_positions: Tensor | None = None, end_positions: Tensor | None = None,
                inputs_embeds: Tensor | None = None, decoder_inputs_embeds: Tensor | None = None,
                use_cache: bool | None = None, output_attentions: bool | None = None,
                output_hidden_states: bool | None = None, return_dict: bool | None = None
                ) -> Seq2SeqQuestionAnsweringModelOutput | tuple:
        return_dict = self.config.use_return_dict if return_dict is None else return_dict
        if start_positions is not None and end_positions is not None:
            use_cache = False
        decoder_input_ids = default_decoder_input_ids(input_ids, decoder_input_ids, decoder_inputs_embeds,
                                                      self._shift_right)
        base = self._encode_decode(input_ids, attention_mask, decoder_input_ids, decoder_attention_mask, head_mask,
                                   decoder_head_mask, cross_attn_head_mask, encoder_outputs, None, inputs_embeds,
                                   decoder_inputs_embeds, use_cache, output_attentions, output_hidden_states)
        start_logits, end_logits = span_logits(self.qa_outputs(base.last_hidden_state))  # (B, T) each
        loss = None
        if start_positions is not None and end_positions is not None:
            loss = span_loss(start_logits, end_logits, start_positions, end_positions)
        out = Seq2SeqQuestionAnsweringModelOutput(loss=loss, start_logits=start_logits, end_logits=end_logits,
                                                  **seq2seq_fields(base))
        return out if return_dict else out.to_tuple()


class TokenClassificationMixin:
    """Every encoder state -> ``self.dropout`` -> ``self.classifier``: logits (B, T, num_labels).

    For an encoder whose forward is (input_ids, attention_mask, head_mask, inputs_embeds, output_attentions,
    output_hidden_states, return_dict): DistilBERT's and T5's.
    """

    def forward(self, input_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                head_mask: Tensor | None = None, inputs_embeds: Tensor | None = None,
                labels: Tensor | None = None, output_attentions: bool | None = None,
                output_hidden_states: bool | None = None, return_dict: bool | None = None
                ) -> TokenClassifierOutput | tuple:
        return_dict = self.config.use_return_dict if return_dict is None else return_dict
        base = self.base_model(input_ids, attention_mask, head_mask, inputs_embeds, output_attentions,
                               output_hidden_states, return_dict=True)
        logits = self.classifier(self.dropout(base.last_hidden_state))  # (B, T, num_labels)
        loss = token_loss(logits, labels) if labels is not None else None  # -100 marks tokens without a label
        out = TokenClassifierOutput(loss=loss, logits=logits, hidden_states=base.hidden_states,
                                    attentions=base.attentions)
        return out if return_dict else out.to_tuple()
