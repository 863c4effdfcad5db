"""Trainer: a model-agnostic training loop (``model(**batch).loss`` is all it needs).

    dataset -> (drop unused columns) -> sampler -> DataLoader + collator -> batch
            -> model(**batch).loss / accumulation -> backward -> clip -> AdamW -> schedule
            -> callbacks: log / evaluate / save checkpoint-N / stop

The order of operations (seeding, when a DataLoader iterator is made, loss scaling by the
number of accumulated batches, clipping, the AdamW parameter groups, the schedule, the
``trainer_state.json`` layout) follows ``transformers.Trainer``, so with the same weights,
data order and arguments both produce the same losses step for step. Under ``torchrun`` the
same code trains with DistributedDataParallel over gloo (see docs/distributed.md).

The methods are the reference's, so a subclass overrides the same ones: ``train`` checks its
arguments and calls ``_inner_training_loop``, which per epoch makes the DataLoader iterator,
then per optimizer step takes up to ``gradient_accumulation_steps`` batches, runs
``training_step`` (-> ``compute_loss``) on each, clips, steps the optimizer and the schedule,
and lets the callbacks decide (``_maybe_log_save_evaluate``) whether to log, ``evaluate``,
``_save_checkpoint`` or stop. Resuming (``_load_from_checkpoint``) loads weights, optimizer,
schedule and RNG states and skips the batches already seen in the current epoch, so a resumed
run continues exactly where the interrupted one stopped. The checkpoint folder format is
checkpointing.py's; the argument arithmetic arguments.py's; the output types trainer_utils.py's.
"""

from __future__ import annotations

import os
import time
from contextlib import nullcontext
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn
from torch.utils.data import DataLoader

from ..weights import safetensors as safetensors_io
from . import checkpointing as ckpt
from .arguments import TrainingArguments, resolve_steps, training_lengths
from .callbacks import (CallbackHandler, DefaultFlowCallback, PrinterCallback, ProgressCallback, TrainerControl,
                        TrainerState)
from .collators import DataCollatorWithPadding, default_data_collator
from .data import (ColumnFilter, LengthGroupedSampler, ShardedRandomSampler, default_label_names, example_lengths,
                   is_hf_dataset, prepare_dataset)
from .history import write_history
from .optimization import decay_parameter_names
from .schedulers import get_scheduler
from .trainer_utils import (EvalLoopOutput, EvalPrediction, PredictionOutput, TrainingDivergedError, TrainOutput,
                            all_labels_ignored, get_loss, nested_concat, nested_numpify, set_seed, speed_metrics)

__all__ = ["EvalPrediction", "PredictionOutput", "TrainOutput", "Trainer", "TrainingDivergedError", "set_seed"]


