"""Stopping criteria besides max_length: an eos token, a stop string, the max_time deadline."""

from __future__ import annotations

import time
from functools import partial
from typing import Any

import torch
from torch import Tensor


class StopStrings:
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


class Stops:
    """The stopping criteria besides max_length: an eos token, a stop string, the max_time deadline."""

    def __init__(self, eos: list[int], device: torch.device, stop_strings: StopStrings | None,
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


