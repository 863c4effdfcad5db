"""Throughput of zero-shot-classification and ner against the reference, same checkpoints, 2 threads.

zero-shot: a random bert-base-sized NLI model (label2id with "entailment"), saved once to a temp folder;
ner: the rampart default (converted from ONNX). Answers are checked equal. Each is timed with both
libraries' default batching (no batch_size) and with the same --batch-size for both.
Run: .venv/bin/python bench/bench_pipelines_tasks.py [--texts N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "scripts"))


def timed(fn, repeat=2):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def same_zero_shot(a, b, tol=1e-4):
    return all(x["labels"] == y["labels"] and max(abs(p - q) for p, q in zip(x["scores"], y["scores"])) < tol
               for x, y in zip(a, b))


def same_ner(a, b, tol=1e-4):
    return all(len(x) == len(y) and all(e["word"] == f["word"] and e["start"] == f["start"] and
               abs(e["score"] - float(f["score"])) < tol for e, f in zip(x, y)) for x, y in zip(a, b))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=48)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()
    torch.set_num_threads(2)
    warnings.filterwarnings("ignore")
    import transformers

    import minformers
    from conftest import load_rotten_tomatoes

    texts = [r["text"] for r in load_rotten_tomatoes() if len(r["text"]) < 400][1000:1000 + args.texts]
    labels = ["movie", "politics", "food", "sports"]
    # None: both libraries' defaults (the reference runs a row at a time; minformers batches the rows of
    # a list, Pipeline.auto_batch_size); then the same batch size for both
    sizes = [None, args.batch_size]
    with tempfile.TemporaryDirectory() as tmp:
        from minformers.hub import packaged_model_dir
        import shutil

        nli = {0: "contradiction", 1: "neutral", 2: "entailment"}
        torch.manual_seed(0)
        config = transformers.BertConfig(num_labels=3, id2label=nli, label2id={v: k for k, v in nli.items()})
        transformers.BertForSequenceClassification(config).save_pretrained(tmp)
        for name in ("tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
            shutil.copy(packaged_model_dir("sentence-transformers/all-MiniLM-L6-v2") / name, Path(tmp) / name)
        for size in sizes:
            ours = minformers.pipeline("zero-shot-classification", model=tmp, batch_size=size)
            theirs = transformers.pipeline("zero-shot-classification", model=tmp, batch_size=size)
            t_ours, a = timed(lambda: ours(texts, candidate_labels=labels))
            t_ref, b = timed(lambda: theirs(texts, candidate_labels=labels))
            n = len(texts) * len(labels)
            print(f"zero-shot  bert-base NLI, {len(texts)} texts x {len(labels)} labels, batch {size or 'default'}: "
                  f"minformers {n / t_ours:7.1f} pairs/s, transformers {n / t_ref:7.1f} pairs/s, "
                  f"x{t_ref / t_ours:.2f}, same answers: {same_zero_shot(a, b)}")

    from minformers.pipelines.ner_default import rampart_folder

    folder = str(rampart_folder())
    ner_texts = texts * 4
    for size in sizes:
        ours = minformers.pipeline("ner", model=folder, aggregation_strategy="simple", batch_size=size)
        theirs = transformers.pipeline("ner", model=folder, aggregation_strategy="simple", batch_size=size)
        t_ours, a = timed(lambda: ours(ner_texts))
        t_ref, b = timed(lambda: theirs(ner_texts))
        print(f"ner        rampart (MiniLM-L6), {len(ner_texts)} texts, batch {size or 'default'}: "
              f"minformers {len(ner_texts) / t_ours:7.1f} texts/s, transformers {len(ner_texts) / t_ref:7.1f} "
              f"texts/s, x{t_ref / t_ours:.2f}, same answers: {same_ner(a, b)}")

if __name__ == "__main__":
    main()
