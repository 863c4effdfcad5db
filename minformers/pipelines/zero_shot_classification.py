"""zero-shot-classification: text + candidate labels -> one score per label -> {sequence, labels, scores}.

Two ways to score, chosen by the model:

- **NLI model** (a ``…ForSequenceClassification`` whose ``config.label2id`` has a label
  starting with "entail"): exactly transformers' ZeroShotClassificationPipeline (4.57). Each
  (text, ``hypothesis_template.format(label)``) pair is one model row (all pairs of all texts
  are batched together, the text truncated first); single-label scores are a softmax of the
  entailment logits over the labels; ``multi_label=True`` (or a single label) scores each
  label on its own by a softmax over its [contradiction, entailment] logits.
- **Sentence-embedding model** (a headless ``…Model`` such as the offline default
  all-MiniLM-L6-v2; beyond the reference): the text and every hypothesis are embedded
  (mean pooling over tokens, L2-normalised) and compared by cosine similarity ``c``.
  Each label's calibrated logit is ``scale · (c - midpoint)`` (``EMBEDDING_CALIBRATION``, fitted).
  One label, or ``multi_label=True``: each label is scored on its own by ``label_probability(c)``
  = ``sigmoid(logit)``, so an unrelated label scores below 0.5 and a fitting one above (a softmax
  over one label would give 1.0 for anything). Several labels, single-label: a softmax over the
  calibrated logits (if each label fits with odds ``exp(logit)`` and exactly one fits, that one is
  label k with probability ``softmax(logits)[k]``).

Calibration (scripts/fit_zero_shot_calibration.py; all-MiniLM-L6-v2, template "This example is {}."):
logistic regression of "the label fits" on the cosine, fitting and unrelated pairs weighted
equally, on 90 hand-written sentences over 15 topics (tests/fixtures/zero_shot_topics_fit.jsonl):
scale 31.9, midpoint 0.131 (the hand-set values were 20 and 0.12). On a separate test set of 72
hand-written sentences over 9 topics (tests/fixtures/zero_shot_topics_test.jsonl), hand-set ->
fitted: single-label accuracy 0.917 -> 0.917 (the argmax does not depend on the calibration),
mean top score 0.69 -> 0.84, top-label ECE 0.231 -> 0.114; multi-label: fitting labels > 0.5
0.810 -> 0.759, unrelated labels < 0.5 0.937 -> 0.949, every label of a sentence on the right side
0.625 -> 0.611, ECE over all pairs 0.128 -> 0.056. Sentiment labels are beyond this mapping: on
Rotten Tomatoes reviews the cosine with "This example is positive." / "...negative." differs by
0.01 between the right and the wrong polarity (single-label accuracy 0.61); use the
sentiment-analysis pipeline.

Labels are sorted by score, best first. ``candidate_labels`` is a list or a comma-separated
string; ``multi_class`` is the deprecated name of ``multi_label``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import torch

from .base import Pipeline

logger = logging.getLogger("minformers.pipelines")


@dataclass(frozen=True)
class SimilarityCalibration:
    """cosine similarity -> probability that a label fits: ``sigmoid(scale * (cosine - midpoint))``."""

    scale: float  # how fast the probability rises around the midpoint
    midpoint: float  # the cosine that scores 0.5


# Fitted by scripts/fit_zero_shot_calibration.py (logistic regression, classes weighted equally) on the
# cosines of all-MiniLM-L6-v2 with the default template "This example is {}." over the hand-written topic set
# tests/fixtures/zero_shot_topics_fit.jsonl (90 sentences x 15 topic labels); `--check` refits and compares.
# (The provisional hand-set values were scale 20, midpoint 0.12.)
EMBEDDING_CALIBRATION = SimilarityCalibration(scale=31.9, midpoint=0.131)


def calibrated_logits(cosine: torch.Tensor,
                      calibration: SimilarityCalibration = EMBEDDING_CALIBRATION) -> torch.Tensor:
    """Cosine similarities -> calibrated logits ``scale * (cosine - midpoint)``: the log-odds that each label fits."""
    return calibration.scale * (cosine - calibration.midpoint)


def label_probability(cosine: torch.Tensor,
                      calibration: SimilarityCalibration = EMBEDDING_CALIBRATION) -> torch.Tensor:
    """Each label's cosine similarity with the text -> the probability that it fits, on its own."""
    return torch.sigmoid(calibrated_logits(cosine, calibration))


