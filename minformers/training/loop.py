"""The training loop proper (``Trainer.train``), and checkpoint save/restore.

Per epoch: make the DataLoader iterator, then per optimizer step take up to
``gradient_accumulation_steps`` batches, run forward/backward on each with the loss
divided by that number, clip, step AdamW and the schedule, then let the callbacks decide
whether to log, evaluate, save or stop. Resuming loads weights, optimizer, schedule and
RNG states, and skips the batches already seen in the current epoch, so a resumed run
continues exactly where the interrupted one stopped.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from . import checkpointing as ckpt
from .callbacks import TrainerState

if TYPE_CHECKING:
    from .trainer import Trainer, TrainOutput


def _steps(value: float, max_steps: int) -> float:
    """``*_steps`` < 1 means a fraction of the run, as the reference."""
    return math.ceil(max_steps * value) if value is not None and 0 < value < 1 else value


def run_training(trainer: Trainer, resume_from: str | None, ignore_keys_for_eval: list[str] | None) -> TrainOutput:
    from .trainer import TrainOutput

    args = trainer.args
    dataloader = trainer.get_train_dataloader()
    len_dl = len(dataloader)
    if len_dl == 0:
        raise ValueError(f"the training dataset gives no batch (dataloader_drop_last={args.dataloader_drop_last}, "
                         f"batch size {args.train_batch_size})")
    ga = args.gradient_accumulation_steps
    updates_per_epoch = max(len_dl // ga + int(len_dl % ga > 0), 1)
    if args.max_steps > 0:
        max_steps = args.max_steps
        num_epochs = max_steps // updates_per_epoch + int(max_steps % updates_per_epoch > 0)
    else:
        max_steps = math.ceil(args.num_train_epochs * updates_per_epoch)
        num_epochs = math.ceil(args.num_train_epochs)

    trainer.state = TrainerState(
        max_steps=max_steps, num_train_epochs=num_epochs, train_batch_size=args.train_batch_size,
        logging_steps=_steps(args.logging_steps, max_steps), eval_steps=_steps(args.eval_steps, max_steps),
        save_steps=_steps(args.save_steps, max_steps),
        is_local_process_zero=args.local_process_index == 0, is_world_process_zero=trainer.rank == 0)
    model = trainer.model
    trainer.model_wrapped = wrapped = trainer._wrap_model(model)
    trainer.create_optimizer_and_scheduler(max_steps)
    handler = trainer.callback_handler
    handler.model, handler.optimizer, handler.lr_scheduler = model, trainer.optimizer, trainer.lr_scheduler
    handler.train_dataloader = dataloader

    epochs_trained, skip_batches = 0, 0
    if resume_from is not None:
        load_checkpoint(trainer, resume_from)
        epochs_trained = trainer.state.global_step // updates_per_epoch
        skip_batches = (trainer.state.global_step % updates_per_epoch) * ga

    tr_loss = torch.tensor(0.0)
    trainer._total_loss = 0.0
    trainer._last_logged = trainer.state.global_step
    start = time.time()
    model.zero_grad()
    trainer.control._new_training()
    trainer._event("on_train_begin")
    grad_norm = None
    sampler = dataloader.sampler
    for epoch in range(epochs_trained, num_epochs):
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)
        restore_rng_now = resume_from is not None and epoch == epochs_trained
        if restore_rng_now and skip_batches == 0:
            ckpt.load_rng_state(ckpt.load_pt(Path(resume_from) / ckpt.RNG_STATE_NAME))
        iterator = iter(dataloader)
        skipped = 0
        if restore_rng_now and skip_batches > 0:
            for _ in range(skip_batches):
                next(iterator)
            skipped = skip_batches
            ckpt.load_rng_state(ckpt.load_pt(Path(resume_from) / ckpt.RNG_STATE_NAME))
        trainer.control._new_epoch()
        trainer._event("on_epoch_begin")
        remainder = len_dl % ga or ga
        total_updates = len_dl // ga + int(remainder < ga)
        step = skipped - 1
        for update in range(skipped // ga, total_updates):
            n_batches = ga if update != total_updates - 1 else remainder
            batches = []
            for _ in range(n_batches):
                try:
                    batches.append(next(iterator))
                except StopIteration:
                    break
            for inputs in batches:
                step += 1
                if step % ga == 0:
                    trainer._event("on_step_begin")
                sync = (step + 1) % ga == 0 or step + 1 == len_dl
                trainer._current_accumulation = len(batches)
                no_sync = wrapped.no_sync() if wrapped is not model and not sync else _null()
                with no_sync:
                    loss = trainer.training_step(wrapped, inputs)
                if args.logging_nan_inf_filter and not torch.isfinite(loss):
                    # a batch with nothing to learn (see Trainer.training_step): log the running mean instead
                    tr_loss = tr_loss + tr_loss / (1 + trainer.state.global_step - trainer._last_logged)
                else:
                    tr_loss = tr_loss + loss
                if not sync:
                    trainer._event("on_substep_end")
                    continue
                if args.max_grad_norm is not None and args.max_grad_norm > 0:
                    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.max_grad_norm)
                trainer._event("on_pre_optimizer_step")
                trainer.optimizer.step()
                trainer._event("on_optimizer_step")
                trainer._logged_lr = trainer._get_learning_rate()  # the rate this step used, as the reference logs
                trainer.lr_scheduler.step()
                model.zero_grad()
                trainer.state.global_step += 1
                trainer.state.epoch = epoch + (step + 1) / len_dl
                trainer._event("on_step_end")
                tr_loss = _maybe_log_save_evaluate(trainer, tr_loss, grad_norm, ignore_keys_for_eval)
                if trainer.control.should_epoch_stop or trainer.control.should_training_stop:
                    break
            if trainer.control.should_epoch_stop or trainer.control.should_training_stop:
                break
        skip_batches = 0
        trainer._event("on_epoch_end")
        tr_loss = _maybe_log_save_evaluate(trainer, tr_loss, grad_norm, ignore_keys_for_eval)
        if trainer.control.should_training_stop:
            break

    if args.load_best_model_at_end and trainer.state.best_model_checkpoint is not None:
        _load_model_weights(model, trainer.state.best_model_checkpoint)
    trainer._total_loss += _mean_loss(trainer, tr_loss)
    steps = max(trainer.state.global_step, 1)
    train_loss = trainer._total_loss / steps
    runtime = time.time() - start
    metrics = {"train_runtime": round(runtime, 4),
               "train_samples_per_second": round(max_steps * args.train_batch_size * ga * trainer.world_size / runtime, 3),
               "train_steps_per_second": round(max_steps / runtime, 3),
               "total_flos": float(trainer.state.total_flos), "train_loss": train_loss}
    trainer.log(metrics)
    trainer._event("on_train_end")
    trainer._write_history()
    trainer._barrier()
    return TrainOutput(trainer.state.global_step, train_loss, metrics)


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None


def _mean_loss(trainer: Trainer, tr_loss: torch.Tensor) -> float:
    return trainer._mean_over_ranks(tr_loss.detach()).item()


def _maybe_log_save_evaluate(trainer: Trainer, tr_loss: torch.Tensor, grad_norm: Any,
                             ignore_keys: list[str] | None) -> torch.Tensor:
    state, control = trainer.state, trainer.control
    if control.should_log and state.global_step > trainer._last_logged:
        loss = _mean_loss(trainer, tr_loss)
        logs = {"loss": loss / (state.global_step - trainer._last_logged)}
        if grad_norm is not None:
            logs["grad_norm"] = float(grad_norm)
        lr = getattr(trainer, "_logged_lr", None)
        logs["learning_rate"] = trainer._get_learning_rate() if lr is None else lr
        trainer._total_loss += loss
        trainer._last_logged = state.global_step
        tr_loss = torch.tensor(0.0)
        trainer.log(logs)
    if control.should_evaluate:
        metrics = trainer.evaluate(ignore_keys=ignore_keys)
        _update_best(trainer, metrics)
    if control.should_save:
        save_checkpoint(trainer)
        trainer._event("on_save")
    control._new_step()
    return tr_loss


def _update_best(trainer: Trainer, metrics: dict[str, float]) -> None:
    name = trainer.args.metric_for_best_model
    if name is None:
        return
    key = name if name.startswith("eval_") else f"eval_{name}"
    if key not in metrics:
        raise KeyError(f"metric_for_best_model={name!r}, but the evaluation gave only {sorted(metrics)}")
    value, best = metrics[key], trainer.state.best_metric
    if best is None or (value > best if trainer.args.greater_is_better else value < best):
        trainer.state.best_metric = value
        trainer.state.best_global_step = trainer.state.global_step
        trainer._best_pending = True


# --- checkpoints
def save_checkpoint(trainer: Trainer) -> str:
    """Write ``output_dir/checkpoint-N`` atomically (rank 0 only), then rotate old ones."""
    from ..saving import atomic_folder, remove_stale_temporaries

    args, state = trainer.args, trainer.state
    target = Path(args.output_dir) / f"{ckpt.PREFIX_CHECKPOINT_DIR}-{state.global_step}"
    if getattr(trainer, "_best_pending", False):
        state.best_model_checkpoint = str(target)
        trainer._best_pending = False
    if args.should_save:
        # what killed saves of any checkpoint left (and the model save nested in one: "..checkpoint-N.saving-…")
        remove_stale_temporaries(args.output_dir, rf"\.?{ckpt.PREFIX_CHECKPOINT_DIR}-\d+(?:\.saving-.+)?")
        try:
            with atomic_folder(target, replaces=lambda name: True) as tmp:
                trainer.save_model(str(tmp), _internal_call=True)
                if not args.save_only_model:
                    torch.save(trainer.optimizer.state_dict(), tmp / ckpt.OPTIMIZER_NAME)
                    torch.save(trainer.lr_scheduler.state_dict(), tmp / ckpt.SCHEDULER_NAME)
                    torch.save(ckpt.save_rng_state(), tmp / ckpt.RNG_STATE_NAME)
                state.save_to_json(str(tmp / ckpt.TRAINER_STATE_NAME))
        except OSError as e:
            raise OSError(f"cannot write the checkpoint {target}: {e}. Earlier checkpoints are intact; last one: "
                          f"{ckpt.get_last_checkpoint(args.output_dir)}") from e
        ckpt.rotate_checkpoints(args.output_dir, args.save_total_limit, state.best_model_checkpoint)
        trainer._write_history()
    trainer._barrier()
    return str(target)


def _load_model_weights(model: torch.nn.Module, folder: str) -> None:
    from ..modeling import load_checkpoint

    state_dict = load_checkpoint(Path(folder), folder)
    missing, unexpected = model.load_state_dict(state_dict, strict=False)
    tied = set(model._tied_aliases()) if hasattr(model, "_tied_aliases") else set()
    missing = [k for k in missing if k not in tied]
    if missing or unexpected:
        raise RuntimeError(f"checkpoint {folder} does not match the model: missing {missing[:5]}, "
                           f"unexpected {unexpected[:5]}")
    if hasattr(model, "tie_weights"):
        model.tie_weights()


def load_checkpoint(trainer: Trainer, folder: str) -> None:
    """Weights, optimizer, schedule and trainer state from `folder` (the RNG is restored by the loop)."""
    folder_path = Path(folder)
    _load_model_weights(trainer.model, folder)
    if (folder_path / ckpt.OPTIMIZER_NAME).is_file():
        trainer.optimizer.load_state_dict(ckpt.load_pt(folder_path / ckpt.OPTIMIZER_NAME))
        trainer.lr_scheduler.load_state_dict(ckpt.load_pt(folder_path / ckpt.SCHEDULER_NAME))
    saved = TrainerState.load_from_json(str(folder_path / ckpt.TRAINER_STATE_NAME))
    state = trainer.state
    for name in ("global_step", "epoch", "log_history", "best_metric", "best_global_step", "best_model_checkpoint",
                 "total_flos", "num_input_tokens_seen"):
        setattr(state, name, getattr(saved, name))
