"""text-classification (alias sentiment-analysis): text -> logits -> softmax/sigmoid -> {label, score}.

Same answers and quirks as transformers' TextClassificationPipeline: a single
string without ``top_k`` gives a one-element list; ``top_k=None`` gives every
label sorted by score; the function applied to the logits follows
``config.problem_type`` and ``num_labels`` unless ``function_to_apply`` says.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch

from .base import Pipeline, split_params

_TOKENIZER_PARAMS = ("truncation", "max_length", "padding", "add_special_tokens", "stride", "return_token_type_ids")
_FUNCTIONS = ("softmax", "sigmoid", "none")
_UNSET = object()


class TextClassificationPipeline(Pipeline):
    task = "text-classification"
    auto_batch_size = 16  # see Pipeline.auto_batch_size

    def _sanitize_parameters(
        self, top_k: Any = _UNSET, function_to_apply: Any = None, return_all_scores: Any = None, **params: Any
    ) -> tuple[dict, dict, dict]:
        pre = split_params(type(self).__name__, params, tokenizer=_TOKENIZER_PARAMS,
                           pipeline=("top_k", "function_to_apply", "return_all_scores"))["tokenizer"]
        post: dict[str, Any] = {}
        if top_k is None or (isinstance(top_k, int) and not isinstance(top_k, bool)):
            if isinstance(top_k, int) and top_k < 1:
                raise ValueError(f"top_k must be a positive integer or None (every label), got {top_k}")
            post["top_k"] = top_k
            post["_legacy"] = False
        elif top_k is not _UNSET:
            raise TypeError(f"top_k must be an int or None, got {type(top_k).__name__}")
        elif return_all_scores is not None:
            warnings.warn("`return_all_scores` is deprecated: use top_k=None instead of return_all_scores=True, "
                          "or top_k=1 instead of return_all_scores=False.", UserWarning, stacklevel=3)
            post["top_k"] = None if return_all_scores else 1
        if function_to_apply is not None:
            name = str(getattr(function_to_apply, "value", function_to_apply)).lower()
            if name not in _FUNCTIONS:
                raise ValueError(f"function_to_apply must be one of {', '.join(_FUNCTIONS)}, got {function_to_apply!r}")
            post["function_to_apply"] = name
        return pre, {}, post

    def __call__(self, inputs: Any, *args: Any, **params: Any) -> Any:
        result = super().__call__(inputs, *args, **params)
        # The reference's odd legacy: one string, no top_k in the call -> a list of one answer.
        if isinstance(inputs, str) and not args and "top_k" not in params:
            return [result]
        return result

    def _too_long_advice(self) -> str:
        return (f"Pass truncation=True to the pipeline call (it keeps the first {self._max_tokens()} tokens), "
                "or shorten the text.")

    def preprocess(self, item: Any, **tokenizer_params: Any) -> dict[str, Any]:
        tokenizer_params = self._with_max_length(tokenizer_params)
        if isinstance(item, dict):
            if "text" not in item or set(item) - {"text", "text_pair"}:
                raise ValueError(
                    f"a text-classification input dict must have the keys 'text' and optionally 'text_pair', "
                    f"got {sorted(item)}"
                )
            return dict(self.tokenizer(item["text"], text_pair=item.get("text_pair"), **tokenizer_params))
        if isinstance(item, list) and len(item) == 1 and isinstance(item[0], list) and len(item[0]) == 2:
            # Backward compatibility with the reference: [[text, text_pair]].
            return dict(self.tokenizer(item[0][0], text_pair=item[0][1], **tokenizer_params))
        if isinstance(item, list):
            raise ValueError(
                'The pipeline received invalid inputs: to send a text pair, use a dict {"text": "My text", '
                '"text_pair": "My pair"}.'
            )
        if not isinstance(item, str):
            raise TypeError(f"text-classification takes a str, a {{'text', 'text_pair'}} dict or a list of them, "
                            f"got {type(item).__name__}")
        return dict(self.tokenizer(item, **tokenizer_params))

    def _forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        logits = self.model(**batch).logits.float()  # (B, num_labels)
        return {"logits": logits}

    def postprocess(self, outputs: dict, function_to_apply: str | None = None, top_k: int | None = 1,
                    _legacy: bool = True) -> Any:
        config = self.model.config
        if function_to_apply is None:
            function_to_apply = _default_function(config)
        logits = outputs["logits"]  # (num_labels,)
        if function_to_apply == "softmax":
            scores = torch.softmax(logits, dim=-1)
        elif function_to_apply == "sigmoid":
            scores = torch.sigmoid(logits)
        else:
            scores = logits
        id2label = config.id2label
        if top_k == 1 and _legacy:
            best = int(scores.argmax())
            return {"label": id2label[best], "score": scores[best].item()}
        values = scores.tolist()
        answers = [{"label": id2label[i], "score": s} for i, s in enumerate(values)]
        if not _legacy:
            answers.sort(key=lambda a: a["score"], reverse=True)
            if top_k is not None:
                answers = answers[:top_k]
        return answers


def _default_function(config: Any) -> str:
    problem = getattr(config, "problem_type", None)
    if problem == "regression":
        return "none"
    if problem == "multi_label_classification" or config.num_labels == 1:
        return "sigmoid"
    if problem == "single_label_classification" or config.num_labels > 1:
        return "softmax"
    return getattr(config, "function_to_apply", None) or "none"
