"""Text generation: greedy, sampling and beam search over a KV cache, with the reference's semantics.

``GenerationMixin.generate`` is what ``model.generate(...)`` runs; the token choices match the
reference's ``generate`` (same logits processors in the same order, same beam bookkeeping, same RNG
use for sampling: ``torch.multinomial`` on the softmax of the processed scores).

Speed: the KV cache is a :class:`~minformers.generation.cache.StaticCache` allocated once for prompt + new tokens
(``model.make_cache``); each step feeds one token per row, writes its keys/values in place, and writes
the token into a pre-allocated output buffer. Without padding no mask is built at all (``is_causal``
for the prompt, nothing for single-token steps); the prompt step computes logits of the last token only.

Model protocol
--------------
Decoder-only models (``config.is_encoder_decoder`` false) are called as::

    model(input_ids, attention_mask=..., position_ids=..., past_key_values=cache, use_cache=True,
          return_dict=True[, logits_to_keep=1])  -> .logits (N, T, V)

with ``position_ids`` derived from the attention mask when the batch is (left-)padded. Encoder-decoder
models (``config.is_encoder_decoder`` true) provide:

- ``model.get_encoder()(input_ids=..., attention_mask=..., return_dict=True)`` -> ``.last_hidden_state``;
- ``model(input_ids=None, attention_mask=encoder_mask, decoder_input_ids=new tokens (N, T),
  encoder_outputs=..., past_key_values=cache, use_cache=True, return_dict=True)`` -> ``.logits`` (N, T, V);
  the cache is an :class:`~minformers.generation.cache.EncoderDecoderCache` (cross keys/values computed once);
- ``config.decoder_start_token_id`` (first decoder token), and optionally ``forced_bos_token_id`` /
  ``forced_eos_token_id`` in the config or generation config.

Either kind may define ``make_cache(batch_size, max_length)`` to supply a pre-allocated cache; otherwise a
DynamicCache (wrapped in an EncoderDecoderCache for encoder-decoders) is used. Caches must support
``reorder(beam_idx)`` for beam search.
"""

from __future__ import annotations

import copy
import logging
import os
import time
from typing import Any, ClassVar

import torch
from torch import Tensor

from .config import GenerationConfig
from .processors import build_processors
from .search import GenerateOutput, Stepper, beam_search, sample
from .stopping import StopStrings, Stops

# the logger keeps the name it had when this was the module minformers.generation
logger = logging.getLogger("minformers.generation")


# names generate() accepts besides GenerationConfig keys
_MODEL_INPUTS = ("inputs", "input_ids", "attention_mask", "decoder_input_ids", "encoder_outputs", "generation_config",
                 "streamer", "tokenizer", "logits_processor", "stopping_criteria")


