"""SentencePiece Unigram tokenizers (T5, ALBERT, XLM-R): a short factory over the five stages.

:func:`unigram_tokenizer` turns a ``.model`` file into the stages the reference's
converters (``transformers.convert_slow_tokenizer``) produce, so a folder with
only ``spiece.model`` / ``sentencepiece.bpe.model`` tokenizes exactly like its
tokenizer.json would. Llama-2's SentencePiece BPE is in :mod:`.llama`, Marian's
(the SentencePiece library itself) in :mod:`.marian`.
"""

from __future__ import annotations

import os
from typing import Any

from .call_options import _INIT_KWARGS, _unknown_kwargs
from .core import normalizers as N
from .core.decoders import MetaspaceDecoder
from .core.models.unigram import Unigram
from .core.pre_tokenizers import Metaspace
from .core.precompiled import Precompiled
from .core.processors import TemplateProcessing
from .core.tokenizer import AddedToken, Tokenizer
from .sp_model import CONTROL, UNKNOWN, USER_DEFINED, read_model
from .tokenization_utils import PreTrainedTokenizerFast

SPIECE = "\u2581"


def _spm_normalizer(charsmap: bytes, collapse_to: str = SPIECE) -> list:
    pre = [Precompiled(charsmap)] if charsmap else []
    return pre + [N.Strip(left=False, right=True), N.Replace({"Regex": " {2,}"}, collapse_to)]


def _add_model_specials(tok: Tokenizer, pieces: list[tuple[str, float, int]], ids: dict[str, int] | None = None) -> None:
    """Control/unknown pieces become special added tokens, user-defined ones plain added tokens (converter rule)."""
    for i, (p, _, kind) in enumerate(pieces):
        if kind in (CONTROL, UNKNOWN, USER_DEFINED):
            tok.add_token(AddedToken(p, special=kind != USER_DEFINED, normalized=False),
                          idx=None if ids is None else ids.get(p))


def _template(single: list, pair: list, tok: Tokenizer) -> TemplateProcessing:
    names = {n for k, n, _ in single + pair if k == "special"}
    return TemplateProcessing(single, pair, {n: ([tok.token_to_id(n)], [n]) for n in names})


def unigram_tokenizer(model_file: str | os.PathLike, style: str, *, extra_ids: int = 100, add_prefix_space: bool | None = None,
                      do_lower_case: bool = True, keep_accents: bool = False, legacy: bool | None = None) -> Tokenizer:
    """T5 (``style='t5'``), ALBERT (``'albert'``) or XLM-R (``'xlmr'``) from a Unigram .model file."""
    m = read_model(model_file)
    pieces = [(p, s) for p, s, _ in m.pieces]
    unk_id = m.unk_id
    if style == "xlmr":  # fairseq's ids: <s> <pad> </s> <unk>, the model's pieces from 3 on, <mask> last
        pieces = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)] + pieces[3:] + [("<mask>", 0.0)]
        unk_id = 3
    elif style == "t5":
        pieces += [(f"<extra_id_{i}>", 0.0) for i in range(extra_ids - 1, -1, -1)]
    model = Unigram(pieces, unk_id=unk_id, byte_fallback=m.byte_fallback)
    if style == "albert":
        norm = [N.Replace("``", '"'), N.Replace("''", '"')]
        if not keep_accents:
            norm += [N.NFKD(), N.StripAccents()]
        if do_lower_case:
            norm.append(N.Lowercase())
        norm += ([Precompiled(m.precompiled_charsmap)] if m.precompiled_charsmap else []) + [N.Replace({"Regex": " {2,}"}, " ")]
    else:
        norm = _spm_normalizer(m.precompiled_charsmap)
    # T5's slow class has an add_prefix_space attribute (default None -> never); the others follow the model file.
    prefix = add_prefix_space if style == "t5" else m.add_dummy_prefix
    scheme = ("first" if legacy is False else "always") if prefix else "never"  # upstream _get_prepend_scheme
    tok = Tokenizer(model, normalizer=N.Sequence(norm), pre_tokenizer=Metaspace(SPIECE, scheme, True),
                    decoder=MetaspaceDecoder(SPIECE, scheme, True))
    if style == "xlmr":
        for p in ("<s>", "<pad>", "</s>", "<unk>"):
            tok.add_token(AddedToken(p, special=True, normalized=False))
        tok.add_token(AddedToken("<mask>", special=True, normalized=True, lstrip=True))
        s, e = ("special", "<s>", 0), ("special", "</s>", 0)
        tok.post_processor = _template([s, ("seq", "A", 0), e], [s, ("seq", "A", 0), e, e, ("seq", "B", 0), e], tok)
    elif style == "albert":
        _add_model_specials(tok, m.pieces)
        for p in ("[CLS]", "[SEP]", "<pad>"):
            tok.add_token(AddedToken(p, special=True, normalized=False))
        tok.add_token(AddedToken("[MASK]", special=True, normalized=False, lstrip=True))
        c, s0, s1 = ("special", "[CLS]", 0), ("special", "[SEP]", 0), ("special", "[SEP]", 1)
        tok.post_processor = _template([c, ("seq", "A", 0), s0], [c, ("seq", "A", 0), s0, ("seq", "B", 1), s1], tok)
    else:
        _add_model_specials(tok, m.pieces)
        for i in range(extra_ids - 1, -1, -1):
            tok.add_token(AddedToken(f"<extra_id_{i}>", special=True, normalized=False))
        tok.add_token(AddedToken("<pad>", special=True, normalized=False))
        e = ("special", "</s>", 0)
        tok.post_processor = _template([("seq", "A", 0), e], [("seq", "A", 0), e, ("seq", "B", 0), e], tok)
    return tok


