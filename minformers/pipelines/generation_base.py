"""What the generation pipelines share (text-generation and the text2text family): one GenerationConfig.

The settings have one owner at each door, and are only read below it:

- at construction, :func:`pipeline_generation_config` resolves the pipeline's own ``generation_config`` once,
  with the reference's priority (arguments given to ``pipeline()`` > ``config.task_specific_params[task]`` >
  the model's generation config > the pipeline's defaults);
- at a call, :meth:`GenerationPipeline._merged_params` (the call's door, run once per call before any input is
  read) merges the call's settings into a *copy* of it, applies the length rules (a call's ``max_length``
  without ``max_new_tokens``; a prefix's tokens on top of ``max_length``), and validates the result with
  ``GenerationConfig.validate``, the one place settings are checked;
- ``preprocess`` and ``_forward`` read that config; ``_forward`` hands it to ``model.generate`` whole, not as
  loose keyword arguments.
"""

from __future__ import annotations

import copy
from typing import Any

import torch

from ..generation import GenerationConfig
from .base import Pipeline

# What generate() takes besides GenerationConfig keys, accepted as call parameters.
GENERATE_EXTRAS = ("streamer", "generation_config")


def generate_param_names() -> tuple[str, ...]:
    return tuple(GenerationConfig._defaults) + GENERATE_EXTRAS


def pipeline_generation_config(model: Any, pad_token_id: int | None, task: str, defaults: dict, params: dict
                               ) -> tuple[GenerationConfig, str | None, dict]:
    """The pipeline's own generation config, prefix, and the construction parameters left over.

    Follows the reference (transformers 4.57 ``Pipeline.__init__``): the pipeline's defaults, overridden
    by every value the model's generation config sets away from the global default; then the
    GenerationConfig keys given to ``pipeline()``; then ``config.task_specific_params[task]`` (its
    ``prefix`` is the pipeline's prefix); the pipeline's pad token when none is set.
    """
    if not callable(getattr(model, "generate", None)):
        raise ValueError(f"the model {type(model).__name__} cannot generate text: the {task!r} pipeline needs a "
                         "model with a language-modelling head (e.g. AutoModelForCausalLM / AutoModelForSeq2SeqLM)")
    glob = GenerationConfig._defaults
    cfg = GenerationConfig(**defaults)
    for key, value in model.generation_config.to_dict().items():
        if key.startswith("_") or key == "transformers_version":
            continue
        if getattr(cfg, key, None) == glob.get(key) and value != glob.get(key):
            setattr(cfg, key, copy.deepcopy(value))
    if cfg.temperature == 0.0:
        cfg.do_sample = False
    given = {k: params.pop(k) for k in list(params) if k in glob}
    rest = cfg.update(**given)
    assert not rest
    if given.get("max_length") is not None and "max_new_tokens" not in given:
        cfg.max_new_tokens = None  # the caller's total length wins over the pipeline's default max_new_tokens
    if defaults.get("max_new_tokens") is not None and cfg.max_new_tokens == defaults["max_new_tokens"] \
            and cfg.max_length is not None and cfg.max_length != glob["max_length"]:
        cfg.max_new_tokens = None  # a model's own max_length wins over the pipeline's default
    prefix = getattr(model.config, "prefix", None)
    task_params = getattr(model.config, "task_specific_params", None) or {}
    if task in task_params:
        this = dict(task_params[task])
        if "prefix" in this:
            prefix = this.pop("prefix")
        cfg.update(**this)
    if pad_token_id is not None and cfg.pad_token_id is None:
        cfg.pad_token_id = pad_token_id
    return cfg, prefix, params


def check_generate_settings(owner: str, cfg: GenerationConfig, kwargs: dict, streamer: Any = None
                            ) -> GenerationConfig:
    """A copy of `cfg` with the call's settings merged in, validated by GenerationConfig.validate (the one place
    generation settings are checked) before any work; the error names the pipeline and the setting."""
    merged = copy.deepcopy(cfg)
    merged.update(**{k: v for k, v in kwargs.items() if k in GenerationConfig._defaults})
    try:
        merged.validate()
    except ValueError as e:
        raise ValueError(f"{owner}: {e}") from None
    except NotImplementedError as e:
        raise NotImplementedError(f"{owner}: {e}") from None
    if streamer is not None and merged.num_beams > 1:
        raise ValueError(f"{owner}: a streamer cannot be used with beam search (num_beams > 1)")
    return merged