class GenerationMixin:
    """``generate()`` for any model following the protocol in this module's docstring."""

    _absolute_positions: ClassVar[bool] = False  # learned position table: prompt + new must fit the context

    def can_generate(self) -> bool:
        return True

    @property
    def generation_config(self) -> GenerationConfig:
        if "_generation_config" not in self.__dict__:
            self.__dict__["_generation_config"] = GenerationConfig.from_model_config(self.config)
        return self.__dict__["_generation_config"]

    @generation_config.setter
    def generation_config(self, value: GenerationConfig) -> None:
        self.__dict__["_generation_config"] = value

    def save_pretrained(self, save_directory: str | os.PathLike, **kwargs: Any) -> None:
        super().save_pretrained(save_directory, **kwargs)
        if kwargs.get("is_main_process", True):
            self.generation_config.save_pretrained(save_directory)

    @torch.inference_mode()
    def generate(self, inputs: Tensor | None = None, generation_config: GenerationConfig | None = None,
                 streamer: Any = None, tokenizer: Any = None, **kwargs: Any) -> Tensor | GenerateOutput:
        """Continue `inputs` (B, T) token ids; returns (B * num_return_sequences, S) ids (or a GenerateOutput).

        Keyword arguments: every GenerationConfig key (max_new_tokens, do_sample, num_beams, ...), plus
        attention_mask, input_ids, decoder_input_ids, encoder_outputs. Others raise TypeError.
        """
        started = time.time()  # max_time counts from here, as the reference's MaxTimeCriteria
        cfg = copy.deepcopy(generation_config if generation_config is not None else self.generation_config)
        model_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in _MODEL_INPUTS}
        default_max_length = kwargs.get("max_length") is None  # the reference counts a default 20 from the prompt
        unknown = cfg.update(**kwargs)
        if unknown:
            raise TypeError(f"generate() got unexpected keyword arguments {sorted(unknown)}; valid names are the "
                            f"GenerationConfig keys {sorted(GenerationConfig._defaults)} and {list(_MODEL_INPUTS)}")
        cfg.validate()  # every setting, once (ValueError / NotImplementedError naming it)
        if model_kwargs.pop("logits_processor", None) or model_kwargs.pop("stopping_criteria", None):
            raise NotImplementedError("custom logits_processor / stopping_criteria are not supported")
        if inputs is None:
            inputs = model_kwargs.pop("input_ids", None)
        attention_mask = model_kwargs.pop("attention_mask", None)
        is_enc_dec = bool(getattr(self.config, "is_encoder_decoder", False))

        eos = cfg.eos_token_id
        eos = [] if eos is None else ([eos] if isinstance(eos, int) else list(eos))
        if cfg.pad_token_id is None and eos:
            logger.warning("Setting `pad_token_id` to `eos_token_id`:%d for open-end generation.", eos[0])
            cfg.pad_token_id = eos[0]
        if cfg.stop_strings is not None and tokenizer is None:
            raise ValueError("stop_strings needs the tokenizer: generate(..., stop_strings=..., tokenizer=tokenizer)")
        if streamer is not None and cfg.num_beams > 1:
            raise ValueError("streamer cannot be used with beam search (num_beams > 1)")

        # --- the prompt ---
        if inputs is None or inputs.numel() == 0:
            if inputs is not None and inputs.dim() != 2:
                raise ValueError(f"inputs must be (batch, tokens) token ids, got shape {tuple(inputs.shape)}")
            start = cfg.bos_token_id if not is_enc_dec else None
            if start is None and not is_enc_dec:
                raise ValueError("generate() got an empty prompt and the model has no bos_token_id to start from: "
                                 "pass input_ids")
            if is_enc_dec and model_kwargs.get("encoder_outputs") is None:
                raise ValueError("an encoder-decoder model needs input_ids (or encoder_outputs) to generate")
            B = inputs.shape[0] if inputs is not None and inputs.dim() == 2 else 1
            inputs = torch.full((B, 1), start, dtype=torch.long) if start is not None else None
        if inputs is not None and inputs.dim() == 1:
            inputs = inputs[None]
        device = self.device
        encoder_outputs = model_kwargs.pop("encoder_outputs", None)
        if is_enc_dec:
            if attention_mask is None and inputs is not None:
                attention_mask = _default_mask(inputs, cfg.pad_token_id, eos)
            if encoder_outputs is None:
                encoder_outputs = self.get_encoder()(input_ids=inputs.to(device), attention_mask=attention_mask,
                                                     return_dict=True)
            B = encoder_outputs.last_hidden_state.shape[0]
            ids = model_kwargs.pop("decoder_input_ids", None)
            start = cfg.decoder_start_token_id
            start = start if start is not None else getattr(self.config, "decoder_start_token_id", None)
            start = start if start is not None else cfg.bos_token_id
            if start is None and ids is None:
                raise ValueError("decoder_start_token_id (or bos_token_id) must be set to generate")
            if ids is None:
                ids = torch.full((B, 1), start, dtype=torch.long)
            elif start is not None and bool((ids[:, 0] != start).all()):  # the reference puts the start in front
                ids = torch.cat([torch.full((ids.shape[0], 1), start, dtype=torch.long, device=ids.device), ids], 1)
        else:
            ids = inputs
            if attention_mask is None:
                attention_mask = _default_mask(ids, cfg.pad_token_id, eos)
        ids = ids.to(device)
        T0 = ids.shape[1]

        # --- lengths ---
        ctx = getattr(self.config, "max_position_embeddings", None)
        if cfg.max_new_tokens is not None:
            if not default_max_length:  # the reference's warning: both were asked for
                logger.warning("Both max_new_tokens (=%d) and max_length (=%d) are set; max_new_tokens takes "
                               "precedence (max_length counts the prompt too: pass only one of them).",
                               cfg.max_new_tokens, cfg.max_length)
            cfg.max_length = T0 + cfg.max_new_tokens
        elif default_max_length and cfg.max_length == GenerationConfig._defaults["max_length"]:
            # not asked for: 20 new tokens (as the reference), within the context when the model has one
            cfg.max_length = T0 + cfg.max_length if ctx is None else min(T0 + cfg.max_length, ctx)
        if cfg.min_new_tokens is not None:  # min_new_tokens overrides min_length (the reference)
            cfg.min_length = T0 + cfg.min_new_tokens
        if ctx is not None:
            _check_context(cfg.max_length, T0, ctx, is_enc_dec, self._absolute_positions or is_enc_dec)
        if cfg.max_length <= T0:  # only without max_new_tokens; the reference raises too
            what = "decoder_input_ids" if is_enc_dec else "prompt"
            raise ValueError(f"The {what} is {T0} tokens long and max_length (the total length, {what} included) is "
                             f"{cfg.max_length}: nothing is left to generate. Pass max_new_tokens=N to ask for N new "
                             "tokens whatever the prompt's length, or a larger max_length.")

        processors = build_processors(cfg, eos, T0)
        expand = cfg.num_beams if cfg.num_beams > 1 else cfg.num_return_sequences
        if expand > 1:  # every beam / sample gets its own copy of the row
            ids = ids.repeat_interleave(expand, dim=0)
            if attention_mask is not None:
                attention_mask = attention_mask.repeat_interleave(expand, dim=0)
            if encoder_outputs is not None:
                encoder_outputs = copy.copy(encoder_outputs)
                encoder_outputs.last_hidden_state = encoder_outputs.last_hidden_state.repeat_interleave(expand, dim=0)
        stepper = Stepper(self, ids.shape[0], cfg.max_length, attention_mask, encoder_outputs, device)
        stops = Stops(eos, ids.device, StopStrings(tokenizer, cfg.stop_strings) if cfg.stop_strings is not None
                       else None, started + cfg.max_time if cfg.max_time is not None else None)
        if cfg.num_beams > 1:
            return beam_search(stepper, ids, cfg, processors, stops)
        return sample(stepper, ids, cfg, processors, stops, streamer)