class ZeroShotClassificationPipeline(Pipeline):
    task = "zero-shot-classification"
    auto_batch_size = 16  # see Pipeline.auto_batch_size
    sequence_outputs = ()

    def __init__(self, model: Any, tokenizer: Any = None, **kwargs: Any) -> None:
        name = type(model).__name__
        self._nli = name.endswith("ForSequenceClassification")
        if self._nli:
            label2id = getattr(model.config, "label2id", None) or {}
            if not any(str(label).lower().startswith("entail") for label in label2id):
                raise ValueError(
                    f"zero-shot-classification with {name} needs an NLI model: config.label2id must have an "
                    f"'entailment' label, got {sorted(label2id)}. Use an NLI checkpoint (e.g. facebook/bart-large-mnli) "
                    "or a sentence-embedding model (e.g. sentence-transformers/all-MiniLM-L6-v2)."
                )
        elif not name.endswith("Model") or "For" in name:
            raise TypeError(f"zero-shot-classification needs an NLI …ForSequenceClassification model or a "
                            f"sentence-embedding base model, got {name}")
        # The cosine -> probability mapping of the sentence-embedding path (one label, or multi_label=True).
        self.similarity_calibration = EMBEDDING_CALIBRATION
        super().__init__(model, tokenizer, **kwargs)

    @property
    def entailment_id(self) -> int:
        for label, index in self.model.config.label2id.items():
            if str(label).lower().startswith("entail"):
                return int(index)
        return -1

    def _sanitize_parameters(self, candidate_labels: Any = None, hypothesis_template: str | None = None,
                             multi_label: bool | None = None, multi_class: bool | None = None) -> tuple[dict, dict, dict]:
        if multi_class is not None:
            logger.warning("The `multi_class` argument has been deprecated and renamed to `multi_label`.")
            multi_label = multi_class
        pre: dict[str, Any] = {}
        if candidate_labels is not None:
            if isinstance(candidate_labels, str):
                candidate_labels = [label.strip() for label in candidate_labels.split(",") if label.strip()]
            if not isinstance(candidate_labels, (list, tuple)) or not all(isinstance(x, str) for x in candidate_labels):
                raise TypeError("candidate_labels must be a str (comma-separated) or a list of str")
            pre["candidate_labels"] = list(candidate_labels)
        if hypothesis_template is not None:
            if not isinstance(hypothesis_template, str):
                raise TypeError("hypothesis_template must be a str with a {} where the label goes")
            pre["hypothesis_template"] = hypothesis_template
        post = {"multi_label": bool(multi_label)} if multi_label is not None else {}
        return pre, {}, post

    def __call__(self, sequences: Any, *args: Any, **params: Any) -> Any:
        if len(args) == 1 and "candidate_labels" not in params:
            params["candidate_labels"] = args[0]
        elif args:
            raise ValueError(f"Unable to understand extra arguments {args}")
        return super().__call__(sequences, **params)

    # ---- the three steps ----------------------------------------------------------------
    def preprocess(self, text: Any, candidate_labels: list[str] | None = None,
                   hypothesis_template: str = "This example is {}.") -> list[dict]:
        if candidate_labels is None:
            raise ValueError("zero-shot-classification needs candidate_labels=[...] (or a comma-separated string)")
        if not isinstance(text, str):
            raise TypeError(f"zero-shot-classification takes a str or a list of str, got {type(text).__name__}")
        if len(candidate_labels) == 0 or len(text) == 0:
            raise ValueError("You must include at least one label and at least one sequence.")
        if hypothesis_template.format(candidate_labels[0]) == hypothesis_template:
            raise ValueError(
                f'The provided hypothesis_template "{hypothesis_template}" was not able to be formatted with the '
                "target labels. Make sure the passed template includes formatting syntax such as {} where the "
                "label should go."
            )
        hypotheses = [hypothesis_template.format(label) for label in candidate_labels]
        meta = {"_text": text, "_labels": candidate_labels}
        # max_length explicitly: a tokenizer with no model_max_length would not truncate at all.
        limit = self._max_tokens()
        if not self._nli:  # row 0: the text; rows 1..n: the hypotheses
            return [{**self.tokenizer(t, truncation=True, max_length=limit), **meta} for t in [text, *hypotheses]]
        rows = []
        for hypothesis in hypotheses:
            try:
                enc = self.tokenizer(text, hypothesis, truncation="only_first", max_length=limit)
            except ValueError:  # the hypothesis alone is too long to truncate the text for: as the reference
                enc = self.tokenizer(text, hypothesis)
            rows.append({**enc, **meta})
        return rows

    def _too_long_advice(self) -> str:
        return ("The text is truncated to fit, but a hypothesis is not: shorten the candidate label or the "
                "hypothesis_template.")

    def _forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        if self._nli:
            return {"logits": self.model(**batch).logits.float()}  # (B, num_labels)
        hidden = self.model(**batch).last_hidden_state.float()  # (B, T, H)
        mask = batch["attention_mask"].unsqueeze(-1).float()  # (B, T, 1)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)  # (B, H)
        return {"embedding": torch.nn.functional.normalize(pooled, dim=-1)}

    def postprocess(self, rows: list[dict], multi_label: bool = False) -> dict:
        labels = rows[0]["_labels"]
        if self._nli:
            logits = torch.stack([row["logits"] for row in rows])  # (n, num_labels)
            entail = self.entailment_id
            if multi_label or len(labels) == 1:
                contradiction = -1 if entail == 0 else 0
                scores = logits[:, [contradiction, entail]].softmax(-1)[:, 1]
            else:
                scores = logits[:, entail].softmax(-1)
        else:
            text = rows[0]["embedding"]  # (H,)
            cosine = torch.stack([row["embedding"] for row in rows[1:]]) @ text  # (n,)
            if multi_label or len(labels) == 1:  # each label on its own
                scores = label_probability(cosine, self.similarity_calibration)
            else:
                scores = calibrated_logits(cosine, self.similarity_calibration).softmax(-1)
        order = torch.argsort(scores, stable=True).tolist()[::-1]
        return {"sequence": rows[0]["_text"], "labels": [labels[i] for i in order],
                "scores": [scores[i].item() for i in order]}
