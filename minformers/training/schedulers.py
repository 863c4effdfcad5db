"""Learning-rate schedules: a multiplier of the optimizer's initial lr per optimizer step.

Each schedule is a ``torch.optim.lr_scheduler.LambdaLR`` over a small pure function, with
the same names, arguments and formulas as ``transformers.optimization`` (itself following
the original BERT and fairseq recipes), so a run's learning rates match step for step.
"""

from __future__ import annotations

import math
from functools import partial

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR, LRScheduler

__all__ = [
    "SCHEDULER_NAMES",
    "get_constant_schedule",
    "get_constant_schedule_with_warmup",
    "get_cosine_schedule_with_warmup",
    "get_cosine_with_hard_restarts_schedule_with_warmup",
    "get_linear_schedule_with_warmup",
    "get_polynomial_decay_schedule_with_warmup",
    "get_scheduler",
]


# --- the multipliers (module-level functions so a scheduler pickles into scheduler.pt) ---
def _constant(step: int) -> float:
    return 1.0


def _constant_with_warmup(step: int, *, num_warmup_steps: int) -> float:
    return step / max(1.0, num_warmup_steps) if step < num_warmup_steps else 1.0


def _linear(step: int, *, num_warmup_steps: int, num_training_steps: int) -> float:
    if step < num_warmup_steps:
        return step / max(1, num_warmup_steps)
    return max(0.0, (num_training_steps - step) / max(1, num_training_steps - num_warmup_steps))


def _cosine(step: int, *, num_warmup_steps: int, num_training_steps: int, num_cycles: float) -> float:
    if step < num_warmup_steps:
        return step / max(1, num_warmup_steps)
    progress = (step - num_warmup_steps) / max(1, num_training_steps - num_warmup_steps)
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * num_cycles * 2.0 * progress)))


def _cosine_hard_restarts(step: int, *, num_warmup_steps: int, num_training_steps: int, num_cycles: int) -> float:
    if step < num_warmup_steps:
        return step / max(1, num_warmup_steps)
    progress = (step - num_warmup_steps) / max(1, num_training_steps - num_warmup_steps)
    if progress >= 1.0:
        return 0.0
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * ((num_cycles * progress) % 1.0))))


def _polynomial(step: int, *, num_warmup_steps: int, num_training_steps: int, lr_end: float, power: float,
                lr_init: float) -> float:
    if step < num_warmup_steps:
        return step / max(1, num_warmup_steps)
    if step > num_training_steps:
        return lr_end / lr_init
    lr_range = lr_init - lr_end
    remaining = 1 - (step - num_warmup_steps) / (num_training_steps - num_warmup_steps)
    return (lr_range * remaining**power + lr_end) / lr_init


# --- public constructors, as transformers.optimization ---
def get_constant_schedule(optimizer: Optimizer, last_epoch: int = -1) -> LambdaLR:
    return LambdaLR(optimizer, _constant, last_epoch=last_epoch)


def get_constant_schedule_with_warmup(optimizer: Optimizer, num_warmup_steps: int, last_epoch: int = -1) -> LambdaLR:
    return LambdaLR(optimizer, partial(_constant_with_warmup, num_warmup_steps=num_warmup_steps), last_epoch)


def get_linear_schedule_with_warmup(optimizer: Optimizer, num_warmup_steps: int, num_training_steps: int,
                                    last_epoch: int = -1) -> LambdaLR:
    """0 -> lr over the warmup, then linearly down to 0 at `num_training_steps`."""
    fn = partial(_linear, num_warmup_steps=num_warmup_steps, num_training_steps=num_training_steps)
    return LambdaLR(optimizer, fn, last_epoch)


def get_cosine_schedule_with_warmup(optimizer: Optimizer, num_warmup_steps: int, num_training_steps: int,
                                    num_cycles: float = 0.5, last_epoch: int = -1) -> LambdaLR:
    fn = partial(_cosine, num_warmup_steps=num_warmup_steps, num_training_steps=num_training_steps,
                 num_cycles=num_cycles)
    return LambdaLR(optimizer, fn, last_epoch)


def get_cosine_with_hard_restarts_schedule_with_warmup(optimizer: Optimizer, num_warmup_steps: int,
                                                       num_training_steps: int, num_cycles: int = 1,
                                                       last_epoch: int = -1) -> LambdaLR:
    fn = partial(_cosine_hard_restarts, num_warmup_steps=num_warmup_steps, num_training_steps=num_training_steps,
                 num_cycles=num_cycles)
    return LambdaLR(optimizer, fn, last_epoch)


def get_polynomial_decay_schedule_with_warmup(optimizer: Optimizer, num_warmup_steps: int, num_training_steps: int,
                                              lr_end: float = 1e-7, power: float = 1.0,
                                              last_epoch: int = -1) -> LambdaLR:
    lr_init = optimizer.defaults["lr"]
    if not lr_init > lr_end:
        raise ValueError(f"lr_end ({lr_end}) must be smaller than initial lr ({lr_init})")
    fn = partial(_polynomial, num_warmup_steps=num_warmup_steps, num_training_steps=num_training_steps,
                 lr_end=lr_end, power=power, lr_init=lr_init)
    return LambdaLR(optimizer, fn, last_epoch)


SCHEDULER_NAMES = ("linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup")


def get_scheduler(name: str, optimizer: Optimizer, num_warmup_steps: int | None = None,
                  num_training_steps: int | None = None, scheduler_specific_kwargs: dict | None = None
                  ) -> LRScheduler:
    """The schedule called `name` (one of :data:`SCHEDULER_NAMES`), as ``transformers.get_scheduler``."""
    name = getattr(name, "value", name)  # an enum member works too
    kwargs = dict(scheduler_specific_kwargs or {})
    if name not in SCHEDULER_NAMES:
        raise ValueError(f"Unknown lr_scheduler_type {name!r}; choose one of {', '.join(SCHEDULER_NAMES)}")
    if name == "constant":
        return get_constant_schedule(optimizer)
    if num_warmup_steps is None:
        raise ValueError(f"the {name!r} schedule needs num_warmup_steps")
    if name == "constant_with_warmup":
        return get_constant_schedule_with_warmup(optimizer, num_warmup_steps)
    if num_training_steps is None:
        raise ValueError(f"the {name!r} schedule needs num_training_steps")
    builders = {
        "linear": get_linear_schedule_with_warmup,
        "cosine": get_cosine_schedule_with_warmup,
        "cosine_with_restarts": get_cosine_with_hard_restarts_schedule_with_warmup,
        "polynomial": get_polynomial_decay_schedule_with_warmup,
    }
    return builders[name](optimizer, num_warmup_steps=num_warmup_steps, num_training_steps=num_training_steps,
                          **kwargs)
