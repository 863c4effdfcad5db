"""task -> (pipeline class, Auto model class, default model).

Defaults are offline first: a model that ships inside a Python package
(minformers.hub.OFFLINE_MODELS) where one exists, otherwise the reference
library's Hub default (downloaded when online).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Task:
    module: str  # minformers.pipelines.<module>
    pipeline_class: str
    auto_class: str  # name in minformers.auto
    default_model: str
    default_revision: str | None = None  # for Hub defaults, as the reference pins them


TASKS: dict[str, Task] = {
    "feature-extraction": Task(
        "feature_extraction", "FeatureExtractionPipeline", "AutoModel",
        "sentence-transformers/all-MiniLM-L6-v2",
    ),
    "text-classification": Task(
        "text_classification", "TextClassificationPipeline", "AutoModelForSequenceClassification",
        "distilbert/distilbert-base-uncased-finetuned-sst-2-english", "714eb0f",
    ),
}

ALIASES: dict[str, str] = {
    "sentiment-analysis": "text-classification",
}

# Architecture suffix in config.architectures -> the task it serves, to infer a task from a model.
ARCHITECTURE_TASKS: dict[str, str] = {
    "ForSequenceClassification": "text-classification",
    "Model": "feature-extraction",
}


def resolve_task(task: str) -> tuple[str, Task]:
    """Canonical task name and its entry; unknown tasks raise KeyError listing the known ones."""
    if not isinstance(task, str):
        raise TypeError(f"task must be a str, got {type(task).__name__}")
    name = ALIASES.get(task, task)
    if name not in TASKS:
        known = sorted(set(TASKS) | set(ALIASES))
        raise KeyError(f"Unknown task {task!r}. Available tasks: {', '.join(known)}")
    return name, TASKS[name]


def task_for_architectures(architectures: list[str] | None) -> str | None:
    for arch in architectures or []:
        for suffix, task in ARCHITECTURE_TASKS.items():
            if arch.endswith(suffix):
                return task
    return None
