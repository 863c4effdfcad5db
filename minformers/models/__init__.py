"""One module per architecture (``models/<model_type>.py``), each exporting ``{Arch}Config``,
``{Arch}Model`` and ``{Arch}For<Task>`` heads. :mod:`minformers.auto` finds them by name.

Not imported eagerly: ``import minformers.models`` does not import torch.
"""

# model_type (config.json) -> class-name prefix in models/<model_type>.py (DESIGN rule 4)
ARCH_PREFIX: dict[str, str] = {
    "bert": "Bert",
    "distilbert": "DistilBert",
    "gpt2": "GPT2",
    "llama": "Llama",
    "roberta": "Roberta",
    "xlm-roberta": "XLMRoberta",  # module models/xlm_roberta.py (auto maps "-" to "_")
    "bart": "Bart",
    "t5": "T5",
    "marian": "Marian",
}