def _check_context(max_length: int, T0: int, ctx: int, is_enc_dec: bool, absolute: bool) -> None:
    """Refuse, before any work, a generation whose positions the model cannot embed.

    The model sees positions 0 .. max_length - 2 only: the last new token is returned, never fed back. So
    max_length may be ctx + 1 (a 256-position GPT-2 continues a 1-token prompt by 256 tokens, as the
    reference). For an encoder-decoder, max_length counts the decoder's start token (the encoder's input is
    checked by the encoder); its decoder position tables (BART's learned, Marian's sinusoidal) are as long.
    """
    if not is_enc_dec and T0 > ctx:
        raise ValueError(f"The prompt is {T0} tokens long, but this model's context holds {ctx} "
                         "(max_position_embeddings). Truncate the prompt, e.g. tokenizer(..., truncation=True, "
                         f"max_length={ctx}).")
    if max_length - 1 > ctx:
        what = (f"The decoder's start plus the new tokens ({max_length - 1} positions fed to the decoder)" if is_enc_dec
                else f"The prompt ({T0} tokens) plus the new tokens ({max_length - T0})")
        if absolute:
            raise ValueError(f"{what} exceed this model's context of {ctx} positions (the last new token is never "
                             f"fed back, so at most {ctx + 1 - T0} new tokens fit); ask for fewer new tokens.")
        logger.warning("Generating up to %d tokens, beyond the model's context of %d", max_length, ctx)


def _default_mask(ids: Tensor, pad: int | None, eos: list[int]) -> Tensor | None:
    """The reference's default: pad tokens are masked when pad is set, present, and not an eos token."""
    if pad is not None and pad not in eos and bool((ids == pad).any()):
        return (ids != pad).long()
    return None


