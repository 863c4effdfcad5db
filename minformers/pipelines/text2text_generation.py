"""text2text-generation, summarization, translation: text -> encoder-decoder ``generate`` -> text.

Same answers and quirks as transformers' Text2TextGenerationPipeline family (4.x; the tasks were
removed in 5.x): one text gives ``[{"generated_text" | "summary_text" | "translation_text": ...}]``
(one dict per returned sequence); a list of texts gives one dict per text, or a list of lists when
``num_return_sequences > 1``.

Settings follow the reference's priority: call arguments > arguments given to ``pipeline()`` >
``config.task_specific_params[task]`` (T5's "summarize: " / "translate English to French: " prefixes,
BART-CNN's beam settings) > the model's generation config > the pipeline's defaults
(``max_new_tokens=256, num_beams=4``). ``translation_xx_to_yy`` is a task of its own name, so T5
finds its prefix under ``task_specific_params["translation_en_to_fr"]``; the plain "translation" task
takes the first ``translation_*`` entry of the model's config.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch

from ..generation import GenerationConfig
from .base import split_params
from .generation_base import GenerationPipeline, generate_param_names


class Text2TextGenerationPipeline(GenerationPipeline):
    task = "text2text-generation"
    return_name = "generated"
    _default_generation = dict(max_new_tokens=256, num_beams=4)
    _PIPELINE_PARAMS: tuple[str, ...] = ("return_tensors", "return_text", "return_type",
                                         "clean_up_tokenization_spaces", "truncation", "stop_sequence")

    def __init__(self, model: Any, tokenizer: Any = None, *, task: str = "", **kwargs: Any) -> None:
        task = self._choose_task(model, task or self.task)
        if not getattr(model.config, "is_encoder_decoder", False):
            raise ValueError(f"{type(model).__name__} is a decoder-only model: the {task!r} pipeline needs "
                             "an encoder-decoder model (T5, BART, Marian); use 'text-generation' for this one")
        if tokenizer is None:
            raise ValueError(f"the {task!r} pipeline needs a tokenizer")
        super().__init__(model, tokenizer, task=task, **kwargs)

    def _choose_task(self, model: Any, task: str) -> str:
        return task

    def _sanitize_parameters(self, **params: Any) -> tuple[dict, dict, dict]:
        groups = split_params(type(self).__name__, params, pipeline=self._PIPELINE_PARAMS,
                              generate=generate_param_names())
        p, generate_kwargs = groups["pipeline"], groups["generate"]
        pre = {"truncation": p["truncation"]} if p.get("truncation") is not None else {}
        post: dict[str, Any] = {}
        return_type = p.get("return_type")
        if p.get("return_tensors") is not None and return_type is None:
            return_type = "tensors" if p["return_tensors"] else "text"
        if return_type is not None:
            name = str(getattr(return_type, "name", return_type)).lower()
            if name not in ("text", "tensors"):
                raise ValueError(f"return_type must be 'text' or 'tensors', got {return_type!r}")
            post["return_type"] = name
        if p.get("clean_up_tokenization_spaces") is not None:
            post["clean_up_tokenization_spaces"] = p["clean_up_tokenization_spaces"]
        stop = p.get("stop_sequence")
        if stop is not None:
            ids = self.tokenizer.encode(stop, add_special_tokens=False) if isinstance(stop, str) and stop else []
            if not ids:
                raise ValueError(f"stop_sequence must be a non-empty str, got {stop!r}")
            if len(ids) > 1:
                warnings.warn("Stopping on a multiple token sequence is not yet supported: the first token of the "
                              "stop sequence is used as the stop token (as in the reference).", UserWarning,
                              stacklevel=4)
            generate_kwargs["eos_token_id"] = ids[0]
        return pre, generate_kwargs, post

    def __call__(self, inputs: Any, *args: Any, **params: Any) -> Any:
        """Generate from one text or a list of texts (one dict per text when one sequence each)."""
        result = super().__call__(inputs, *args, **params)
        texts = [inputs, *args] if args else inputs
        if isinstance(texts, list) and all(isinstance(t, str) for t in texts) and all(len(r) == 1 for r in result):
            return [r[0] for r in result]
        return result

    # ---- the three steps ----------------------------------------------------------------------------
    def preprocess(self, text: Any, truncation: Any = None, **lang: Any) -> dict[str, Any]:
        if not isinstance(text, str):
            raise TypeError(f"{self.task} takes a str or a list of str, got {type(text).__name__}")
        kwargs = {"truncation": truncation} if truncation not in (None, False, "do_not_truncate") else {}
        build = getattr(self.tokenizer, "_build_translation_inputs", None)
        if lang and build is not None:  # multilingual tokenizers set the language tokens themselves
            enc = build(text, return_tensors=None, src_lang=lang.get("src_lang"), tgt_lang=lang.get("tgt_lang"),
                        **kwargs)
        else:
            enc = self.tokenizer((self.prefix or "") + text, **kwargs)
        ids = list(enc["input_ids"])
        mask = list(enc["attention_mask"]) if "attention_mask" in enc else [1] * len(ids)
        return {"input_ids": ids, "attention_mask": mask}

    def _forward(self, batch: dict[str, torch.Tensor], generation_config: GenerationConfig, streamer: Any = None,
                 asked_max_length: bool = False) -> dict[str, torch.Tensor]:
        B = batch["input_ids"].shape[0]
        seqs = self._generate(batch, generation_config, streamer, asked_max_length)  # (B * n, S)
        return {"output_ids": seqs.reshape(B, seqs.shape[0] // B, -1)}  # (B, n, S)

    def postprocess(self, outputs: dict, return_type: str = "text", clean_up_tokenization_spaces: bool = False
                    ) -> list[dict]:
        records = []
        for ids in outputs["output_ids"].tolist():
            if return_type == "tensors":
                records.append({f"{self.return_name}_token_ids": ids})
            else:
                text = self.tokenizer.decode(ids, skip_special_tokens=True,
                                             clean_up_tokenization_spaces=clean_up_tokenization_spaces)
                records.append({f"{self.return_name}_text": text})
        return records


class SummarizationPipeline(Text2TextGenerationPipeline):
    """Summarise documents: ``[{"summary_text": ...}]``."""

    task = "summarization"
    return_name = "summary"


class TranslationPipeline(Text2TextGenerationPipeline):
    """Translate: ``[{"translation_text": ...}]``; task "translation_xx_to_yy" or "translation"."""

    task = "translation"
    return_name = "translation"
    _PIPELINE_PARAMS = Text2TextGenerationPipeline._PIPELINE_PARAMS + ("src_lang", "tgt_lang")

    def _choose_task(self, model: Any, task: str) -> str:
        if task == "translation":  # the reference takes the model's first translation_xx_to_yy entry
            for key in getattr(model.config, "task_specific_params", None) or {}:
                if key.startswith("translation"):
                    warnings.warn(f'"translation" task was used, instead of "translation_XX_to_YY", defaulting to '
                                  f'"{key}"', UserWarning, stacklevel=4)
                    return key
        return task

    def _sanitize_parameters(self, src_lang: str | None = None, tgt_lang: str | None = None,
                             **params: Any) -> tuple[dict, dict, dict]:
        pre, fwd, post = super()._sanitize_parameters(**params)
        if src_lang is not None:
            pre["src_lang"] = src_lang
        if tgt_lang is not None:
            pre["tgt_lang"] = tgt_lang
        parts = self.task.split("_")
        if src_lang is None and tgt_lang is None and len(parts) == 4:
            pre["src_lang"], pre["tgt_lang"] = parts[1], parts[3]
        return pre, fwd, post
