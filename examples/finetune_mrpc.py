"""Chapter 3 of the Hugging Face course, with minformers: fine-tune a model on MRPC-style pairs.

    python examples/finetune_mrpc.py [--data tests/fixtures/mrpc_sample.tsv] [--model FOLDER_OR_ID]

The course loads GLUE/MRPC with ``load_dataset("glue", "mrpc")``; offline, this reads a
file in the same format (idx, label, sentence1, sentence2; label 1 = paraphrase) into a
``datasets.Dataset`` when ``datasets`` is installed (else a list of dicts) and runs the
course's steps: tokenize pairs with ``map(batched=True)``, dynamic padding with
``DataCollatorWithPadding``, ``Trainer`` with ``compute_metrics`` (accuracy and F1).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from minformers import (AutoModelForSequenceClassification, AutoTokenizer,  # noqa: E402
                        DataCollatorWithPadding, Trainer, TrainingArguments)


def read_pairs(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return [{"idx": int(r["idx"]), "label": int(r["label"]), "sentence1": r["sentence1"],
                 "sentence2": r["sentence2"]} for r in csv.DictReader(f, delimiter="\t")]


def compute_metrics(eval_pred) -> dict[str, float]:
    logits, labels = eval_pred
    preds = np.argmax(logits, axis=-1)
    tp = int(((preds == 1) & (labels == 1)).sum())
    precision = tp / max(int((preds == 1).sum()), 1)
    recall = tp / max(int((labels == 1).sum()), 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"accuracy": float((preds == labels).mean()), "f1": f1}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=ROOT / "tests" / "fixtures" / "mrpc_sample.tsv")
    p.add_argument("--model", default="sentence-transformers/all-MiniLM-L6-v2")
    p.add_argument("--output-dir", default="/tmp/mrpc-trainer")
    p.add_argument("--epochs", type=float, default=3)
    a = p.parse_args()

    rows = read_pairs(a.data)
    tokenizer = AutoTokenizer.from_pretrained(a.model)

    def tokenize_function(example):
        return tokenizer(example["sentence1"], example["sentence2"], truncation=True)

    try:  # the course's flow
        from datasets import Dataset

        raw = Dataset.from_list(rows).train_test_split(test_size=0.25, seed=0)
        tokenized = raw.map(tokenize_function, batched=True)
        train, validation = tokenized["train"], tokenized["test"]
    except ImportError:  # the same with lists of dicts
        cut = int(0.75 * len(rows))
        enc = tokenize_function({k: [r[k] for r in rows] for k in ("sentence1", "sentence2")})
        tokenized = [dict(r, **{k: enc[k][i] for k in enc.keys()}) for i, r in enumerate(rows)]
        train, validation = tokenized[:cut], tokenized[cut:]

    model = AutoModelForSequenceClassification.from_pretrained(a.model, num_labels=2)
    args = TrainingArguments(a.output_dir, eval_strategy="epoch", save_strategy="no", num_train_epochs=a.epochs,
                             per_device_train_batch_size=8, learning_rate=5e-5, logging_steps=2)
    trainer = Trainer(model, args, train_dataset=train, eval_dataset=validation,
                      data_collator=DataCollatorWithPadding(tokenizer), processing_class=tokenizer,
                      compute_metrics=compute_metrics)
    trainer.train()
    predictions = trainer.predict(validation)
    print(predictions.predictions.shape, predictions.label_ids.shape, predictions.metrics)


if __name__ == "__main__":
    main()
