"""The task heads, written once for every family (DESIGN rule 7: heads are thin, the loss only with labels).

A head class in a model file keeps its constructor -- its attribute names are checkpoint keys
(``classifier``, ``qa_outputs``, ``cls.predictions``, ``lm_head``, ``classification_head.dense``) -- and takes
the rest from here:

- output builders (:func:`token_classifier_output`, :func:`question_answering_output`, ...): logits and the base
  model's output -> the head's one output type, the loss computed when labels are given;
- forwards by signature, each calling the base model (``self.base_model``) and then the class's
  ``_head(base, labels)``: :class:`BertStyleHead` (BERT, RoBERTa, XLM-R: input_ids, attention_mask,
  token_type_ids, position_ids, head_mask, inputs_embeds), :class:`EncoderHead` (DistilBERT, the T5 encoder:
  no token types or positions), with the question-answering and multiple-choice forwards of the BERT signature;
- shared ``_head`` bodies: :class:`TokenClassificationHead` (every state -> dropout -> ``classifier``);
- the seq2seq heads (BART, Marian, T5): :class:`Seq2SeqLMMixin` (decoder states -> ``self._lm_logits``),
  :class:`Seq2SeqSequenceClassificationMixin` (the state at the last </s>, :func:`eos_pool`, ->
  ``self.classification_head``), :class:`Seq2SeqQuestionAnsweringMixin` (every decoder state -> ``qa_outputs``).
  They reach the encoder-decoder through ``self._encode_decode`` -- the base model's forward by default; the T5
  heads that are their own base point it at ``T5Model._encode_decode``. Decoder inputs come from
  ``self._shift_right`` (each family's labels -> decoder inputs).

GPT-2's and Llama's heads keep their own signatures (GPT-2 also takes token_type_ids) and use the builders.
Mixins are listed before the family's PreTrainedModel in a head's bases.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from ..generation.cache import EncoderDecoderCache
from ..kernels import linear
from ..outputs import (
    CausalLMOutputWithPast,
    MaskedLMOutput,
    ModelOutput,
    MultipleChoiceModelOutput,
    QuestionAnsweringModelOutput,
    Seq2SeqLMOutput,
    Seq2SeqModelOutput,
    Seq2SeqQuestionAnsweringModelOutput,
    Seq2SeqSequenceClassifierOutput,
    SequenceClassifierOutput,
    SequenceClassifierOutputWithPast,
    TokenClassifierOutput,
)
from .base import (causal_lm_loss, classification_loss, flatten_choices, last_token_logits, span_logits, span_loss,
                   token_loss)
from .seq2seq_utils import default_decoder_input_ids, seq2seq_fields


# --- output builders: logits + the base model's output -> the head's output (loss only with labels) ---
def returned(out: ModelOutput, return_dict: bool | None, config: Any) -> ModelOutput | tuple:
    """The output, or its tuple when return_dict is False (None: config.use_return_dict)."""
    return out if (config.use_return_dict if return_dict is None else return_dict) else out.to_tuple()


def token_classifier_output(logits: Tensor, labels: Tensor | None, base: Any,
                            upcast: bool = False) -> TokenClassifierOutput:
    """logits (B, T, num_labels); labels -100 mark tokens without a label; ``upcast``: the loss in float32 (Llama)."""
    loss = token_loss(logits.float() if upcast else logits, labels) if labels is not None else None
    return TokenClassifierOutput(loss=loss, logits=logits, hidden_states=base.hidden_states,
                                 attentions=base.attentions)


def question_answering_output(qa_logits: Tensor, start_positions: Tensor | None, end_positions: Tensor | None,
                              base: Any) -> QuestionAnsweringModelOutput:
    """qa_logits (B, T, 2) -> start and end logits (B, T) each; the span loss when both positions are given."""
    start_logits, end_logits = span_logits(qa_logits)
    loss = None
    if start_positions is not None and end_positions is not None:
        loss = span_loss(start_logits, end_logits, start_positions, end_positions)
    return QuestionAnsweringModelOutput(loss=loss, start_logits=start_logits, end_logits=end_logits,
                                        hidden_states=base.hidden_states, attentions=base.attentions)


def sequence_classifier_output(logits: Tensor, labels: Tensor | None, config: Any,
                               base: Any) -> SequenceClassifierOutput:
    """logits (B, num_labels), the loss by config.problem_type. ``base`` None: no states to pass on (BERT's pool)."""
    loss = classification_loss(logits, labels, config) if labels is not None else None
    hidden_states, attentions = (None, None) if base is None else (base.hidden_states, base.attentions)
    return SequenceClassifierOutput(loss=loss, logits=logits, hidden_states=hidden_states, attentions=attentions)


def last_token_classifier_output(logits: Tensor, labels: Tensor | None, config: Any,
                                 base: Any) -> SequenceClassifierOutputWithPast:
    """A decoder's (GPT-2, Llama) logits (B, num_labels) at the last token, with the cache."""
    loss = classification_loss(logits, labels, config) if labels is not None else None
    return SequenceClassifierOutputWithPast(loss=loss, logits=logits, past_key_values=base.past_key_values,
                                            hidden_states=base.hidden_states, attentions=base.attentions)


def causal_lm_output(lm_head: nn.Module, base: Any, labels: Tensor | None,
                     logits_to_keep: int = 0) -> CausalLMOutputWithPast:
    """A decoder's (GPT-2, Llama) states -> ``lm_head`` -> logits (B, T, V), of the last ``logits_to_keep`` tokens
    only when it is not 0 (as the reference); the loss predicts token t + 1 from t."""
    h = base.last_hidden_state
    logits = linear(h[:, -logits_to_keep:] if logits_to_keep else h, lm_head)  # (B, T, V)
    loss = causal_lm_loss(logits, labels) if labels is not None else None
    return CausalLMOutputWithPast(loss=loss, logits=logits, past_key_values=base.past_key_values,
                                  hidden_states=base.hidden_states, attentions=base.attentions)


def masked_lm_output(logits: Tensor, labels: Tensor | None, base: Any) -> MaskedLMOutput:
    """logits (B, T, V); labels -100 are ignored by the loss."""
    loss = token_loss(logits, labels) if labels is not None else None
    return MaskedLMOutput(loss=loss, logits=logits, hidden_states=base.hidden_states, attentions=base.attentions)


def multiple_choice_output(logits: Tensor, labels: Tensor | None, base: Any) -> MultipleChoiceModelOutput:
    """logits (B, C), one score per choice; labels (B,) the right choice."""
    loss = token_loss(logits, labels) if labels is not None else None
    return MultipleChoiceModelOutput(loss=loss, logits=logits, hidden_states=base.hidden_states,
                                     attentions=base.attentions)


# --- encoder forwards by signature: the base model, then the class's ``_head(base, labels)`` ---
class BertStyleHead:
    """BERT's signature (BERT, RoBERTa, XLM-R): base model -> ``self._head(base, labels)``."""

    def _head(self, base: Any, labels: Tensor | None) -> ModelOutput:
        raise NotImplementedError

    def forward(self, input_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                token_type_ids: Tensor | None = None, position_ids: Tensor | None = None,
                head_mask: Tensor | None = None, inputs_embeds: Tensor | None = None,
                labels: Tensor | None = None, output_attentions: bool | None = None,
                output_hidden_states: bool | None = None, return_dict: bool | None = None
                ) -> ModelOutput | tuple:
        base = self.base_model(input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds,
                               output_attentions, output_hidden_states, return_dict=True)
        return returned(self._head(base, labels), return_dict, self.config)


class EncoderHead:
    """DistilBERT's signature (DistilBERT, the T5 encoder; no token types or positions): base model ->
    ``self._head(base, labels)``."""

    def _head(self, base: Any, labels: Tensor | None) -> ModelOutput:
        raise NotImplementedError

    def forward(self, input_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                head_mask: Tensor | None = None, inputs_embeds: Tensor | None = None,
                labels: Tensor | None = None, output_attentions: bool | None = None,
                output_hidden_states: bool | None = None, return_dict: bool | None = None
                ) -> ModelOutput | tuple:
        base = self.base_model(input_ids, attention_mask, head_mask, inputs_embeds, output_attentions,
                               output_hidden_states, return_dict=True)
        return returned(self._head(base, labels), return_dict, self.config)


class TokenClassificationHead:
    """Every encoder state -> ``self.dropout`` -> ``self.classifier``: logits (B, T, num_labels)."""

    def _head(self, base: Any, labels: Tensor | None) -> TokenClassifierOutput:
        logits = self.classifier(self.dropout(base.last_hidden_state))  # (B, T, num_labels)
        return token_classifier_output(logits, labels, base)


class LastTokenClassificationHead:
    """Decoders (GPT-2, Llama): the last non-pad token's state -> ``self.score`` (no bias): logits (B, num_labels).
    The family's forward calls ``self._head(base, labels, input_ids)``."""

    def _head(self, base: Any, labels: Tensor | None, input_ids: Tensor | None) -> ModelOutput:
        logits = last_token_logits(self.score(base.last_hidden_state), input_ids, self.config.pad_token_id)
        return last_token_classifier_output(logits, labels, self.config, base)


class TokenClassificationMixin(TokenClassificationHead, EncoderHead):
    """Token classification with DistilBERT's signature: DistilBERT's and T5's."""


class BertStyleQuestionAnsweringHead:
    """BERT's signature, every token -> ``self.qa_outputs`` -> (start, end) logits, each (B, T)."""

    def forward(self, input_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                token_type_ids: Tensor | None = None, position_ids: Tensor | None = None,
                head_mask: Tensor | None = None, inputs_embeds: Tensor | None = None,
                start_positions: Tensor | None = None, end_positions: Tensor | None = None,
                output_attentions: bool | None = None, output_hidden_states: bool | None = None,
                return_dict: bool | None = None) -> QuestionAnsweringModelOutput | tuple:
        base = self.base_model(input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds,
                               output_attentions, output_hidden_states, return_dict=True)
        out = question_answering_output(self.qa_outputs(base.last_hidden_state), start_positions, end_positions, base)
        return returned(out, return_dict, self.config)


class BertStyleMultipleChoiceHead:
    """BERT's signature, (B, C, T) choices -> each pooled first token -> ``self.dropout`` -> ``self.classifier``
    -> one score: logits (B, C)."""

    def forward(self, input_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                token_type_ids: Tensor | None = None, position_ids: Tensor | None = None,
                head_mask: Tensor | None = None, inputs_embeds: Tensor | None = None,
                labels: Tensor | None = None, output_attentions: bool | None = None,
                output_hidden_states: bool | None = None, return_dict: bool | None = None
                ) -> MultipleChoiceModelOutput | tuple:
        C = (input_ids if input_ids is not None else inputs_embeds).size(1)
        flat = flatten_choices
        base = self.base_model(flat(input_ids), flat(attention_mask), flat(token_type_ids), flat(position_ids),
                               head_mask, flat(inputs_embeds), output_attentions, output_hidden_states,
                               return_dict=True)
        logits = self.classifier(self.dropout(base.pooler_output)).view(-1, C)  # (B, C)
        return returned(multiple_choice_output(logits, labels, base), return_dict, self.config)


# --- seq2seq heads (BART, Marian, T5) ---
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
