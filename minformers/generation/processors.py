"""Logits processors: each takes the tokens so far (N, S) and next-token scores (N, V), returns new scores.

They mirror the reference's ``LogitsProcessor`` classes one by one (same maths, same order, see
:func:`build_processors`), so greedy, beam and seeded sampling pick the same tokens as the reference.
https://huggingface.co/docs/transformers/internal/generation_utils#logitsprocessor
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import Tensor

Processor = Callable[[Tensor, Tensor], Tensor]
NEG_INF = -float("inf")


def repetition_penalty(penalty: float) -> Processor:
    """Scores of tokens already in the sequence: divided by penalty if positive, multiplied if negative
    (CTRL, https://arxiv.org/abs/1909.05858)."""
    def apply(ids: Tensor, scores: Tensor) -> Tensor:
        seen = scores.gather(1, ids)
        seen = torch.where(seen < 0, seen * penalty, seen / penalty)
        return scores.scatter(1, ids, seen)
    return apply


def no_repeat_ngram(n: int) -> Processor:
    """Ban any token that would repeat an n-gram already in the sequence."""
    def apply(ids: Tensor, scores: Tensor) -> Tensor:
        S = ids.shape[1]
        if S + 1 < n:
            return scores
        scores = scores.clone()
        for row, seq in enumerate(ids.tolist()):
            prefix = tuple(seq[S - n + 1:]) if n > 1 else ()
            banned = {seq[i + n - 1] for i in range(S - n + 1) if tuple(seq[i:i + n - 1]) == prefix}
            if banned:
                scores[row, list(banned)] = NEG_INF
        return scores
    return apply


def no_bad_words(bad_words_ids: list[list[int]], eos: list[int]) -> Processor:
    """Ban each bad word's last token wherever the tokens before it end the sequence (single tokens: always).

    As the reference: a word must fit in the sequence (prefix and last token), and single-token words that are
    eos tokens are dropped (possibly all of them: then nothing is banned). GenerationConfig.validate checks the ids.
    """
    words = [w for w in bad_words_ids if w not in [[e] for e in eos]]
    static = [w[0] for w in words if len(w) == 1]
    longer = [w for w in words if len(w) > 1]

    def apply(ids: Tensor, scores: Tensor) -> Tensor:
        scores = scores.clone()
        if static:
            scores[:, static] = NEG_INF
        if longer:
            rows = ids.tolist()
            for r, seq in enumerate(rows):
                for w in longer:
                    if len(seq) >= len(w) and seq[len(seq) - len(w) + 1:] == w[:-1]:
                        scores[r, w[-1]] = NEG_INF
        return scores
    return apply


def min_length(length: int, eos: list[int]) -> Processor:
    def apply(ids: Tensor, scores: Tensor) -> Tensor:
        if ids.shape[1] < length:
            scores = scores.clone()
            scores[:, eos] = NEG_INF
        return scores
    return apply


def min_new_tokens(prompt_length: int, n: int, eos: list[int]) -> Processor:
    def apply(ids: Tensor, scores: Tensor) -> Tensor:
        if ids.shape[1] - prompt_length < n:
            scores = scores.clone()
            scores[:, eos] = NEG_INF
        return scores
    return apply


def forced_token(position: int, token_ids: list[int]) -> Processor:
    """When the sequence is `position` tokens long, only `token_ids` may come next (forced BOS/EOS)."""
    def apply(ids: Tensor, scores: Tensor) -> Tensor:
        if ids.shape[1] == position:
            scores = torch.full_like(scores, NEG_INF)
            scores[:, token_ids] = 0
        return scores
    return apply


def suppress(token_ids: list[int], at_length: int | None = None) -> Processor:
    """Ban `token_ids` at every step, or only when the sequence is `at_length` tokens long (the first new token).

    Ids outside the vocabulary are ignored, as by the reference.
    """
    def apply(ids: Tensor, scores: Tensor) -> Tensor:
        if at_length is not None and ids.shape[1] != at_length:
            return scores
        vocab = torch.arange(scores.shape[-1], device=scores.device)
        banned = torch.isin(vocab, torch.tensor(token_ids, dtype=torch.long, device=scores.device))
        return scores.masked_fill(banned, NEG_INF)
    return apply


def remove_invalid_values(ids: Tensor, scores: Tensor) -> Tensor:
    """NaN -> 0, +-inf -> the dtype's largest / smallest finite value (remove_invalid_values=True)."""
    finfo = torch.finfo(scores.dtype)
    out = torch.where(scores != scores, 0.0, scores)
    out = torch.where(scores == float("inf"), finfo.max, out)
    return torch.where(scores == NEG_INF, finfo.min, out)


def renormalize(ids: Tensor, scores: Tensor) -> Tensor:
    """Log-probabilities again after every other processor (renormalize_logits=True)."""
    return scores.log_softmax(dim=-1)


def temperature(t: float) -> Processor:
    return lambda ids, scores: scores / t


def top_k(k: int, keep: int) -> Processor:
    k = max(k, keep)

    def apply(ids: Tensor, scores: Tensor) -> Tensor:
        kth = torch.topk(scores, min(k, scores.shape[-1]))[0][..., -1, None]
        return scores.masked_fill(scores < kth, NEG_INF)
    return apply


def top_p(p: float, keep: int) -> Processor:
    """Nucleus sampling (Holtzman et al. 2019): keep the smallest set of tokens with probability mass >= p."""
    def apply(ids: Tensor, scores: Tensor) -> Tensor:
        sorted_scores, order = torch.sort(scores, descending=False)
        cumulative = sorted_scores.softmax(dim=-1).cumsum(dim=-1)
        remove = cumulative <= (1 - p)
        remove[..., -keep:] = False
        return scores.masked_fill(remove.scatter(1, order, remove), NEG_INF)
    return apply


def min_p(p: float, keep: int) -> Processor:
    """Min-p sampling (Nguyen et al. 2024, https://arxiv.org/abs/2407.01082): drop tokens whose probability is
    below p times the top token's; the `keep` best tokens always stay."""
    def apply(ids: Tensor, scores: Tensor) -> Tensor:
        probs = scores.softmax(dim=-1)
        remove = probs < p * probs.max(dim=-1, keepdim=True)[0]
        order = torch.argsort(scores, descending=True, dim=-1)
        remove_sorted = remove.gather(1, order)
        remove_sorted[..., :keep] = False
        return scores.masked_fill(remove_sorted.scatter(1, order, remove_sorted), NEG_INF)
    return apply


def probability_cutoff(epsilon: float, keep: int, entropy_scaled: bool) -> Processor:
    """Truncation sampling (Hewitt et al. 2022, https://arxiv.org/abs/2210.15191): drop tokens with probability
    below epsilon (epsilon_cutoff) or below min(epsilon, sqrt(epsilon) * exp(-entropy)) (eta_cutoff);
    the `keep` best tokens always stay."""
    eps = torch.tensor(float(epsilon))  # float32 maths, as the reference

    def apply(ids: Tensor, scores: Tensor) -> Tensor:
        probs = scores.softmax(dim=-1)
        cutoff = eps.to(scores.device)
        if entropy_scaled:
            entropy = torch.distributions.Categorical(logits=scores).entropy()
            cutoff = torch.min(cutoff, cutoff.sqrt() * torch.exp(-entropy))[..., None]
        kth = torch.topk(scores, min(keep, scores.shape[-1]))[0][..., -1, None]
        return scores.masked_fill((probs < cutoff) & (scores < kth), NEG_INF)
    return apply


def typical_p(mass: float, keep: int) -> Processor:
    """Locally typical sampling (Meister et al. 2022, https://arxiv.org/abs/2202.00666)."""
    def apply(ids: Tensor, scores: Tensor) -> Tensor:
        logp = torch.log_softmax(scores, dim=-1)
        entropy = -(logp * logp.exp()).nansum(-1, keepdim=True)
        shifted = (-logp - entropy).abs()
        sorted_shifted, order = torch.sort(shifted, descending=False)
        cumulative = scores.gather(-1, order).softmax(dim=-1).cumsum(dim=-1)
        last = (cumulative < mass).sum(dim=1).clamp_(max=sorted_shifted.shape[-1] - 1)
        remove = sorted_shifted > sorted_shifted.gather(1, last.view(-1, 1))
        remove[..., :keep] = False
        return scores.masked_fill(remove.scatter(1, order, remove), NEG_INF)
    return apply


def build_processors(cfg: Any, eos: list[int], prompt_length: int) -> list[Processor]:
    """The processors a GenerationConfig asks for, in the reference's order (then the sampling warpers).

    The settings were checked by GenerationConfig.validate (once, before this).
    """
    out: list[Processor] = []
    if cfg.repetition_penalty is not None and cfg.repetition_penalty != 1.0:
        out.append(repetition_penalty(cfg.repetition_penalty))
    if cfg.no_repeat_ngram_size:  # > 0 (validated)
        out.append(no_repeat_ngram(cfg.no_repeat_ngram_size))
    if cfg.bad_words_ids is not None:
        out.append(no_bad_words(cfg.bad_words_ids, eos))
    if eos and cfg.min_length:
        out.append(min_length(cfg.min_length, eos))
    if eos and cfg.min_new_tokens:
        out.append(min_new_tokens(prompt_length, cfg.min_new_tokens, eos))
    if cfg.forced_bos_token_id is not None:
        out.append(forced_token(1, [cfg.forced_bos_token_id]))
    if cfg.forced_eos_token_id is not None:
        forced = cfg.forced_eos_token_id
        out.append(forced_token(cfg.max_length - 1, forced if isinstance(forced, list) else [forced]))
    if cfg.remove_invalid_values:
        out.append(remove_invalid_values)
    if cfg.suppress_tokens is not None:
        out.append(suppress(list(cfg.suppress_tokens)))
    if cfg.begin_suppress_tokens is not None:
        # the first new token; after a one-token start that a forced BOS follows, the one after it
        begin = prompt_length + (1 if prompt_length == 1 and cfg.forced_bos_token_id is not None else 0)
        out.append(suppress(list(cfg.begin_suppress_tokens), at_length=begin))
    if cfg.do_sample:
        keep = (len(eos) + 1 if eos else 2) if cfg.num_beams > 1 else 1
        if cfg.temperature is not None and cfg.temperature != 1.0:
            out.append(temperature(cfg.temperature))
        if cfg.top_k:
            out.append(top_k(cfg.top_k, keep))
        if cfg.top_p is not None and cfg.top_p < 1.0:
            out.append(top_p(cfg.top_p, keep))
        if cfg.min_p is not None:  # after temperature: it is a fraction of the top probability
            out.append(min_p(cfg.min_p, keep))
        if cfg.typical_p is not None and cfg.typical_p < 1.0:
            out.append(typical_p(cfg.typical_p, keep))
        for name, scaled in (("epsilon_cutoff", False), ("eta_cutoff", True)):
            cutoff = getattr(cfg, name, None)
            if cutoff is not None and 0.0 < cutoff < 1.0:
                out.append(probability_cutoff(cutoff, keep, entropy_scaled=scaled))
    if cfg.renormalize_logits:
        out.append(renormalize)
    return out
