"""``pipeline(task, model=...)``: the one call that goes from text to answer."""

from __future__ import annotations

import importlib
import logging
from typing import Any

from .. import auto
from ..checkpoint import Checkpoint, resolve_checkpoint
from .registry import ALIASES, TASKS, default_model, resolve_task, task_for_architectures

logger = logging.getLogger("minformers.pipelines")

__all__ = ["pipeline", "TASKS", "ALIASES"]


def pipeline(
    task: str | None = None,
    model: Any = None,
    config: Any = None,
    tokenizer: Any = None,
    *,
    revision: str | None = None,
    device: Any = None,
    dtype: Any = None,
    torch_dtype: Any = None,
    batch_size: int | None = None,
    model_kwargs: dict | None = None,
    token: str | bool | None = None,
    trust_remote_code: bool | None = None,
    **params: Any,
) -> Any:
    """Build the pipeline for `task` (or the task `model` was trained for).

    `model`, `config` and `tokenizer` may be names/folders or loaded objects.
    Remaining keyword arguments are the task's parameters (e.g. ``top_k``) and
    become defaults for every call; unknown ones raise ``TypeError``.
    """
    if trust_remote_code:
        raise ValueError("trust_remote_code=True is refused: minformers runs only its own architectures")
    if dtype is not None and torch_dtype is not None:
        raise ValueError("pass dtype or torch_dtype, not both")
    dtype = dtype if dtype is not None else torch_dtype
    if task is None and model is None:
        raise RuntimeError("pipeline() needs a task, a model, or both. Tasks: " + ", ".join(sorted(set(TASKS) | set(ALIASES))))
    hub_kwargs = {k: v for k, v in {"revision": revision, "token": token}.items() if v is not None}
    model_kwargs = dict(model_kwargs or {})
    if isinstance(model, str):  # the name is resolved here, once: below, everything is handed the Checkpoint
        model = resolve_checkpoint(model, gguf_file=model_kwargs.pop("gguf_file", None), packaged_gguf=True,
                                   **hub_kwargs)
    if task is None:
        task = _infer_task(model, config, hub_kwargs)
    name, entry = resolve_task(task)

    if model is None:
        model, default_revision = default_model(name, entry)
        revision = revision or default_revision
        where = f" and revision {revision}" if revision else ""
        logger.warning(
            f"No model was supplied, defaulted to {model}{where}.\n"
            "Using a pipeline without specifying a model name and revision in production is not recommended."
        )
        if isinstance(tokenizer, str) or tokenizer is None:
            tokenizer = tokenizer or model

    hub_kwargs = {k: v for k, v in {"revision": revision, "token": token}.items() if v is not None}
    if isinstance(config, str):
        config = auto.AutoConfig.from_pretrained(config, **hub_kwargs)
    if isinstance(model, (str, Checkpoint)):
        model_name = str(model)
        try:  # the default model's name is resolved here, once (a given one above: returned as it is)
            model = checkpoint = resolve_checkpoint(model, gguf_file=model_kwargs.pop("gguf_file", None),
                                                    packaged_gguf=True, **hub_kwargs)
            auto_class = getattr(auto, _auto_class_name(entry, checkpoint, config, hub_kwargs))
            model = auto_class.from_pretrained(checkpoint, config=config, **model_kwargs)
        except OSError as err:
            if model_name == entry.default_model:
                raise OSError(
                    f"The default model for {name!r} is {model_name}, which is not available offline and could not "
                    f"be fetched ({err}). Pass a local checkpoint instead: pipeline({name!r}, model='path/to/folder')."
                ) from err
            raise
        if tokenizer is None or tokenizer == model_name:  # its tokenizer (a packaged GGUF's too): the same files
            tokenizer = checkpoint
    if tokenizer is None:
        source = getattr(model.config, "_name_or_path", None) or getattr(model.config, "name_or_path", None)
        if not source:
            raise ValueError("a model object was given without a tokenizer: pass tokenizer=... as well")
        tokenizer = source
    if isinstance(tokenizer, (str, Checkpoint)):
        tokenizer = auto.AutoTokenizer.from_pretrained(tokenizer, **hub_kwargs)

    cls = getattr(importlib.import_module(f".{entry.module}", __name__), entry.pipeline_class)
    return cls(model, tokenizer, task=name, batch_size=batch_size, device=device, dtype=dtype, **params)


def _infer_task(model: Any, config: Any, hub_kwargs: dict) -> str:
    if isinstance(model, (str, Checkpoint)):
        config = config if config is not None and not isinstance(config, str) else auto.AutoConfig.from_pretrained(
            config or model, **hub_kwargs)
    else:
        config = model.config
    task = task_for_architectures(getattr(config, "architectures", None))
    if task is None:
        raise RuntimeError(
            f"Could not infer the task from the model's architectures {getattr(config, 'architectures', None)}; "
            "pass the task, e.g. pipeline('text-classification', model=...)"
        )
    return task


def _auto_class_name(entry: Any, model: str, config: Any, hub_kwargs: dict) -> str:
    """The task's Auto class, or its headless fallback when the checkpoint has no such head."""
    if entry.headless_auto_class is None:
        return entry.auto_class
    config = config if config is not None else auto.AutoConfig.from_pretrained(model, **hub_kwargs)
    suffix = entry.auto_class.removeprefix("AutoModel")
    if any(arch.endswith(suffix) for arch in getattr(config, "architectures", None) or []):
        return entry.auto_class
    return entry.headless_auto_class
