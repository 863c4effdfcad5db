"""Text generation: greedy, sampling and beam search over a KV cache, with the reference's semantics.

``GenerationMixin.generate`` is what ``model.generate(...)`` runs; the token choices match the
reference's ``generate`` (same logits processors in the same order, same beam bookkeeping, same RNG
use for sampling: ``torch.multinomial`` on the softmax of the processed scores).

Speed: the KV cache is a :class:`~minformers.cache.StaticCache` allocated once for prompt + new tokens
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
  the cache is an :class:`~minformers.cache.EncoderDecoderCache` (cross keys/values computed once);
- ``config.decoder_start_token_id`` (first decoder token), and optionally ``forced_bos_token_id`` /
  ``forced_eos_token_id`` in the config or generation config.

Either kind may define ``make_cache(batch_size, max_length)`` to supply a pre-allocated cache; otherwise a
DynamicCache (wrapped in an EncoderDecoderCache for encoder-decoders) is used. Caches must support
``reorder(beam_idx)`` for beam search.
"""

from __future__ import annotations

import copy
import inspect
import logging
import os
import time
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from .cache import DynamicCache, EncoderDecoderCache
from .generation_utils.config import GENERATION_CONFIG_NAME, GenerationConfig, load_generation_config  # noqa: F401
from .generation_utils.processors import build_processors
from .generation_utils.streamers import TextIteratorStreamer, TextStreamer  # noqa: F401  (public names)
from .outputs import ModelOutput

logger = logging.getLogger(__name__)

@dataclass
class GenerateOutput(ModelOutput):
    """``return_dict_in_generate=True``: sequences (N, S); scores: one (N, V) tensor per step (processed)."""

    sequences: Tensor | None = None
    sequences_scores: Tensor | None = None  # beam search: length-normalised score of each returned sequence
    scores: tuple[Tensor, ...] | None = None
    logits: tuple[Tensor, ...] | None = None
    beam_indices: Tensor | None = None


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
        stepper = _Stepper(self, ids.shape[0], cfg.max_length, attention_mask, encoder_outputs, device)
        stops = _Stops(eos, ids.device, _StopStrings(tokenizer, cfg.stop_strings) if cfg.stop_strings is not None
                       else None, started + cfg.max_time if cfg.max_time is not None else None)
        if cfg.num_beams > 1:
            return _beam_search(stepper, ids, cfg, processors, stops)
        return _sample(stepper, ids, cfg, processors, stops, streamer)


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


class _Stepper:
    """Runs the model one step at a time over its cache; owns the mask / position bookkeeping."""

    def __init__(self, model: Any, N: int, max_length: int, attention_mask: Tensor | None,
                 encoder_outputs: Any, device: torch.device) -> None:
        self.model, self.enc = model, encoder_outputs
        self.is_enc_dec = encoder_outputs is not None
        make = getattr(model, "make_cache", None)
        cache = make(N, max_length) if make is not None else None
        if cache is None:
            cache = EncoderDecoderCache(DynamicCache()) if self.is_enc_dec else DynamicCache()
        self.cache = cache
        params = inspect.signature(model.forward).parameters
        self.keep_last = {"logits_to_keep": 1} if "logits_to_keep" in params else {}
        self.enc_mask = attention_mask if self.is_enc_dec else None
        self.mask = None  # decoder-only: (N, max_length) mask, only when the prompt is padded
        self.positions: Tensor | None = None  # the prompt's positions (N, T0)
        self.next_position: Tensor | None = None  # the next new token's (N, 1)
        if not self.is_enc_dec and attention_mask is not None and not bool(attention_mask.all()):
            self.mask = torch.ones(N, max_length, dtype=attention_mask.dtype, device=device)
            self.mask[:, :attention_mask.shape[1]] = attention_mask
            pos = attention_mask.long().cumsum(-1) - 1
            self.positions = pos.masked_fill(attention_mask == 0, 1)  # (N, T0), as the reference
            # a new token's position counts the attended tokens before it (even after a padded prompt end)
            self.next_position = attention_mask.long().sum(-1, keepdim=True)  # (N, 1)
        self.first = True

    def __call__(self, new_ids: Tensor) -> Tensor:
        """Feed the new tokens (N, T); return the next-token logits (N, V) in float32."""
        m = self.model
        if self.is_enc_dec:
            out = m(input_ids=None, attention_mask=self.enc_mask, decoder_input_ids=new_ids,
                    encoder_outputs=self.enc, past_key_values=self.cache, use_cache=True, return_dict=True)
        else:
            pos = None
            if self.positions is not None:
                if self.first:
                    pos = self.positions
                else:
                    pos = self.next_position
                    self.next_position = pos + 1
            out = m(new_ids, attention_mask=self.mask, position_ids=pos, past_key_values=self.cache, use_cache=True,
                    return_dict=True, **(self.keep_last if self.first else {}))
        self.first = False
        return out.logits[:, -1, :].float()

    def reorder(self, beam_idx: Tensor) -> None:
        self.cache.reorder(beam_idx)
        if self.mask is not None:
            self.mask = self.mask.index_select(0, beam_idx)
            self.next_position = self.next_position.index_select(0, beam_idx)


