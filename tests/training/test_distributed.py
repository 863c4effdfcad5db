"""torchrun --nproc_per_node=2 with batch 8 per process == one process with batch 16.

Both runs shuffle with the same seeded permutation; rank r takes every 2nd index of it, so
the two processes of a step together see exactly the 16 examples of the single process.
DDP averages the gradients, so the updates are the same. Dropout is off here: the two
processes draw different dropout masks than one process would. Only rank 0 writes files.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import json, sys, torch
    sys.path.insert(0, {root!r})
    import minformers as mf

    folder, out_dir, batch = sys.argv[1], sys.argv[2], int(sys.argv[3])
    torch.set_num_threads(1)
    rows = json.load(open({data!r}))
    tok = mf.AutoTokenizer.from_pretrained(folder)
    enc = tok([r["text"] for r in rows], truncation=True, max_length=32)
    data = [dict(input_ids=enc["input_ids"][i], attention_mask=enc["attention_mask"][i], label=r["label"])
            for i, r in enumerate(rows)]
    model = mf.BertForSequenceClassification.from_pretrained(
        folder, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    args = mf.TrainingArguments(output_dir=out_dir, per_device_train_batch_size=batch, max_steps=4,
                                learning_rate=1e-3, logging_steps=1, save_steps=2, disable_tqdm=True, seed=11,
                                group_by_length={grouped})
    trainer = mf.Trainer(model=model, args=args, train_dataset=data, processing_class=tok)
    trainer.train()
    rank = trainer.rank
    json.dump({{"losses": [e["loss"] for e in trainer.state.log_history if "loss" in e],
               "world_size": trainer.world_size,
               "weight": model.classifier.weight.flatten()[:8].tolist()}},
              open(f"{{out_dir}}/result_rank{{rank}}.json", "w"))
""")


@pytest.mark.parametrize("grouped", [True])
def test_two_processes_match_one(grouped, tiny_checkpoints, rotten_tomatoes_rows, tmp_path):
    from .helpers import review_rows

    folder = tiny_checkpoints("BertForSequenceClassification")
    data = tmp_path / "data.json"
    data.write_text(json.dumps(review_rows(rotten_tomatoes_rows, 64)))
    script = tmp_path / "train.py"
    script.write_text(SCRIPT.format(root=str(ROOT), data=str(data), grouped=grouped))
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR",
                                                             "MASTER_PORT")}
    env["OMP_NUM_THREADS"] = "1"
    single, multi = tmp_path / "single", tmp_path / "multi"
    subprocess.run([sys.executable, str(script), str(folder), str(single), "16"], check=True, env=env, timeout=300)
    run = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                          str(script), str(folder), str(multi), "8"], env=env, timeout=300, capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stderr[-3000:]

    one = json.loads((single / "result_rank0.json").read_text())
    two = [json.loads((multi / f"result_rank{r}.json").read_text()) for r in (0, 1)]
    assert one["world_size"] == 1 and two[0]["world_size"] == 2
    assert len(one["losses"]) == 4
    assert two[0]["losses"] == pytest.approx(one["losses"], abs=1e-5)
    assert two[0]["weight"] == pytest.approx(one["weight"], abs=1e-5)
    assert two[1]["weight"] == pytest.approx(two[0]["weight"], abs=1e-7)  # ranks stay in sync
    # only rank 0 writes checkpoints and history: one folder per save, no duplicates/partials
    names = sorted(p.name for p in multi.iterdir())
    assert names == ["checkpoint-2", "checkpoint-4", "log_history.json", "loss_curve.png", "result_rank0.json",
                     "result_rank1.json", "trainer_state.json"] or "loss_curve.png" not in names