class GenerationPipeline(Pipeline):
    """A pipeline whose ``_forward`` is ``model.generate``: it owns one GenerationConfig (see the module doc).

    Subclasses set ``_default_generation`` and put the call's generate settings (GenerationConfig keys,
    ``streamer``, ``generation_config``, and ``prefix_length`` for a prefix the model sees) in the forward
    group of ``_sanitize_parameters``; ``_forward`` receives ``generation_config`` (validated), ``streamer`` and
    ``asked_max_length`` and calls :meth:`_generate`.
    """

    _default_generation: dict = {}

    def __init__(self, model: Any, tokenizer: Any = None, *, task: str = "", **params: Any) -> None:
        task = task or self.task
        self.tokenizer = tokenizer  # _pad_token_id reads it; _sanitize_parameters (prefix, stop_sequence) too
        self.generation_config, self.prefix, params = pipeline_generation_config(
            model, self._pad_token_id(), task, self._default_generation, params)
        super().__init__(model, tokenizer, task=task, **params)
        self._generation_call(self._forward_params)  # construction settings are refused here, not at a call

    def _merged_params(self, params: dict) -> tuple[dict, dict, dict]:
        """The call's door: its generate settings become one validated GenerationConfig, once per call."""
        pre, generate_kwargs, post = super()._merged_params(params)
        cfg, forward = self._generation_call(generate_kwargs)
        return self._preprocess_lengths(pre, cfg), forward, post

    def _preprocess_lengths(self, pre: dict, cfg: GenerationConfig) -> dict:
        """Preprocess parameters that need the call's lengths (text-generation's 'hole'); none by default."""
        return pre

    def _generation_call(self, generate_kwargs: dict) -> tuple[GenerationConfig, dict]:
        """(the call's config before the prefix rule, for preprocess; the ``_forward`` parameters)."""
        kwargs = dict(generate_kwargs)
        streamer = kwargs.pop("streamer", None)
        prefix_length = kwargs.pop("prefix_length", 0)
        base = kwargs.pop("generation_config") if "generation_config" in kwargs else self.generation_config
        base = base if base is not None else self.model.generation_config
        if kwargs.get("max_length") is not None and "max_new_tokens" not in kwargs:
            # A call's max_length without max_new_tokens wins over the pipeline's default max_new_tokens=256.
            # max_length is the total length (the prompt included for a decoder-only model, the decoder's start
            # token for an encoder-decoder), which is what the course tells the reader it does. The reference
            # lets its default max_new_tokens win, with only a warning: that answer is not what was asked for.
            # When both are given, generate() warns and max_new_tokens wins (as the reference).
            kwargs["max_new_tokens"] = None
        cfg = check_generate_settings(type(self).__name__, base, kwargs, streamer)
        # generate() counts a max_length left at its default of 20 from the prompt: say when one was asked for
        asked_max_length = kwargs.get("max_length") is not None
        call = cfg
        if prefix_length > 0:  # the reference gives the prefix's tokens on top of max_length
            call = copy.copy(cfg)
            if "max_new_tokens" not in kwargs and cfg.max_new_tokens is None:
                call.max_length = (kwargs.get("max_length") or base.max_length) + prefix_length
                asked_max_length = True
            if "min_new_tokens" not in kwargs and cfg.min_new_tokens is None and "min_length" in kwargs:
                call.min_length = kwargs["min_length"] + prefix_length
        return cfg, {"generation_config": call, "streamer": streamer, "asked_max_length": asked_max_length}

    def _generate(self, batch: dict[str, torch.Tensor], generation_config: GenerationConfig, streamer: Any,
                  asked_max_length: bool) -> torch.Tensor:
        """``model.generate`` on a padded batch with the call's config; the sequences (B * n, S)."""
        extra: dict[str, Any] = {"max_length": generation_config.max_length} if asked_max_length else {}
        if generation_config.stop_strings is not None:
            extra["tokenizer"] = self.tokenizer
        out = self.model.generate(batch["input_ids"], attention_mask=batch.get("attention_mask"),
                                  generation_config=generation_config, streamer=streamer, **extra)
        return out.sequences if hasattr(out, "sequences") else out