class _StopStrings:
    """A row stops when its text gains a stop string that overlaps its last token (reference StopStringCriteria)."""

    def __init__(self, tokenizer: Any, stop_strings: str | list[str]) -> None:
        self.tokenizer = tokenizer
        self.strings = [stop_strings] if isinstance(stop_strings, str) else list(stop_strings)
        self.window = max(len(s) for s in self.strings) + 1  # a token holds at least one character

    def __call__(self, seqs: Tensor) -> Tensor:
        done = []
        decode = partial(self.tokenizer.decode, clean_up_tokenization_spaces=False)  # " ," must stay matchable
        for row in seqs[:, -self.window:].tolist():
            text, before = decode(row), decode(row[:-1])
            # a match counts only if it ends inside the last token's text (it may start earlier)
            done.append(any(s in text[max(0, len(before) - len(s) + 1):] for s in self.strings))
        return torch.tensor(done, dtype=torch.bool)


class _Stops:
    """The stopping criteria besides max_length: an eos token, a stop string, the max_time deadline."""

    def __init__(self, eos: list[int], device: torch.device, stop_strings: _StopStrings | None,
                 deadline: float | None) -> None:
        self.eos = torch.tensor(eos, device=device) if eos else None
        self.stop_strings, self.deadline = stop_strings, deadline

    def __call__(self, seqs: Tensor) -> Tensor:
        """(N,) True where the row just stopped (every row once the time is up, as the reference)."""
        if self.deadline is not None and time.time() > self.deadline:
            return torch.ones(seqs.shape[0], dtype=torch.bool, device=seqs.device)
        done = torch.isin(seqs[:, -1], self.eos) if self.eos is not None else \
            torch.zeros(seqs.shape[0], dtype=torch.bool, device=seqs.device)
        if self.stop_strings is not None:
            done |= self.stop_strings(seqs).to(seqs.device)
        return done


def _sample(step: _Stepper, ids: Tensor, cfg: GenerationConfig, processors: list, stops: _Stops,
            streamer: Any) -> Tensor | GenerateOutput:
    """Greedy (argmax) or multinomial sampling, one token per row per step (the reference's _sample)."""
    N, T0 = ids.shape
    seqs = torch.full((N, cfg.max_length), cfg.pad_token_id if cfg.pad_token_id is not None else 0,
                      dtype=torch.long, device=ids.device)  # the output, written in place
    seqs[:, :T0] = ids
    unfinished = torch.ones(N, dtype=torch.bool, device=ids.device)
    scores_out, logits_out = [], []
    if streamer is not None:
        streamer.put(ids.cpu())
    cur, new = T0, ids
    while True:
        logits = step(new)  # (N, V)
        scores = logits
        for proc in processors:
            scores = proc(seqs[:, :cur], scores)
        if cfg.output_scores:
            scores_out.append(scores)
        if cfg.output_logits:
            logits_out.append(logits)
        if cfg.do_sample:
            nxt = torch.multinomial(F.softmax(scores, dim=-1), num_samples=1).squeeze(1)
        else:
            nxt = scores.argmax(dim=-1)
        if stops.eos is not None:  # finished rows get padding (as the reference: only when an eos token is set)
            nxt = torch.where(unfinished, nxt, cfg.pad_token_id)
        seqs[:, cur] = nxt
        cur += 1
        if streamer is not None:
            streamer.put(nxt.cpu())
        unfinished &= ~stops(seqs[:, :cur])
        if cur >= cfg.max_length or not bool(unfinished.any()):
            break
        new = seqs[:, cur - 1:cur]
    if streamer is not None:
        streamer.end()
    seqs = seqs[:, :cur]
    if cfg.return_dict_in_generate:
        return GenerateOutput(sequences=seqs, scores=tuple(scores_out) if cfg.output_scores else None,
                              logits=tuple(logits_out) if cfg.output_logits else None)
    return seqs