class _SentencePieceFast(PreTrainedTokenizerFast):
    """Common loading: tokenizer.json when given, else the .model file through :func:`unigram_tokenizer`."""

    style = "t5"
    _extra_kwargs: tuple[str, ...] = ("sp_model_kwargs", "legacy", "add_prefix_space", "extra_ids", "do_lower_case",
                                      "keep_accents", "remove_space")

    def __init__(self, vocab_file: Any = None, tokenizer_file: Any = None, tokenizer_object: Tokenizer | None = None,
                 **kwargs: Any) -> None:
        extra = {k: kwargs.pop(k) for k in list(kwargs) if k in self._extra_kwargs}
        _unknown_kwargs(f"{type(self).__name__}()", {k: v for k, v in kwargs.items() if k not in _INIT_KWARGS},
                        _INIT_KWARGS + self._extra_kwargs + ("vocab_file", "tokenizer_file", "tokenizer_object"))
        for key, value in self._defaults().items():
            kwargs.setdefault(key, value)
        if tokenizer_object is None and tokenizer_file is not None:
            tokenizer_object = Tokenizer.from_file(tokenizer_file)
        if tokenizer_object is None:
            if vocab_file is None:
                raise ValueError(f"{type(self).__name__} needs vocab_file= (a SentencePiece .model) or tokenizer_file=")
            tokenizer_object = self._build(vocab_file, extra)
        super().__init__(tokenizer_object, **kwargs)
        self.vocab_file = vocab_file
        self.init_kwargs.update(extra)

    def _defaults(self) -> dict[str, Any]:
        return {}

    def _build(self, vocab_file: Any, extra: dict[str, Any]) -> Tokenizer:
        return unigram_tokenizer(vocab_file, self.style, extra_ids=extra.get("extra_ids", 100),
                                 add_prefix_space=extra.get("add_prefix_space"),
                                 do_lower_case=extra.get("do_lower_case", True), keep_accents=extra.get("keep_accents", False),
                                 legacy=extra.get("legacy"))


class T5TokenizerFast(_SentencePieceFast):
    tokenizer_class_name = "T5Tokenizer"
    model_input_names = ["input_ids", "attention_mask"]
    style = "t5"

    def _defaults(self) -> dict[str, Any]:
        return {"eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        extra_ids = kwargs.get("extra_ids", 100)
        if "additional_special_tokens" not in kwargs and extra_ids:
            kwargs["additional_special_tokens"] = [f"<extra_id_{i}>" for i in range(extra_ids)]
        super().__init__(*args, **kwargs)


class AlbertTokenizerFast(_SentencePieceFast):
    tokenizer_class_name = "AlbertTokenizer"
    style = "albert"

    def _defaults(self) -> dict[str, Any]:
        return {"bos_token": "[CLS]", "eos_token": "[SEP]", "unk_token": "<unk>", "sep_token": "[SEP]",
                "pad_token": "<pad>", "cls_token": "[CLS]", "mask_token": "[MASK]"}


class XLMRobertaTokenizerFast(_SentencePieceFast):
    tokenizer_class_name = "XLMRobertaTokenizer"
    model_input_names = ["input_ids", "attention_mask"]
    style = "xlmr"

    def _defaults(self) -> dict[str, Any]:
        return {"bos_token": "<s>", "eos_token": "</s>", "sep_token": "</s>", "cls_token": "<s>", "unk_token": "<unk>",
                "pad_token": "<pad>", "mask_token": "<mask>"}


T5Tokenizer, AlbertTokenizer, XLMRobertaTokenizer = T5TokenizerFast, AlbertTokenizerFast, XLMRobertaTokenizerFast


