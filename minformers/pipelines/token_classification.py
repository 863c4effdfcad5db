"""token-classification (alias ner): text -> per-token logits -> softmax -> entities.

Same answers and quirks as transformers' TokenClassificationPipeline (4.57):

- ``aggregation_strategy="none"`` gives one ``{entity, score, index, word, start, end}`` per
  token whose label is not ignored (``ignore_labels``, default ``["O"]``); ``index`` is the
  token's position in its window and ``word`` the raw token (``##yl``).
- ``"simple"`` groups adjacent tokens with the same tag (``B-X`` starts a new group) into
  ``{entity_group, score, word, start, end}``, ``score`` the mean of the tokens' scores;
  ``"first"``, ``"average"`` and ``"max"`` first merge the sub-word tokens of each word
  (taking the first token's label, the averaged scores, or the most confident token's label),
  then group.
- The legacy switches ``grouped_entities`` / ``ignore_subwords`` (removed in transformers 5,
  used by the course) map to simple / first, with a warning, as in 4.57.
- ``stride=N`` splits a text longer than the tokenizer's ``model_max_length`` into
  overlapping windows (one model row each, batched together); entities found in several
  windows are merged by keeping the longest (then the most confident) of overlapping ones.
  The reference's rules hold: ``stride`` needs an aggregation strategy other than "none", and
  must be less than the window (beyond the reference, which checks only ``model_max_length``
  and lets the tokenizer panic, the special tokens are counted: ``stride < window - specials``).
  A tokenizer with no ``model_max_length`` (the "no limit" sentinel) gets windows of the
  model's ``max_position_embeddings`` (the reference crashes in the model there).
  Unlike the reference, which silently truncates, a text that does not fit without a stride
  raises ``ValueError`` naming a ``stride`` and strategy that work when passed as written.
- minformers' own: ``word_from_text=True`` makes a grouped entity's ``word`` the text's own characters
  (``text[start:end]``: "Hugging Face", not the uncased vocabulary's "hugging face"). A model's
  ``config.pipeline_defaults["token-classification"]`` gives construction defaults (the shipped ner
  model: ``aggregation_strategy="first"``, ``word_from_text=True``); explicit arguments win.
- A sub-word is a token whose text differs in length from its span in the sentence when the
  tokenizer has a continuing-sub-word prefix (WordPiece ``##``); otherwise (byte-level BPE) a
  token not preceded by a space.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch

from .base import Pipeline

_STRATEGIES = ("none", "simple", "first", "average", "max")


class TokenClassificationPipeline(Pipeline):
    task = "token-classification"
    auto_batch_size = 16  # see Pipeline.auto_batch_size
    sequence_outputs = ("logits",)

    def __init__(self, model: Any, tokenizer: Any = None, **kwargs: Any) -> None:
        if not type(model).__name__.endswith("ForTokenClassification"):
            raise TypeError(
                f"token-classification needs a model with a token-classification head (…ForTokenClassification), "
                f"got {type(model).__name__}"
            )
        # A checkpoint may carry its own defaults (config.pipeline_defaults["token-classification"]; our shipped
        # ner model: aggregation_strategy="first", word_from_text=True); arguments given here win.
        defaults = (getattr(model.config, "pipeline_defaults", None) or {}).get("token-classification", {})
        super().__init__(model, tokenizer, **{**defaults, **kwargs})

    # ---- parameters ---------------------------------------------------------------------
    def _sanitize_parameters(self, ignore_labels: Any = None, grouped_entities: bool | None = None,
                             ignore_subwords: bool | None = None, aggregation_strategy: Any = None,
                             stride: int | None = None, word_from_text: bool | None = None) -> tuple[dict, dict, dict]:
        pre: dict[str, Any] = {}
        post: dict[str, Any] = {}
        if word_from_text is not None:  # minformers' own: a grouped entity's word is text[start:end]
            if not isinstance(word_from_text, bool):
                raise ValueError(f"word_from_text must be True or False, got {word_from_text!r}")
            post["word_from_text"] = word_from_text
        if grouped_entities is not None or ignore_subwords is not None:
            if grouped_entities and ignore_subwords:
                aggregation_strategy = "first"
            elif grouped_entities and not ignore_subwords:
                aggregation_strategy = "simple"
            else:
                aggregation_strategy = "none"
            for name, value in (("grouped_entities", grouped_entities), ("ignore_subwords", ignore_subwords)):
                if value is not None:
                    warnings.warn(f"`{name}` is deprecated (removed in transformers 5): use "
                                  f'aggregation_strategy="{aggregation_strategy}" instead.', UserWarning, stacklevel=4)
        if aggregation_strategy is not None:
            name = str(getattr(aggregation_strategy, "value", aggregation_strategy)).lower()
            if name not in _STRATEGIES:
                raise ValueError(f"aggregation_strategy must be one of {', '.join(_STRATEGIES)}, "
                                 f"got {aggregation_strategy!r}")
            post["aggregation_strategy"] = aggregation_strategy = name
        if ignore_labels is not None:
            post["ignore_labels"] = list(ignore_labels)
        if stride is not None:
            if isinstance(stride, bool) or not isinstance(stride, int) or stride < 0:
                raise ValueError(f"stride must be a non-negative integer, got {stride!r}")
            if stride > self._max_stride():
                raise ValueError(f"`stride` ({stride}) must be less than the window's {self._window()} text tokens "
                                 f"(model_max_length {self._max_tokens()} minus the special tokens the tokenizer "
                                 f"adds): pass stride={self._max_stride()} or less, e.g. stride={self._stride_hint()}")
            if aggregation_strategy is None:  # the strategy given at construction, if any
                aggregation_strategy = getattr(self, "_postprocess_params", {}).get("aggregation_strategy", "none")
            if aggregation_strategy == "none":
                raise ValueError('`stride` was given to process a long text, but aggregation_strategy="none" '
                                 "cannot merge tokens across windows: pass aggregation_strategy=\"simple\" "
                                 '(or "first", "average", "max") with the stride.')
            pre["stride"] = stride
        return pre, {}, post

    def _window(self) -> int:
        """Text tokens per window: the row minus the special tokens ([CLS], [SEP]) the tokenizer adds."""
        return self._max_tokens() - self.tokenizer.num_special_tokens_to_add(False)

    def _max_stride(self) -> int:
        return self._window() - 1

    def _stride_hint(self) -> int:
        """A stride to advise: a quarter of the window overlaps, the rest moves on."""
        return max(0, min(self._max_stride(), self._window() // 4))

    def __call__(self, inputs: Any, *args: Any, **params: Any) -> Any:
        if isinstance(inputs, (list, tuple)) and not args and len(inputs) == 0:
            raise ValueError("At least one input is required.")
        return super().__call__(list(inputs) if isinstance(inputs, tuple) else inputs, *args, **params)

    # ---- the three steps ----------------------------------------------------------------
    def preprocess(self, text: Any, stride: int | None = None) -> list[dict[str, Any]]:
        if not isinstance(text, str):
            raise TypeError(f"token-classification takes a str or a list of str, got {type(text).__name__}")
        options = {"return_special_tokens_mask": True, "return_offsets_mapping": True}
        if stride is None:
            enc = self.tokenizer(text, **options)
            if len(enc["input_ids"]) > self._max_tokens():
                strategy = self._postprocess_params.get("aggregation_strategy", "none")
                advice = f"stride={self._stride_hint()}" + (', aggregation_strategy="simple"' if strategy == "none"
                                                            else "")
                raise ValueError(
                    f"The text is {len(enc['input_ids'])} tokens long, more than the {self._max_tokens()} the model "
                    f"takes: pass {advice} to read it in overlapping windows (any stride up to {self._max_stride()}; "
                    f"aggregation_strategy \"first\", \"average\" or \"max\" work too)."
                )
            return [{**enc, "_text": text}]
        # max_length explicitly: a tokenizer with no model_max_length would not truncate at all.
        enc = self.tokenizer(text, truncation=True, max_length=self._max_tokens(), stride=stride,
                             return_overflowing_tokens=True, **options)
        keys = [k for k in enc.keys() if k != "overflow_to_sample_mapping"]
        return [{**{k: enc[k][i] for k in keys}, "_text": text} for i in range(len(enc["input_ids"]))]

    def _forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {"logits": self.model(**batch).logits.float()}  # (B, T, num_labels)

    def postprocess(self, rows: list[dict], aggregation_strategy: str = "none",
                    ignore_labels: list[str] | None = None, word_from_text: bool = False) -> list[dict]:
        ignore = ["O"] if ignore_labels is None else ignore_labels
        entities = []
        for row in rows:
            pre_entities = self._gather(row, aggregation_strategy)
            for entity in self._aggregate(pre_entities, aggregation_strategy):
                if word_from_text and "entity_group" in entity:  # the text's own casing and spacing
                    entity["word"] = row["_text"][entity["start"]:entity["end"]]
                if entity.get("entity") not in ignore and entity.get("entity_group") not in ignore:
                    entities.append(entity)
        if len(rows) > 1:
            entities = _merge_overlapping(entities)
        return entities

    # ---- post-processing helpers ----------------------------------------------------------
    def _gather(self, row: dict, strategy: str) -> list[dict]:
        """One dict per non-special token: raw token, score vector, char span, sub-word flag."""
        text = row["_text"]
        scores = torch.softmax(row["logits"], dim=-1)  # (T, num_labels)
        top, best = (t.tolist() for t in scores.max(dim=-1))  # each token's best label and its score, at once
        ids = row["input_ids"]
        tokens = self.tokenizer.convert_ids_to_tokens(ids)
        prefix = getattr(getattr(getattr(self.tokenizer, "backend_tokenizer", None), "model", None),
                         "continuing_subword_prefix", None)
        unk = self.tokenizer.unk_token_id
        out = []
        for idx, (special, (start, end)) in enumerate(zip(row["special_tokens_mask"], row["offset_mapping"])):
            if special:
                continue
            word = tokens[idx]
            word_ref = text[start:end]
            if prefix:
                is_subword = len(word) != len(word_ref)
            else:
                if strategy in ("first", "average", "max"):
                    warnings.warn("Tokenizer does not support real words, using fallback heuristic", UserWarning)
                is_subword = start > 0 and " " not in text[start - 1 : start + 1]
            if ids[idx] == unk:
                word, is_subword = word_ref, False
            out.append({"word": word, "scores": scores[idx], "start": start, "end": end, "index": idx,
                        "is_subword": is_subword, "top": top[idx], "best": best[idx]})
        return out

    def _aggregate(self, pre_entities: list[dict], strategy: str) -> list[dict]:
        id2label = self.model.config.id2label
        if strategy in ("none", "simple"):
            entities = []
            for pre in pre_entities:
                entities.append({"entity": id2label[pre["best"]], "score": pre["top"], "index": pre["index"],
                                 "word": pre["word"], "start": pre["start"], "end": pre["end"]})
            if strategy == "none":
                return entities
        else:
            entities = self._aggregate_words(pre_entities, strategy)
        return self._group(entities)

    def _aggregate_words(self, pre_entities: list[dict], strategy: str) -> list[dict]:
        """Merge each word's sub-word tokens into one entity (first / average / max)."""
        words: list[list[dict]] = []
        for pre in pre_entities:
            if words and pre["is_subword"]:
                words[-1].append(pre)
            else:
                words.append([pre])
        id2label = self.model.config.id2label
        out = []
        for group in words:
            if strategy == "first":
                scores = group[0]["scores"]
            elif strategy == "max":
                scores = max(group, key=lambda p: p["scores"].max().item())["scores"]
            else:  # average
                scores = torch.stack([p["scores"] for p in group]).nanmean(dim=0)
            score, best = scores.max(dim=-1)
            out.append({"entity": id2label[int(best)], "score": score.item(),
                        "word": self.tokenizer.convert_tokens_to_string([p["word"] for p in group]),
                        "start": group[0]["start"], "end": group[-1]["end"]})
        return out

    def _group(self, entities: list[dict]) -> list[dict]:
        """Adjacent entities with the same tag (a B- tag starts a new one) -> one entity_group."""
        groups: list[list[dict]] = []
        for entity in entities:
            if groups:
                bi, tag = _tag(entity["entity"])
                _, last_tag = _tag(groups[-1][-1]["entity"])
                if tag == last_tag and bi != "B":
                    groups[-1].append(entity)
                    continue
            groups.append([entity])
        return [
            {
                "entity_group": group[0]["entity"].split("-", 1)[-1],
                "score": sum(e["score"] for e in group) / len(group),
                "word": self.tokenizer.convert_tokens_to_string([e["word"] for e in group]),
                "start": group[0]["start"],
                "end": group[-1]["end"],
            }
            for group in groups
        ]


def _tag(label: str) -> tuple[str, str]:
    """("B" or "I", tag): labels without a B-/I- prefix count as inside."""
    if label.startswith("B-"):
        return "B", label[2:]
    if label.startswith("I-"):
        return "I", label[2:]
    return "I", label


def _merge_overlapping(entities: list[dict]) -> list[dict]:
    """Entities from overlapping windows: of those that overlap, keep the longest, then the most confident."""
    if not entities:
        return entities
    entities = sorted(entities, key=lambda e: e["start"])
    merged = []
    previous = entities[0]
    for entity in entities:
        if previous["start"] <= entity["start"] < previous["end"]:
            length, previous_length = entity["end"] - entity["start"], previous["end"] - previous["start"]
            if length > previous_length or (length == previous_length and entity["score"] > previous["score"]):
                previous = entity
        else:
            merged.append(previous)
            previous = entity
    merged.append(previous)
    return merged


NerPipeline = TokenClassificationPipeline
