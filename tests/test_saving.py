"""Saving into a symlinked folder, and what killed saves leave behind (issue 13, items 6 and 7).

Real mechanisms: a real symlink ``latest -> v3``; a real subprocess, blocked inside its save
(its own ``save_file`` is patched to wait), then SIGKILLed or sent SIGINT.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

import minformers as mf

ROOT = Path(__file__).resolve().parent.parent


def _leftovers(folder: Path) -> list[str]:
    return sorted(e.name for e in folder.iterdir() if e.name.startswith("."))


def _linked(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "v3").mkdir()
    (tmp_path / "v3" / "README.md").write_text("v3\n")
    os.symlink("v3", tmp_path / "latest")
    return tmp_path / "latest", tmp_path / "v3"


# --- item 6: a symlink to a folder is written through
def test_model_save_into_symlink_writes_through(tiny_checkpoints, tmp_path):
    model = mf.BertForSequenceClassification.from_pretrained(tiny_checkpoints("BertForSequenceClassification"))
    link, v3 = _linked(tmp_path)
    model.save_pretrained(v3)  # an older save in v3
    with torch.no_grad():
        model.classifier.bias.fill_(3.0)
    model.save_pretrained(link)
    assert link.is_symlink() and os.readlink(link) == "v3"
    assert (v3 / "README.md").read_text() == "v3\n"  # files the save does not write are kept
    again = mf.BertForSequenceClassification.from_pretrained(v3)
    assert torch.equal(again.classifier.bias, torch.full_like(again.classifier.bias, 3.0))
    assert _leftovers(tmp_path) == []


def test_tokenizer_and_config_save_into_symlink_write_through(tiny_checkpoints, tmp_path):
    folder = tiny_checkpoints("BertForSequenceClassification")
    link, v3 = _linked(tmp_path)
    mf.AutoTokenizer.from_pretrained(folder).save_pretrained(link)
    config = mf.AutoConfig.from_pretrained(folder)
    config.id2label = {0: "bad", 1: "good"}
    config.save_pretrained(link)
    assert link.is_symlink() and (v3 / "tokenizer.json").is_file() and (v3 / "config.json").is_file()
    assert mf.AutoConfig.from_pretrained(v3).id2label == {0: "bad", 1: "good"}
    assert _leftovers(tmp_path) == [] and _leftovers(v3) == []


def test_trainer_saves_into_symlinked_folders(tiny_checkpoints, tmp_path):
    folder = tiny_checkpoints("BertForSequenceClassification")
    tok = mf.AutoTokenizer.from_pretrained(folder)
    enc = tok(["good film", "bad film", "fine", "awful"])
    data = [{"input_ids": enc["input_ids"][i], "attention_mask": enc["attention_mask"][i], "label": i % 2}
            for i in range(4)]
    (tmp_path / "runs" / "r1").mkdir(parents=True)
    os.symlink("runs/r1", tmp_path / "out")
    link, v3 = _linked(tmp_path)
    args = mf.TrainingArguments(output_dir=str(tmp_path / "out"), per_device_train_batch_size=2, max_steps=2,
                                save_steps=1, disable_tqdm=True, report_to="none")
    trainer = mf.Trainer(model=mf.BertForSequenceClassification.from_pretrained(folder), args=args,
                         train_dataset=data, processing_class=tok)
    trainer.train()
    trainer.save_model(str(link))
    assert (tmp_path / "out").is_symlink() and link.is_symlink()
    assert mf.get_last_checkpoint(str(tmp_path / "out")).endswith("checkpoint-2")
    assert (tmp_path / "runs" / "r1" / "checkpoint-2" / "optimizer.pt").is_file()
    assert (v3 / "model.safetensors").is_file() and (v3 / "tokenizer.json").is_file()
    assert _leftovers(tmp_path) == [] and _leftovers(tmp_path / "runs" / "r1") == []


# --- item 7: a SIGKILLed save leaves a temp folder that the next save of the same target removes
_BLOCKING_SAVE = """
    import sys, time
    from pathlib import Path
    import minformers, minformers.weights.safetensors as ser
    original = ser.save_file
    def blocking(tensors, path, *a, **k):
        original(tensors, path, *a, **k)
        Path(sys.argv[3]).write_text("ready")
        time.sleep(120)  # killed here, mid-save
    ser.save_file = blocking
    model = minformers.BertForSequenceClassification.from_pretrained(sys.argv[1])
    model.save_pretrained(sys.argv[2])
