"""Byte-level BPE tokenizers (GPT-2, RoBERTa, BART): short factories over the five stages.

* :func:`read_merges` / :func:`read_vocab_json`: GPT-2's ``merges.txt`` and ``vocab.json``.
* :func:`byte_level_bpe`: the GPT-2 pipeline (BPE + ``ByteLevel`` pre-tokeniser/decoder);
  RoBERTa adds its ``<s> A </s></s> B </s>`` post-processor.
* :class:`GPT2TokenizerFast`, :class:`RobertaTokenizerFast`. Llama's is in :mod:`.llama`.
"""

from __future__ import annotations

import copy
import json
import os
from typing import Any

from .call_options import _INIT_KWARGS, _unknown_kwargs
from .core.byte_level import ByteLevel, ByteLevelDecoder
from .core.models.bpe import BPE
from .core.processors import Described
from .core.serialization import processor_from_dict
from .core.tokenizer import AddedToken, Tokenizer
from .tokenization_utils import PreTrainedTokenizerFast

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


def byte_level_bpe(
    vocab: dict[str, int], merges: list[tuple[str, str]], *, add_prefix_space: bool = False, trim_offsets: bool = True,
    roberta: tuple[tuple[str, int], tuple[str, int]] | None = None,
) -> Tokenizer:
    """GPT-2's pipeline; with ``roberta=((cls, id), (sep, id))`` RoBERTa's post-processor."""
    tok = Tokenizer(
        BPE(vocab, merges, continuing_subword_prefix="", end_of_word_suffix=""),
        pre_tokenizer=ByteLevel(add_prefix_space=add_prefix_space, trim_offsets=trim_offsets),
        decoder=ByteLevelDecoder(),
    )
    if roberta is None:
        tok.post_processor = processor_from_dict({"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True})
    else:
        (c, ci), (s, si) = roberta
        tok.post_processor = processor_from_dict({
            "type": "RobertaProcessing", "sep": [s, si], "cls": [c, ci], "trim_offsets": trim_offsets,
            "add_prefix_space": add_prefix_space,
        })
    return tok


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
    _folder_files = "vocab.json+merges.txt"  # how loading.load_folder builds it: those, or tokenizer.json
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
            tokenizer_object.post_processor = processor_from_dict({
                "type": "RobertaProcessing", "sep": [sep_token, tokenizer_object.token_to_id(sep_token)],
                "cls": [cls_token, tokenizer_object.token_to_id(cls_token)], "trim_offsets": trim_offsets,
                "add_prefix_space": add_prefix_space,
            })
        elif tokenizer_object is None:
            tokenizer_object = Tokenizer.from_file(tokenizer_file)
        tokenizer_object = _set_add_prefix_space(tokenizer_object, add_prefix_space, trim_offsets)
        pp = tokenizer_object.post_processor
        if isinstance(pp, Described) and pp.spec.get("type") == "RobertaProcessing" and (
            pp.spec.get("add_prefix_space") != add_prefix_space or pp.spec.get("trim_offsets") != trim_offsets
        ):
            tokenizer_object.post_processor = processor_from_dict({**pp.spec, "add_prefix_space": add_prefix_space, "trim_offsets": trim_offsets})
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


GPT2Tokenizer, RobertaTokenizer = GPT2TokenizerFast, RobertaTokenizerFast
