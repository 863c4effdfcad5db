"""BERT-family tokenizers: short factories over the five stages (WordPiece)."""

from __future__ import annotations

import copy
import os
from typing import Any

from .call_options import _BERT_KWARGS, _INIT_KWARGS, _unknown_kwargs
from .core.decoders import WordPiece as WordPieceDecoder
from .core.models.wordpiece import WordPiece, read_vocab_txt
from .core.normalizers import BertNormalizer
from .core.pre_tokenizers import BertPreTokenizer
from .core.processors import TemplateProcessing
from .core.tokenizer import AddedToken, Tokenizer
from .tokenization_utils import PreTrainedTokenizerFast


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
    if not isinstance(vocab, dict):
        vocab = read_vocab_txt(vocab)
    model = WordPiece(vocab, unk_token=unk_token, continuing_subword_prefix=wordpieces_prefix)
    tok = Tokenizer(
        model,
        normalizer=BertNormalizer(
            clean_text=True, handle_chinese_chars=tokenize_chinese_chars, strip_accents=strip_accents, lowercase=do_lower_case
        ),
        pre_tokenizer=BertPreTokenizer(),
        decoder=WordPieceDecoder(prefix=wordpieces_prefix),
    )
    for t in (pad_token, unk_token, cls_token, sep_token, mask_token):
        if t is not None:
            tok.add_token(AddedToken(t, special=True, normalized=False))
    tok.post_processor = TemplateProcessing.bert(
        (cls_token, tok.token_to_id(cls_token)), (sep_token, tok.token_to_id(sep_token))
    )
    return tok


class BertTokenizerFast(PreTrainedTokenizerFast):
    """BERT's WordPiece tokenizer: from tokenizer.json, or built from a vocab.txt."""

    tokenizer_class_name = "BertTokenizer"
    _folder_files = "vocab.txt"  # how loading.load_folder builds it: vocab.txt or tokenizer.json

    def __init__(
        self,
        vocab_file: str | os.PathLike | None = None,
        tokenizer_file: str | os.PathLike | None = None,
        do_lower_case: bool = True,
        unk_token: str = "[UNK]",
        sep_token: str = "[SEP]",
        pad_token: str = "[PAD]",
        cls_token: str = "[CLS]",
        mask_token: str = "[MASK]",
        tokenize_chinese_chars: bool = True,
        strip_accents: bool | None = None,
        tokenizer_object: Tokenizer | None = None,
        **kwargs: Any,
    ) -> None:
        _unknown_kwargs(type(self).__name__ + "()", {k: v for k, v in kwargs.items() if k not in _INIT_KWARGS},
                        _INIT_KWARGS + _BERT_KWARGS + ("vocab_file", "tokenizer_file", "tokenizer_object"))
        if tokenizer_object is None and tokenizer_file is not None:
            tokenizer_object = Tokenizer.from_file(tokenizer_file)
        if tokenizer_object is None:
            if vocab_file is None:
                raise ValueError(f"{type(self).__name__} needs vocab_file= (a vocab.txt) or tokenizer_file= (a tokenizer.json)")
            tokenizer_object = bert_tokenizer(
                vocab_file, do_lower_case=do_lower_case, tokenize_chinese_chars=tokenize_chinese_chars,
                strip_accents=strip_accents, unk_token=str(unk_token), sep_token=str(sep_token), cls_token=str(cls_token),
                pad_token=str(pad_token), mask_token=str(mask_token),
            )
        else:
            n = tokenizer_object.normalizer
            if isinstance(n, BertNormalizer) and (
                n.lowercase != do_lower_case or n.strip_accents != strip_accents or n.handle_chinese_chars != tokenize_chinese_chars
            ):  # the config wins over tokenizer.json, as upstream
                tokenizer_object = copy.deepcopy(tokenizer_object)
                tokenizer_object.normalizer = BertNormalizer(
                    clean_text=n.clean_text, handle_chinese_chars=tokenize_chinese_chars,
                    strip_accents=strip_accents, lowercase=do_lower_case,
                )
        super().__init__(
            tokenizer_object, unk_token=unk_token, sep_token=sep_token, pad_token=pad_token, cls_token=cls_token,
            mask_token=mask_token, **kwargs,
        )
        self.do_lower_case = do_lower_case
        self.init_kwargs.update(do_lower_case=do_lower_case, strip_accents=strip_accents, tokenize_chinese_chars=tokenize_chinese_chars)


BertTokenizer = BertTokenizerFast


class DistilBertTokenizerFast(BertTokenizerFast):
    """DistilBERT: BERT's tokenizer without token_type_ids."""

    tokenizer_class_name = "DistilBertTokenizer"
    model_input_names = ["input_ids", "attention_mask"]


DistilBertTokenizer = DistilBertTokenizerFast
