"""The decoding loops: greedy / multinomial sampling and beam search, one token per row per step.

:class:`Stepper` runs the model one step at a time over its KV cache (it owns the mask and position
bookkeeping); :func:`sample` and :func:`beam_search` choose the tokens, with the reference's logits processors
and its beam bookkeeping, and write them into pre-allocated buffers.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from ..outputs import ModelOutput
from .cache import DynamicCache, EncoderDecoderCache
from .config import GenerationConfig
from .stopping import Stops


@dataclass
class GenerateOutput(ModelOutput):
    """``return_dict_in_generate=True``: sequences (N, S); scores: one (N, V) tensor per step (processed)."""

    sequences: Tensor | None = None
    sequences_scores: Tensor | None = None  # beam search: length-normalised score of each returned sequence
    scores: tuple[Tensor, ...] | None = None
    logits: tuple[Tensor, ...] | None = None
    beam_indices: Tensor | None = None


class Stepper:
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



def sample(step: Stepper, ids: Tensor, cfg: GenerationConfig, processors: list, stops: Stops,
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


def beam_search(step: Stepper, ids: Tensor, cfg: GenerationConfig, processors: list,
                 stops: Stops) -> Tensor | GenerateOutput:
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

