"""text-classification throughput and cold start: minformers vs the reference, in one run.

bert-base-sized classifier (random weights), Rotten Tomatoes sentences, batch size 32,
2 threads. Also: the cost of `import minformers` beyond `import torch`, and the time
from a cold process start to the first answer.

    .venv/bin/python bench/bench_pipeline.py [--sentences 256] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from common import bert_base_classifier, median_time, sentences


def throughput(n: int, repeat: int) -> dict:
    import torch
    import transformers

    import minformers

    torch.set_num_threads(2)
    folder = str(bert_base_classifier())
    texts = sentences(n)
    ours = minformers.pipeline("text-classification", model=folder, batch_size=32)
    theirs = transformers.pipeline("text-classification", model=folder, batch_size=32)
    a, b = ours(texts, top_k=None), theirs(texts, top_k=None)
    worst = max(abs(x["score"] - y["score"]) for ra, rb in zip(a, b) for x, y in zip(ra, rb))
    same_labels = all(ra[0]["label"] == rb[0]["label"] for ra, rb in zip(a, b))
    t_ours, t_ref = [], []
    for _ in range(repeat):  # alternate, so both see the same machine noise
        t_ref.append(median_time(lambda: theirs(texts), 1))
        t_ours.append(median_time(lambda: ours(texts), 1))
    ours_sps, ref_sps = n / statistics.median(t_ours), n / statistics.median(t_ref)
    return {"sentences": n, "ours_sentences_per_s": round(ours_sps, 2), "reference_sentences_per_s": round(ref_sps, 2),
            "ratio": round(ours_sps / ref_sps, 2), "max_score_diff": worst, "same_labels": same_labels}


COLD = {
    "reference": "from transformers import pipeline\np = pipeline('text-classification', model={folder!r})\n",
    "minformers": "from minformers import pipeline\np = pipeline('text-classification', model={folder!r})\n",
}


def cold_start(repeat: int) -> dict:
    folder = str(bert_base_classifier())
    results = {}
    for _ in range(repeat):
        for name, code in COLD.items():
            script = "import time\n" + code.format(folder=folder) + "p('I love this course!')\nprint(time.time())\n"
            start = time.time()
            out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                                 env={**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "2"})
            results.setdefault(name, []).append(float(out.stdout.strip().splitlines()[-1]) - start)
    ref, ours = statistics.median(results["reference"]), statistics.median(results["minformers"])
    return {"reference_s": round(ref, 3), "ours_s": round(ours, 3), "ratio": round(ours / ref, 3)}


def import_cost(repeat: int) -> dict:
    def run(code: str) -> float:
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    torch_only = run("import torch")
    with_ours = run("import torch, minformers; minformers.pipeline; minformers.AutoModel; minformers.AutoTokenizer")
    return {"import_torch_s": round(torch_only, 3), "import_minformers_extra_s": round(with_ours - torch_only, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sentences", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    report = {
        "import": import_cost(max(args.repeat, 5)),
        "cold_start": cold_start(args.repeat),
        "throughput": throughput(args.sentences, args.repeat),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
