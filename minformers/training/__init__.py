"""Fine-tuning (chapter 3 of the Hugging Face course): collators, TrainingArguments, Trainer.

    from minformers import Trainer, TrainingArguments, DataCollatorWithPadding

The Trainer only needs ``model(**batch).loss``; see trainer.py for the loop and
docs/distributed.md for ``torchrun``.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "DataCollatorWithPadding": "collators",
    "DataCollatorForTokenClassification": "collators",
    "DataCollatorForLanguageModeling": "collators",
    "default_data_collator": "collators",
    "TrainingArguments": "arguments",
    "IntervalStrategy": "arguments",
    "Trainer": "trainer",
    "TrainOutput": "trainer_utils",
    "PredictionOutput": "trainer_utils",
    "EvalPrediction": "trainer_utils",
    "TrainingDivergedError": "trainer_utils",
    "set_seed": "trainer_utils",
    "TrainerCallback": "callbacks",
    "TrainerState": "callbacks",
    "TrainerControl": "callbacks",
    "EarlyStoppingCallback": "callbacks",
    "ProgressCallback": "callbacks",
    "PrinterCallback": "callbacks",
    "DefaultFlowCallback": "callbacks",
    "get_scheduler": "schedulers",
    "get_linear_schedule_with_warmup": "schedulers",
    "get_cosine_schedule_with_warmup": "schedulers",
    "get_cosine_with_hard_restarts_schedule_with_warmup": "schedulers",
    "get_constant_schedule": "schedulers",
    "get_constant_schedule_with_warmup": "schedulers",
    "get_polynomial_decay_schedule_with_warmup": "schedulers",
    "get_last_checkpoint": "checkpointing",
    "LengthGroupedSampler": "data",
    "AdamW": "optimization",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'minformers.training' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
