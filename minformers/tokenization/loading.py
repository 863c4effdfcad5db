"""Files -> tokenizer stages: tokenizer.json, or vocab.txt + tokenizer_config.json (BERT family).

Also the writers used by ``save_pretrained``, in the formats the reference
library reads. Files are written atomically (temp file + ``os.replace``).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from . import decoders, models, normalizers, pre_tokenizers, processors

TOKENIZER_FILE = "tokenizer.json"
VOCAB_FILE = "vocab.txt"
CONFIG_FILE = "tokenizer_config.json"
SPECIAL_TOKENS_MAP_FILE = "special_tokens_map.json"
ADDED_TOKENS_FILE = "added_tokens.json"


def read_json(path: str | os.PathLike) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_atomic(path: str | os.PathLike, text: str) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_json(path: str | os.PathLike, data: Any) -> None:
    write_atomic(path, json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n")


def tokenizer_from_dict(d: dict[str, Any]):
    """tokenizer.json content -> Tokenizer (the five stages + added tokens + truncation/padding)."""
    from .tokenizer import AddedToken, Tokenizer

    tok = Tokenizer(
        models.from_dict(d["model"]),
        normalizer=normalizers.from_dict(d.get("normalizer")),
        pre_tokenizer=pre_tokenizers.from_dict(d.get("pre_tokenizer")),
        post_processor=processors.from_dict(d.get("post_processor")),
        decoder=decoders.from_dict(d.get("decoder")),
    )
    for t in d.get("added_tokens") or []:
        tok.add_token(
            AddedToken(
                t["content"],
                special=t.get("special", False),
                normalized=t.get("normalized", True),
                lstrip=t.get("lstrip", False),
                rstrip=t.get("rstrip", False),
                single_word=t.get("single_word", False),
            ),
            idx=t["id"],
        )
    trunc = d.get("truncation")
    if trunc:
        tok.enable_truncation(
            trunc["max_length"], stride=trunc.get("stride", 0),
            strategy=_snake(trunc.get("strategy", "LongestFirst")), direction=trunc.get("direction", "Right").lower(),
        )
    pad = d.get("padding")
    if pad:
        strat = pad.get("strategy")
        length = strat.get("Fixed") if isinstance(strat, dict) else None
        tok.enable_padding(
            length=length, pad_id=pad.get("pad_id", 0), pad_type_id=pad.get("pad_type_id", 0),
            pad_token=pad.get("pad_token", "[PAD]"), direction=pad.get("direction", "Right").lower(),
            pad_to_multiple_of=pad.get("pad_to_multiple_of"),
        )
    return tok


def _snake(name: str) -> str:
    return {"LongestFirst": "longest_first", "OnlyFirst": "only_first", "OnlySecond": "only_second"}.get(name, name)


def tokenizer_to_dict(tok) -> dict[str, Any]:
    return {
        "version": "1.0",
        "truncation": _truncation_to_dict(tok.truncation),
        "padding": _padding_to_dict(tok.padding),
        "added_tokens": [
            {
                "id": t.id, "content": t.content, "single_word": t.single_word, "lstrip": t.lstrip,
                "rstrip": t.rstrip, "normalized": t.normalized, "special": t.special,
            }
            for t in tok.added_tokens
        ],
        "normalizer": tok.normalizer.to_dict() if tok.normalizer else None,
        "pre_tokenizer": tok.pre_tokenizer.to_dict() if tok.pre_tokenizer else None,
        "post_processor": tok.post_processor.to_dict() if tok.post_processor else None,
        "decoder": tok.decoder.to_dict() if tok.decoder else None,
        "model": tok.model.to_dict(),
    }


def _truncation_to_dict(t: dict[str, Any] | None) -> dict[str, Any] | None:
    if t is None:
        return None
    strategy = {"longest_first": "LongestFirst", "only_first": "OnlyFirst", "only_second": "OnlySecond"}[t["strategy"]]
    return {"direction": t["direction"].capitalize(), "max_length": t["max_length"], "strategy": strategy, "stride": t["stride"]}


def _padding_to_dict(p: dict[str, Any] | None) -> dict[str, Any] | None:
    if p is None:
        return None
    return {
        "strategy": {"Fixed": p["length"]} if p["length"] is not None else "BatchLongest",
        "direction": p["direction"].capitalize(), "pad_to_multiple_of": p["pad_to_multiple_of"],
        "pad_id": p["pad_id"], "pad_type_id": p["pad_type_id"], "pad_token": p["pad_token"],
    }


def bert_tokenizer(
    vocab: dict[str, int] | str | os.PathLike,
    *,
    do_lower_case: bool = True,
    tokenize_chinese_chars: bool = True,
    strip_accents: bool | None = None,
    unk_token: str = "[UNK]",
    sep_token: str = "[SEP]",
    cls_token: str = "[CLS]",
    pad_token: str = "[PAD]",
    mask_token: str = "[MASK]",
    wordpieces_prefix: str = "##",
):
    """The BERT tokenizer as five stages — a factory, as the house style asks."""
    from .tokenizer import AddedToken, Tokenizer

    if not isinstance(vocab, dict):
        vocab = models.read_vocab_txt(vocab)
    model = models.WordPiece(vocab, unk_token=unk_token, continuing_subword_prefix=wordpieces_prefix)
    tok = Tokenizer(
        model,
        normalizer=normalizers.BertNormalizer(
            clean_text=True, handle_chinese_chars=tokenize_chinese_chars, strip_accents=strip_accents, lowercase=do_lower_case
        ),
        pre_tokenizer=pre_tokenizers.BertPreTokenizer(),
        decoder=decoders.WordPiece(prefix=wordpieces_prefix),
    )
    for t in (pad_token, unk_token, cls_token, sep_token, mask_token):
        if t is not None:
            tok.add_token(AddedToken(t, special=True, normalized=False))
    tok.post_processor = processors.TemplateProcessing.bert(
        (cls_token, tok.token_to_id(cls_token)), (sep_token, tok.token_to_id(sep_token))
    )
    return tok


# ----------------------------------------------------------------------------------------------
# A folder -> the right PreTrainedTokenizerFast subclass
# ----------------------------------------------------------------------------------------------

# tokenizer_config.json's ``tokenizer_class`` / config.json's ``model_type`` -> "module:Class"
# (names, not classes: resolved with importlib so this module imports nothing heavy).
TOKENIZER_CLASSES = {
    "BertTokenizer": "bert:BertTokenizerFast",
    "BertTokenizerFast": "bert:BertTokenizerFast",
    "DistilBertTokenizer": "bert:DistilBertTokenizerFast",
    "DistilBertTokenizerFast": "bert:DistilBertTokenizerFast",
    "PreTrainedTokenizerFast": "tokenization_utils:PreTrainedTokenizerFast",
    "GPT2Tokenizer": "bpe:GPT2TokenizerFast",
    "GPT2TokenizerFast": "bpe:GPT2TokenizerFast",
    "RobertaTokenizer": "bpe:RobertaTokenizerFast",
    "RobertaTokenizerFast": "bpe:RobertaTokenizerFast",
    "BartTokenizer": "bpe:RobertaTokenizerFast",  # the same byte-level BPE, <s> A </s></s> B </s>, no type ids
    "BartTokenizerFast": "bpe:RobertaTokenizerFast",
    "LlamaTokenizer": "bpe:LlamaTokenizerFast",
    "LlamaTokenizerFast": "bpe:LlamaTokenizerFast",
    "T5Tokenizer": "sp_tokenizers:T5TokenizerFast",
    "T5TokenizerFast": "sp_tokenizers:T5TokenizerFast",
    "AlbertTokenizer": "sp_tokenizers:AlbertTokenizerFast",
    "AlbertTokenizerFast": "sp_tokenizers:AlbertTokenizerFast",
    "XLMRobertaTokenizer": "sp_tokenizers:XLMRobertaTokenizerFast",
    "XLMRobertaTokenizerFast": "sp_tokenizers:XLMRobertaTokenizerFast",
    "MarianTokenizer": "sp_tokenizers:MarianTokenizer",
}
MODEL_TYPE_TO_TOKENIZER = {
    "bert": "bert:BertTokenizerFast", "distilbert": "bert:DistilBertTokenizerFast", "gpt2": "bpe:GPT2TokenizerFast",
    "roberta": "bpe:RobertaTokenizerFast", "bart": "bpe:RobertaTokenizerFast", "llama": "bpe:LlamaTokenizerFast",
    "t5": "sp_tokenizers:T5TokenizerFast", "albert": "sp_tokenizers:AlbertTokenizerFast",
    "xlm-roberta": "sp_tokenizers:XLMRobertaTokenizerFast", "marian": "sp_tokenizers:MarianTokenizer",
}
# SentencePiece model files, by the class that reads each (upstream's ``vocab_files_names``)
SENTENCEPIECE_FILES = {"T5TokenizerFast": "spiece.model", "AlbertTokenizerFast": "spiece.model",
                       "XLMRobertaTokenizerFast": "sentencepiece.bpe.model", "LlamaTokenizerFast": "tokenizer.model"}
MARIAN_FILES = ("source.spm", "target.spm", "vocab.json")
VOCAB_JSON = "vocab.json"
MERGES_FILE = "merges.txt"


def write_vocabulary_files(model: Any, folder: Path, prefix: str = "") -> list[Path]:
    """The slow-tokenizer files the reference also writes: vocab.txt (WordPiece) or vocab.json + merges.txt (BPE)."""
    vocab = getattr(model, "vocab", None)
    if not isinstance(vocab, dict):
        return []
    ordered = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
    merges = getattr(model, "merges", None)
    if merges is None:
        path = folder / (prefix + VOCAB_FILE)
        write_atomic(path, "".join(t + "\n" for t in ordered))
        return [path]
    vj, mf = folder / (prefix + VOCAB_JSON), folder / (prefix + MERGES_FILE)
    write_atomic(vj, json.dumps(vocab, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    write_atomic(mf, "#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges))
    return [vj, mf]


def write_added_tokens(tok: Any, folder: Path, prefix: str = "") -> list[Path]:
    """added_tokens.json, the slow-tokenizer file of the tokens added beyond the vocabulary ({token: id},
    sorted by token, as the reference writes it); nothing when there are none (a special token already in
    the vocabulary is not one)."""
    base = tok.get_vocab_size(with_added_tokens=False)
    added = {t.content: t.id for t in tok.added_tokens if t.id >= base}
    if not added:
        return []
    path = folder / (prefix + ADDED_TOKENS_FILE)
    write_atomic(path, json.dumps(added, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    return [path]


def read_added_tokens(path: Path, special: set[str]) -> dict[int, Any]:
    """A legacy added_tokens.json ({token: id}) as an ``added_tokens_decoder``: read, as upstream, only when
    tokenizer_config.json has no ``added_tokens_decoder``; a token named as a special token is special
    (and not normalised), the others are normalised."""
    from .tokenizer import AddedToken

    data = read_json(path)
    if not isinstance(data, dict) or not all(isinstance(k, str) and type(v) is int for k, v in data.items()):
        raise ValueError(f"{path} should map each added token to its id ({{\"token\": 30522, ...}}); "
                         f"got {json.dumps(data)[:200]}")
    return {idx: AddedToken(t, special=t in special, normalized=t not in special) for t, idx in data.items()}


def tokenizer_class(spec: str) -> type:
    import importlib

    module, name = spec.split(":")
    return getattr(importlib.import_module(f"{__package__}.{module}"), name)


def load_folder(cls: type, folder: Path, name: str, kwargs: dict[str, Any]):
    """Pick the class and build it from the files of `folder` (see ``from_pretrained``)."""
    from .bert import BertTokenizerFast
    from .special_tokens import SPECIAL_TOKENS_ATTRIBUTES
    from .tokenization_utils import _BERT_KWARGS, _INIT_KWARGS, PreTrainedTokenizerFast

    from .bpe import _ByteLevelBPEFast

    gguf_file = kwargs.pop("gguf_file", None)
    if gguf_file is not None:
        return _load_gguf(cls, folder / gguf_file, name, kwargs)
    tok_file = kwargs.pop("tokenizer_file", None) or folder / TOKENIZER_FILE
    merges_file = kwargs.pop("merges_file", None) or folder / MERGES_FILE
    vocab_file = kwargs.pop("vocab_file", None)
    if vocab_file is None:
        vocab_file = folder / (VOCAB_JSON if Path(merges_file).is_file() and (folder / VOCAB_JSON).is_file() else VOCAB_FILE)
    config_path = folder / CONFIG_FILE
    config = read_json(config_path) if config_path.is_file() else {}
    special_path = folder / SPECIAL_TOKENS_MAP_FILE
    special_map = read_json(special_path) if special_path.is_file() else {}
    has_json, has_vocab = Path(tok_file).is_file(), Path(vocab_file).is_file()
    sp_files = sorted({n for n in SENTENCEPIECE_FILES.values() if (folder / n).is_file()})
    marian = all((folder / n).is_file() for n in MARIAN_FILES)
    if not (has_json or has_vocab or sp_files or marian):
        raise OSError(
            f"Can't load a tokenizer from {folder}: it holds none of the tokenizer files looked for "
            f"({TOKENIZER_FILE}; {VOCAB_FILE}; {VOCAB_JSON} with {MERGES_FILE}; a SentencePiece model "
            f"({', '.join(sorted(set(SENTENCEPIECE_FILES.values())))}); or Marian's {', '.join(MARIAN_FILES)})."
        )
    # Which class: tokenizer_config.json's tokenizer_class, else config.json's model_type, else the caller.
    target = cls
    if cls in (PreTrainedTokenizerFast,) or cls.__name__ == "AutoTokenizer":
        name_cls = config.get("tokenizer_class")
        model_type = read_json(folder / "config.json").get("model_type") if (folder / "config.json").is_file() else None
        if name_cls in TOKENIZER_CLASSES:
            target = tokenizer_class(TOKENIZER_CLASSES[name_cls])
        elif model_type in MODEL_TYPE_TO_TOKENIZER:
            target = tokenizer_class(MODEL_TYPE_TO_TOKENIZER[model_type])
        elif marian and not has_json:
            target = tokenizer_class(TOKENIZER_CLASSES["MarianTokenizer"])
        if target is PreTrainedTokenizerFast and not has_json:
            if has_vocab:
                # a bare vocab.txt is a WordPiece vocabulary; vocab.json + merges.txt a GPT-2 one
                target = tokenizer_class("bpe:GPT2TokenizerFast") if Path(vocab_file).name.endswith(".json") else BertTokenizerFast
            else:
                target = _class_from_name(name, folder, sp_files, model_type)
    init: dict[str, Any] = {}
    for key, value in special_map.items():
        init[key] = value["content"] if isinstance(value, dict) else value
    for key, value in config.items():
        if key in SPECIAL_TOKENS_ATTRIBUTES or key == "additional_special_tokens":
            init[key] = value["content"] if isinstance(value, dict) else value
        elif key in _INIT_KWARGS or (key in _BERT_KWARGS and issubclass(target, BertTokenizerFast)):
            init[key] = value
        elif key in getattr(target, "_extra_kwargs", ()):
            init[key] = value
    # transformers >= 4.43 saves the chat template beside tokenizer_config.json; that file wins, as there.
    if (folder / "chat_template.jinja").is_file():
        init["chat_template"] = (folder / "chat_template.jinja").read_text(encoding="utf-8")
    elif (folder / "chat_template.json").is_file():
        init["chat_template"] = read_json(folder / "chat_template.json")["chat_template"]
    if "added_tokens_decoder" not in config and (folder / ADDED_TOKENS_FILE).is_file():
        named = [init.get(k) for k in SPECIAL_TOKENS_ATTRIBUTES] + list(init.get("additional_special_tokens") or [])
        special = {t["content"] if isinstance(t, dict) else str(t) for t in named if t}
        init["added_tokens_decoder"] = read_added_tokens(folder / ADDED_TOKENS_FILE, special)
    init.update(kwargs)
    init["name_or_path"] = name
    if target.__name__ == "MarianTokenizer":
        for key in _BERT_KWARGS + ("target_vocab_file",):  # the vocab files are the folder's
            init.pop(key, None)
        files = {k: folder / v for k, v in target.vocab_files_names.items() if (folder / v).is_file()}
        missing = [target.vocab_files_names[k] for k in ("source_spm", "target_spm", "vocab") if k not in files]
        if missing:
            raise OSError(f"Can't load a Marian tokenizer from {folder}: {', '.join(missing)} missing")
        tok = target(**files, **init)
    elif issubclass(target, BertTokenizerFast):
        tok = target(vocab_file=vocab_file if has_vocab else None, tokenizer_file=tok_file if has_json else None, **init)
    elif issubclass(target, _ByteLevelBPEFast):
        tok = target(vocab_file=vocab_file if has_vocab else None, merges_file=merges_file if Path(merges_file).is_file() else None,
                     tokenizer_file=tok_file if has_json else None, **init)
    else:
        for key in _BERT_KWARGS:
            init.pop(key, None)
        if has_json:
            tok = target(tokenizer_file=tok_file, **init)
        else:  # no tokenizer.json: build it from the SentencePiece model, as upstream converts the slow tokenizer
            own = SENTENCEPIECE_FILES.get(target.__name__)
            sp_file = folder / own if own in sp_files else folder / sp_files[0] if sp_files else None
            if sp_file is None:
                raise OSError(f"Can't load a {target.__name__} from {folder}: it has neither {TOKENIZER_FILE} nor "
                              f"{own or 'a SentencePiece model'}")
            if target.__name__ in ("T5TokenizerFast", "LlamaTokenizerFast"):
                # upstream loads the slow class first, whose add_prefix_space defaults to True, and converts
                # that (the fast class's own constructor passes None: no prefix)
                init.setdefault("add_prefix_space", True)
            tok = target(vocab_file=sp_file, **init)
    tok.init_kwargs = {**{k: v for k, v in config.items() if k != "added_tokens_decoder"}, **tok.init_kwargs}
    return tok


def _class_from_name(name: str, folder: Path, sp_files: list[str], model_type: str | None) -> type:
    """No tokenizer.json and nothing naming the class: upstream's last resort is a model type found in the
    name given (longest first: "xlm-roberta" before "roberta"); else it raises ValueError, as here."""
    for pattern in sorted(MODEL_TYPE_TO_TOKENIZER, key=len, reverse=True):
        if pattern in str(name):
            return tokenizer_class(MODEL_TYPE_TO_TOKENIZER[pattern])
    users = {"spiece.model": "T5, ALBERT", "sentencepiece.bpe.model": "XLM-RoBERTa", "tokenizer.model": "Llama"}
    files = ", ".join(f"{f} (used by {users[f]} …)" for f in sp_files)
    raise ValueError(
        f"Unrecognized tokenizer in {folder}: it holds {files} but no {TOKENIZER_FILE}, and nothing says which tokenizer "
        f"it is (tokenizer_config.json has no tokenizer_class; config.json "
        f"{'has model_type ' + repr(model_type) if model_type else 'is missing or has no model_type'}). Add one of "
        f"them, e.g. config.json {{\"model_type\": \"t5\"}}, or load with the class, e.g. "
        f"T5TokenizerFast.from_pretrained(folder)."
    )


def _load_gguf(cls: type, path: Path, name: str, kwargs: dict[str, Any]):
    """A GGUF file's tokenizer (``from_pretrained(folder, gguf_file=...)``), as the reference converts it."""
    from minformers.gguf import read_gguf_tokenizer

    from .bpe import LlamaTokenizerFast, gguf_tokenizer
    from .tokenization_utils import PreTrainedTokenizerFast

    if not path.is_file():
        raise OSError(f"GGUF file {path} not found")
    tok, init = gguf_tokenizer(read_gguf_tokenizer(path))
    target = LlamaTokenizerFast if cls is PreTrainedTokenizerFast or cls.__name__ == "AutoTokenizer" else cls
    init.update(kwargs)
    init["name_or_path"] = name
    return target(tokenizer_object=tok, **init)
