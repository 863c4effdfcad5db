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
    from minformers.tokenization import llama, sentencepiece_unigram

    cls, model, kwargs = SPECS[name]
    path = model_dir() / model
    if cls == "LlamaTokenizerFast":
        return llama.LlamaTokenizerFast(vocab_file=path, **kwargs)
    return getattr(sentencepiece_unigram, cls)(vocab_file=path, **kwargs)


def build_marian_reference(out: Path, source: str = "botchan_en_unigram_1000.model",
                           target: str = "kyoto_ja_unigram_8000.model", **kwargs):
    """An Opus-MT-style folder saved by the reference's MarianTokenizer: source.spm, target.spm and a shared
    vocab.json as Marian NMT writes it (``</s>`` 0, ``<unk>`` 1, the pieces of both models, ``<pad>`` last)."""
    import json
    import shutil

    import transformers

    from minformers.tokenization.sp_model import NORMAL, USER_DEFINED, read_model

    out.mkdir(parents=True, exist_ok=True)
    src, tgt = out / "_source.spm", out / "_target.spm"
    shutil.copy(model_dir() / source, src)
    shutil.copy(model_dir() / target, tgt)
    vocab = {"</s>": 0, "<unk>": 1}
    for path in (src, tgt):
        for piece, _, kind in read_model(path).pieces:
            if kind in (NORMAL, USER_DEFINED):
                vocab.setdefault(piece, len(vocab))
    for code in (">>fr<<", ">>de<<"):  # a multilingual model's target-language tags
        vocab[code] = len(vocab)
    vocab["<pad>"] = len(vocab)
    (out / "_vocab.json").write_text(json.dumps(vocab))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tok = transformers.MarianTokenizer(str(src), str(tgt), str(out / "_vocab.json"), **kwargs)
    tok.save_pretrained(out)
    for f in (src, tgt, out / "_vocab.json"):
        f.unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return transformers.MarianTokenizer.from_pretrained(out)
