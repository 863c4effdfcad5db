"""Trainer: a model-agnostic training loop (``model(**batch).loss`` is all it needs).

    dataset -> (drop unused columns) -> sampler -> DataLoader + collator -> batch
            -> model(**batch).loss / accumulation -> backward -> clip -> AdamW -> schedule
            -> callbacks: log / evaluate / save checkpoint-N / stop

The order of operations (seeding, when a DataLoader iterator is made, loss scaling by the
number of accumulated batches, clipping, the AdamW parameter groups, the schedule, the
``trainer_state.json`` layout) follows ``transformers.Trainer``, so with the same weights,
data order and arguments both produce the same losses step for step. Under ``torchrun`` the
same code trains with DistributedDataParallel over gloo (see docs/distributed.md).
"""

from __future__ import annotations


import json
import math
import os
import random
import re
import time
from collections.abc import Mapping
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Callable, NamedTuple

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from . import checkpointing as ckpt
from .arguments import TrainingArguments
from .callbacks import (CallbackHandler, DefaultFlowCallback, PrinterCallback, ProgressCallback, TrainerControl,
                        TrainerState)
from .collators import DataCollatorWithPadding, default_data_collator
from .data import (ColumnFilter, LengthGroupedSampler, ShardedRandomSampler, example_lengths, is_hf_dataset,
                   prepare_dataset)
from .schedulers import get_scheduler

__all__ = ["EvalPrediction", "PredictionOutput", "TrainOutput", "Trainer", "TrainingDivergedError", "set_seed"]


class TrainOutput(NamedTuple):
    global_step: int
    training_loss: float
    metrics: dict[str, float]


class PredictionOutput(NamedTuple):
    predictions: Any
    label_ids: Any
    metrics: dict[str, float] | None


class EvalPrediction:
    """What ``compute_metrics`` receives: ``predictions`` and ``label_ids`` (NumPy); unpacks as a pair."""

    def __init__(self, predictions: Any, label_ids: Any, inputs: Any = None) -> None:
        self.predictions, self.label_ids, self.inputs = predictions, label_ids, inputs

    def __iter__(self):
        return iter((self.predictions, self.label_ids) if self.inputs is None
                    else (self.predictions, self.label_ids, self.inputs))

    def __getitem__(self, i: int) -> Any:
        return tuple(self)[i]


class TrainingDivergedError(RuntimeError):
    """The training loss became NaN or infinite; the weights were not updated with it."""


