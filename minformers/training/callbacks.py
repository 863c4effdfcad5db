"""Trainer state, control flags and callbacks.

A callback is a plain object with ``on_<event>(args, state, control, **kwargs)`` methods
(``model``, ``optimizer``, ``lr_scheduler``, ``train_dataloader``, ``metrics``, ``logs`` as
keywords). It may read anything and change only the ``control`` flags, which is how the
loop is steered: log now, evaluate now, save now, stop. The events and the
``trainer_state.json`` layout are those of ``transformers.trainer_callback``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CallbackHandler",
    "DefaultFlowCallback",
    "EarlyStoppingCallback",
    "PrinterCallback",
    "ProgressCallback",
    "TrainerCallback",
    "TrainerControl",
    "TrainerState",
]


@dataclass
class TrainerState:
    """What the loop knows; saved as ``trainer_state.json`` in every checkpoint."""

    epoch: float | None = None
    global_step: int = 0
    max_steps: int = 0
    logging_steps: float = 500
    eval_steps: float | None = 500
    save_steps: float = 500
    train_batch_size: int | None = None
    num_train_epochs: int = 0
    num_input_tokens_seen: int = 0
    total_flos: float = 0
    log_history: list[dict[str, float]] = field(default_factory=list)
    best_metric: float | None = None
    best_global_step: int | None = None
    best_model_checkpoint: str | None = None
    is_local_process_zero: bool = True
    is_world_process_zero: bool = True

    def save_to_json(self, path: str) -> None:
        text = json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True) + "\n"
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)

    @classmethod
    def load_from_json(cls, path: str) -> TrainerState:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class TrainerControl:
    """Flags callbacks set to steer the loop; the loop resets them once acted upon."""

    should_training_stop: bool = False
    should_epoch_stop: bool = False
    should_save: bool = False
    should_evaluate: bool = False
    should_log: bool = False

    def _new_training(self) -> None:
        self.should_training_stop = False

    def _new_epoch(self) -> None:
        self.should_epoch_stop = False

    def _new_step(self) -> None:
        self.should_save = self.should_evaluate = self.should_log = False


EVENTS = ("on_init_end", "on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_step_begin",
          "on_pre_optimizer_step", "on_optimizer_step", "on_substep_end", "on_step_end", "on_evaluate",
          "on_predict", "on_save", "on_log", "on_prediction_step")


class TrainerCallback:
    """Base class: every event does nothing. Override the ones you need."""

    def on_init_end(self, args, state, control, **kwargs): pass
    def on_train_begin(self, args, state, control, **kwargs): pass
    def on_train_end(self, args, state, control, **kwargs): pass
    def on_epoch_begin(self, args, state, control, **kwargs): pass
    def on_epoch_end(self, args, state, control, **kwargs): pass
    def on_step_begin(self, args, state, control, **kwargs): pass
    def on_pre_optimizer_step(self, args, state, control, **kwargs): pass
    def on_optimizer_step(self, args, state, control, **kwargs): pass
    def on_substep_end(self, args, state, control, **kwargs): pass
    def on_step_end(self, args, state, control, **kwargs): pass
    def on_evaluate(self, args, state, control, **kwargs): pass
    def on_predict(self, args, state, control, **kwargs): pass
    def on_save(self, args, state, control, **kwargs): pass
    def on_log(self, args, state, control, **kwargs): pass
    def on_prediction_step(self, args, state, control, **kwargs): pass


class CallbackHandler(TrainerCallback):
    """Calls every callback in order for each event; a callback may return a new control."""

    def __init__(self, callbacks: list, model: Any, processing_class: Any, optimizer: Any, lr_scheduler: Any):
        self.callbacks: list = []
        for cb in callbacks:
            self.add_callback(cb)
        self.model, self.processing_class = model, processing_class
        self.optimizer, self.lr_scheduler = optimizer, lr_scheduler
        self.train_dataloader = self.eval_dataloader = None

    def add_callback(self, callback: Any) -> None:
        cb = callback() if isinstance(callback, type) else callback
        self.callbacks.append(cb)

    def pop_callback(self, callback: Any) -> Any:
        for cb in self.callbacks:
            if cb is callback or (isinstance(callback, type) and isinstance(cb, callback)):
                self.callbacks.remove(cb)
                return cb
        return None

    def remove_callback(self, callback: Any) -> None:
        self.pop_callback(callback)

    def call_event(self, event: str, args, state, control, **kwargs) -> TrainerControl:
        for cb in self.callbacks:
            method = getattr(cb, event, None)
            if method is None:
                continue
            result = method(args, state, control, model=self.model, processing_class=self.processing_class,
                            tokenizer=self.processing_class, optimizer=self.optimizer,
                            lr_scheduler=self.lr_scheduler, train_dataloader=self.train_dataloader,
                            eval_dataloader=self.eval_dataloader, **kwargs)
            if result is not None:
                control = result
        return control


def _due(step: int, every: float) -> bool:
    return every > 0 and step % int(every) == 0


class DefaultFlowCallback(TrainerCallback):
    """Turns the ``*_strategy``/``*_steps`` arguments into control flags (as the reference's)."""

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == 1 and args.logging_first_step:
            control.should_log = True
        if args.logging_strategy == "steps" and _due(state.global_step, state.logging_steps):
            control.should_log = True
        if (args.eval_strategy == "steps" and _due(state.global_step, state.eval_steps)
                and args.eval_delay <= state.global_step):
            control.should_evaluate = True
        if args.save_strategy == "steps" and _due(state.global_step, state.save_steps):
            control.should_save = True
        if state.global_step >= state.max_steps:
            control.should_training_stop = True
            if args.save_strategy != "no":
                control.should_save = True
        return control

    def on_epoch_end(self, args, state, control, **kwargs):
        if args.logging_strategy == "epoch":
            control.should_log = True
        if args.eval_strategy == "epoch" and args.eval_delay <= (state.epoch or 0):
            control.should_evaluate = True
        if args.save_strategy == "epoch":
            control.should_save = True
        return control


class _SimpleBar:
    """A progress bar for when tqdm is not installed: one line, rewritten in place."""

    def __init__(self, total: int, desc: str = "", leave: bool = True):
        self.total, self.n, self.desc, self.leave, self.start = total, 0, desc, leave, time.time()
        self.postfix = ""

    def update(self, n: int = 1) -> None:
        self.n += n
        elapsed = time.time() - self.start
        rate = self.n / elapsed if elapsed > 0 else 0.0
        width = 30
        done = int(width * self.n / self.total) if self.total else width
        sys.stderr.write(f"\r{self.desc} [{'#' * done}{'.' * (width - done)}] {self.n}/{self.total} "
                         f"{rate:.2f} it/s {self.postfix}")
        sys.stderr.flush()

    def write(self, text: str) -> None:
        sys.stderr.write("\r" + text + "\n")

    def close(self) -> None:
        if self.leave:
            sys.stderr.write("\n")
            sys.stderr.flush()


def progress_bar(total: int, desc: str = "", leave: bool = True) -> Any:
    try:
        from tqdm.auto import tqdm  # optional, and only when a bar is shown
    except ImportError:
        return _SimpleBar(total, desc, leave)
    return tqdm(total=total, desc=desc, leave=leave, dynamic_ncols=True)


class ProgressCallback(TrainerCallback):
    """A progress bar over the training steps (and one per evaluation), on the main process only."""

    def __init__(self) -> None:
        self.training_bar = self.prediction_bar = None
        self.current_step = 0

    def on_train_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            self.training_bar = progress_bar(state.max_steps, "train")
            self.training_bar.update(state.global_step) if state.global_step else None
        self.current_step = state.global_step

    def on_step_end(self, args, state, control, **kwargs):
        if self.training_bar is not None:
            self.training_bar.update(state.global_step - self.current_step)
            self.current_step = state.global_step

    def on_prediction_step(self, args, state, control, eval_dataloader=None, **kwargs):
        total = len(eval_dataloader) if eval_dataloader is not None and hasattr(eval_dataloader, "__len__") else 0
        if state.is_world_process_zero and total:
            if self.prediction_bar is None:
                self.prediction_bar = progress_bar(total, "eval", leave=self.training_bar is None)
            self.prediction_bar.update(1)

    def _close_prediction(self) -> None:
        if self.prediction_bar is not None:
            self.prediction_bar.close()
        self.prediction_bar = None

    def on_evaluate(self, args, state, control, **kwargs):
        self._close_prediction()

    def on_predict(self, args, state, control, **kwargs):
        self._close_prediction()

    def on_log(self, args, state, control, logs=None, **kwargs):
        if self.training_bar is not None and logs:
            shown = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in logs.items() if k != "total_flos"}
            self.training_bar.write(str(shown))

    def on_train_end(self, args, state, control, **kwargs):
        if self.training_bar is not None:
            self.training_bar.close()
            self.training_bar = None


class PrinterCallback(TrainerCallback):
    """Print the logs (used instead of the bar when ``disable_tqdm=True``)."""

    def on_log(self, args, state, control, logs=None, **kwargs):
        if state.is_world_process_zero and logs:
            print({k: v for k, v in logs.items() if k != "total_flos"})


class EarlyStoppingCallback(TrainerCallback):
    """Stop when ``metric_for_best_model`` has not improved for `early_stopping_patience` evaluations."""

    def __init__(self, early_stopping_patience: int = 1, early_stopping_threshold: float = 0.0):
        self.patience, self.threshold, self.bad_evals = early_stopping_patience, early_stopping_threshold, 0
        self.best: float | None = None

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        name = args.metric_for_best_model or "loss"
        name = name if name.startswith("eval_") else f"eval_{name}"
        value = (metrics or {}).get(name)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return
        better = (self.best is None or (value > self.best + self.threshold if args.greater_is_better
                                         else value < self.best - self.threshold))
        if better:
            self.best, self.bad_evals = value, 0
        else:
            self.bad_evals += 1
            if self.bad_evals >= self.patience:
                control.should_training_stop = True
