"""TrainingArguments: every knob of a training run, as plain typed data.

Names, defaults and meanings follow ``transformers.TrainingArguments`` (the subset that
makes sense for CPU training with a model-agnostic loop), so course code passes the same
keywords. Unknown keywords raise ``TypeError`` naming the valid ones.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass, field
from typing import Any

__all__ = ["IntervalStrategy", "TrainingArguments", "resolve_steps", "training_lengths"]

STRATEGIES = ("no", "steps", "epoch")
OPTIMIZERS = ("adamw_torch", "adamw_torch_fused", "adamw_hf", "sgd")


class IntervalStrategy:
    NO = "no"
    STEPS = "steps"
    EPOCH = "epoch"


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


@dataclass
class TrainingArguments:
    output_dir: str | None = None  # None -> "trainer_output", as the reference
    overwrite_output_dir: bool = False
    do_train: bool = False
    do_eval: bool = False
    do_predict: bool = False
    # --- what happens when
    eval_strategy: str = "no"
    evaluation_strategy: str | None = None  # the old name of eval_strategy
    eval_steps: float | None = None  # None -> logging_steps; < 1 -> a fraction of max_steps
    eval_delay: float = 0
    logging_strategy: str = "steps"
    logging_steps: float = 500
    logging_first_step: bool = False
    logging_nan_inf_filter: bool = True
    logging_dir: str | None = None
    save_strategy: str = "steps"
    save_steps: float = 500
    save_total_limit: int | None = None
    save_only_model: bool = False
    save_safetensors: bool = True
    load_best_model_at_end: bool = False
    metric_for_best_model: str | None = None
    greater_is_better: bool | None = None
    prediction_loss_only: bool = False
    # --- optimisation
    per_device_train_batch_size: int = 8
    per_device_eval_batch_size: int = 8
    gradient_accumulation_steps: int = 1
    eval_accumulation_steps: int | None = None
    learning_rate: float = 5e-5
    weight_decay: float = 0.0
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    adam_epsilon: float = 1e-8
    max_grad_norm: float = 1.0
    bf16: bool = False  # mixed precision: forward and loss under torch.autocast("cpu", bfloat16), weights fp32
    fp16: bool = False  # refused on CPU (needs loss scaling); use bf16
    optim: str = "adamw_torch_fused"  # the reference's default with torch >= 2.8
    num_train_epochs: float = 3.0
    max_steps: int = -1
    lr_scheduler_type: str = "linear"
    lr_scheduler_kwargs: dict = field(default_factory=dict)
    warmup_ratio: float = 0.0
    warmup_steps: int = 0
    # --- data
    seed: int = 42
    data_seed: int | None = None
    group_by_length: bool = False
    length_column_name: str = "length"
    remove_unused_columns: bool = True
    label_names: list[str] | None = None
    dataloader_num_workers: int = 0
    dataloader_drop_last: bool = False
    dataloader_pin_memory: bool = False
    # --- environment
    report_to: str | list[str] = "none"
    run_name: str | None = None
    disable_tqdm: bool | None = None
    use_cpu: bool = False
    no_cuda: bool = False  # the old name of use_cpu
    local_rank: int = -1
    ddp_backend: str | None = None  # None -> "gloo" on CPU
    ddp_find_unused_parameters: bool | None = None
    ddp_timeout: int = 1800
    save_plot: bool = True  # minformers: write loss_curve.png (needs matplotlib) next to trainer_state.json

    def __post_init__(self) -> None:
        if self.output_dir is None:
            self.output_dir = "trainer_output"
        self.output_dir = os.fspath(self.output_dir)
        if self.evaluation_strategy is not None:
            self.eval_strategy = self.evaluation_strategy
            self.evaluation_strategy = None
        if self.no_cuda:
            self.use_cpu = True
        for name in ("eval_strategy", "save_strategy", "logging_strategy"):
            value = getattr(self, name)
            value = getattr(value, "value", value)  # an enum member works too
            if value not in STRATEGIES:
                raise ValueError(f"{name}={value!r}; choose one of {', '.join(STRATEGIES)}")
            setattr(self, name, value)
        if self.optim not in OPTIMIZERS:
            raise ValueError(f"optim={self.optim!r}; minformers supports {', '.join(OPTIMIZERS)}")
        if self.eval_strategy == "steps" and self.eval_steps is None:
            self.eval_steps = self.logging_steps
        if self.eval_strategy == "steps" and not self.eval_steps:
            raise ValueError("eval_strategy='steps' needs eval_steps (or logging_steps) > 0")
        if self.logging_strategy == "steps" and not self.logging_steps:
            raise ValueError("logging_strategy='steps' needs logging_steps > 0")
        if self.load_best_model_at_end:
            if self.eval_strategy != self.save_strategy:
                raise ValueError("load_best_model_at_end needs the same eval_strategy and save_strategy, got "
                                 f"{self.eval_strategy!r} and {self.save_strategy!r}")
            if self.eval_strategy == "steps" and self.save_steps % self.eval_steps != 0:
                raise ValueError(f"load_best_model_at_end needs save_steps ({self.save_steps}) to be a multiple of "
                                 f"eval_steps ({self.eval_steps})")
            if self.metric_for_best_model is None:
                self.metric_for_best_model = "loss"
        if self.metric_for_best_model is not None and self.greater_is_better is None:
            self.greater_is_better = not self.metric_for_best_model.endswith("loss")
        if self.fp16 and self.bf16:
            raise ValueError("fp16=True and bf16=True: choose one mixed precision")
        if self.fp16:
            raise ValueError("fp16=True: float16 mixed precision needs loss scaling, which minformers' CPU Trainer "
                             "does not do. Use bf16=True instead (the same speed-up on CPUs with AMX or "
                             "AVX-512-BF16, and no loss scaling needed)")
        if self.gradient_accumulation_steps < 1:
            raise ValueError("gradient_accumulation_steps must be >= 1")
        if self.warmup_ratio < 0 or self.warmup_ratio > 1:
            raise ValueError("warmup_ratio must be in [0, 1]")
        if isinstance(self.report_to, str):
            self.report_to = [] if self.report_to in ("none", "") else [self.report_to]
        unsupported = [r for r in self.report_to if r not in ("none",)]
        if unsupported:
            raise ValueError(f"report_to={unsupported}: minformers logs to trainer_state.json only; use 'none'")
        if self.disable_tqdm is None:
            self.disable_tqdm = False
        if self.run_name is None:
            self.run_name = self.output_dir
        if self.local_rank == -1:
            self.local_rank = _env_int("LOCAL_RANK", -1)

    # --- derived values
    @property
    def world_size(self) -> int:
        return _env_int("WORLD_SIZE", 1)

    @property
    def process_index(self) -> int:
        return _env_int("RANK", 0)

    @property
    def local_process_index(self) -> int:
        return max(self.local_rank, 0)

    @property
    def should_save(self) -> bool:
        return self.process_index == 0

    @property
    def should_log(self) -> bool:
        return self.process_index == 0

    @property
    def train_batch_size(self) -> int:
        return self.per_device_train_batch_size

    @property
    def eval_batch_size(self) -> int:
        return self.per_device_eval_batch_size

    @property
    def n_gpu(self) -> int:
        return 0

    @property
    def device(self) -> Any:
        import torch  # only here: making TrainingArguments needs no torch import

        return torch.device("cpu")

    def get_warmup_steps(self, num_training_steps: int) -> int:
        """warmup_steps if set, else ceil(warmup_ratio * num_training_steps), as the reference."""
        return self.warmup_steps if self.warmup_steps > 0 else math.ceil(num_training_steps * self.warmup_ratio)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def to_json_string(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, default=str)


_VALID = tuple(f.name for f in dataclasses.fields(TrainingArguments))
_dataclass_init = TrainingArguments.__init__


def _checked_init(self: TrainingArguments, *args: Any, **kwargs: Any) -> None:
    unknown = sorted(set(kwargs) - set(_VALID))
    if unknown:
        raise TypeError(f"TrainingArguments got unexpected keyword arguments {unknown}; valid names: "
                        f"{', '.join(_VALID)}")
    _dataclass_init(self, *args, **kwargs)


_checked_init.__signature__ = __import__("inspect").signature(_dataclass_init)  # type: ignore[attr-defined]
TrainingArguments.__init__ = _checked_init  # type: ignore[method-assign]


# --- what the arguments mean for one run
def resolve_steps(value: float | None, max_steps: int) -> float | None:
    """``*_steps`` < 1 means a fraction of the run, as the reference."""
    return math.ceil(max_steps * value) if value is not None and 0 < value < 1 else value


def training_lengths(args: TrainingArguments, num_batches: int) -> tuple[int, int, int]:
    """(optimizer updates per epoch, max_steps, epochs) for a DataLoader of `num_batches` batches: ``max_steps``
    when > 0, else ``num_train_epochs`` (a fraction of an epoch rounds the steps up)."""
    ga = args.gradient_accumulation_steps
    updates_per_epoch = max(num_batches // ga + int(num_batches % ga > 0), 1)
    if args.max_steps > 0:
        max_steps = args.max_steps
        num_epochs = max_steps // updates_per_epoch + int(max_steps % updates_per_epoch > 0)
    else:
        max_steps = math.ceil(args.num_train_epochs * updates_per_epoch)
        num_epochs = math.ceil(args.num_train_epochs)
    return updates_per_epoch, max_steps, num_epochs
