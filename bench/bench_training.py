"""Training throughput: minformers' Trainer beside transformers.Trainer on the sentiment fine-tuning.

    python bench/bench_training.py [--examples 512] [--batch 16] [--threads 2]

Same model (all-MiniLM-L6-v2 + a 2-label head, same initial weights), same examples (the
first reviews of the seeded training split of scripts/train_sentiment.py), same
hyper-parameters, one epoch, in one process. Throughput is real (non-pad) tokens per second
of training. minformers runs with ``group_by_length=True`` (batches of similar lengths, padded
only to their own longest example); the reference runs with its defaults (random batches,
dynamic padding) and, for a like-for-like view, with ``group_by_length=True`` too.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))


def run(lib, minilm: Path, rows: list[dict], batch: int, group_by_length: bool, out_dir: Path) -> dict:
    import train_sentiment as ts

    tok = lib.AutoTokenizer.from_pretrained(minilm)
    data = ts.tokenize(tok, rows)
    torch.manual_seed(0)
    model = lib.BertForSequenceClassification.from_pretrained(minilm, num_labels=2)
    args = lib.TrainingArguments(output_dir=str(out_dir), per_device_train_batch_size=batch, num_train_epochs=1,
                                 learning_rate=5e-5, warmup_ratio=0.1, weight_decay=0.01, logging_steps=1000,
                                 save_strategy="no", report_to="none", disable_tqdm=True, use_cpu=True,
                                 group_by_length=group_by_length, seed=42)
    trainer = lib.Trainer(model=model, args=args, train_dataset=data,
                          data_collator=lib.DataCollatorWithPadding(tok))
    start = time.perf_counter()
    out = trainer.train()
    seconds = time.perf_counter() - start
    tokens = sum(len(d["input_ids"]) for d in data)
    return {"seconds": seconds, "tokens_per_s": tokens / seconds, "loss": out.training_loss}


def main() -> None:
    import transformers

    import minformers
    import train_sentiment as ts
    from minformers.hub import packaged_model_dir

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--examples", type=int, default=512)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--out", type=Path, default=Path("/tmp/minformers_bench_training"))
    p.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one configuration, print JSON
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    minilm = packaged_model_dir("sentence-transformers/all-MiniLM-L6-v2")
    rows = ts.split(ts.load_rows())["train"][: a.examples]
    configs = {
        "minformers (group_by_length)": (minformers, True),
        "transformers (defaults)": (transformers, False),
        "transformers (group_by_length)": (transformers, True),
    }
    if a.one:
        lib, grouped = configs[a.one]
        print(json.dumps(run(lib, minilm, rows, a.batch, grouped, a.out / a.one.replace(" ", "_"))))
        return
    # the machine is shared: each configuration runs in a fresh process (no state left by another library's
    # Trainer), in turn, `--repeat` rounds; each one's best is kept
    results: dict[str, dict] = {}
    for _ in range(a.repeat):
        for name in configs:
            cmd = [sys.executable, __file__, "--one", name, "--examples", str(a.examples), "--batch", str(a.batch),
                   "--threads", str(a.threads), "--out", str(a.out)]
            res = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines()[-1])
            if name not in results or res["tokens_per_s"] > results[name]["tokens_per_s"]:
                results[name] = res
    base = results["transformers (defaults)"]["tokens_per_s"]
    print(f"{a.examples} examples, batch {a.batch}, {a.threads} threads, one epoch, best of {a.repeat}")
    for name, r in results.items():
        print(f"  {name:32s} {r['tokens_per_s']:8.0f} tokens/s  {r['seconds']:6.1f} s  loss {r['loss']:.4f}  "
              f"x{r['tokens_per_s'] / base:.2f}")


if __name__ == "__main__":
    main()
