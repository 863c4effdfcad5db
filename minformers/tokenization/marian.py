"""Marian (Opus-MT) tokenizers: the SentencePiece library itself, twice (source and target model), one vocab.json.

Marian has no converter upstream: its tokenizer runs the SentencePiece library
on ``source.spm``/``target.spm`` and looks the pieces up in ``vocab.json``.
:func:`marian_tokenizer` builds that library's own normaliser, lattice and
decoder (:mod:`.core.sentencepiece`'s ``SentencePiece*`` stages) instead.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import shutil
import warnings
from pathlib import Path
from typing import Any, Iterator

from . import loading
from .call_options import _INIT_KWARGS, _unknown_kwargs
from .core.models.unigram import PieceVocab, Unigram
from .core.sentencepiece import (
    SentencePieceDecoder,
    SentencePieceNormalizer,
    SentencePieceSplit,
)
from .core.tokenizer import AddedToken, Tokenizer
from .sentencepiece_unigram import SPIECE, _template
from .sp_model import BYTE, CONTROL, NORMAL, UNKNOWN, UNUSED, USER_DEFINED, read_model
from .tokenization_utils import PreTrainedTokenizerFast, save_folder


def sentencepiece_unigram(model_file: str | os.PathLike) -> tuple[Any, Any]:
    """(normaliser, Unigram) that segment exactly as the SentencePiece library does with `model_file`."""
    m = read_model(model_file)
    if m.model_type != "unigram":
        raise ValueError(f"{os.fspath(model_file)}: a {m.model_type} SentencePiece model; Marian tokenizers here read "
                         "Unigram models (what Marian NMT trains)")
    user = [p for p, _, kind in m.pieces if kind == USER_DEFINED]
    norm = SentencePieceNormalizer(m.precompiled_charsmap, m.add_dummy_prefix, m.remove_extra_whitespaces, user,
                                   language_code=True)
    # the library: a user-defined piece scores 0.1 per extra byte (always preferred); control, unknown,
    # byte and unused pieces are never matched in text; the unknown penalty counts from the normal pieces
    pieces = [(p, 0.1 * (len(p.encode("utf-8")) - 1) if kind == USER_DEFINED else s) for p, s, kind in m.pieces]
    skip = [i for i, (_, _, kind) in enumerate(m.pieces) if kind in (CONTROL, UNKNOWN, BYTE, UNUSED)]
    normal = [s for _, s, kind in m.pieces if kind == NORMAL]
    model = Unigram(pieces, unk_id=m.unk_id, byte_fallback=m.byte_fallback, unmatched=skip,
                    min_score=min(normal) if normal else 0.0)
    return norm, model


def marian_tokenizer(spm_file: str | os.PathLike, vocab: dict[str, int], unk_token: str = "<unk>",
                     eos_token: str = "</s>", eos_id: int | None = None) -> Tokenizer:
    """One side of a Marian tokenizer: the SentencePiece model's pieces, ids from the shared `vocab`, ``A </s>``
    (`eos_id`: the id the other side gave ``</s>``; upstream keeps the source ids of special tokens)."""
    norm, pieces = sentencepiece_unigram(spm_file)
    m = read_model(spm_file)
    inner_space = any(SPIECE in p[1:] for p, _ in pieces.pieces)  # then the library's Viterbi runs over whole texts
    tok = Tokenizer(PieceVocab(pieces, vocab, unk_token, language_code=True), normalizer=norm,
                    pre_tokenizer=SentencePieceSplit(language_code=True, split=not inner_space),
                    decoder=SentencePieceDecoder(m.pieces, m.unk_id, m.add_dummy_prefix, m.remove_extra_whitespaces,
                                                 m.unk_surface))
    tok.add_token(AddedToken(eos_token, special=True, normalized=False), idx=eos_id)
    e = ("special", eos_token, 0)
    tok.post_processor = _template([("seq", "A", 0), e], [("seq", "A", 0), ("seq", "B", 0), e], tok)
    return tok


class MarianTokenizer(PreTrainedTokenizerFast):
    """Marian / Opus-MT: ``source.spm`` cuts the inputs, ``target.spm`` the labels (``text_target=``) and the
    decoded outputs; ids come from the shared ``vocab.json`` (or ``target_vocab.json`` for the target side
    with ``separate_vocabs``). Upstream ``MarianTokenizer`` runs the SentencePiece library itself (it has no
    converted tokenizer.json), so both pipelines here are that library's (:func:`sentencepiece_unigram`).
    """

    tokenizer_class_name = "MarianTokenizer"
    _folder_files = "marian"  # how loading.load_folder builds it: source.spm, target.spm, vocab.json
    model_input_names = ["input_ids", "attention_mask"]
    vocab_files_names = {"source_spm": "source.spm", "target_spm": "target.spm", "vocab": "vocab.json",
                         "target_vocab_file": "target_vocab.json"}
    _extra_kwargs: tuple[str, ...] = ("source_lang", "target_lang", "separate_vocabs", "sp_model_kwargs", "target_vocab_file")
    _mark_specials = True  # set per call by _encode: add_special_tokens

    def __init__(self, source_spm: str | os.PathLike, target_spm: str | os.PathLike, vocab: str | os.PathLike | dict[str, int],
                 target_vocab_file: str | os.PathLike | None = None, source_lang: str | None = None,
                 target_lang: str | None = None, unk_token: str = "<unk>", eos_token: str = "</s>",
                 pad_token: str = "<pad>", model_max_length: int = 512, sp_model_kwargs: dict[str, Any] | None = None,
                 separate_vocabs: bool = False, **kwargs: Any) -> None:
        _unknown_kwargs(f"{type(self).__name__}()", {k: v for k, v in kwargs.items() if k not in _INIT_KWARGS},
                        _INIT_KWARGS + self._extra_kwargs + ("source_spm", "target_spm", "vocab"))
        if (sp_model_kwargs or {}).get("enable_sampling"):
            raise ValueError("sp_model_kwargs={'enable_sampling': True} (subword regularisation) is not supported")

        def load(v: Any) -> dict[str, int]:
            if isinstance(v, dict):
                return dict(v)
            with open(v, encoding="utf-8") as f:
                return json.load(f)

        self.encoder = load(vocab)
        if str(pad_token) not in self.encoder:
            raise ValueError(f"pad_token {pad_token!r} must be in the vocab")
        self.separate_vocabs = separate_vocabs
        if separate_vocabs:
            if target_vocab_file is None:
                raise ValueError("separate_vocabs=True needs target_vocab_file= (target_vocab.json)")
            self.target_encoder = load(target_vocab_file)
            self.supported_language_codes: list[str] = []
        else:
            self.target_encoder = self.encoder
            self.supported_language_codes = [k for k in self.encoder if k.startswith(">>") and k.endswith("<<")]
        self.decoder = {v: k for k, v in self.target_encoder.items()}  # ids -> pieces, for decoding (target side)
        self.source_lang, self.target_lang = source_lang, target_lang
        self.spm_files = [os.fspath(source_spm), os.fspath(target_spm)]
        source = marian_tokenizer(source_spm, self.encoder, str(unk_token), str(eos_token))
        target = marian_tokenizer(target_spm, self.target_encoder, str(unk_token), str(eos_token),
                                  eos_id=source.token_to_id(str(eos_token)))
        super().__init__(source, unk_token=unk_token, eos_token=eos_token, pad_token=pad_token,
                         model_max_length=model_max_length, **kwargs)
        self._source_tokenizer, self._target_tokenizer = self._tokenizer, target
        self._source_decoder, self._target_decoder = source.decoder, target.decoder
        self._in_target_context_manager = False
        self.init_kwargs.update(source_lang=source_lang, target_lang=target_lang, separate_vocabs=separate_vocabs,
                                sp_model_kwargs=sp_model_kwargs or {}, target_vocab_file=None if target_vocab_file is None
                                else os.fspath(target_vocab_file))

    # -- source / target ----------------------------------------------------------------------
    def _switch_to_target_mode(self) -> None:
        # tokens added to the tokenizer (specials included) keep their ids on the target side, as upstream
        target = self._target_tokenizer
        for t in self._source_tokenizer.added_tokens:
            if t.content not in target._added_by_content:
                target.add_token(copy.copy(t), idx=t.id)
        self._tokenizer = target

    def _switch_to_input_mode(self) -> None:
        self._tokenizer = self._source_tokenizer

    @contextlib.contextmanager
    def as_target_tokenizer(self) -> Iterator[None]:
        """Encode with the target model inside the block (deprecated upstream: use ``text_target=``)."""
        warnings.warn(
            "`as_target_tokenizer` is deprecated and will be removed in v5 of Transformers. You can tokenize your "
            "labels by using the argument `text_target` of the regular `__call__` method (either in the same call as "
            "your input texts if you use the same keyword arguments, or in a separate call."
        )
        self._switch_to_target_mode()
        self._in_target_context_manager = True
        try:
            yield
        finally:
            self._in_target_context_manager = False
            self._switch_to_input_mode()

    def __call__(self, text: Any = None, text_pair: Any = None, text_target: Any = None, text_pair_target: Any = None,
                 **kwargs: Any) -> Any:
        """``text`` with the source model; ``text_target`` with the target model, returned as ``labels``
        (or alone when there is no ``text``), as upstream ``PreTrainedTokenizerBase.__call__``."""
        if text is None and text_target is None:
            raise ValueError("You need to specify either `text` or `text_target`.")
        encodings = targets = None
        if text is not None:
            encodings = super().__call__(text, text_pair, **kwargs)
        if text_target is not None:
            previous = self._tokenizer
            self._switch_to_target_mode()
            try:
                targets = super().__call__(text_target, text_pair_target, **kwargs)
            finally:
                self._tokenizer = previous
        if encodings is None:
            return targets
        if targets is not None:
            encodings["labels"] = targets["input_ids"]
        return encodings

    def _encode(self, text: Any, text_pair: Any = None, **kwargs: Any) -> Any:
        self._mark_specials = kwargs.get("add_special_tokens", True)
        return super()._encode(text, text_pair, **kwargs)

    def _to_dict(self, encodings: list[Any], *args: Any) -> tuple[dict[str, list], list[Any]]:
        data, flat = super()._to_dict(encodings, *args)
        if "special_tokens_mask" in data and self._mark_specials:
            # upstream's slow mask also marks a special token (eos, pad; not unk) written in the text
            special = set(self.all_special_ids) - {self.unk_token_id}
            data["special_tokens_mask"] = [[1 if m or i in special else 0 for i, m in zip(ids, mask)]
                                           for ids, mask in zip(data["input_ids"], data["special_tokens_mask"])]
        return data, flat

    # -- decoding: upstream's convert_tokens_to_string over the target (or source) SentencePiece model --------
    def convert_tokens_to_string(self, tokens: list[str], use_source_tokenizer: bool = False) -> str:
        """Special tokens are written as they are (and a space); the pieces between go through the model's
        decoder; then every ``▁`` is a space and the ends are stripped."""
        dec = self._source_decoder if use_source_tokenizer else self._target_decoder
        special = set(self.all_special_tokens)
        out, run = [], []
        for t in tokens:
            if t in special:
                out.append(dec.decode(run) + t + " ")
                run = []
            else:
                run.append(t)
        out.append(dec.decode(run))
        return "".join(out).replace(SPIECE, " ").strip()

    def decode(self, token_ids: Any, skip_special_tokens: bool = False, clean_up_tokenization_spaces: bool | None = None,
               use_source_tokenizer: bool = False, spaces_between_special_tokens: bool = True, **kwargs: Any) -> str:
        """Upstream's slow ``_decode``: ids -> tokens (vocab.json; an id it lacks -> unk), tokens added by the
        user (not special) stand alone, the rest is :meth:`convert_tokens_to_string`."""
        _unknown_kwargs("decode()", kwargs, ("token_ids", "skip_special_tokens", "clean_up_tokenization_spaces",
                                             "use_source_tokenizer", "spaces_between_special_tokens"))
        ids = self._ids_list(token_ids)
        special_ids = set(self.all_special_ids)
        added = self._source_tokenizer._added_by_id
        unk = str(self.unk_token)
        tokens = [added[i].content if i in added else self.decoder.get(i, unk)
                  for i in ids if not (skip_special_tokens and i in special_ids)]
        special = set(self.all_special_tokens)
        alone = {t.content for t in self._source_tokenizer.added_tokens if t.content not in special}
        alone |= {t for t in self.additional_special_tokens if self.convert_tokens_to_ids(t) >= self.vocab_size}
        parts: list[str] = []
        run: list[str] = []
        for t in tokens:
            if skip_special_tokens and t in special:
                continue
            if t in alone:
                if run:
                    s = self.convert_tokens_to_string(run, use_source_tokenizer)
                    if s:
                        parts.append(s)
                    run = []
                parts.append(t)
            else:
                run.append(t)
        if run:
            parts.append(self.convert_tokens_to_string(run, use_source_tokenizer))
        text = (" " if spaces_between_special_tokens else "").join(parts)
        cleanup = self.clean_up_tokenization_spaces if clean_up_tokenization_spaces is None else clean_up_tokenization_spaces
        return self.clean_up_tokenization(text) if cleanup else text

    def get_special_tokens_mask(self, token_ids_0: list[int], token_ids_1: list[int] | None = None,
                                already_has_special_tokens: bool = False) -> list[int]:
        """1 for eos/pad (any special but unk) in the ids, and for the eos appended (upstream)."""
        special = set(self.all_special_ids) - {self.unk_token_id}
        mask = [1 if i in special else 0 for i in list(token_ids_0) + list(token_ids_1 or [])]
        return mask if already_has_special_tokens else mask + [1]

    def build_inputs_with_special_tokens(self, token_ids_0: list[int], token_ids_1: list[int] | None = None) -> list[int]:
        return list(token_ids_0) + list(token_ids_1 or []) + [self.eos_token_id]

    def get_src_vocab(self) -> dict[str, int]:
        return self._source_tokenizer.get_vocab(with_added_tokens=True)

    def get_tgt_vocab(self) -> dict[str, int]:
        return {**self.target_encoder, **{t.content: t.id for t in self._source_tokenizer.added_tokens}}

    # -- saving: the files upstream writes and reads (no tokenizer.json: upstream has no fast Marian) ------
    def save_pretrained(self, save_directory: str | os.PathLike, legacy_format: bool | None = None,
                        filename_prefix: str | None = None, push_to_hub: bool = False, **kwargs: Any) -> tuple[str, ...]:
        folder, pre = save_folder(save_directory, filename_prefix, push_to_hub, kwargs)
        cfg = self._config_for_save()
        cfg.pop("target_vocab_file", None)
        written = [folder / (pre + loading.CONFIG_FILE), folder / (pre + loading.SPECIAL_TOKENS_MAP_FILE)]
        loading.write_json(written[0], cfg)
        loading.write_json(written[1], self.special_tokens_map)
        vocabs = [("vocab", self.encoder)] + ([("target_vocab_file", self.target_encoder)] if self.separate_vocabs else [])
        for key, vocab in vocabs:
            path = folder / (pre + self.vocab_files_names[key])
            loading.write_atomic(path, json.dumps(vocab, indent=2) + "\n")
            written.append(path)
        for key, src in zip(("source_spm", "target_spm"), self.spm_files):
            path = folder / (pre + self.vocab_files_names[key])
            if Path(src).resolve() != path.resolve():
                shutil.copyfile(src, path)
            written.append(path)
        written += loading.write_added_tokens(self._source_tokenizer, folder, pre)  # as upstream's slow tokenizers
        return tuple(str(p) for p in written)
