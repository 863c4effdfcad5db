"""The optimizer side of training: which parameters get weight decay, and ``AdamW`` as old ``transformers``
had it, so course code with ``from transformers import AdamW`` runs.

The reference deprecated its own AdamW for years and removed it in 4.x (``from transformers
import AdamW`` is an ImportError in 4.57), but the course notes still use it. Ours keeps the
old signature and defaults and warns, naming the replacement, ``torch.optim.AdamW``.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import nn

__all__ = ["AdamW", "decay_parameter_names"]

# parameter names that never get weight decay (besides every LayerNorm module's): as the reference
_NO_DECAY = re.compile(r"bias|layernorm|rmsnorm|(?:^|\.)norm(?:$|\.)|_norm(?:$|\.)", re.IGNORECASE)


def decay_parameter_names(model: nn.Module) -> list[str]:
    """The parameters the Trainer's optimizer decays (``Trainer.get_decay_parameter_names`` in the reference)."""
    names = []
    for mod_name, module in model.named_modules():
        if isinstance(module, nn.LayerNorm):
            continue
        for p_name, _ in module.named_parameters(recurse=False):
            full = f"{mod_name}.{p_name}" if mod_name else p_name
            if not _NO_DECAY.search(full):
                names.append(full)
    return names


class AdamW(torch.optim.AdamW):
    """Adam with decoupled weight decay (Loshchilov & Hutter, https://arxiv.org/abs/1711.05101), with the
    defaults of old ``transformers.AdamW``: ``lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.0,
    correct_bias=True``. It warns (``FutureWarning``) that ``torch.optim.AdamW`` is the class to use, unless
    ``no_deprecation_warning=True``.

    ``correct_bias=True`` (the default) steps exactly as ``torch.optim.AdamW`` with the same settings --
    deliberately better than the old class, whose hand-written loop put ``eps`` before the bias correction
    and decayed the weights after the update (a difference of order ``eps`` and ``lr**2 * weight_decay``),
    and was slower than PyTorch's foreach/fused kernels. ``correct_bias=False`` (what BERT's original
    TensorFlow optimizer did) follows the old class: no bias correction,
    ``p -= lr * m / (sqrt(v) + eps)``, then ``p -= lr * weight_decay * p``. The optimizer state uses
    ``torch.optim.AdamW``'s keys (``step``, ``exp_avg``, ``exp_avg_sq``), so a state_dict moves between them.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-6, weight_decay: float = 0.0, correct_bias: bool = True,
                 no_deprecation_warning: bool = False) -> None:
        if not no_deprecation_warning:
            warnings.warn("minformers.AdamW (old transformers.AdamW, removed from transformers) is kept for old "
                          "code; use torch.optim.AdamW instead (same results with correct_bias=True; note its "
                          "defaults eps=1e-8, weight_decay=0.01), or pass no_deprecation_warning=True to silence "
                          "this warning", FutureWarning, stacklevel=2)
        if not isinstance(correct_bias, bool):
            raise TypeError(f"correct_bias must be True or False, got {correct_bias!r}")
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
        for group in self.param_groups:
            group.setdefault("correct_bias", correct_bias)
        self.defaults["correct_bias"] = correct_bias

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        groups = self.param_groups
        plain = [g for g in groups if not g.get("correct_bias", True)]
        if len(plain) < len(groups):
            try:  # torch.optim.AdamW steps the bias-corrected groups (its foreach/fused kernels)
                self.param_groups = [g for g in groups if g.get("correct_bias", True)]
                super().step()
            finally:
                self.param_groups = groups
        for group in plain:
            self._step_without_bias_correction(group)
        return loss

    def _step_without_bias_correction(self, group: dict[str, Any]) -> None:
        beta1, beta2 = group["betas"]
        lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
        for p in group["params"]:
            if p.grad is None:
                continue
            grad = p.grad
            if grad.is_sparse:
                raise RuntimeError("AdamW does not support sparse gradients; use torch.optim.SparseAdam")
            state = self.state[p]
            if not state:
                state["step"] = torch.tensor(0.0)
                state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            state["step"] += 1
            exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
            exp_avg.mul_(beta1).add_(grad, alpha=1.0 - beta1)
            exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
            p.addcdiv_(exp_avg, exp_avg_sq.sqrt().add_(eps), value=-lr)
            if weight_decay > 0.0:
                p.add_(p, alpha=-lr * weight_decay)
