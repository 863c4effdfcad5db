"""fill-mask: text with mask token(s) -> logits at each mask -> softmax -> top-k {score, token, token_str, sequence}.

Same answers and quirks as transformers' FillMaskPipeline (4.57): one mask gives a list of
``top_k`` (default 5) proposals, several masks a list of such lists (each mask filled on its
own, the ``sequence`` then keeps the special tokens); ``targets`` restricts the proposals to
those words (a word not in the vocabulary is replaced by its first token, with a warning);
a list of one text gives the answer for that text.
"""

from __future__ import annotations

import logging
from typing import Any

import torch

from ..auto import AutoModelForMaskedLM
from .base import Pipeline

logger = logging.getLogger("minformers.pipelines")


class FillMaskPipeline(Pipeline):
    task = "fill-mask"
    auto_batch_size = 16  # see Pipeline.auto_batch_size

    def __init__(self, model: Any, tokenizer: Any = None, **kwargs: Any) -> None:
        name = type(model).__name__
        if not (name.endswith("ForMaskedLM") or name in AutoModelForMaskedLM._instead.values()):
            raise TypeError(f"fill-mask needs a model with a masked-language-model head (…ForMaskedLM, or "
                            f"{', '.join(AutoModelForMaskedLM._instead.values())}), got {name}")
        if tokenizer is not None and getattr(tokenizer, "mask_token_id", None) is None:
            raise ValueError("fill-mask needs a tokenizer with a mask token; this one does not define `mask_token`.")
        super().__init__(model, tokenizer, **kwargs)

    def _sanitize_parameters(self, top_k: int | None = None, targets: Any = None,
                             tokenizer_kwargs: dict | None = None) -> tuple[dict, dict, dict]:
        pre = {"tokenizer_kwargs": dict(tokenizer_kwargs)} if tokenizer_kwargs is not None else {}
        post: dict[str, Any] = {}
        if targets is not None:
            post["target_ids"] = self._target_ids(targets)
        if top_k is not None:
            if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
                raise ValueError(f"top_k must be a positive integer, got {top_k!r}")
            post["top_k"] = top_k
        return pre, {}, post

    def _target_ids(self, targets: Any) -> list[int]:
        if isinstance(targets, str):
            targets = [targets]
        vocab = self.tokenizer.get_vocab()
        ids = []
        for target in targets:
            id_ = vocab.get(target)
            if id_ is None:
                found = self.tokenizer(target, add_special_tokens=False, return_attention_mask=False,
                                       return_token_type_ids=False, max_length=1, truncation=True)["input_ids"]
                if len(found) == 0:
                    logger.warning(f"The specified target token `{target}` does not exist in the model vocabulary. "
                                   "We cannot replace it with anything meaningful, ignoring it")
                    continue
                id_ = found[0]
                logger.warning(f"The specified target token `{target}` does not exist in the model vocabulary. "
                               f"Replacing with `{self.tokenizer.convert_ids_to_tokens(id_)}`.")
            ids.append(id_)
        ids = sorted(set(ids))
        if not ids:
            raise ValueError("At least one target must be provided when passed.")
        return ids

    def __call__(self, inputs: Any, *args: Any, **params: Any) -> Any:
        outputs = super().__call__(inputs, *args, **params)
        if isinstance(inputs, list) and len(inputs) == 1 and not args:
            return outputs[0]
        return outputs

    def _too_long_advice(self) -> str:
        return (f'Pass tokenizer_kwargs={{"truncation": True}} to the pipeline call (it keeps the first '
                f"{self._max_tokens()} tokens, so the mask must be among them), or shorten the text.")

    def preprocess(self, text: Any, tokenizer_kwargs: dict | None = None) -> dict[str, Any]:
        if not isinstance(text, str):
            raise TypeError(f"fill-mask takes a str or a list of str, got {type(text).__name__}")
        tokenizer_kwargs = self._with_max_length(tokenizer_kwargs or {})
        enc = self.tokenizer(text, **tokenizer_kwargs)
        if self.tokenizer.mask_token_id not in enc["input_ids"]:
            if tokenizer_kwargs.get("truncation") and self.tokenizer.mask_token_id in self.tokenizer(text)["input_ids"]:
                raise ValueError(f"truncation to {tokenizer_kwargs['max_length']} tokens cut off the mask token "
                                 f"({self.tokenizer.mask_token}): shorten the text before the mask.")
            raise ValueError(f"No mask_token ({self.tokenizer.mask_token}) found on the input: {text!r}")
        return dict(enc)

    def _forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        logits = self.model(**batch).logits  # (B, T, V)
        is_mask = batch["input_ids"] == self.tokenizer.mask_token_id  # (B, T)
        # Only the mask rows leave the model: (B, M, V) with M the most masks in a row, zero-filled.
        M = int(is_mask.sum(1).max())
        picked = torch.zeros(logits.shape[0], M, logits.shape[-1], dtype=torch.float32)
        for b in range(logits.shape[0]):
            rows = logits[b, is_mask[b]].float()
            picked[b, : rows.shape[0]] = rows
        return {"mask_logits": picked}

    def postprocess(self, outputs: dict, top_k: int = 5, target_ids: list[int] | None = None) -> Any:
        ids = list(outputs["input_ids"])
        mask_id = self.tokenizer.mask_token_id
        positions = [i for i, t in enumerate(ids) if t == mask_id]
        probs = outputs["mask_logits"][: len(positions)].softmax(dim=-1)  # (M, V)
        if target_ids is not None:
            probs = probs[:, target_ids]
            top_k = min(top_k, len(target_ids))
        values, predictions = probs.topk(top_k, dim=-1)
        single = len(positions) == 1
        pad = self.tokenizer.pad_token_id
        result = []
        for position, row_values, row_predictions in zip(positions, values.tolist(), predictions.tolist()):
            row = []
            for v, p in zip(row_values, row_predictions):
                token = target_ids[p] if target_ids is not None else p
                tokens = list(ids)
                tokens[position] = token
                tokens = [t for t in tokens if t != pad]
                row.append({"score": v, "token": token, "token_str": self.tokenizer.decode([token]),
                            "sequence": self.tokenizer.decode(tokens, skip_special_tokens=single)})
            result.append(row)
        return result[0] if single else result
