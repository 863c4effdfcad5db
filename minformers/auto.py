"""Auto classes: config.json's ``model_type`` -> ``minformers.models.<model_type>`` -> ``{Arch}{Suffix}``.

A naming convention, not giant tables (DESIGN rule 4): the only table is the
model_type -> class-prefix map in :mod:`minformers.models`. This module does not import torch.

Each ``from_pretrained`` here resolves the name once (:func:`minformers.checkpoint.resolve_checkpoint`)
and hands the :class:`~minformers.checkpoint.Checkpoint` on: the config and the model class read it,
and nothing resolves the name again.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from .checkpoint import CONFIG_NAME, Checkpoint, resolve_checkpoint
from .configuration import PretrainedConfig, pop_hub_kwargs
from .models import ARCH_PREFIX


def _arch_module(model_type: str | None, source: str) -> tuple[Any, str]:
    if model_type not in ARCH_PREFIX:
        raise ValueError(
            f"Unrecognized model_type {model_type!r} in {source}. minformers supports: "
            f"{', '.join(sorted(ARCH_PREFIX))}."
        )
    module = model_type.replace("-", "_")  # "xlm-roberta" lives in models/xlm_roberta.py
    return importlib.import_module(f".models.{module}", __package__), ARCH_PREFIX[model_type]


def _model_type_of(config_dict: dict[str, Any]) -> str | None:
    """model_type from config.json; old configs without it: guess from "architectures" (e.g. BertForMaskedLM)."""
    if config_dict.get("model_type"):
        return config_dict["model_type"]
    for arch in config_dict.get("architectures") or []:
        for model_type, prefix in sorted(ARCH_PREFIX.items(), key=lambda kv: -len(kv[1])):
            if arch.startswith(prefix):
                return model_type
    return None


class AutoConfig:
    """``AutoConfig.from_pretrained(name)`` -> the right ``{Arch}Config`` for config.json's model_type."""

    def __init__(self) -> None:
        raise OSError("AutoConfig is not meant to be instantiated: use AutoConfig.from_pretrained(name)")

    @classmethod
    def for_model(cls, model_type: str, *args: Any, **kwargs: Any) -> PretrainedConfig:
        module, prefix = _arch_module(model_type, "AutoConfig.for_model")
        return getattr(module, f"{prefix}Config")(*args, **kwargs)

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | os.PathLike | Checkpoint, **kwargs: Any) -> Any:
        """Load config.json (or a GGUF file's metadata, with ``gguf_file=``); keyword arguments naming fields
        override it (``return_unused_kwargs`` as reference)."""
        hub = pop_hub_kwargs(kwargs)
        checkpoint = resolve_checkpoint(pretrained_model_name_or_path, gguf_file=kwargs.pop("gguf_file", None),
                                        weights=False, **hub)
        return cls._from_checkpoint(checkpoint, **kwargs)

    @classmethod
    def _from_checkpoint(cls, checkpoint: Checkpoint, **kwargs: Any) -> Any:
        """The config of a resolved checkpoint (``from_pretrained`` after the door)."""
        config_dict = checkpoint.config_dict()
        source = checkpoint.folder / (checkpoint.gguf_file or CONFIG_NAME)
        module, prefix = _arch_module(_model_type_of(config_dict), str(source))
        config_cls = getattr(module, f"{prefix}Config")
        result = config_cls.from_dict(config_dict, **kwargs)
        config = result[0] if isinstance(result, tuple) else result
        config.name_or_path = checkpoint.name
        return result


class AutoTokenizer:
    """Delegates to :class:`minformers.tokenization.tokenizer.PreTrainedTokenizerFast`."""

    def __init__(self) -> None:
        raise OSError("AutoTokenizer is not meant to be instantiated: use AutoTokenizer.from_pretrained(name)")

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | os.PathLike | Checkpoint, *args: Any,
                        **kwargs: Any) -> Any:
        """A name or folder is resolved by the tokenizer; a Checkpoint is its folder (and its GGUF file)."""
        from .tokenization.tokenizer import PreTrainedTokenizerFast  # lazy for speed: AutoConfig/AutoModel skip ~100 ms

        if isinstance(pretrained_model_name_or_path, Checkpoint) and pretrained_model_name_or_path.gguf_file:
            kwargs.setdefault("gguf_file", pretrained_model_name_or_path.gguf_file)
        return PreTrainedTokenizerFast.from_pretrained(pretrained_model_name_or_path, *args, **kwargs)


