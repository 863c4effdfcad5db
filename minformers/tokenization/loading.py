"""A folder -> the right ``PreTrainedTokenizerFast`` subclass, built from its files.

tokenizer.json, vocab.txt (BERT family), vocab.json + merges.txt (GPT-2 family),
a SentencePiece model (T5, ALBERT, XLM-R, Llama), Marian's files, or a GGUF
file; plus tokenizer_config.json, special_tokens_map.json, added_tokens.json and
the chat template. Also the writers used by ``save_pretrained``, in the formats
the reference library reads. Files are written atomically (temp file +
``os.replace``, :mod:`.core.serialization`).

Which class reads a folder is a name in a table (``TOKENIZER_CLASSES``),
resolved with importlib: this module sits below the classes it picks, which
call it from ``from_pretrained``. How a class is built from the files is said by
its ``_folder_files`` attribute (``"vocab.txt"``, ``"vocab.json+merges.txt"``,
``"marian"`` or ``None``).
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from .call_options import _BERT_KWARGS, _INIT_KWARGS
from .core.serialization import read_json, write_atomic, write_json  # noqa: F401 (importable from here too)
from ..weights.gguf import read_gguf_tokenizer
from .core.tokenizer import AddedToken
from .gguf import gguf_tokenizer
from .special_tokens import SPECIAL_TOKENS_ATTRIBUTES

TOKENIZER_FILE = "tokenizer.json"
VOCAB_FILE = "vocab.txt"
CONFIG_FILE = "tokenizer_config.json"
SPECIAL_TOKENS_MAP_FILE = "special_tokens_map.json"
ADDED_TOKENS_FILE = "added_tokens.json"


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
    "GPT2Tokenizer": "gpt2:GPT2TokenizerFast",
    "GPT2TokenizerFast": "gpt2:GPT2TokenizerFast",
    "RobertaTokenizer": "gpt2:RobertaTokenizerFast",
    "RobertaTokenizerFast": "gpt2:RobertaTokenizerFast",
    "BartTokenizer": "gpt2:RobertaTokenizerFast",  # the same byte-level BPE, <s> A </s></s> B </s>, no type ids
    "BartTokenizerFast": "gpt2:RobertaTokenizerFast",
    "LlamaTokenizer": "llama:LlamaTokenizerFast",
    "LlamaTokenizerFast": "llama:LlamaTokenizerFast",
    "T5Tokenizer": "sentencepiece_unigram:T5TokenizerFast",
    "T5TokenizerFast": "sentencepiece_unigram:T5TokenizerFast",
    "AlbertTokenizer": "sentencepiece_unigram:AlbertTokenizerFast",
    "AlbertTokenizerFast": "sentencepiece_unigram:AlbertTokenizerFast",
    "XLMRobertaTokenizer": "sentencepiece_unigram:XLMRobertaTokenizerFast",
    "XLMRobertaTokenizerFast": "sentencepiece_unigram:XLMRobertaTokenizerFast",
    "MarianTokenizer": "marian:MarianTokenizer",
}
MODEL_TYPE_TO_TOKENIZER = {
    "bert": "bert:BertTokenizerFast", "distilbert": "bert:DistilBertTokenizerFast", "gpt2": "gpt2:GPT2TokenizerFast",
    "roberta": "gpt2:RobertaTokenizerFast", "bart": "gpt2:RobertaTokenizerFast", "llama": "llama:LlamaTokenizerFast",
    "t5": "sentencepiece_unigram:T5TokenizerFast", "albert": "sentencepiece_unigram:AlbertTokenizerFast",
    "xlm-roberta": "sentencepiece_unigram:XLMRobertaTokenizerFast", "marian": "marian:MarianTokenizer",
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
    data = read_json(path)
    if not isinstance(data, dict) or not all(isinstance(k, str) and type(v) is int for k, v in data.items()):
        raise ValueError(f"{path} should map each added token to its id ({{\"token\": 30522, ...}}); "
                         f"got {json.dumps(data)[:200]}")
    return {idx: AddedToken(t, special=t in special, normalized=t not in special) for t, idx in data.items()}


def tokenizer_class(spec: str) -> type:
    module, name = spec.split(":")
    return getattr(importlib.import_module(f"{__package__}.{module}"), name)


def load_folder(cls: type, folder: Path, name: str, kwargs: dict[str, Any], base: type):
    """Pick the class and build it from the files of `folder` (see ``from_pretrained``); `base` is
    ``PreTrainedTokenizerFast``, which (like ``AutoTokenizer``) lets the folder choose the class."""
    gguf_file = kwargs.pop("gguf_file", None)
    if gguf_file is not None:
        return _load_gguf(cls, folder / gguf_file, name, kwargs, base)
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
    if cls is base or cls.__name__ == "AutoTokenizer":
        name_cls = config.get("tokenizer_class")
        model_type = read_json(folder / "config.json").get("model_type") if (folder / "config.json").is_file() else None
        if name_cls in TOKENIZER_CLASSES:
            target = tokenizer_class(TOKENIZER_CLASSES[name_cls])
        elif model_type in MODEL_TYPE_TO_TOKENIZER:
            target = tokenizer_class(MODEL_TYPE_TO_TOKENIZER[model_type])
        elif marian and not has_json:
            target = tokenizer_class(TOKENIZER_CLASSES["MarianTokenizer"])
        if target is base and not has_json:
            if has_vocab:
                # a bare vocab.txt is a WordPiece vocabulary; vocab.json + merges.txt a GPT-2 one
                target = tokenizer_class(TOKENIZER_CLASSES["GPT2TokenizerFast" if Path(vocab_file).name.endswith(".json")
                                                           else "BertTokenizerFast"])
            else:
                target = _class_from_name(name, folder, sp_files, model_type)
    init: dict[str, Any] = {}
    for key, value in special_map.items():
        init[key] = value["content"] if isinstance(value, dict) else value
    for key, value in config.items():
        if key in SPECIAL_TOKENS_ATTRIBUTES or key == "additional_special_tokens":
            init[key] = value["content"] if isinstance(value, dict) else value
        elif key in _INIT_KWARGS or (key in _BERT_KWARGS and getattr(target, "_folder_files", None) == "vocab.txt"):
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
    files_kind = getattr(target, "_folder_files", None)
    if files_kind == "marian":
        for key in _BERT_KWARGS + ("target_vocab_file",):  # the vocab files are the folder's
            init.pop(key, None)
        files = {k: folder / v for k, v in target.vocab_files_names.items() if (folder / v).is_file()}
        missing = [target.vocab_files_names[k] for k in ("source_spm", "target_spm", "vocab") if k not in files]
        if missing:
            raise OSError(f"Can't load a Marian tokenizer from {folder}: {', '.join(missing)} missing")
        tok = target(**files, **init)
    elif files_kind == "vocab.txt":
        tok = target(vocab_file=vocab_file if has_vocab else None, tokenizer_file=tok_file if has_json else None, **init)
    elif files_kind == "vocab.json+merges.txt":
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


def _load_gguf(cls: type, path: Path, name: str, kwargs: dict[str, Any], base: type):
    """A GGUF file's tokenizer (``from_pretrained(folder, gguf_file=...)``), as the reference converts it."""
    if not path.is_file():
        raise OSError(f"GGUF file {path} not found")
    tok, init = gguf_tokenizer(read_gguf_tokenizer(path))
    target = tokenizer_class(TOKENIZER_CLASSES["LlamaTokenizerFast"]) if cls is base or cls.__name__ == "AutoTokenizer" else cls
    init.update(kwargs)
    init["name_or_path"] = name
    return target(tokenizer_object=tok, **init)
