"""GenerationConfig: every key of the reference's (transformers 4.57.6), with its defaults, validated once.

:meth:`GenerationConfig.validate` is the one place where generation settings are checked; ``generate()``
and the generation pipelines call it before any work. It raises

- ``ValueError`` naming the setting for a value the reference refuses (``top_k=-1`` or ``top_p=-0.5`` with
  ``do_sample=True``, ``temperature=0``, ``num_return_sequences`` over ``num_beams``, ...), following the
  reference's rules (``GenerationConfig.validate`` and the logits warpers' constructors). Where the
  reference silently ignores a value that makes no sense we refuse it too, and say so here:
  ``top_p`` / ``typical_p`` above 1, ``epsilon_cutoff`` / ``eta_cutoff`` outside [0, 1) (a cutoff of 1 or
  more would drop every token but the best: greedy in disguise), a negative ``no_repeat_ngram_size``,
  ``min_length`` or ``min_new_tokens``. Sampling settings are checked only with ``do_sample=True``, as the
  reference: a greedy run never uses them. Unlike the reference, whole numbers are accepted for float
  settings (``temperature=2``, ``repetition_penalty=2``), which it refuses for their type alone.
- ``NotImplementedError`` naming the setting when a key we do not implement (contrastive search, group
  beam search, constraints, assisted decoding, watermarking, ...) is set away from its default, so that
  nothing is silently ignored. At their defaults these keys load, save and generate fine.

Implemented beyond the decoding basics: ``max_time`` (stop after that many seconds, as the reference's
``MaxTimeCriteria``), ``remove_invalid_values``, ``renormalize_logits``; ``use_cache``, ``disable_compile``
and ``cache_implementation`` "static"/"dynamic" change nothing in the answers (generate() always decodes
over a pre-allocated cache and never compiles).
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any, ClassVar

from ..configuration import pop_hub_kwargs
from ..hub import resolve_model_dir

GENERATION_CONFIG_NAME = "generation_config.json"

# Keys of the reference's GenerationConfig that minformers does not implement -> what they are for.
# Setting one away from its default raises NotImplementedError (see _unsupported).
UNSUPPORTED = {
    "cache_config": "cache configuration", "return_legacy_cache": "legacy cache format of the returned cache",
    "prefill_chunk_size": "chunked prefill", "encoder_repetition_penalty": "encoder repetition penalty",
    "exponential_decay_length_penalty": "exponential decay length penalty", "sequence_bias": "sequence bias",
    "token_healing": "token healing", "guidance_scale": "classifier-free guidance",
    "watermarking_config": "watermarking", "output_attentions": "returning attentions",
    "output_hidden_states": "returning hidden states", "encoder_no_repeat_ngram_size": "encoder n-gram blocking",
    "is_assistant": "assisted decoding", "num_assistant_tokens": "assisted decoding",
    "num_assistant_tokens_schedule": "assisted decoding", "assistant_confidence_threshold": "assisted decoding",
    "prompt_lookup_num_tokens": "prompt lookup decoding", "max_matching_ngram_size": "prompt lookup decoding",
    "assistant_early_exit": "self-speculative decoding", "assistant_lookbehind": "assisted decoding",
    "target_lookbehind": "assisted decoding", "compile_config": "torch.compile of the decoding step",
    "low_memory": "contrastive search", "penalty_alpha": "contrastive search", "dola_layers": "DoLa decoding",
    "diversity_penalty": "group (diverse) beam search", "num_beam_groups": "group (diverse) beam search",
    "constraints": "constrained beam search", "force_words_ids": "constrained beam search",
}
# values of unsupported keys that mean "off" besides the default
_ALSO_OFF = {"guidance_scale": (1, 1.0), "low_memory": (False,), "token_healing": (False,)}


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


class GenerationConfig:
    """Generation parameters with the reference's defaults; keys are generation_config.json keys.

    Unknown keys are kept (and saved), like PretrainedConfig.
    """

    _defaults: ClassVar[dict[str, Any]] = {
        # length and stopping
        "max_length": 20, "max_new_tokens": None, "min_length": 0, "min_new_tokens": None, "early_stopping": False,
        "max_time": None, "stop_strings": None,
        # strategy and cache
        "do_sample": False, "num_beams": 1, "use_cache": True, "cache_implementation": None, "cache_config": None,
        "return_legacy_cache": None, "prefill_chunk_size": None,
        # logits processing
        "temperature": 1.0, "top_k": 50, "top_p": 1.0, "min_p": None, "typical_p": 1.0, "epsilon_cutoff": 0.0,
        "eta_cutoff": 0.0, "repetition_penalty": 1.0, "encoder_repetition_penalty": 1.0, "length_penalty": 1.0,
        "no_repeat_ngram_size": 0, "bad_words_ids": None, "renormalize_logits": False, "forced_bos_token_id": None,
        "forced_eos_token_id": None, "remove_invalid_values": False, "exponential_decay_length_penalty": None,
        "suppress_tokens": None, "begin_suppress_tokens": None, "sequence_bias": None, "token_healing": False,
        "guidance_scale": None, "watermarking_config": None,
        # outputs
        "num_return_sequences": 1, "output_attentions": False, "output_hidden_states": False, "output_scores": False,
        "output_logits": None, "return_dict_in_generate": False,
        # special tokens
        "pad_token_id": None, "bos_token_id": None, "eos_token_id": None, "encoder_no_repeat_ngram_size": 0,
        "decoder_start_token_id": None,
        # assisted decoding, compilation, other strategies (not implemented: see UNSUPPORTED)
        "is_assistant": False, "num_assistant_tokens": 20, "num_assistant_tokens_schedule": "constant",
        "assistant_confidence_threshold": 0.4, "prompt_lookup_num_tokens": None, "max_matching_ngram_size": None,
        "assistant_early_exit": None, "assistant_lookbehind": 10, "target_lookbehind": 10, "compile_config": None,
        "disable_compile": False, "low_memory": None, "penalty_alpha": None, "dola_layers": None,
        "diversity_penalty": 0.0, "num_beam_groups": 1, "constraints": None, "force_words_ids": None,
    }
    # token ids and legacy generation settings a model's config.json may carry (not its output_* flags,
    # which configure the model's forward)
    _from_model_keys: ClassVar[tuple[str, ...]] = (
        "max_length", "max_new_tokens", "min_length", "min_new_tokens", "early_stopping", "do_sample", "num_beams",
        "temperature", "top_k", "top_p", "typical_p", "repetition_penalty", "length_penalty", "no_repeat_ngram_size",
        "bad_words_ids", "num_return_sequences", "pad_token_id", "bos_token_id", "eos_token_id",
        "decoder_start_token_id", "forced_bos_token_id", "forced_eos_token_id", "suppress_tokens",
        "begin_suppress_tokens")

    def __init__(self, **kwargs: Any) -> None:
        for k, v in self._defaults.items():
            setattr(self, k, copy.deepcopy(v))
        for meta in ("transformers_version", "_from_model_config", "_commit_hash", "_original_object_hash"):
            kwargs.pop(meta, None)
        for k, v in kwargs.items():
            setattr(self, k, v)

    def update(self, **kwargs: Any) -> dict[str, Any]:
        """Set the known keys; return the others."""
        unused = {}
        for k, v in kwargs.items():
            if k in self._defaults or hasattr(self, k):
                setattr(self, k, v)
            else:
                unused[k] = v
        return unused

    # ---- the one validation ---------------------------------------------------------------------------
    def validate(self) -> None:
        """Raise ValueError (bad value) or NotImplementedError (unsupported key set), naming the setting."""
        self._unsupported()
        self._lengths()
        self._search()
        if self.do_sample:
            self._sampling()
        self._processors()

    def _unsupported(self) -> None:
        on = [k for k, what in UNSUPPORTED.items()
              if getattr(self, k, None) != self._defaults[k] and getattr(self, k, None) not in _ALSO_OFF.get(k, ())]
        if self.cache_implementation not in (None, "static", "dynamic"):
            on.append("cache_implementation")
        if on:
            what = ", ".join(f"{k}={getattr(self, k)!r} ({UNSUPPORTED.get(k, 'a cache other than static/dynamic')})"
                             for k in on)
            raise NotImplementedError(f"minformers' generate() does not implement {what}; leave "
                                      f"{'it' if len(on) == 1 else 'them'} at the default "
                                      f"({', '.join(f'{k}={self._defaults[k]!r}' for k in on)}).")

    def _lengths(self) -> None:
        if self.max_new_tokens is not None and (not _is_int(self.max_new_tokens) or self.max_new_tokens <= 0):
            raise ValueError(f"`max_new_tokens` must be greater than 0, but is {self.max_new_tokens!r}.")
        if self.max_length is not None and (not _is_int(self.max_length) or self.max_length < 1):
            raise ValueError(f"`max_length` must be a positive integer, but is {self.max_length!r}.")
        for name in ("min_length", "min_new_tokens"):
            value = getattr(self, name)
            if value is not None and (not _is_int(value) or value < 0):
                raise ValueError(f"`{name}` has to be a non-negative integer, but is {value!r}")
        if self.max_time is not None and (not _is_number(self.max_time) or not self.max_time > 0):
            raise ValueError(f"`max_time` must be a number of seconds > 0, but is {self.max_time!r}")
        if self.early_stopping not in (True, False, "never"):
            raise ValueError(f"`early_stopping` must be a boolean or 'never', but is {self.early_stopping!r}.")
        strings = [self.stop_strings] if isinstance(self.stop_strings, str) else self.stop_strings
        if strings is not None and (not isinstance(strings, (list, tuple)) or not strings
                                    or not all(isinstance(s, str) and s for s in strings)):
            raise ValueError(f"`stop_strings` must be a non-empty str or list of them, but is {self.stop_strings!r}")

    def _search(self) -> None:
        for name in ("num_beams", "num_return_sequences"):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                raise ValueError(f"`{name}` must be a positive integer, but is {value!r}")
        n, beams = self.num_return_sequences, self.num_beams
        if n > 1 and beams == 1 and not self.do_sample:
            raise ValueError(f"num_return_sequences ({n}) has to be smaller or equal to num_beams ({beams}): greedy "
                             "search returns one sequence per input; set do_sample=True or num_beams >= "
                             "num_return_sequences")
        if n > beams > 1:
            raise ValueError(f"num_return_sequences ({n}) has to be smaller or equal to num_beams ({beams}): beam "
                             f"search returns at most num_beams sequences per input")
        if self.length_penalty is not None and not _is_number(self.length_penalty):
            raise ValueError(f"`length_penalty` must be a number, but is {self.length_penalty!r}")

    def _sampling(self) -> None:
        t = self.temperature
        if t is not None and t != 1.0 and (not _is_number(t) or not t > 0):
            hint = " If you're looking for greedy decoding, set do_sample=False." if t == 0 else ""
            raise ValueError(f"`temperature` (={t!r}) has to be a strictly positive float, otherwise your next token "
                             f"scores will be invalid.{hint}")
        if self.top_k is not None and self.top_k != 0 and (not _is_int(self.top_k) or self.top_k < 0):
            raise ValueError(f"`top_k` has to be a strictly positive integer (0 or None: no top-k), but is "
                             f"{self.top_k!r}")
        bounds = {"top_p": (0.0, 1.0, True), "min_p": (0.0, 1.0, True), "typical_p": (0.0, 1.0, False),
                  "epsilon_cutoff": (0.0, 1.0, True), "eta_cutoff": (0.0, 1.0, True)}
        for name, (low, high, low_ok) in bounds.items():
            value = getattr(self, name)
            if value is None:
                continue
            high_ok = name in ("top_p", "min_p", "typical_p")
            inside = _is_number(value) and (low <= value if low_ok else low < value) and \
                (value <= high if high_ok else value < high)
            if not inside:
                interval = f"{'[' if low_ok else '('}{low:g}, {high:g}{']' if high_ok else ')'}"
                raise ValueError(f"`{name}` has to be a float in {interval}, but is {value!r}")

    def _processors(self) -> None:
        p = self.repetition_penalty
        if p is not None and p != 1.0 and (not _is_number(p) or not p > 0):
            raise ValueError(f"`repetition_penalty` has to be a strictly positive float, but is {p!r}")
        if self.no_repeat_ngram_size is not None and (not _is_int(self.no_repeat_ngram_size)
                                                      or self.no_repeat_ngram_size < 0):
            raise ValueError(f"`no_repeat_ngram_size` has to be a non-negative integer, but is "
                             f"{self.no_repeat_ngram_size!r}")
        words = self.bad_words_ids
        if words is not None and (not isinstance(words, list) or not words or any(
                not isinstance(w, list) or not w or not all(_is_int(t) and t >= 0 for t in w) for w in words)):
            raise ValueError(f"`bad_words_ids` has to be a non-empty list of non-empty lists of token ids, but is "
                             f"{words!r}")
        for name in ("suppress_tokens", "begin_suppress_tokens"):
            ids = getattr(self, name)
            if ids is not None and (not isinstance(ids, (list, tuple)) or not all(_is_int(t) for t in ids)):
                raise ValueError(f"`{name}` has to be a list of token ids, but is {ids!r}")
        for name in ("remove_invalid_values", "renormalize_logits"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"`{name}` must be True or False, but is {getattr(self, name)!r}")

    # ---- serialisation ----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return copy.deepcopy(self.__dict__)

    def to_diff_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.to_dict().items() if k not in self._defaults or self._defaults[k] != v}

    @classmethod
    def from_model_config(cls, config: Any) -> GenerationConfig:
        """The token ids (and any generation settings) a model's config.json holds."""
        values = {k: getattr(config, k) for k in cls._from_model_keys if getattr(config, k, None) is not None}
        return cls(**values)

    @classmethod
    def from_pretrained(cls, folder: str | os.PathLike, config_file_name: str = GENERATION_CONFIG_NAME,
                        **kwargs: Any) -> GenerationConfig:
        hub_kwargs = pop_hub_kwargs(kwargs)  # revision, cache_dir, token, … as for every other file
        path = Path(resolve_model_dir(os.fspath(folder), filenames=[config_file_name], **hub_kwargs)) / config_file_name
        if not path.is_file():
            raise OSError(f"{path.parent} does not contain a file named {config_file_name}")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as e:
            raise OSError(f"{path} is not a valid JSON file: {e}") from e
        data.update(kwargs)
        return cls(**data)

    def save_pretrained(self, save_directory: str | os.PathLike, config_file_name: str = GENERATION_CONFIG_NAME) -> None:
        folder = Path(save_directory)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / config_file_name).write_text(json.dumps(self.to_diff_dict(), indent=2, sort_keys=True) + "\n",
                                               encoding="utf-8")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GenerationConfig) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"GenerationConfig {json.dumps(self.to_diff_dict(), indent=2, sort_keys=True)}"


def load_generation_config(folder: Path, model_config: Any) -> GenerationConfig:
    """generation_config.json if the folder has one, else what the model config says (as the reference)."""
    if (Path(folder) / GENERATION_CONFIG_NAME).is_file():
        return GenerationConfig.from_pretrained(folder)
    return GenerationConfig.from_model_config(model_config)
