"""Llama tokenizers: from tokenizer.json, a GGUF file (:mod:`.gguf`) or a SentencePiece ``tokenizer.model``.

:func:`llama_tokenizer` turns a Llama-2 style ``tokenizer.model`` (SentencePiece
BPE with byte fallback) into the stages upstream's ``LlamaConverter`` writes;
:class:`LlamaTokenizerFast` adds bos/eos with a template.
"""

from __future__ import annotations

import os
from typing import Any

from .core.decoders import (
    ByteFallback,
    DecoderSequence,
    Fuse,
    ReplaceDecoder,
    StripDecoder,
)
from .core.models.bpe import BPE
from .core.normalizers import Prepend, Replace
from .core.normalizers import Sequence as NormalizerSequence
from .core.pre_tokenizers import Metaspace
from .core.processors import TemplateProcessing
from .core.tokenizer import AddedToken, Tokenizer
from .sp_model import BYTE, USER_DEFINED, bpe_merges, read_model
from .tokenization_utils import PreTrainedTokenizerFast

SPIECE = "\u2581"


def llama_tokenizer(model_file: str | os.PathLike, *, legacy: bool | None = None, add_prefix_space: bool | None = None) -> Tokenizer:
    """Llama-2 style: SentencePiece BPE with byte fallback, as upstream ``LlamaConverter``."""
    m = read_model(model_file)
    if m.model_type != "bpe":
        raise ValueError(f"{os.fspath(model_file)}: a Llama tokenizer needs a BPE SentencePiece model, got {m.model_type}")
    pieces = [("<unk>", 0.0), ("<s>", 0.0), ("</s>", 0.0)] + [(p, s) for p, s, _ in m.pieces[3:]]
    vocab = {p: i for i, (p, _) in enumerate(pieces)}
    merges = bpe_merges(vocab, dict(pieces))
    model = BPE(vocab, merges, unk_token=m.pieces[m.unk_id][0], fuse_unk=True, byte_fallback=True)
    legacy = True if legacy is None else legacy
    if legacy:
        norm = NormalizerSequence(([Prepend(SPIECE)] if add_prefix_space else []) + [Replace(" ", SPIECE)])
        pre = None
    else:
        norm = None
        pre = Metaspace(SPIECE, ("first" if add_prefix_space else "never"), split=False)
    dec = [ReplaceDecoder(SPIECE, " "), ByteFallback(), Fuse()] + ([StripDecoder(" ", 1, 0)] if add_prefix_space else [])
    tok = Tokenizer(model, normalizer=norm, pre_tokenizer=pre, decoder=DecoderSequence(dec))
    for p in ("<unk>", "<s>", "</s>"):
        tok.add_token(AddedToken(p, special=True, normalized=False))
    for p, _, kind in m.pieces:
        if kind == USER_DEFINED:
            tok.add_token(AddedToken(p, special=False, normalized=False))
    _ = BYTE
    return tok


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
        self._tokenizer.post_processor = TemplateProcessing(single, pair, specials)

    add_bos_token = property(lambda s: s._add_bos_token, lambda s, v: (setattr(s, "_add_bos_token", v), s.update_post_processor()))
    add_eos_token = property(lambda s: s._add_eos_token, lambda s, v: (setattr(s, "_add_eos_token", v), s.update_post_processor()))


LlamaTokenizer = LlamaTokenizerFast
