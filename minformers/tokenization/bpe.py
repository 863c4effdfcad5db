"""Byte-level BPE tokenizers (GPT-2, RoBERTa, Llama-3/SmolLM2): short factories over the five stages.

* :func:`read_merges` / :func:`read_vocab_json`: GPT-2's ``merges.txt`` and ``vocab.json``.
* :func:`byte_level_bpe`: the GPT-2 pipeline (BPE + ``ByteLevel`` pre-tokeniser/decoder);
  RoBERTa adds its ``<s> A </s></s> B </s>`` post-processor.
* :func:`gguf_tokenizer`: a GGUF file's ``tokenizer.ggml.*`` fields (``model == "gpt2"``)
  as the reference's GGUF converter builds them (``transformers/integrations/ggml.py``).
* :class:`GPT2TokenizerFast`, :class:`RobertaTokenizerFast`, :class:`LlamaTokenizerFast`.
"""

from __future__ import annotations

import copy
import json
import os
from typing import Any

from . import decoders, normalizers, processors
from .byte_level import ByteLevel, ByteLevelDecoder
from .tokenization_utils import _INIT_KWARGS, PreTrainedTokenizerFast, _unknown_kwargs
from .tokenizer import AddedToken, Tokenizer

VOCAB_JSON = "vocab.json"
MERGES_FILE = "merges.txt"


def read_vocab_json(path: str | os.PathLike) -> dict[str, int]:
    with open(path, encoding="utf-8") as f:
        vocab = json.load(f)
    if not isinstance(vocab, dict):
        raise ValueError(f"{path}: a vocab.json must hold one object token -> id")
    return vocab


def read_merges(path: str | os.PathLike) -> list[tuple[str, str]]:
    """``merges.txt``: an optional ``#version`` line, then one ``left right`` pair a line (rank = order)."""
    merges: list[tuple[str, str]] = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if (n == 1 and line.startswith("#version")) or not line:
                continue
            parts = line.split(" ")
            if len(parts) != 2 or not parts[0] or not parts[1]:
                raise ValueError(f"{path}, line {n}: a merge must be two tokens separated by one space, got {line!r}")
            merges.append((parts[0], parts[1]))
    return merges


def _bpe(vocab: dict[str, int], merges: list[tuple[str, str]], **kwargs: Any) -> Any:
    from .sp_bpe import BPE

    return BPE(vocab, merges, **kwargs)


