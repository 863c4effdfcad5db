"""Speed of the code at an older commit against the working tree, in one run (the check after a refactor).

    python bench/bench_refactor.py [--base 3077f0f] [--rounds 5]

The package at ``--base`` is extracted with ``git archive`` and two worker processes are started, one
importing that copy and one the working tree (PYTHONPATH first). Each loads the same workloads once:
text-classification (bert-base size, random weights, 256 Rotten Tomatoes sentences, batch 32),
feature-extraction (all-MiniLM-L6-v2, 1,000 sentences), tokenization (MiniLM, 2,000 sentences, padded
batch) and greedy decoding (SmolLM2 GGUF dequantised, 32 new tokens). The workers then take turns, a
workload at a time, for ``--rounds`` rounds; medians of each and of the per-round ratios are printed.
2 threads each; run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKLOADS = ("text-classification", "feature-extraction", "tokenization", "generation")


def worker() -> None:
    """Reads a workload name per line, answers its time in seconds (one JSON line)."""
    import torch

    import minformers
    from common import bert_base_classifier, minilm_dir, sentences
    from bench_generation import GGUF, PROMPT, smollm2_folder

    torch.set_num_threads(2)
    texts = sentences(2000)
    clf = minformers.pipeline("text-classification", model=str(bert_base_classifier()), batch_size=32)
    emb = minformers.pipeline("feature-extraction", model=str(minilm_dir()))
    tok = minformers.AutoTokenizer.from_pretrained(str(minilm_dir()))
    lm = minformers.AutoModelForCausalLM.from_pretrained(smollm2_folder(), gguf_file=GGUF)
    lm_tok = minformers.AutoTokenizer.from_pretrained(smollm2_folder(), gguf_file=GGUF)
    ids = lm_tok(PROMPT, return_tensors="pt").input_ids
    jobs = {
        "text-classification": lambda: clf(texts[:256]),
        "feature-extraction": lambda: emb(texts[:1000], batch_size=32),
        "tokenization": lambda: tok(texts, padding=True, truncation=True, return_tensors="pt"),
        "generation": lambda: lm.generate(ids, max_new_tokens=32, min_new_tokens=32, do_sample=False),
    }
    for job in jobs.values():  # warm-up
        job()
    print(json.dumps({"ready": minformers.__file__}), flush=True)
    for line in sys.stdin:
        start = time.perf_counter()
        jobs[line.strip()]()
        print(json.dumps({"seconds": time.perf_counter() - start}), flush=True)


def start(tree: Path) -> tuple[subprocess.Popen, str]:
    env = dict(os.environ, PYTHONPATH=f"{tree}{os.pathsep}{ROOT / 'bench'}")
    proc = subprocess.Popen([sys.executable, __file__, "--worker"], env=env, cwd=ROOT / "bench", text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    ready = json.loads(proc.stdout.readline())
    return proc, ready["ready"]


def ask(proc: subprocess.Popen, workload: str) -> float:
    proc.stdin.write(workload + "\n")
    proc.stdin.flush()
    return json.loads(proc.stdout.readline())["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="3077f0f", help="the commit to compare against")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker()
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "base.tar"
        with open(archive, "wb") as f:
            subprocess.run(["git", "archive", args.base, "minformers"], cwd=ROOT, stdout=f, check=True)
        with tarfile.open(archive) as t:
            t.extractall(Path(tmp) / "base", filter="data")
        base, base_file = start(Path(tmp) / "base")
        head, head_file = start(ROOT)
        print(f"base {args.base}: {base_file}\nworking tree: {head_file}")
        try:
            for workload in WORKLOADS:
                t_base, t_head = [], []
                for _ in range(args.rounds):  # alternate, so both see the same machine noise
                    t_base.append(ask(base, workload))
                    t_head.append(ask(head, workload))
                ratio = statistics.median(b / h for b, h in zip(t_base, t_head))
                print(f"{workload:20s} base {statistics.median(t_base):7.3f} s   working tree "
                      f"{statistics.median(t_head):7.3f} s   speed ratio (tree/base) {ratio:5.3f}", flush=True)
        finally:
            for proc in (base, head):
                proc.stdin.close()
                proc.wait()


if __name__ == "__main__":
    main()
