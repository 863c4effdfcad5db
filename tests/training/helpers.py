"""Shared bits of the training tests: a small tokenized slice of Rotten Tomatoes, a loss recorder."""

from __future__ import annotations

from torch.utils.data import SequentialSampler

LABELS = {"rotten": 0, "fresh": 1}


def review_rows(rows: list[dict], n: int, offset: int = 0) -> list[dict]:
    """The first `n` review rows (no plot summaries) after `offset`, as {'text', 'label'}."""
    reviews = [{"text": r["text"], "label": LABELS[r["category"]]} for r in rows if r["category"] in LABELS]
    return reviews[offset:offset + n]


def tokenized(tokenizer, examples: list[dict], max_length: int = 32, keep_text: bool = False) -> list[dict]:
    enc = tokenizer([e["text"] for e in examples], truncation=True, max_length=max_length)
    out = []
    for i, e in enumerate(examples):
        row = {k: enc[k][i] for k in ("input_ids", "token_type_ids", "attention_mask")}
        row["label"] = e["label"]
        if keep_text:
            row["text"] = e["text"]
        out.append(row)
    return out


def recording(trainer_cls):
    """A subclass of `trainer_cls` that keeps every training_step loss and reads the data in order."""

    class Recording(trainer_cls):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.step_losses: list[float] = []

        def _get_train_sampler(self, *args, **kwargs):
            dataset = args[0] if args and args[0] is not None else self.train_dataset
            return SequentialSampler(dataset)

        def training_step(self, model, inputs, num_items_in_batch=None):
            loss = super().training_step(model, inputs, num_items_in_batch)
            self.step_losses.append(float(loss))
            return loss

    return Recording