def byte_level_bpe(
    vocab: dict[str, int], merges: list[tuple[str, str]], *, add_prefix_space: bool = False, trim_offsets: bool = True,
    roberta: tuple[tuple[str, int], tuple[str, int]] | None = None,
) -> Tokenizer:
    """GPT-2's pipeline; with ``roberta=((cls, id), (sep, id))`` RoBERTa's post-processor."""
    tok = Tokenizer(
        _bpe(vocab, merges, continuing_subword_prefix="", end_of_word_suffix=""),
        pre_tokenizer=ByteLevel(add_prefix_space=add_prefix_space, trim_offsets=trim_offsets),
        decoder=ByteLevelDecoder(),
    )
    if roberta is None:
        tok.post_processor = processors.from_dict({"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True})
    else:
        (c, ci), (s, si) = roberta
        tok.post_processor = processors.from_dict({
            "type": "RobertaProcessing", "sep": [s, si], "cls": [c, ci], "trim_offsets": trim_offsets,
            "add_prefix_space": add_prefix_space,
        })
    return tok


def gguf_tokenizer(fields: dict[str, Any]) -> tuple[Tokenizer, dict[str, Any]]:
    """GGUF ``tokenizer.ggml.*`` (model "gpt2") -> (Tokenizer, init kwargs), as the reference converts it.

    The reference builds Llama-family GGUF files as a byte-level BPE with
    ``byte_fallback``/``fuse_unk`` and a ``ByteFallback, Fuse, Replace, ByteLevel``
    decoder; control tokens (``token_type == 3``) become special added tokens.
    Its converter swaps the bos/eos names and ``LlamaTokenizerFast`` then adds a
    bos at the start: we reproduce the resulting tokenizer, quirks included.
    """
    if fields.get("model") != "gpt2":
        raise ValueError(f"GGUF tokenizer model {fields.get('model')!r} is not supported here (only 'gpt2' byte-level BPE)")
    tokens = list(fields["tokens"])
    vocab = {t: i for i, t in enumerate(tokens)}
    merges = [tuple(m.split(" ", 1)) for m in fields.get("merges") or []]
    name = lambda key: tokens[fields[key]] if fields.get(key) is not None else None  # noqa: E731
    unk = name("unknown_token_id")
    tok = Tokenizer(
        _bpe(vocab, merges, unk_token=unk, fuse_unk=True, byte_fallback=True),
        normalizer=normalizers.from_dict({"type": "Sequence", "normalizers": []}),
        pre_tokenizer=ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=True),
        decoder=decoders.from_dict({"type": "Sequence", "decoders": [
            {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
            {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        ]}),
    )
    types = fields.get("token_type") or []
    tok.add_special_tokens([AddedToken(tokens[i], special=True, normalized=False) for i, t in enumerate(types) if t == 3])
    bos = name("bos_token_id")  # the reference ends with bos == eos == tokens[bos_token_id]
    init = {"unk_token": unk, "bos_token": bos, "eos_token": bos, "clean_up_tokenization_spaces": True, "legacy": True}
    if fields.get("chat_template"):
        init["chat_template"] = fields["chat_template"]
    return tok, init


# ----------------------------------------------------------------------------------------------
# transformers classes
# ----------------------------------------------------------------------------------------------


def _set_add_prefix_space(tok: Tokenizer, add_prefix_space: bool | None, trim_offsets: bool | None = None) -> Tokenizer:
    """The config wins over tokenizer.json (upstream rewrites the pre-tokenizer/processor state)."""
    pre = tok.pre_tokenizer
    if add_prefix_space is None or not isinstance(pre, ByteLevel):
        return tok
    if pre.add_prefix_space == add_prefix_space and (trim_offsets is None or pre.trim_offsets == trim_offsets):
        return tok
    tok = copy.deepcopy(tok)
    tok.pre_tokenizer = ByteLevel(add_prefix_space, pre.trim_offsets if trim_offsets is None else trim_offsets, pre.use_regex)
    return tok


class _ByteLevelBPEFast(PreTrainedTokenizerFast):
    _extra_kwargs: tuple[str, ...] = ("add_prefix_space", "errors", "add_bos_token", "add_eos_token", "chat_template")

    def _tokenizer_from_files(self, vocab_file: Any, merges_file: Any, tokenizer_file: Any, tokenizer_object: Any, **kw: Any) -> Tokenizer:
        if tokenizer_object is not None:
            return tokenizer_object
        if tokenizer_file is not None:
            return Tokenizer.from_file(tokenizer_file)
        if vocab_file is None or merges_file is None:
            raise ValueError(f"{type(self).__name__} needs vocab_file= and merges_file=, or tokenizer_file= (a tokenizer.json)")
        return byte_level_bpe(read_vocab_json(vocab_file), read_merges(merges_file), **kw)


class GPT2TokenizerFast(_ByteLevelBPEFast):
    """GPT-2: byte-level BPE, no special tokens around the text; ``<|endoftext|>`` is bos, eos and unk."""

    tokenizer_class_name = "GPT2Tokenizer"
    model_input_names = ["input_ids", "attention_mask"]

    def __init__(
        self, vocab_file: Any = None, merges_file: Any = None, tokenizer_file: Any = None,
        unk_token: str = "<|endoftext|>", bos_token: str = "<|endoftext|>", eos_token: str = "<|endoftext|>",
        add_prefix_space: bool = False, tokenizer_object: Tokenizer | None = None, **kwargs: Any,
    ) -> None:
        kwargs.pop("errors", None)
        add_bos = kwargs.pop("add_bos_token", False)
        _unknown_kwargs(f"{type(self).__name__}()", {k: v for k, v in kwargs.items() if k not in _INIT_KWARGS + self._extra_kwargs},
                        _INIT_KWARGS + self._extra_kwargs + ("vocab_file", "merges_file", "tokenizer_file", "tokenizer_object"))
        tok = self._tokenizer_from_files(vocab_file, merges_file, tokenizer_file, tokenizer_object, add_prefix_space=add_prefix_space)
        tok = _set_add_prefix_space(tok, add_prefix_space)
        super().__init__(tok, unk_token=unk_token, bos_token=bos_token, eos_token=eos_token, **kwargs)
        self.add_prefix_space = add_prefix_space
        self.add_bos_token = add_bos
        self.init_kwargs.update(add_prefix_space=add_prefix_space, add_bos_token=add_bos)

    def _encode(self, text: Any, text_pair: Any = None, **kwargs: Any) -> Any:
        if kwargs.get("is_split_into_words") and not self.add_prefix_space:
            raise ValueError(
                f"You need to instantiate {type(self).__name__} with add_prefix_space=True to use it with pretokenized inputs."
            )
        return super()._encode(text, text_pair, **kwargs)


class RobertaTokenizerFast(GPT2TokenizerFast):
    """RoBERTa: GPT-2's BPE with ``<s> A </s></s> B </s>`` and ``<mask>`` that swallows the space before it."""

    tokenizer_class_name = "RobertaTokenizer"
    _extra_kwargs = GPT2TokenizerFast._extra_kwargs + ("trim_offsets",)

    def __init__(
        self, vocab_file: Any = None, merges_file: Any = None, tokenizer_file: Any = None,
        bos_token: str = "<s>", eos_token: str = "</s>", sep_token: str = "</s>", cls_token: str = "<s>",
        unk_token: str = "<unk>", pad_token: str = "<pad>", mask_token: str = "<mask>",
        add_prefix_space: bool = False, trim_offsets: bool = True, tokenizer_object: Tokenizer | None = None, **kwargs: Any,
    ) -> None:
        kwargs.pop("errors", None)
        _unknown_kwargs(f"{type(self).__name__}()", {k: v for k, v in kwargs.items() if k not in _INIT_KWARGS + self._extra_kwargs},
                        _INIT_KWARGS + self._extra_kwargs + ("vocab_file", "merges_file", "tokenizer_file", "tokenizer_object"))
        if tokenizer_object is None and tokenizer_file is None:
            vocab, merges = read_vocab_json(vocab_file), read_merges(merges_file)
            tokenizer_object = byte_level_bpe(vocab, merges, add_prefix_space=add_prefix_space, trim_offsets=trim_offsets)
            for t in (bos_token, eos_token, unk_token, sep_token, pad_token, cls_token):  # the reference's order
                tokenizer_object.add_token(AddedToken(str(t), special=True, normalized=True))
            tokenizer_object.add_token(AddedToken(str(mask_token), special=True, lstrip=True, normalized=False))
            tokenizer_object.post_processor = processors.from_dict({
                "type": "RobertaProcessing", "sep": [sep_token, tokenizer_object.token_to_id(sep_token)],
                "cls": [cls_token, tokenizer_object.token_to_id(cls_token)], "trim_offsets": trim_offsets,
                "add_prefix_space": add_prefix_space,
            })
        elif tokenizer_object is None:
            tokenizer_object = Tokenizer.from_file(tokenizer_file)
        tokenizer_object = _set_add_prefix_space(tokenizer_object, add_prefix_space, trim_offsets)
        pp = tokenizer_object.post_processor
        if isinstance(pp, processors.Described) and pp.spec.get("type") == "RobertaProcessing" and (
            pp.spec.get("add_prefix_space") != add_prefix_space or pp.spec.get("trim_offsets") != trim_offsets
        ):
            tokenizer_object.post_processor = processors.from_dict({**pp.spec, "add_prefix_space": add_prefix_space, "trim_offsets": trim_offsets})
        super().__init__(
            tokenizer_object=tokenizer_object, unk_token=unk_token, bos_token=bos_token, eos_token=eos_token,
            add_prefix_space=add_prefix_space, sep_token=sep_token, cls_token=cls_token, pad_token=pad_token,
            mask_token=mask_token, **kwargs,
        )
        self.trim_offsets = trim_offsets
        self.init_kwargs.update(trim_offsets=trim_offsets)
        self.init_kwargs.pop("add_bos_token", None)

    def build_inputs_with_special_tokens(self, token_ids_0: list[int], token_ids_1: list[int] | None = None) -> list[int]:
        out = [self.bos_token_id] + list(token_ids_0) + [self.eos_token_id]
        return out if token_ids_1 is None else out + [self.eos_token_id] + list(token_ids_1) + [self.eos_token_id]


class LlamaTokenizerFast(PreTrainedTokenizerFast):
    """Llama (BPE flavour from tokenizer.json or GGUF): bos/eos added by a template per ``add_bos_token``/``add_eos_token``."""

    tokenizer_class_name = "LlamaTokenizer"
    model_input_names = ["input_ids", "attention_mask"]
    padding_side = "left"
    _extra_kwargs = ("add_bos_token", "add_eos_token", "legacy", "add_prefix_space", "use_default_system_prompt",
                     "chat_template", "spaces_between_special_tokens", "sp_model_kwargs")

    def __init__(
        self, vocab_file: Any = None, tokenizer_file: Any = None, unk_token: str = "<unk>", bos_token: str = "<s>",
        eos_token: str = "</s>", add_bos_token: bool = True, add_eos_token: bool = False,
        tokenizer_object: Tokenizer | None = None, **kwargs: Any,
    ) -> None:
        extra = {k: kwargs.pop(k) for k in list(kwargs) if k in self._extra_kwargs}
        if tokenizer_object is None:
            if tokenizer_file is None and vocab_file is not None:  # a SentencePiece tokenizer.model
                from .sp_tokenizers import llama_tokenizer

                tokenizer_object = llama_tokenizer(vocab_file, legacy=extra.get("legacy"), add_prefix_space=extra.get("add_prefix_space"))
            elif tokenizer_file is None:
                raise ValueError("LlamaTokenizerFast needs tokenizer_file= (a tokenizer.json), vocab_file= (a tokenizer.model) or a GGUF file")
            else:
                tokenizer_object = Tokenizer.from_file(tokenizer_file)
        super().__init__(tokenizer_object, unk_token=unk_token, bos_token=bos_token, eos_token=eos_token,
                         chat_template=extra.get("chat_template"), **kwargs)
        self.legacy = extra.get("legacy")
        self._add_bos_token, self._add_eos_token = add_bos_token, add_eos_token
        self.update_post_processor()
        self.init_kwargs.update(add_bos_token=add_bos_token, add_eos_token=add_eos_token)

    def update_post_processor(self) -> None:
        """The bos/eos template, as upstream ``LlamaTokenizerFast.update_post_processor``."""
        bos, eos = self.bos_token, self.eos_token
        if bos is None and self._add_bos_token:
            raise ValueError("add_bos_token = True but bos_token = None")
        if eos is None and self._add_eos_token:
            raise ValueError("add_eos_token = True but eos_token = None")
        single, pair, specials = [], [], {}
        if self._add_bos_token:
            single.append(("special", bos, 0))
            specials[bos] = ([self.bos_token_id], [bos])
        single.append(("seq", "A", 0))
        if self._add_eos_token:
            single.append(("special", eos, 0))
            specials[eos] = ([self.eos_token_id], [eos])
        pair = list(single) + ([("special", bos, 1)] if self._add_bos_token else []) + [("seq", "B", 1)] + (
            [("special", eos, 1)] if self._add_eos_token else [])
        self._tokenizer.post_processor = processors.TemplateProcessing(single, pair, specials)

    add_bos_token = property(lambda s: s._add_bos_token, lambda s, v: (setattr(s, "_add_bos_token", v), s.update_post_processor()))
    add_eos_token = property(lambda s: s._add_eos_token, lambda s, v: (setattr(s, "_add_eos_token", v), s.update_post_processor()))