class _AutoModel:
    """Base of the AutoModel* classes; ``_suffix`` is the class-name suffix, e.g. "ForSequenceClassification"."""

    _suffix = "Model"
    _instead: dict[str, str] = {}  # model_type -> the class that serves the task where {Arch}{suffix} does not exist

    def __init__(self) -> None:
        raise OSError(f"{type(self).__name__} is not meant to be instantiated: use "
                      f"{type(self).__name__}.from_pretrained(name) or .from_config(config)")

    @classmethod
    def _model_class(cls, config: PretrainedConfig) -> type:
        module, prefix = _arch_module(config.model_type, type(config).__name__)
        name = f"{prefix}{cls._suffix}"
        model_cls = getattr(module, name, None) or getattr(module, cls._instead.get(config.model_type, ""), None)
        if model_cls is None:
            raise ValueError(f"{cls.__name__}: model type {config.model_type!r} has no class {name} in minformers")
        return model_cls

    @classmethod
    def from_config(cls, config: PretrainedConfig, **kwargs: Any) -> Any:
        """A randomly initialised model for `config`."""
        return cls._model_class(config)._from_config(config, **kwargs)

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | os.PathLike | Checkpoint, *model_args: Any,
                        config: PretrainedConfig | None = None, **kwargs: Any) -> Any:
        """Resolve the checkpoint once, load its config (unless `config` is given), pick ``{Arch}{Suffix}``
        and load the weights."""
        hub = pop_hub_kwargs(kwargs)
        checkpoint = resolve_checkpoint(pretrained_model_name_or_path, gguf_file=kwargs.pop("gguf_file", None), **hub)
        if not isinstance(config, PretrainedConfig):
            # a config named apart is a checkpoint of its own, resolved here too
            source = checkpoint if config is None else resolve_checkpoint(config, weights=False, **hub)
            config, kwargs = AutoConfig._from_checkpoint(source, return_unused_kwargs=True, **kwargs)
        return cls._model_class(config)._from_checkpoint(checkpoint, *model_args, config=config, **kwargs)


class AutoModel(_AutoModel):
    _suffix = "Model"


class AutoModelForSequenceClassification(_AutoModel):
    _suffix = "ForSequenceClassification"


class AutoModelForTokenClassification(_AutoModel):
    _suffix = "ForTokenClassification"


class AutoModelForQuestionAnswering(_AutoModel):
    _suffix = "ForQuestionAnswering"


class AutoModelForMaskedLM(_AutoModel):
    """Masked language models; BART, pre-trained to fill in masked spans, serves it with its seq2seq head (as
    in the reference)."""

    _suffix = "ForMaskedLM"
    _instead = {"bart": "BartForConditionalGeneration"}


class AutoModelForMultipleChoice(_AutoModel):
    _suffix = "ForMultipleChoice"


class AutoModelForSeq2SeqLM(_AutoModel):
    """Encoder-decoder language models: BART, T5, Marian (whose MarianMTModel is also MarianForConditionalGeneration)."""

    _suffix = "ForConditionalGeneration"


class AutoModelForCausalLM(_AutoModel):
    """Decoder-only language models: ``{Arch}ForCausalLM`` (Llama, RoBERTa, BART's decoder alone), or
    ``{Arch}LMHeadModel`` (GPT-2)."""

    _suffix = "ForCausalLM"

    @classmethod
    def _model_class(cls, config: PretrainedConfig) -> type:
        module, prefix = _arch_module(config.model_type, type(config).__name__)
        for name in (f"{prefix}ForCausalLM", f"{prefix}LMHeadModel"):
            if hasattr(module, name):
                return getattr(module, name)
        raise ValueError(f"{cls.__name__}: model type {config.model_type!r} has no causal LM class in minformers")