"""


def _blocked_save(source: Path, target: Path, ready: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(_BLOCKING_SAVE), str(source), str(target),
                             str(ready)], env={**os.environ, "HF_HUB_OFFLINE": "1"})
    deadline = time.time() + 120
    while not ready.exists():
        assert proc.poll() is None, f"the saving subprocess ended early (exit {proc.returncode})"
        assert time.time() < deadline, "the saving subprocess never reached its save"
        time.sleep(0.1)
    return proc


def test_killed_save_is_cleaned_by_the_next_save_but_not_a_live_one(tiny_checkpoints, tmp_path):
    source = tiny_checkpoints("BertForSequenceClassification")
    target = tmp_path / "model"
    killed = _blocked_save(source, target, tmp_path / "ready1")
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    left = _leftovers(tmp_path)
    assert len(left) == 1 and left[0].startswith(".model.saving-"), left
    assert (tmp_path / left[0] / "model.safetensors").is_file()  # the killed save's data, never cleaned before
    live = _blocked_save(source, target, tmp_path / "ready2")  # a concurrent save, still running
    try:
        live_temp = [n for n in _leftovers(tmp_path) if n not in left]
        mf.BertForSequenceClassification.from_pretrained(source).save_pretrained(target)
        assert _leftovers(tmp_path) == live_temp  # the dead one's temp is gone, the live one's kept
        assert (target / "model.safetensors").is_file()
    finally:
        live.send_signal(signal.SIGKILL)
        live.wait()
    mf.BertForSequenceClassification.from_pretrained(source).save_pretrained(target)
    assert _leftovers(tmp_path) == []


# --- item 7: SIGINT during a Trainer checkpoint; resuming picks the last complete checkpoint
_TRAIN = """
    import signal, sys, time
    from pathlib import Path
    # A shell that starts a job in the background with `&` (as `make test &` or CI may) starts it with
    # SIGINT ignored, children inherit that, and Python keeps an inherited SIG_IGN: the SIGINT below would
    # then be dropped and the child sleep on. Ctrl-C at a terminal reaches a process with Python's default
    # handler, which is the case this test is about, so install it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    import minformers as mf
    import minformers.training.checkpointing as ckpt
    folder, out, ready, block_at = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
    original = ckpt.save_rng_state
    trainer = None
    def blocking():
        if trainer.state.global_step == block_at:
            ready.write_text("ready")
            time.sleep(120)  # interrupted here, inside the checkpoint save
        return original()
    ckpt.save_rng_state = blocking
    tok = mf.AutoTokenizer.from_pretrained(folder)
    enc = tok(["good film", "bad film", "fine", "awful"] * 2)
    data = [{"input_ids": enc["input_ids"][i], "attention_mask": enc["attention_mask"][i], "label": i % 2}
            for i in range(8)]
    args = mf.TrainingArguments(output_dir=out, per_device_train_batch_size=2, max_steps=6, save_steps=2,
                                save_total_limit=2, disable_tqdm=True, report_to="none", seed=5)
    trainer = mf.Trainer(model=mf.BertForSequenceClassification.from_pretrained(folder), args=args,
                         train_dataset=data, processing_class=tok)
    trainer.train(resume_from_checkpoint=True if len(sys.argv) > 5 else None)
    print("global_step", trainer.state.global_step)
"""


def test_sigint_during_checkpoint_then_resume_picks_last_complete(tiny_checkpoints, tmp_path):
    folder = tiny_checkpoints("BertForSequenceClassification")
    out = tmp_path / "out"
    cmd = [sys.executable, "-c", textwrap.dedent(_TRAIN), str(folder), str(out), str(tmp_path / "ready")]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(cmd + ["4"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 180
        while not (tmp_path / "ready").exists():
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            assert time.time() < deadline
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:  # a failed run leaves no training process behind
            proc.kill()
            proc.wait()
    assert proc.returncode != 0 and b"KeyboardInterrupt" in err
    assert sorted(e.name for e in out.iterdir() if e.name.startswith("checkpoint-")) == ["checkpoint-2"]
    assert [n for n in _leftovers(out) if "checkpoint" in n] == []  # the interrupted save cleaned up after itself
    # a checkpoint folder an older version (or a second Ctrl-C during a deletion) left half-written
    (out / "checkpoint-4").mkdir()
    (out / "checkpoint-4" / "trainer_state.json").write_text((out / "checkpoint-2" / "trainer_state.json").read_text())
    with pytest.warns(UserWarning, match="incomplete checkpoint .*checkpoint-4"):
        assert mf.get_last_checkpoint(str(out)).endswith("checkpoint-2")
    with pytest.raises(ValueError, match="incomplete"):
        mf.Trainer(model=mf.BertForSequenceClassification.from_pretrained(folder),
                   args=mf.TrainingArguments(output_dir=str(out), max_steps=1, report_to="none")).train(
            resume_from_checkpoint=str(out / "checkpoint-4"))
    import shutil

    shutil.rmtree(out / "checkpoint-4")
    done = subprocess.run(cmd + ["-1", "resume"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "global_step 6" in done.stdout
    assert mf.get_last_checkpoint(str(out)).endswith("checkpoint-6")