def _distributed() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def _take(iterator: Any, n: int) -> list[Any]:
    """Up to `n` more items of `iterator` (fewer at its end)."""
    items = []
    for _ in range(n):
        try:
            items.append(next(iterator))
        except StopIteration:
            break
    return items


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
        self._total_loss, self._last_logged = 0.0, 0  # the training loss summed over logged steps; last logged step
        self._logged_lr: float | None = None  # the learning rate the last optimizer step used
        self._best_pending = False  # the next checkpoint is the best model (set by _determine_best_metric)
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
        import torch.distributed as dist  # only under torchrun

        if not dist.is_initialized():
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
        return default_label_names(self.model)

    # --- data
    def _prepare(self, dataset: Any, description: str) -> tuple[Any, Callable]:
        dataset, columns, kept = prepare_dataset(dataset, self.model,
                                                 remove_unused_columns=self.args.remove_unused_columns,
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
    def get_decay_parameter_names(self, model: nn.Module) -> list[str]:
        return decay_parameter_names(model)

    def create_optimizer(self) -> torch.optim.Optimizer:
        if self.optimizer is None:
            decay = set(self.get_decay_parameter_names(self.model))
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
            loss = get_loss(outputs)
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
        nothing_to_learn = all_labels_ignored(inputs, self.label_names)  # before compute_loss, which may pop them
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

    # --- the loop
    def train(self, resume_from_checkpoint: str | bool | None = None, trial: Any = None,
              ignore_keys_for_eval: list[str] | None = None, **kwargs: Any) -> TrainOutput:
        """Train; ``resume_from_checkpoint`` is a checkpoint folder, or True for the last one in output_dir."""
        if kwargs:
            raise TypeError(f"train() got unexpected keyword arguments {sorted(kwargs)}; valid: "
                            "resume_from_checkpoint, trial, ignore_keys_for_eval")
        resume_from_checkpoint = ckpt.resolve_resume_checkpoint(resume_from_checkpoint, self.args.output_dir)
        return self._inner_training_loop(resume_from_checkpoint=resume_from_checkpoint, trial=trial,
                                         ignore_keys_for_eval=ignore_keys_for_eval)

    def _inner_training_loop(self, resume_from_checkpoint: str | None = None, trial: Any = None,
                             ignore_keys_for_eval: list[str] | None = None) -> TrainOutput:
        args = self.args
        dataloader = self.get_train_dataloader()
        len_dl = len(dataloader)
        if len_dl == 0:
            raise ValueError(f"the training dataset gives no batch (dataloader_drop_last={args.dataloader_drop_last}, "
                             f"batch size {args.train_batch_size})")
        ga = args.gradient_accumulation_steps
        updates_per_epoch, max_steps, num_epochs = training_lengths(args, len_dl)
        self.state = TrainerState(
            max_steps=max_steps, num_train_epochs=num_epochs, train_batch_size=args.train_batch_size,
            logging_steps=resolve_steps(args.logging_steps, max_steps),
            eval_steps=resolve_steps(args.eval_steps, max_steps), save_steps=resolve_steps(args.save_steps, max_steps),
            is_local_process_zero=args.local_process_index == 0, is_world_process_zero=self.rank == 0)
        model = self.model
        self.model_wrapped = wrapped = self._wrap_model(model)
        self.create_optimizer_and_scheduler(max_steps)
        handler = self.callback_handler
        handler.model, handler.optimizer, handler.lr_scheduler = model, self.optimizer, self.lr_scheduler
        handler.train_dataloader = dataloader

        epochs_trained, skip_batches = 0, 0
        if resume_from_checkpoint is not None:
            self._load_from_checkpoint(resume_from_checkpoint)
            epochs_trained = self.state.global_step // updates_per_epoch
            skip_batches = (self.state.global_step % updates_per_epoch) * ga

        tr_loss = torch.tensor(0.0)
        self._total_loss = 0.0
        self._last_logged = self.state.global_step
        start = time.time()
        model.zero_grad()
        self.control._new_training()
        self._event("on_train_begin")
        grad_norm = None
        sampler = dataloader.sampler
        for epoch in range(epochs_trained, num_epochs):
            if hasattr(sampler, "set_epoch"):
                sampler.set_epoch(epoch)
            restore_rng_now = resume_from_checkpoint is not None and epoch == epochs_trained
            if restore_rng_now and skip_batches == 0:
                self._load_rng_state(resume_from_checkpoint)
            iterator = iter(dataloader)
            skipped = 0
            if restore_rng_now and skip_batches > 0:
                for _ in range(skip_batches):
                    next(iterator)
                skipped = skip_batches
                self._load_rng_state(resume_from_checkpoint)  # after the skipped batches drew from it
            self.control._new_epoch()
            self._event("on_epoch_begin")
            remainder = len_dl % ga or ga
            total_updates = len_dl // ga + int(remainder < ga)
            step = skipped - 1
            for update in range(skipped // ga, total_updates):
                batches = _take(iterator, ga if update != total_updates - 1 else remainder)
                for inputs in batches:
                    step += 1
                    if step % ga == 0:
                        self._event("on_step_begin")
                    sync = (step + 1) % ga == 0 or step + 1 == len_dl
                    self._current_accumulation = len(batches)
                    with wrapped.no_sync() if wrapped is not model and not sync else nullcontext():
                        loss = self.training_step(wrapped, inputs)
                    if args.logging_nan_inf_filter and not torch.isfinite(loss):
                        # a batch with nothing to learn (see training_step): log the running mean instead
                        tr_loss = tr_loss + tr_loss / (1 + self.state.global_step - self._last_logged)
                    else:
                        tr_loss = tr_loss + loss
                    if not sync:
                        self._event("on_substep_end")
                        continue
                    if args.max_grad_norm is not None and args.max_grad_norm > 0:
                        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.max_grad_norm)
                    self._event("on_pre_optimizer_step")
                    self.optimizer.step()
                    self._event("on_optimizer_step")
                    self._logged_lr = self._get_learning_rate()  # the rate this step used, as the reference logs
                    self.lr_scheduler.step()
                    model.zero_grad()
                    self.state.global_step += 1
                    self.state.epoch = epoch + (step + 1) / len_dl
                    self._event("on_step_end")
                    tr_loss = self._maybe_log_save_evaluate(tr_loss, grad_norm, model, trial, epoch,
                                                            ignore_keys_for_eval)
                    if self.control.should_epoch_stop or self.control.should_training_stop:
                        break
                if self.control.should_epoch_stop or self.control.should_training_stop:
                    break
            skip_batches = 0
            self._event("on_epoch_end")
            tr_loss = self._maybe_log_save_evaluate(tr_loss, grad_norm, model, trial, epoch, ignore_keys_for_eval)
            if self.control.should_training_stop:
                break

        if args.load_best_model_at_end and self.state.best_model_checkpoint is not None:
            self._load_best_model()
        self._total_loss += self._mean_over_ranks(tr_loss.detach()).item()
        train_loss = self._total_loss / max(self.state.global_step, 1)
        runtime = time.time() - start
        metrics = {"train_runtime": round(runtime, 4),
                   "train_samples_per_second": round(max_steps * args.train_batch_size * ga * self.world_size / runtime,
                                                     3),
                   "train_steps_per_second": round(max_steps / runtime, 3),
                   "total_flos": float(self.state.total_flos), "train_loss": train_loss}
        self.log(metrics)
        self._event("on_train_end")
        self._write_history()
        self._barrier()
        return TrainOutput(self.state.global_step, train_loss, metrics)

    def _maybe_log_save_evaluate(self, tr_loss: torch.Tensor, grad_norm: Any, model: nn.Module, trial: Any,
                                 epoch: int, ignore_keys_for_eval: list[str] | None) -> torch.Tensor:
        """Log, evaluate and save as the callbacks' control flags say; returns the loss sum left to log."""
        state, control = self.state, self.control
        if control.should_log and state.global_step > self._last_logged:
            loss = self._mean_over_ranks(tr_loss.detach()).item()
            logs = {"loss": loss / (state.global_step - self._last_logged)}
            if grad_norm is not None:
                logs["grad_norm"] = float(grad_norm)
            logs["learning_rate"] = self._get_learning_rate() if self._logged_lr is None else self._logged_lr
            self._total_loss += loss
            self._last_logged = state.global_step
            tr_loss = torch.tensor(0.0)
            self.log(logs)
        if control.should_evaluate:
            metrics = self.evaluate(ignore_keys=ignore_keys_for_eval)
            self._determine_best_metric(metrics, trial)
        if control.should_save:
            self._save_checkpoint(model, trial)
            self._event("on_save")
        control._new_step()
        return tr_loss

    def _determine_best_metric(self, metrics: dict[str, float], trial: Any = None) -> bool:
        """Record a new best ``metric_for_best_model`` (the next checkpoint is then the best one)."""
        name = self.args.metric_for_best_model
        if name is None:
            return False
        key = name if name.startswith("eval_") else f"eval_{name}"
        if key not in metrics:
            raise KeyError(f"metric_for_best_model={name!r}, but the evaluation gave only {sorted(metrics)}")
        value, best = metrics[key], self.state.best_metric
        if best is None or (value > best if self.args.greater_is_better else value < best):
            self.state.best_metric = value
            self.state.best_global_step = self.state.global_step
            self._best_pending = True
            return True
        return False

    # --- checkpoints (the folder format: checkpointing.py)
    def _save_checkpoint(self, model: nn.Module, trial: Any = None) -> str:
        """Write ``output_dir/checkpoint-N`` atomically (rank 0 only), then rotate old ones."""
        args, state = self.args, self.state
        target = Path(args.output_dir) / f"{ckpt.PREFIX_CHECKPOINT_DIR}-{state.global_step}"
        if self._best_pending:
            state.best_model_checkpoint = str(target)
            self._best_pending = False
        if args.should_save:
            with ckpt.checkpoint_folder(target, args.output_dir) as tmp:
                self.save_model(str(tmp), _internal_call=True)
                if not args.save_only_model:
                    ckpt.save_training_state(tmp, self.optimizer, self.lr_scheduler)
                state.save_to_json(str(tmp / ckpt.TRAINER_STATE_NAME))
            ckpt.rotate_checkpoints(args.output_dir, args.save_total_limit, state.best_model_checkpoint)
            self._write_history()
        self._barrier()
        return str(target)

    def _load_from_checkpoint(self, resume_from_checkpoint: str, model: nn.Module | None = None) -> None:
        """Weights, optimizer, schedule and trainer state (the RNG is restored by the loop, when the epoch starts)."""
        ckpt.load_model_weights(model if model is not None else self.model, resume_from_checkpoint)
        ckpt.load_training_state(resume_from_checkpoint, self.optimizer, self.lr_scheduler)
        ckpt.restore_progress(self.state, resume_from_checkpoint)

    def _load_rng_state(self, checkpoint: str) -> None:
        ckpt.load_rng_state(ckpt.load_pt(Path(checkpoint) / ckpt.RNG_STATE_NAME))

    def _load_best_model(self) -> None:
        ckpt.load_model_weights(self.model, self.state.best_model_checkpoint)

    # --- evaluation
    def evaluate(self, eval_dataset: Any = None, ignore_keys: list[str] | None = None,
                 metric_key_prefix: str = "eval") -> dict[str, float]:
        start = time.time()
        dataloader = self.get_eval_dataloader(eval_dataset)
        output = self.evaluation_loop(dataloader, "Evaluation", ignore_keys=ignore_keys,
                                      metric_key_prefix=metric_key_prefix)
        output.metrics.update(speed_metrics(metric_key_prefix, start, len(dataloader.dataset), len(dataloader)))
        self.log(output.metrics)
        self._event("on_evaluate", metrics=output.metrics)
        return output.metrics

    def predict(self, test_dataset: Any, ignore_keys: list[str] | None = None,
                metric_key_prefix: str = "test") -> PredictionOutput:
        start = time.time()
        dataloader = self.get_test_dataloader(test_dataset)
        output = self.evaluation_loop(dataloader, "Prediction", ignore_keys=ignore_keys,
                                      metric_key_prefix=metric_key_prefix)
        output.metrics.update(speed_metrics(metric_key_prefix, start, len(dataloader.dataset), len(dataloader)))
        self._event("on_predict", metrics=output.metrics)
        return PredictionOutput(output.predictions, output.label_ids, output.metrics)

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
                loss = get_loss(outputs)
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
                preds = nested_concat(preds, logits)
            if label is not None:
                labels = nested_concat(labels, label)
            self._event("on_prediction_step")
        preds, labels = nested_numpify(preds), nested_numpify(labels)
        metrics: dict[str, Any] = {}
        if self.compute_metrics is not None and preds is not None and labels is not None:
            metrics = dict(self.compute_metrics(EvalPrediction(predictions=preds, label_ids=labels)))
        metrics = {k: (v.item() if hasattr(v, "item") else v) for k, v in metrics.items()}
        if losses:
            metrics["loss"] = torch.cat(losses).mean().item()
        metrics = {(k if k.startswith(f"{metric_key_prefix}_") else f"{metric_key_prefix}_{k}"): v
                   for k, v in metrics.items()}
        return EvalLoopOutput(preds, labels, metrics, n)

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
                safetensors_io.save_file({k: v.detach().contiguous() for k, v in model.state_dict().items()},
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
        write_history(self.state, self.args.output_dir, plot=self.args.save_plot)
