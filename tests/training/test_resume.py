"""A run killed after a checkpoint and resumed ends with the same weights as an uninterrupted run.

Dropout is on and the data is shuffled (per-epoch seeded sampler), so this checks that the
RNG states, the optimizer, the schedule and the position in the epoch are all restored.
"""

from __future__ import annotations

import json

import pytest
import torch

import minformers as mf

from .helpers import review_rows, tokenized


class Crash(RuntimeError):
    pass


class CrashAt(mf.TrainerCallback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            raise Crash(f"simulated kill at step {self.step}")


def _trainer(folder, data, out_dir, save_steps, callbacks=()):
    torch.set_num_threads(1)
    tok = mf.AutoTokenizer.from_pretrained(folder)
    model = mf.BertForSequenceClassification.from_pretrained(folder)
    args = mf.TrainingArguments(output_dir=str(out_dir), per_device_train_batch_size=4,
                                gradient_accumulation_steps=2, max_steps=10, learning_rate=1e-3, warmup_ratio=0.2,
                                weight_decay=0.01, logging_steps=1, save_steps=save_steps, save_total_limit=2,
                                disable_tqdm=True, seed=3)
    return mf.Trainer(model=model, args=args, train_dataset=data, processing_class=tok, callbacks=list(callbacks))


# 36 examples, batch 4, accumulation 2 -> 9 batches, 5 updates per epoch (the last one of a single batch)
@pytest.mark.parametrize("save_steps,crash_at", [(3, 4), (5, 7)])  # mid-epoch / at an epoch boundary
def test_resume_matches_uninterrupted(save_steps, crash_at, tiny_checkpoints, rotten_tomatoes_rows, tmp_path):
    folder = tiny_checkpoints("BertForSequenceClassification")
    tok = mf.AutoTokenizer.from_pretrained(folder)
    data = tokenized(tok, review_rows(rotten_tomatoes_rows, 36))

    full = _trainer(folder, data, tmp_path / "full", save_steps)
    full.train()
    expected = {k: v.clone() for k, v in full.model.state_dict().items()}

    killed = _trainer(folder, data, tmp_path / "killed", save_steps, [CrashAt(crash_at)])
    with pytest.raises(Crash):
        killed.train()
    last = mf.get_last_checkpoint(str(tmp_path / "killed"))
    assert last.endswith(f"checkpoint-{save_steps}")
    for name in ("model.safetensors", "config.json", "optimizer.pt", "scheduler.pt", "rng_state.pth",
                 "trainer_state.json"):
        assert (tmp_path / "killed" / f"checkpoint-{save_steps}" / name).is_file(), name

    resumed = _trainer(folder, data, tmp_path / "killed", save_steps)  # fresh model and trainer, same folder
    resumed.train(resume_from_checkpoint=True)
    assert resumed.state.global_step == 10
    for k, v in expected.items():
        torch.testing.assert_close(resumed.model.state_dict()[k], v, atol=1e-6, rtol=1e-5, msg=k)
    full_losses = [e["loss"] for e in full.state.log_history if "loss" in e]
    resumed_losses = [e["loss"] for e in resumed.state.log_history if "loss" in e]
    assert resumed_losses == pytest.approx(full_losses, abs=1e-6)
    state = json.loads((tmp_path / "killed" / "trainer_state.json").read_text())
    assert state["global_step"] == 10