def _beam_search(step: _Stepper, ids: Tensor, cfg: GenerationConfig, processors: list,
                 stops: _Stops) -> Tensor | GenerateOutput:
    """Beam search with the reference's vectorised bookkeeping (transformers >= 4.50 ``_beam_search``).

    Per input: ``num_beams`` running beams and ``num_beams`` finished hypotheses. Each step keeps the top
    K = max(2, 1 + n_eos) * num_beams continuations; those hitting a stop condition compete (score divided by
    generated_length ** length_penalty) for the finished slots; the best num_beams others keep running.
    Stops when no finished hypothesis can still be beaten (``early_stopping``), or at max_length.
    """
    nb, L, lp, early = cfg.num_beams, cfg.max_length, cfg.length_penalty, cfg.early_stopping
    NB, T0 = ids.shape
    B = NB // nb
    eos = stops.eos.tolist() if stops.eos is not None else []
    K = max(2, 1 + len(eos)) * nb
    dev = ids.device
    top_nb = torch.arange(K, device=dev) < nb  # (K,)
    pad = cfg.pad_token_id
    fill = (pad or eos[0]) if eos else -1  # the reference's `pad_token_id or eos_token_id[0]`
    running = torch.full((B, nb, L), fill, dtype=torch.long, device=dev)
    running[:, :, :T0] = ids.view(B, nb, T0)
    finished = running.clone()
    running_scores = torch.zeros(B, nb, device=dev)
    running_scores[:, 1:] = -1e9  # identical beams at first: only beam 0 may expand
    finished_scores = torch.full((B, nb), -1e9, device=dev)
    is_finished = torch.zeros(B, nb, dtype=torch.bool, device=dev)
    improvable = torch.ones(B, 1, dtype=torch.bool, device=dev)
    running_bidx = torch.full((B, nb, L - T0), -1, dtype=torch.long, device=dev)
    finished_bidx = running_bidx.clone()
    scores_out, logits_out = [], []
    batch_offset = torch.arange(B, device=dev)[:, None] * nb
    cur = T0

    def gather(t: Tensor, idx: Tensor) -> Tensor:  # t (B, n, ...) rows picked by idx (B, k)
        return t.gather(1, idx.view(*idx.shape, *([1] * (t.dim() - 2))).expand(*idx.shape, *t.shape[2:]))

    new = ids
    while True:
        logits = step(new)  # (B*nb, V)
        V = logits.shape[-1]
        logp = F.log_softmax(logits, dim=-1)
        flat = running[:, :, :cur].reshape(NB, cur)
        for proc in processors:
            logp = proc(flat, logp)
        if cfg.output_scores:
            scores_out.append(logp)
        if cfg.output_logits:
            logits_out.append(logits)
        acc = (logp.view(B, nb, V) + running_scores[:, :, None]).view(B, nb * V)
        if cfg.do_sample:
            top_idx = torch.multinomial(F.softmax(acc, dim=-1), num_samples=K)
            top_logp = acc.gather(1, top_idx)
        else:
            top_logp, top_idx = torch.topk(acc, K)  # (B, K)
        src_beam = top_idx // V
        top_seqs = gather(running, src_beam)  # (B, K, L)
        top_seqs[:, :, cur] = top_idx % V
        top_bidx = gather(running_bidx, src_beam)
        top_bidx[:, :, cur - T0] = src_beam + batch_offset
        hits = stops(top_seqs[:, :, :cur + 1].reshape(B * K, cur + 1)).view(B, K)
        if cur + 1 >= L:
            hits = torch.ones_like(hits)
        # the best num_beams continuations that did not stop keep running
        run_logp = top_logp + hits.float() * -1e9
        keep = torch.topk(run_logp, nb)[1]
        running, running_scores, running_bidx = gather(top_seqs, keep), gather(run_logp, keep), gather(top_bidx, keep)
        # stopped continuations among the top num_beams compete for the finished slots
        just_done = hits & top_nb[None, :]
        cand = top_logp / ((cur + 1 - T0) ** lp)
        full = is_finished.all(dim=-1, keepdim=True) & (early is True)
        cand = cand + full.float() * -1e9 + (~improvable).float() * -1e9 + (~just_done).float() * -1e9
        merged_scores = torch.cat((finished_scores, cand), dim=1)
        best = torch.topk(merged_scores, nb)[1]
        finished = gather(torch.cat((finished, top_seqs), dim=1), best)
        finished_scores = gather(merged_scores, best)
        finished_bidx = gather(torch.cat((finished_bidx, top_bidx), dim=1), best)
        is_finished = gather(torch.cat((is_finished, just_done), dim=1), best)
        step.reorder(running_bidx[:, :, cur - T0].reshape(NB))
        cur += 1
        # can a running beam still beat the worst finished one?
        best_len = (L - T0) if (early == "never" and lp > 0.0) else (cur - T0)
        best_running = running_scores[:, :1] / (best_len ** lp)
        worst_done = torch.where(is_finished, finished_scores.min(dim=1, keepdim=True)[0], -1.0e9)
        improvable = improvable & (best_running > worst_done).any(dim=-1, keepdim=True)
        go_on = bool(improvable.any()) and not (bool(is_finished.all()) and early is True) and not bool(hits.all())
        if not go_on or cur >= L:
            break
        new = running[:, :, cur - 1:cur].reshape(NB, 1)

    n = cfg.num_return_sequences
    seqs = finished[:, :n].reshape(B * n, L)
    bidx = finished_bidx[:, :n].reshape(B * n, L - T0)
    gen_len = int((bidx + 1).bool().sum(dim=1).max())
    seqs = seqs[:, :T0 + gen_len]
    if cfg.return_dict_in_generate:
        return GenerateOutput(sequences=seqs,
                              sequences_scores=finished_scores[:, :n].reshape(-1) if cfg.output_scores else None,
                              scores=tuple(scores_out) if cfg.output_scores else None,
                              logits=tuple(logits_out) if cfg.output_logits else None, beam_indices=bidx[:, :gen_len])
    return seqs