def set_seed(seed: int) -> None:
    """Seed python, numpy and torch (as ``transformers.set_seed``)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# parameter names that never get weight decay (besides every LayerNorm module's): as the reference
_NO_DECAY = re.compile(r"bias|layernorm|rmsnorm|(?:^|\.)norm(?:$|\.)|_norm(?:$|\.)", re.IGNORECASE)


def decay_parameter_names(model: nn.Module) -> list[str]:
    names = []
    for mod_name, module in model.named_modules():
        if isinstance(module, nn.LayerNorm):
            continue
        for p_name, _ in module.named_parameters(recurse=False):
            full = f"{mod_name}.{p_name}" if mod_name else p_name
            if not _NO_DECAY.search(full):
                names.append(full)
    return names


def _distributed() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def _pad_concat(a: torch.Tensor | None, b: torch.Tensor, pad: int = -100) -> torch.Tensor:
    """Concatenate along dim 0, padding dim 1 to the longer of the two (token-level outputs)."""
    if a is None:
        return b
    if a.dim() < 2 or a.shape[1:] == b.shape[1:]:
        return torch.cat([a, b])
    shape = (a.shape[0] + b.shape[0], max(a.shape[1], b.shape[1])) + tuple(a.shape[2:])
    out = a.new_full(shape, pad)
    out[: a.shape[0], : a.shape[1]] = a
    out[a.shape[0]:, : b.shape[1]] = b
    return out


class Trainer:
    """Train, evaluate and predict with any ``nn.Module`` whose output has a ``loss`` given labels."""

    def __init__(self, model: nn.Module | None = None, args: TrainingArguments | None = None,
                 data_collator: Callable | None = None, train_dataset: Any = None, eval_dataset: Any = None,
                 processing_class: Any = None, model_init: Callable | None = None,
                 compute_loss_func: Callable | None = None, compute_metrics: Callable | None = None,
                 callbacks: list | None = None, optimizers: tuple = (None, None),
                 preprocess_logits_for_metrics: Callable | None = None, *, tokenizer: Any = None) -> None:
        self.args = args if args is not None else TrainingArguments(output_dir="trainer_output")
        set_seed(self.args.seed)  # before model_init, as the reference
        self.model_init = model_init
        if model is None:
            if model_init is None:
                raise ValueError("Trainer needs a model or a model_init")
            model = model_init()
        self.model = model
        self.processing_class = processing_class if processing_class is not None else tokenizer
        if data_collator is None:
            pads = self.processing_class is not None and hasattr(self.processing_class, "pad")
            data_collator = DataCollatorWithPadding(self.processing_class) if pads else default_data_collator
        self.data_collator = data_collator
        self.train_dataset, self.eval_dataset = train_dataset, eval_dataset
        self.compute_loss_func, self.compute_metrics = compute_loss_func, compute_metrics
        self.preprocess_logits_for_metrics = preprocess_logits_for_metrics
        self.optimizer, self.lr_scheduler = optimizers
        self._setup_distributed()
        self.label_names = self.args.label_names or self._default_label_names()
        default = [DefaultFlowCallback, PrinterCallback if self.args.disable_tqdm else ProgressCallback]
        self.callback_handler = CallbackHandler(default + list(callbacks or []), self.model,
                                                self.processing_class, self.optimizer, self.lr_scheduler)
        self.state = TrainerState(is_local_process_zero=self.args.local_process_index == 0,
                                  is_world_process_zero=self.args.process_index == 0)
        self.control = TrainerControl()
        self.model_wrapped = self.model
        self._train_columns: list[str] = []
        self._current_accumulation = 1  # batches in the current accumulation group (the loss is divided by it)
        self.control = self.callback_handler.call_event("on_init_end", self.args, self.state, self.control)

    # --- callbacks
    def add_callback(self, callback: Any) -> None:
        self.callback_handler.add_callback(callback)

    def pop_callback(self, callback: Any) -> Any:
        return self.callback_handler.pop_callback(callback)

    def remove_callback(self, callback: Any) -> None:
        self.callback_handler.remove_callback(callback)

    def _event(self, name: str, **kwargs: Any) -> None:
        self.control = self.callback_handler.call_event(name, self.args, self.state, self.control, **kwargs)

    # --- distributed
    def _setup_distributed(self) -> None:
        self.world_size, self.rank = 1, 0
        if not _distributed():
            return
        import torch.distributed as dist

        if not dist.is_initialized():
            from datetime import timedelta

            dist.init_process_group(backend=self.args.ddp_backend or "gloo",
                                    timeout=timedelta(seconds=self.args.ddp_timeout))
        self.world_size, self.rank = dist.get_world_size(), dist.get_rank()

    def _wrap_model(self, model: nn.Module) -> nn.Module:
        if self.world_size == 1 or isinstance(model, nn.parallel.DistributedDataParallel):
            return model
        find_unused = self.args.ddp_find_unused_parameters
        return nn.parallel.DistributedDataParallel(model, find_unused_parameters=True if find_unused is None
                                                   else find_unused)

    def _barrier(self) -> None:
        if self.world_size > 1:
            torch.distributed.barrier()

    def _mean_over_ranks(self, value: torch.Tensor) -> torch.Tensor:
        if self.world_size > 1:
            value = value.clone()
            torch.distributed.all_reduce(value)
            value /= self.world_size
        return value

    def _default_label_names(self) -> list[str]:
        import inspect

        params = inspect.signature(getattr(self.model, "forward")).parameters
        if "start_positions" in params and "end_positions" in params:
            return ["start_positions", "end_positions"]
        return [p for p in params if "label" in p] or ["labels"]

    # --- data
    def _prepare(self, dataset: Any, description: str) -> tuple[Any, Callable]:
        dataset, columns, kept = prepare_dataset(dataset, self.model, remove_unused_columns=self.args.remove_unused_columns,
                                                 label_names=self.label_names, description=description)
        if description == "training dataset":
            self._train_columns = columns
        filtered = None if is_hf_dataset(dataset) or not self.args.remove_unused_columns else kept
        return dataset, ColumnFilter(self.data_collator, filtered)

    def _get_train_sampler(self, train_dataset: Any = None) -> Any:
        dataset = train_dataset if train_dataset is not None else self.train_dataset
        seed = self.args.data_seed if self.args.data_seed is not None else self.args.seed
        common = dict(seed=seed, num_replicas=self.world_size, rank=self.rank, drop_last=self.args.dataloader_drop_last)
        if self.args.group_by_length:
            lengths = example_lengths(dataset, self.args.length_column_name)
            batch = self.args.train_batch_size * self.args.gradient_accumulation_steps
            return LengthGroupedSampler(batch, lengths, **common)
        return ShardedRandomSampler(len(dataset), shuffle=True, **common)

    def get_train_dataloader(self) -> DataLoader:
        dataset, collate = self._prepare(self.train_dataset, "training dataset")
        return DataLoader(dataset, batch_size=self.args.train_batch_size, sampler=self._get_train_sampler(dataset),
                          collate_fn=collate, drop_last=self.args.dataloader_drop_last,
                          num_workers=self.args.dataloader_num_workers, pin_memory=self.args.dataloader_pin_memory)

    def get_eval_dataloader(self, eval_dataset: Any = None, description: str = "evaluation dataset") -> DataLoader:
        dataset = eval_dataset if eval_dataset is not None else self.eval_dataset
        if isinstance(dataset, dict):
            raise TypeError("evaluate() takes one dataset; call it once per entry of the dict")
        dataset, collate = self._prepare(dataset, description)
        # every rank evaluates the whole set (no gathering needed; evaluation is cheap next to training)
        return DataLoader(dataset, batch_size=self.args.eval_batch_size, shuffle=False, collate_fn=collate,
                          drop_last=self.args.dataloader_drop_last, num_workers=self.args.dataloader_num_workers)

    def get_test_dataloader(self, test_dataset: Any) -> DataLoader:
        return self.get_eval_dataloader(test_dataset, "test dataset")

    # --- optimisation
    def create_optimizer(self) -> torch.optim.Optimizer:
        if self.optimizer is None:
            decay = set(decay_parameter_names(self.model))
            params = [(n, p) for n, p in self.model.named_parameters() if p.requires_grad]
            groups = [{"params": [p for n, p in params if n in decay], "weight_decay": self.args.weight_decay},
                      {"params": [p for n, p in params if n not in decay], "weight_decay": 0.0}]
            a = self.args
            if a.optim == "sgd":
                self.optimizer = torch.optim.SGD(groups, lr=a.learning_rate)
            else:
                self.optimizer = torch.optim.AdamW(groups, lr=a.learning_rate, betas=(a.adam_beta1, a.adam_beta2),
                                                   eps=a.adam_epsilon, fused=a.optim == "adamw_torch_fused")
        return self.optimizer

    def create_scheduler(self, num_training_steps: int, optimizer: torch.optim.Optimizer | None = None) -> Any:
        if self.lr_scheduler is None:
            self.lr_scheduler = get_scheduler(self.args.lr_scheduler_type, optimizer or self.optimizer,
                                              num_warmup_steps=self.args.get_warmup_steps(num_training_steps),
                                              num_training_steps=num_training_steps,
                                              scheduler_specific_kwargs=self.args.lr_scheduler_kwargs)
        return self.lr_scheduler

    def create_optimizer_and_scheduler(self, num_training_steps: int) -> None:
        self.create_optimizer()
        self.create_scheduler(num_training_steps, self.optimizer)

    def _get_learning_rate(self) -> float:
        return self.lr_scheduler.get_last_lr()[0]

    # --- one step
    def autocast_smart_context_manager(self, cache_enabled: bool | None = True) -> Any:
        """``torch.autocast("cpu", dtype=torch.bfloat16)`` when ``args.bf16``, else a no-op (as the reference)."""
        if self.args.bf16:
            return torch.autocast(device_type="cpu", dtype=torch.bfloat16, cache_enabled=cache_enabled)
        return nullcontext()

    def compute_loss_context_manager(self) -> Any:
        """The context every forward of training and evaluation runs in (mixed precision)."""
        return self.autocast_smart_context_manager()

    def compute_loss(self, model: nn.Module, inputs: dict[str, Any], return_outputs: bool = False,
                     num_items_in_batch: Any = None) -> Any:
        if self.compute_loss_func is not None and "labels" in inputs:
            labels = inputs.pop("labels")
            outputs = model(**inputs)
            loss = self.compute_loss_func(outputs, labels, num_items_in_batch=num_items_in_batch)
        else:
            outputs = model(**inputs)
            loss = _get_loss(outputs)
        if loss is None:
            name = type(getattr(model, "module", model)).__name__
            raise ValueError(
                f"{name} returned no loss: it computes one only when given labels. The batch had the keys "
                f"{sorted(inputs)}; the training dataset had the columns {self._train_columns}. Add a 'label' or "
                f"'labels' column (or set TrainingArguments.label_names), or use a collator that makes labels.")
        return (loss, outputs) if return_outputs else loss

    def training_step(self, model: nn.Module, inputs: dict[str, Any], num_items_in_batch: Any = None) -> torch.Tensor:
        """Forward, loss / (batches in this accumulation), backward; returns the detached scaled loss."""
        model.train()
        nothing_to_learn = self._nothing_to_learn(inputs)  # before compute_loss, which may pop the labels
        with self.compute_loss_context_manager():
            loss = self.compute_loss(model, inputs, num_items_in_batch=num_items_in_batch)
        if not torch.isfinite(loss.detach()).all() and nothing_to_learn:
            # Every label is -100 (e.g. an empty line in token classification): the mean loss is 0/0 = NaN,
            # but nothing diverged. Contribute exactly nothing: zero gradients (through a surrogate, so every
            # parameter gets a gradient and DistributedDataParallel still synchronises), as the reference,
            # whose cross-entropy backward gives zeros here. The NaN is returned for the log's NaN filter.
            surrogate = sum(p.sum() for p in model.parameters() if p.requires_grad) * 0.0
            surrogate.backward()
            return (loss.detach() / self._current_accumulation).reshape(())
        if not torch.isfinite(loss.detach()).all():
            last = ckpt.get_last_checkpoint(self.args.output_dir)
            raise TrainingDivergedError(
                f"the training loss is {loss.item()} at step {self.state.global_step + 1} (epoch "
                f"{self.state.epoch or 0:.2f}); stopped before updating the weights with it. Lower the learning "
                f"rate or check the data. Last good checkpoint: {last or 'none saved yet'}")
        loss = loss / self._current_accumulation
        loss.backward()
        return loss.detach()

    def _nothing_to_learn(self, inputs: Mapping[str, Any]) -> bool:
        """True when the batch has label tensors and every one of them is all -100 (ignored)."""
        labels = [inputs[k] for k in self.label_names if isinstance(inputs.get(k), torch.Tensor)]
        return bool(labels) and all(not t.is_floating_point() and bool((t == -100).all()) for t in labels)

    # --- the loop
    def train(self, resume_from_checkpoint: str | bool | None = None, trial: Any = None,
              ignore_keys_for_eval: list[str] | None = None, **kwargs: Any) -> TrainOutput:
        from .loop import run_training

        if kwargs:
            raise TypeError(f"train() got unexpected keyword arguments {sorted(kwargs)}; valid: "
                            "resume_from_checkpoint, trial, ignore_keys_for_eval")
        if resume_from_checkpoint is True:
            resume_from_checkpoint = ckpt.get_last_checkpoint(self.args.output_dir)
            if resume_from_checkpoint is None:
                raise ValueError(f"resume_from_checkpoint=True, but there is no checkpoint-N folder in "
                                 f"{self.args.output_dir}")
        elif resume_from_checkpoint is False:
            resume_from_checkpoint = None
        if resume_from_checkpoint is not None and not os.path.isfile(
                os.path.join(resume_from_checkpoint, ckpt.TRAINER_STATE_NAME)):
            raise ValueError(f"{resume_from_checkpoint} is not a checkpoint (no {ckpt.TRAINER_STATE_NAME} in it)")
        if resume_from_checkpoint is not None and ckpt.missing_files(resume_from_checkpoint):
            raise ValueError(f"the checkpoint {resume_from_checkpoint} is incomplete (no "
                             f"{', '.join(ckpt.missing_files(resume_from_checkpoint))}); resume from an earlier one, "
                             f"or pass resume_from_checkpoint=True to pick the last complete one")
        return run_training(self, resume_from_checkpoint, ignore_keys_for_eval)

    # --- evaluation
    def evaluate(self, eval_dataset: Any = None, ignore_keys: list[str] | None = None,
                 metric_key_prefix: str = "eval") -> dict[str, float]:
        start = time.time()
        dataloader = self.get_eval_dataloader(eval_dataset)
        output = self.evaluation_loop(dataloader, "Evaluation", ignore_keys=ignore_keys,
                                      metric_key_prefix=metric_key_prefix)
        output.metrics.update(self._speed(metric_key_prefix, start, len(dataloader.dataset), len(dataloader)))
        self.log(output.metrics)
        self._event("on_evaluate", metrics=output.metrics)
        return output.metrics

    def predict(self, test_dataset: Any, ignore_keys: list[str] | None = None,
                metric_key_prefix: str = "test") -> PredictionOutput:
        start = time.time()
        dataloader = self.get_test_dataloader(test_dataset)
        output = self.evaluation_loop(dataloader, "Prediction", ignore_keys=ignore_keys,
                                      metric_key_prefix=metric_key_prefix)
        output.metrics.update(self._speed(metric_key_prefix, start, len(dataloader.dataset), len(dataloader)))
        self._event("on_predict", metrics=output.metrics)
        return PredictionOutput(output.predictions, output.label_ids, output.metrics)

    @staticmethod
    def _speed(prefix: str, start: float, samples: int, steps: int) -> dict[str, float]:
        runtime = time.time() - start
        return {f"{prefix}_runtime": round(runtime, 4),
                f"{prefix}_samples_per_second": round(samples / runtime, 3) if runtime else 0.0,
                f"{prefix}_steps_per_second": round(steps / runtime, 3) if runtime else 0.0}

    def prediction_step(self, model: nn.Module, inputs: dict[str, Any], prediction_loss_only: bool,
                        ignore_keys: list[str] | None = None) -> tuple[Any, Any, Any]:
        """(loss or None, logits or None, labels or None) for one batch, without gradients."""
        has_labels = bool(self.label_names) and all(inputs.get(k) is not None for k in self.label_names)
        labels = None
        if has_labels:
            labels = tuple(inputs[k] for k in self.label_names)
            labels = labels[0] if len(labels) == 1 else labels
        ignore = set(ignore_keys or [])
        with torch.no_grad(), self.compute_loss_context_manager():
            outputs = model(**inputs)
            loss = None
            if has_labels:
                loss = _get_loss(outputs)
                loss = loss.detach().mean() if loss is not None else None
            if prediction_loss_only:
                return loss, None, None
            if hasattr(outputs, "keys"):
                logits = tuple(v for k, v in outputs.items() if k not in ignore and k != "loss")
            else:
                logits = tuple(outputs[1:] if has_labels else outputs)
        logits = logits[0] if len(logits) == 1 else logits
        return loss, logits, labels

    def evaluation_loop(self, dataloader: DataLoader, description: str, prediction_loss_only: bool | None = None,
                        ignore_keys: list[str] | None = None, metric_key_prefix: str = "eval") -> Any:
        model = self.model
        model.eval()
        self.callback_handler.eval_dataloader = dataloader
        only_loss = self.args.prediction_loss_only if prediction_loss_only is None else prediction_loss_only
        losses, preds, labels = [], None, None
        n = 0
        for inputs in dataloader:
            batch_size = len(next(iter(inputs.values())))
            n += batch_size
            loss, logits, label = self.prediction_step(model, inputs, only_loss, ignore_keys)
            if loss is not None:
                losses.append(loss.repeat(batch_size))
            if logits is not None:
                if self.preprocess_logits_for_metrics is not None:
                    logits = self.preprocess_logits_for_metrics(logits, label)
                preds = _nested(preds, logits)
            if label is not None:
                labels = _nested(labels, label)
            self._event("on_prediction_step")
        to_np = _to_numpy
        preds, labels = to_np(preds), to_np(labels)
        metrics: dict[str, Any] = {}
        if self.compute_metrics is not None and preds is not None and labels is not None:
            metrics = dict(self.compute_metrics(EvalPrediction(predictions=preds, label_ids=labels)))
        metrics = {k: (v.item() if hasattr(v, "item") else v) for k, v in metrics.items()}
        if losses:
            metrics["loss"] = torch.cat(losses).mean().item()
        metrics = {(k if k.startswith(f"{metric_key_prefix}_") else f"{metric_key_prefix}_{k}"): v
                   for k, v in metrics.items()}
        return _EvalLoopOutput(preds, labels, metrics, n)

    # --- logging and saving
    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if self.state.epoch is not None:
            logs["epoch"] = self.state.epoch
        self.state.log_history.append({**logs, "step": self.state.global_step})
        self._event("on_log", logs=logs)

    def save_model(self, output_dir: str | None = None, _internal_call: bool = False) -> None:
        """Write the model (config.json + model.safetensors) and the tokenizer files to `output_dir`."""
        output_dir = output_dir or self.args.output_dir
        if not self.args.should_save:
            return
        model = getattr(self.model, "module", self.model)
        try:
            Path(output_dir).mkdir(parents=True, exist_ok=True)
            if hasattr(model, "save_pretrained"):
                model.save_pretrained(output_dir)
            else:
                from ..serialization import save_file

                save_file({k: v.detach().contiguous() for k, v in model.state_dict().items()},
                          Path(output_dir) / "model.safetensors")
            if self.processing_class is not None and hasattr(self.processing_class, "save_pretrained"):
                self.processing_class.save_pretrained(output_dir)
            (Path(output_dir) / ckpt.TRAINING_ARGS_NAME).write_text(self.args.to_json_string() + "\n")
        except OSError as e:
            raise OSError(f"cannot save the model to {output_dir}: {e}") from e

    def save_state(self) -> None:
        if self.args.should_save:
            Path(self.args.output_dir).mkdir(parents=True, exist_ok=True)
            self.state.save_to_json(os.path.join(self.args.output_dir, ckpt.TRAINER_STATE_NAME))

    def _write_history(self) -> None:
        """trainer_state.json, log_history.json and (with matplotlib) loss_curve.png in output_dir."""
        if not self.args.should_save:
            return
        from .history import write_history

        write_history(self.state, self.args.output_dir, plot=self.args.save_plot)


class _EvalLoopOutput(NamedTuple):
    predictions: Any
    label_ids: Any
    metrics: dict[str, Any]
    num_samples: int


def _get_loss(outputs: Any) -> torch.Tensor | None:
    """outputs.loss / outputs["loss"] (None when absent), or the first element of a tuple."""
    if isinstance(outputs, Mapping):
        return outputs.get("loss")
    if hasattr(outputs, "keys"):  # ModelOutput: the fields that are not None
        return getattr(outputs, "loss", None)
    return outputs[0] if isinstance(outputs, (tuple, list)) else outputs


def _nested(acc: Any, new: Any) -> Any:
    if isinstance(new, (tuple, list)):
        return type(new)(_nested(a, b) for a, b in zip(acc or [None] * len(new), new))
    return _pad_concat(acc, new.detach().cpu())


def _to_numpy(x: Any) -> Any:
    if x is None:
        return None
    if isinstance(x, (tuple, list)):
        return type(x)(_to_numpy(t) for t in x)
    return x.float().numpy() if x.is_floating_point() and x.dtype != torch.float32 else x.numpy()
