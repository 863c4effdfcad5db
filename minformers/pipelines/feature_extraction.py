"""feature-extraction: text -> hidden states, one vector per token (or, beyond the reference, per text).

As the reference: the answer for one text is the model's first output as a
nested list of shape [1, tokens, hidden] (``return_tensors=True``: a tensor).
Beyond the reference, ``pooling="mean"`` or ``"cls"`` gives one sentence
embedding [1, hidden] per text and ``normalize=True`` scales it to unit length
(what sentence-transformers does for all-MiniLM-L6-v2: mean pooling + L2).
"""

from __future__ import annotations

from typing import Any

import torch

from .base import Pipeline

_POOLINGS = ("mean", "cls")


class FeatureExtractionPipeline(Pipeline):
    task = "feature-extraction"
    auto_batch_size = 16  # see Pipeline.auto_batch_size
    sequence_outputs = ("features", "attention_mask")

    def _sanitize_parameters(self, truncation: Any = None, tokenize_kwargs: dict | None = None,
                             return_tensors: Any = None, pooling: str | None = None,
                             normalize: bool | None = None) -> tuple[dict, dict, dict]:
        pre = dict(tokenize_kwargs or {})
        if truncation is not None:
            if "truncation" in pre:
                raise ValueError("truncation is given twice: as a keyword argument and in tokenize_kwargs")
            pre["truncation"] = truncation
        post: dict[str, Any] = {}
        if return_tensors is not None:
            post["return_tensors"] = return_tensors
        if pooling is not None:
            if pooling not in _POOLINGS:
                raise ValueError(f"pooling must be one of {', '.join(_POOLINGS)} (or None for token vectors), "
                                 f"got {pooling!r}")
            post["pooling"] = pooling
        if normalize is not None:
            post["normalize"] = bool(normalize)
        return pre, {}, post

    def _too_long_advice(self) -> str:
        return (f"Pass truncation=True to the pipeline call (it keeps the first {self._max_tokens()} tokens), "
                "or shorten the text.")

    def preprocess(self, item: Any, **tokenize_kwargs: Any) -> dict[str, Any]:
        if not isinstance(item, str):
            raise TypeError(f"feature-extraction takes a str or a list of str, got {type(item).__name__}")
        return dict(self.tokenizer(item, **self._with_max_length(tokenize_kwargs)))

    def _forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        features = self.model(**batch)[0]  # (B, T, H): logits or last_hidden_state, as the reference
        return {"features": features, "attention_mask": batch["attention_mask"]}

    def postprocess(self, outputs: dict, return_tensors: bool = False, pooling: str | None = None,
                    normalize: bool = False) -> Any:
        features = outputs["features"]  # (T, H), trimmed to this text's tokens
        if pooling == "mean":
            mask = outputs["attention_mask"].to(features.dtype).unsqueeze(-1)  # (T, 1)
            features = (features * mask).sum(0) / mask.sum(0).clamp(min=1e-9)  # (H,)
        elif pooling == "cls":
            features = features[0]  # (H,)
        if normalize:
            features = torch.nn.functional.normalize(features, p=2, dim=-1)
        features = features.unsqueeze(0)  # (1, T, H) or (1, H)
        if return_tensors:
            return features.clone()
        return features.tolist()
