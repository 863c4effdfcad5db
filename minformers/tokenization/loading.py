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
