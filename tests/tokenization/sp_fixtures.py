"""SentencePiece tokenizers built by the reference from sentencepiece's own test models (shared by tests and fuzz)."""

from __future__ import annotations

import warnings
from pathlib import Path

# name -> (reference class, model file, extra kwargs)
SPECS = {
    "t5": ("T5TokenizerFast", "botchan_en_unigram_1000.model", {}),
    "albert": ("AlbertTokenizerFast", "botchan_en_unigram_1000.model", {}),
    "xlmr": ("XLMRobertaTokenizerFast", "botchan_en_unigram_1000.model", {}),
    "t5_ja": ("T5TokenizerFast", "kyoto_ja_unigram_8000.model", {}),
    "llama": ("LlamaTokenizerFast", "botchan_en_bpe_1000.model", {}),
    "llama_nonlegacy": ("LlamaTokenizerFast", "botchan_en_bpe_1000.model", {"legacy": False}),
}


def model_dir() -> Path:
    import fetch_assets

    return fetch_assets.fetch("sentencepiece_models")


def build_reference(name: str, out: Path):
    """The reference tokenizer `name`, saved to `out` (tokenizer.json + .model + configs); returns it."""
    import transformers

    cls, model, kwargs = SPECS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tok = getattr(transformers, cls)(vocab_file=str(model_dir() / model), **kwargs)
    tok.save_pretrained(out)
    return tok


def build_ours_from_model(name: str):
    """Ours, from the .model file alone (our factories), with the reference's class options."""
    from minformers.tokenization import bpe, sp_tokenizers

    cls, model, kwargs = SPECS[name]
    path = model_dir() / model
    if cls == "LlamaTokenizerFast":
        return bpe.LlamaTokenizerFast(vocab_file=path, **kwargs)
    return getattr(sp_tokenizers, cls)(vocab_file=path, **kwargs)
