"""minformers: the Hugging Face Transformers pipeline system, small and fast on a CPU.

text -> tokenizer -> model -> head -> post-processing -> answer.

`import minformers` stays cheap: every public name is imported on first use
(PEP 562 module ``__getattr__``), so the CLI and the pipelines only pay for
what they touch.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it (relative to this package)
_LAZY: dict[str, str] = {
    # pipelines
    "pipeline": "pipelines",
    "Pipeline": "pipelines.base",
    # configuration, modelling, outputs
    "PretrainedConfig": "configuration",
    "PreTrainedModel": "modeling",
    "ModelOutput": "outputs",
    # auto classes
    "AutoConfig": "auto",
    "AutoTokenizer": "auto",
    "AutoModel": "auto",
    "AutoModelForSequenceClassification": "auto",
    "AutoModelForTokenClassification": "auto",
    "AutoModelForQuestionAnswering": "auto",
    "AutoModelForMaskedLM": "auto",
    "AutoModelForMultipleChoice": "auto",
    "AutoModelForSeq2SeqLM": "auto",
    "AutoModelForCausalLM": "auto",
    # generation
    "GenerationConfig": "generation",
    "GenerationMixin": "generation",
    "TextStreamer": "generation",
    "TextIteratorStreamer": "generation",
    "quantize_int8": "kernels",
    # tokenizers
    "PreTrainedTokenizer": "tokenization.tokenizer",
    "PreTrainedTokenizerFast": "tokenization.tokenizer",
    "MarianTokenizer": "tokenization.marian",
    "BatchEncoding": "tokenization.tokenizer",
    "BertTokenizer": "tokenization.tokenizer",
    "BertTokenizerFast": "tokenization.tokenizer",
    "DistilBertTokenizer": "tokenization.tokenizer",
    "DistilBertTokenizerFast": "tokenization.tokenizer",
    # BERT
    "BertConfig": "models.bert",
    "BertModel": "models.bert",
    "BertPreTrainedModel": "models.bert",
    "BertForSequenceClassification": "models.bert",
    "BertForTokenClassification": "models.bert",
    "BertForQuestionAnswering": "models.bert",
    "BertForMaskedLM": "models.bert",
    "BertForMultipleChoice": "models.bert",
    # DistilBERT
    "DistilBertConfig": "models.distilbert",
    "DistilBertModel": "models.distilbert",
    "DistilBertPreTrainedModel": "models.distilbert",
    "DistilBertForSequenceClassification": "models.distilbert",
    "DistilBertForTokenClassification": "models.distilbert",
    "DistilBertForQuestionAnswering": "models.distilbert",
    "DistilBertForMaskedLM": "models.distilbert",
    "DistilBertForMultipleChoice": "models.distilbert",
    # GPT-2
    "GPT2Config": "models.gpt2",
    "GPT2Model": "models.gpt2",
    "GPT2PreTrainedModel": "models.gpt2",
    "GPT2LMHeadModel": "models.gpt2",
    "GPT2ForSequenceClassification": "models.gpt2",
    "GPT2ForTokenClassification": "models.gpt2",
    "GPT2ForQuestionAnswering": "models.gpt2",
    # Llama
    "LlamaConfig": "models.llama",
    "LlamaModel": "models.llama",
    "LlamaPreTrainedModel": "models.llama",
    "LlamaForCausalLM": "models.llama",
    "LlamaForSequenceClassification": "models.llama",
    "LlamaForTokenClassification": "models.llama",
    "LlamaForQuestionAnswering": "models.llama",
    # RoBERTa
    "RobertaConfig": "models.roberta",
    "RobertaModel": "models.roberta",
    "RobertaPreTrainedModel": "models.roberta",
    "RobertaForMaskedLM": "models.roberta",
    "RobertaForCausalLM": "models.roberta",
    "RobertaForSequenceClassification": "models.roberta",
    "RobertaForMultipleChoice": "models.roberta",
    "RobertaForTokenClassification": "models.roberta",
    "RobertaForQuestionAnswering": "models.roberta",
    # XLM-RoBERTa
    "XLMRobertaConfig": "models.xlm_roberta",
    "XLMRobertaModel": "models.xlm_roberta",
    "XLMRobertaPreTrainedModel": "models.xlm_roberta",
    "XLMRobertaForMaskedLM": "models.xlm_roberta",
    "XLMRobertaForCausalLM": "models.xlm_roberta",
    "XLMRobertaForSequenceClassification": "models.xlm_roberta",
    "XLMRobertaForMultipleChoice": "models.xlm_roberta",
    "XLMRobertaForTokenClassification": "models.xlm_roberta",
    "XLMRobertaForQuestionAnswering": "models.xlm_roberta",
    # BART
    "BartConfig": "models.bart",
    "BartModel": "models.bart",
    "BartPreTrainedModel": "models.bart",
    "BartForConditionalGeneration": "models.bart",
    "BartForSequenceClassification": "models.bart",
    "BartForQuestionAnswering": "models.bart",
    "BartForCausalLM": "models.bart",
    # T5
    "T5Config": "models.t5",
    "T5Model": "models.t5",
    "T5PreTrainedModel": "models.t5",
    "T5ForConditionalGeneration": "models.t5",
    "T5EncoderModel": "models.t5",
    "T5ForSequenceClassification": "models.t5",
    "T5ForTokenClassification": "models.t5",
    "T5ForQuestionAnswering": "models.t5",
    # Marian
    "MarianConfig": "models.marian",
    "MarianModel": "models.marian",
    "MarianPreTrainedModel": "models.marian",
    "MarianMTModel": "models.marian",
    # training (fine-tuning, course chapter 3)
    "DataCollatorWithPadding": "training",
    "DataCollatorForTokenClassification": "training",
    "DataCollatorForLanguageModeling": "training",
    "default_data_collator": "training",
    "TrainingArguments": "training",
    "IntervalStrategy": "training",
    "Trainer": "training",
    "TrainOutput": "training",
    "PredictionOutput": "training",
    "EvalPrediction": "training",
    "TrainingDivergedError": "training",
    "set_seed": "training",
    "TrainerCallback": "training",
    "TrainerState": "training",
    "TrainerControl": "training",
    "EarlyStoppingCallback": "training",
    "ProgressCallback": "training",
    "PrinterCallback": "training",
    "DefaultFlowCallback": "training",
    "get_scheduler": "training",
    "get_linear_schedule_with_warmup": "training",
    "get_cosine_schedule_with_warmup": "training",
    "get_cosine_with_hard_restarts_schedule_with_warmup": "training",
    "get_constant_schedule": "training",
    "get_constant_schedule_with_warmup": "training",
    "get_polynomial_decay_schedule_with_warmup": "training",
    "get_last_checkpoint": "training",
    "AdamW": "training",  # old transformers.AdamW, deprecated (see training/optimization.py)
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None and name.startswith("TF") and name[2:] in _LAZY:
        # The reference imports a placeholder that fails later; we fail at the import, with the fix. An
        # ImportError (not AttributeError) so `try: from minformers import TFAutoModel except ImportError:` works.
        torch_name = name[2:]
        raise ImportError(f"{name} is a TensorFlow class, and minformers is PyTorch-only (by choice): use "
                          f"{torch_name} instead (`from minformers import {torch_name}`), and return_tensors=\"pt\" "
                          "where the TensorFlow code had \"tf\"", name=name)
    if module is None:
        raise AttributeError(f"module 'minformers' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # cache: the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    return __all__
