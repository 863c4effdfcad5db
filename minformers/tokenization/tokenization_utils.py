"""PreTrainedTokenizerFast: the ``transformers`` tokenizer API over a composed :class:`~.core.tokenizer.Tokenizer`.

``tokenizer(texts, padding=True, truncation=True, return_tensors="pt")`` ->
:class:`~.batch_encoding.BatchEncoding`. Behaviour follows transformers'
``PreTrainedTokenizerFast``; the reference library run on the same files is the
test oracle. Argument checks and the padding/truncation strategies: :mod:`.call_options`;
special-token attributes and added tokens: :mod:`.special_tokens`.
"""

from __future__ import annotations

import contextlib
import copy
import gc
import inspect
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Iterable, Sequence

from minformers.hub import resolve_model_dir

from . import loading
from .batch_encoding import BatchEncoding
from .call_options import (  # noqa: F401 (the constants: importable from here too)
    _BERT_KWARGS,
    _BPE_KWARGS,
    _CALL_KWARGS,
    _FROM_PRETRAINED_KWARGS,
    _INIT_KWARGS,
    LARGE_INTEGER,
    VERY_LARGE_INTEGER,
    _describe,
    _unknown_kwargs,
    call_options,
    strategies,
    text_inputs,
    warn_if_too_long,
)
from .chat_template import ChatTemplateMixin
from .core.encoding import Encoding
from .core.tokenizer import AddedToken, Tokenizer, pad_batch, padding_params, truncation_params
from .core.trainers import train_new_tokenizer
from .special_tokens import SPECIAL_TOKENS_ATTRIBUTES, SpecialTokensMixin


@contextlib.contextmanager
def _gc_paused():
    """Encoding a batch allocates many small lists and tuples (no reference cycles: reference counting
    frees them). Each allocation burst would trigger the cyclic garbage collector, which walks every
    live object of the process: with torch and a model loaded, that halved the tokenizer's speed.
    Paused for the call, as the collector runs again right after."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def save_folder(save_directory: str | os.PathLike, filename_prefix: str | None, push_to_hub: bool,
                kwargs: dict[str, Any]) -> tuple[Path, str]:
    """``save_pretrained``'s checks: (the folder, made if missing; the file-name prefix)."""
    _unknown_kwargs("save_pretrained()", {k: v for k, v in kwargs.items() if k != "safe_serialization"},
                    ("legacy_format", "filename_prefix", "push_to_hub"))
    if push_to_hub:
        raise ValueError("push_to_hub is not available: the Hub is not reachable from minformers")
    folder = Path(save_directory)
    if folder.is_file():
        raise OSError(f"Provided path ({folder}) should be a directory, not a file")
    folder.mkdir(parents=True, exist_ok=True)
    return folder, f"{filename_prefix}-" if filename_prefix else ""


def _added_tokens_in_order(decoder: dict[int | str, Any] | None) -> list[AddedToken]:
    """tokenizer_config.json's ``added_tokens_decoder`` ({id: token dict, AddedToken or str}) -> tokens by id."""
    out = []
    for idx, value in sorted(((int(i), v) for i, v in (decoder or {}).items()), key=lambda kv: kv[0]):
        if isinstance(value, str):
            token = AddedToken(value)
        elif isinstance(value, dict):
            if not isinstance(value.get("content"), str):
                raise ValueError(f"added_tokens_decoder[{idx}] has no 'content' string: {value!r}")
            token = AddedToken(value["content"], special=bool(value.get("special", False)), normalized=value.get("normalized"),
                               lstrip=bool(value.get("lstrip", False)), rstrip=bool(value.get("rstrip", False)),
                               single_word=bool(value.get("single_word", False)))
        elif hasattr(value, "content"):  # ours, or the tokenizers library's AddedToken
            token = AddedToken(str(value.content), special=bool(getattr(value, "special", False)),
                               normalized=getattr(value, "normalized", None), lstrip=bool(getattr(value, "lstrip", False)),
                               rstrip=bool(getattr(value, "rstrip", False)), single_word=bool(getattr(value, "single_word", False)))
        else:
            raise TypeError(f"added_tokens_decoder[{idx}] is a {type(value).__name__}; give a token dict, AddedToken or str")
        out.append(token)
    return out


class PreTrainedTokenizerFast(SpecialTokensMixin, ChatTemplateMixin):
    """The ``transformers`` tokenizer API over a :class:`Tokenizer`.

    Load with :meth:`from_pretrained`; call with one text, a list of texts, or
    text pairs. See ``transformers.PreTrainedTokenizerFast`` for the contract
    this follows.
    """

    model_input_names: list[str] = ["input_ids", "token_type_ids", "attention_mask"]
    padding_side: str = "right"
    truncation_side: str = "right"
    tokenizer_class_name = "PreTrainedTokenizerFast"
    is_fast = True

    def __init__(
        self,
        tokenizer_object: Tokenizer | None = None,
        *,
        tokenizer_file: str | os.PathLike | None = None,
        model_max_length: int | None = None,
        padding_side: str | None = None,
        truncation_side: str | None = None,
        model_input_names: list[str] | None = None,
        clean_up_tokenization_spaces: bool = False,
        bos_token: str | None = None,
        eos_token: str | None = None,
        unk_token: str | None = None,
        sep_token: str | None = None,
        pad_token: str | None = None,
        cls_token: str | None = None,
        mask_token: str | None = None,
        additional_special_tokens: list[str] | None = None,
        name_or_path: str = "",
        split_special_tokens: bool = False,
        chat_template: str | dict[str, str] | None = None,
        added_tokens_decoder: dict[int | str, AddedToken | dict[str, Any] | str] | None = None,
        **kwargs: Any,
    ) -> None:
        """`added_tokens_decoder` ({id: token}, as tokenizer_config.json keeps it): tokens the tokenizer must
        have; those it lacks are added in id order, before the special tokens, as upstream does."""
        _unknown_kwargs(type(self).__name__ + "()", kwargs, _INIT_KWARGS + ("tokenizer_object", "tokenizer_file"))
        if tokenizer_object is None:
            if tokenizer_file is None:
                raise ValueError("PreTrainedTokenizerFast needs tokenizer_object= or tokenizer_file= (a tokenizer.json)")
            tokenizer_object = Tokenizer.from_file(tokenizer_file)
        else:
            tokenizer_object = copy.deepcopy(tokenizer_object)
        self._tokenizer = tokenizer_object
        # transformers manages truncation/padding per call: the file's settings do not apply.
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        self.model_max_length = VERY_LARGE_INTEGER if model_max_length is None else int(model_max_length)
        if padding_side is not None:
            self.padding_side = padding_side
        if truncation_side is not None:
            self.truncation_side = truncation_side
        for side in (self.padding_side, self.truncation_side):
            if side not in ("right", "left"):
                raise ValueError(f"padding/truncation side must be 'right' or 'left', got {side!r}")
        if model_input_names is not None:
            self.model_input_names = list(model_input_names)
        self.clean_up_tokenization_spaces = clean_up_tokenization_spaces
        self.name_or_path = str(name_or_path)
        self.split_special_tokens = split_special_tokens
        self.chat_template = chat_template
        self.deprecation_warnings: dict[str, bool] = {}
        self.init_kwargs: dict[str, Any] = {}
        self.pad_token_type_id = 0
        self._special: dict[str, str | None] = {}
        given = dict(bos_token=bos_token, eos_token=eos_token, unk_token=unk_token, sep_token=sep_token,
                     pad_token=pad_token, cls_token=cls_token, mask_token=mask_token)
        for key in SPECIAL_TOKENS_ATTRIBUTES:
            value = given[key]
            self._special[key] = str(value) if value is not None else None
        self._additional: list[str] = [str(t) for t in additional_special_tokens or []]
        for token in _added_tokens_in_order(added_tokens_decoder):
            if token.content not in self._tokenizer._added_by_content:
                self._tokenizer.add_token(token)
        new_specials = [t for t in list(self._special.values()) + self._additional if t is not None]
        for t in new_specials:
            if t not in self._tokenizer._added_by_content:
                self._tokenizer.add_token(AddedToken(t, special=True, normalized=False))

    # -- encoding -------------------------------------------------------------------------
    def __call__(self, text: Any = None, text_pair: Any = None, **kwargs: Any) -> BatchEncoding:
        """Tokenise one text, a batch of texts, or text pairs (see ``transformers`` ``__call__``)."""
        opts = call_options(kwargs)
        if text is None:
            raise ValueError("You need to specify `text` (a str, a list of str, or pre-split words).")
        with _gc_paused():
            return self._encode(text, text_pair, **opts)

    def _encode(
        self,
        text: Any,
        text_pair: Any = None,
        add_special_tokens: bool = True,
        padding: bool | str = False,
        truncation: bool | str | None = None,
        max_length: int | None = None,
        stride: int = 0,
        is_split_into_words: bool = False,
        pad_to_multiple_of: int | None = None,
        padding_side: str | None = None,
        return_tensors: str | None = None,
        return_token_type_ids: bool | None = None,
        return_attention_mask: bool | None = None,
        return_overflowing_tokens: bool = False,
        return_special_tokens_mask: bool = False,
        return_offsets_mapping: bool = False,
        return_length: bool = False,
        verbose: bool = True,
    ) -> BatchEncoding:
        """Check the arguments (:mod:`.call_options`) -> encode, truncating -> pad -> :class:`BatchEncoding`."""
        batched, inputs = text_inputs(text, text_pair, is_split_into_words)
        pad_strategy, trunc_strategy, max_length = strategies(self, padding, truncation, max_length, pad_to_multiple_of, verbose)
        # return_overflowing_tokens with pairs and 'longest_first': the fast (Rust) tokenizer allows it; so do we
        # This call's settings go to the core as arguments: the backend's stored ones are never set or reset here.
        tok = self._tokenizer
        trunc = False if trunc_strategy is None else truncation_params(
            max_length, stride=stride, strategy=trunc_strategy, direction=self.truncation_side)
        encodings = [tok.encode(a, b, is_split_into_words, add_special_tokens, truncation=trunc, padding=False)
                     for a, b in inputs]
        if pad_strategy is not None:
            pad_batch(encodings, padding_params(
                direction=padding_side or self.padding_side, pad_id=self.pad_token_id, pad_type_id=self.pad_token_type_id,
                pad_token=self.pad_token, length=max_length if pad_strategy == "max_length" else None,
                pad_to_multiple_of=pad_to_multiple_of,
            ))
        data, flat = self._to_dict(
            encodings, return_token_type_ids, return_attention_mask, return_overflowing_tokens,
            return_special_tokens_mask, return_offsets_mapping, return_length,
        )
        warn_if_too_long(self, data["input_ids"], max_length, verbose)
        n_seq = 2 if any(b is not None for _, b in inputs) else 1
        if not batched and return_tensors is None and not return_overflowing_tokens:
            data = {k: (v[0] if v and isinstance(v[0], list) else v) for k, v in data.items()}
        return BatchEncoding(data, flat, tensor_type=return_tensors, n_sequences=n_seq)

    def _to_dict(
        self, encodings: list[Encoding], return_token_type_ids: bool | None, return_attention_mask: bool | None,
        return_overflowing_tokens: bool, return_special_tokens_mask: bool, return_offsets_mapping: bool, return_length: bool,
    ) -> tuple[dict[str, list], list[Encoding]]:
        if return_token_type_ids is None:
            return_token_type_ids = "token_type_ids" in self.model_input_names
        if return_attention_mask is None:
            return_attention_mask = "attention_mask" in self.model_input_names
        if return_overflowing_tokens:
            flat, mapping = [], []
            for i, e in enumerate(encodings):
                rows = [e] + e.overflowing
                flat += rows
                mapping += [i] * len(rows)
        else:
            flat, mapping = encodings, None
        data: dict[str, list] = {"input_ids": [e.ids for e in flat]}
        if return_token_type_ids:
            data["token_type_ids"] = [e.type_ids for e in flat]
        if return_attention_mask:
            data["attention_mask"] = [e.attention_mask for e in flat]
        if return_special_tokens_mask:
            data["special_tokens_mask"] = [e.special_tokens_mask for e in flat]
        if return_offsets_mapping:
            data["offset_mapping"] = [e.offsets for e in flat]
        if return_length:
            data["length"] = [len(e.ids) for e in flat]
        if mapping is not None:
            data["overflow_to_sample_mapping"] = mapping
        return data, flat

    def encode_plus(self, text: Any, text_pair: Any = None, **kwargs: Any) -> BatchEncoding:
        return self(text, text_pair, **kwargs)

    def batch_encode_plus(self, batch_text_or_text_pairs: Sequence[Any], **kwargs: Any) -> BatchEncoding:
        if not isinstance(batch_text_or_text_pairs, (list, tuple)):
            raise TypeError(f"batch_text_or_text_pairs has to be a list or a tuple (got {type(batch_text_or_text_pairs).__name__})")
        pairs = [x for x in batch_text_or_text_pairs if isinstance(x, tuple) and len(x) == 2 and not kwargs.get("is_split_into_words")]
        if pairs and len(pairs) == len(batch_text_or_text_pairs):
            return self([a for a, _ in pairs], [b for _, b in pairs], **kwargs)
        return self(list(batch_text_or_text_pairs), **kwargs)

    def encode(
        self, text: Any, text_pair: Any = None, add_special_tokens: bool = True, padding: bool | str = False,
        truncation: bool | str | None = None, max_length: int | None = None, stride: int = 0,
        padding_side: str | None = None, return_tensors: str | None = None, **kwargs: Any,
    ) -> list[int] | Any:
        """Token ids of one text (or pair), like ``tokenizer(text)["input_ids"]``."""
        opts = call_options(kwargs)
        out = self._encode(
            text, text_pair, add_special_tokens=add_special_tokens, padding=padding, truncation=truncation,
            max_length=max_length, stride=stride, padding_side=padding_side, return_tensors=return_tensors, **opts,
        )
        return out["input_ids"]

    def tokenize(self, text: str, pair: str | None = None, add_special_tokens: bool = False, **kwargs: Any) -> list[str]:
        opts = call_options(kwargs)
        opts.setdefault("add_special_tokens", add_special_tokens)
        return self._encode(text, pair, **opts).encodings[0].tokens

    # -- decoding -------------------------------------------------------------------------
    @staticmethod
    def _ids_list(token_ids: Any) -> list[int]:
        if hasattr(token_ids, "tolist"):
            token_ids = token_ids.tolist()
        if isinstance(token_ids, int):
            return [token_ids]
        return [int(i) for i in token_ids]

    def decode(
        self, token_ids: Any, skip_special_tokens: bool = False, clean_up_tokenization_spaces: bool | None = None, **kwargs: Any
    ) -> str:
        _unknown_kwargs("decode()", kwargs, ("token_ids", "skip_special_tokens", "clean_up_tokenization_spaces"))
        text = self._tokenizer.decode(self._ids_list(token_ids), skip_special_tokens=skip_special_tokens)
        cleanup = self.clean_up_tokenization_spaces if clean_up_tokenization_spaces is None else clean_up_tokenization_spaces
        return self.clean_up_tokenization(text) if cleanup else text

    def batch_decode(
        self, sequences: Any, skip_special_tokens: bool = False, clean_up_tokenization_spaces: bool | None = None, **kwargs: Any
    ) -> list[str]:
        if hasattr(sequences, "tolist"):
            sequences = sequences.tolist()
        return [self.decode(s, skip_special_tokens, clean_up_tokenization_spaces, **kwargs) for s in sequences]

    @staticmethod
    def clean_up_tokenization(out_string: str) -> str:
        return (
            out_string.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",")
            .replace(" ' ", "'").replace(" n't", "n't").replace(" 'm", "'m").replace(" 's", "'s")
            .replace(" 've", "'ve").replace(" 're", "'re")
        )

    # -- padding a batch (data collators) ---------------------------------------------------
    def pad(
        self,
        encoded_inputs: Any,
        padding: bool | str = True,
        max_length: int | None = None,
        pad_to_multiple_of: int | None = None,
        padding_side: str | None = None,
        return_attention_mask: bool | None = None,
        return_tensors: str | None = None,
        verbose: bool = True,
    ) -> BatchEncoding:
        """Pad already-encoded inputs (a dict of lists, or a list of dicts) to the same length."""
        if isinstance(encoded_inputs, (list, tuple)) and encoded_inputs and isinstance(encoded_inputs[0], Mapping):
            encoded_inputs = {k: [ex[k] for ex in encoded_inputs] for k in encoded_inputs[0].keys()}
        if not isinstance(encoded_inputs, Mapping):
            raise TypeError(f"pad() takes a dict of lists or a list of dicts; got {_describe(encoded_inputs)}")
        main = self.model_input_names[0]
        if main not in encoded_inputs:
            raise ValueError(
                f"You should supply an encoding or a list of encodings to this method that includes {main}, but you "
                f"provided {list(encoded_inputs.keys())}"
            )
        ids = encoded_inputs[main]
        if ids is None or (hasattr(ids, "__len__") and len(ids) == 0):
            return BatchEncoding(dict(encoded_inputs), tensor_type=return_tensors)
        first = ids[0]
        if return_tensors is None:
            mod = type(first).__module__ if not isinstance(first, (list, tuple)) or not first else type(first[0]).__module__
            if mod.startswith("torch"):
                return_tensors = "pt"
            elif mod.startswith("numpy"):
                return_tensors = "np"
        data = {k: (v.tolist() if hasattr(v, "tolist") else [x.tolist() if hasattr(x, "tolist") else x for x in v]) for k, v in encoded_inputs.items()}
        pad_strategy, _, max_length = strategies(self, padding, False, max_length, pad_to_multiple_of, verbose)
        batched = isinstance(data[main][0], (list, tuple))
        rows = data[main] if batched else [data[main]]
        if return_attention_mask is None:
            return_attention_mask = "attention_mask" in self.model_input_names
        if pad_strategy == "longest":
            max_length = max(len(r) for r in rows)
        if max_length is not None and pad_to_multiple_of and max_length % pad_to_multiple_of:
            max_length += pad_to_multiple_of - max_length % pad_to_multiple_of
        side = padding_side or self.padding_side
        n_rows = len(rows)
        out: dict[str, list] = {k: (list(v) if batched else [v]) for k, v in data.items()}
        if return_attention_mask and "attention_mask" not in out:
            out["attention_mask"] = [[1] * len(r) for r in rows]
        fill = {main: self.pad_token_id, "token_type_ids": self.pad_token_type_id, "attention_mask": 0, "special_tokens_mask": 1}
        for i in range(n_rows):
            n = (max_length - len(rows[i])) if pad_strategy is not None and max_length is not None else 0
            if n <= 0:
                continue
            for key, value in fill.items():
                if key in out:
                    row = list(out[key][i])
                    out[key][i] = row + [value] * n if side == "right" else [value] * n + row
        if not batched:
            out = {k: v[0] for k, v in out.items()}
        return BatchEncoding(out, tensor_type=return_tensors)

    # -- loading and saving ---------------------------------------------------------------
    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | os.PathLike, *init_inputs: Any, **kwargs: Any) -> "PreTrainedTokenizerFast":
        """Load from a folder or model name: tokenizer.json if present, else vocab.txt + tokenizer_config.json."""
        valid = set(_FROM_PRETRAINED_KWARGS) | set(_INIT_KWARGS) | set(_BERT_KWARGS) | set(_BPE_KWARGS)
        valid |= set(getattr(cls, "_extra_kwargs", ()))  # a class's own options (T5's extra_ids, Marian's source_lang …)
        _unknown_kwargs(f"{cls.__name__}.from_pretrained()", {k: v for k, v in kwargs.items() if k not in valid}, valid)
        if init_inputs:
            raise TypeError(f"{cls.__name__}.from_pretrained() takes the folder or name only; pass options as keywords")
        hub_keys = ("revision", "cache_dir", "local_files_only", "token", "force_download", "subfolder")
        hub_args = {k: kwargs.pop(k) for k in hub_keys if k in kwargs}
        hub_args = {k: v for k, v in hub_args.items() if v is not None}
        if kwargs.get("trust_remote_code"):
            raise ValueError("trust_remote_code=True is refused: minformers runs only its own tokenizers")
        for k in ("use_fast", "trust_remote_code", "tokenizer_type", "use_auth_token", "proxies", "_from_auto"):
            kwargs.pop(k, None)
        folder = resolve_model_dir(pretrained_model_name_or_path, **hub_args)
        return loading.load_folder(cls, Path(folder), str(pretrained_model_name_or_path), kwargs, PreTrainedTokenizerFast)

    def _config_for_save(self) -> dict[str, Any]:
        cfg = dict(self.init_kwargs)
        added = {}
        for t in sorted(self._tokenizer.added_tokens, key=lambda t: t.id):
            added[str(t.id)] = {
                "content": t.content, "lstrip": t.lstrip, "normalized": t.normalized, "rstrip": t.rstrip,
                "single_word": t.single_word, "special": t.special,
            }
        cfg["added_tokens_decoder"] = added
        cfg["clean_up_tokenization_spaces"] = self.clean_up_tokenization_spaces
        if self.chat_template is not None:
            cfg["chat_template"] = self.chat_template
        cfg.update(self.special_tokens_map)
        cfg["model_max_length"] = self.model_max_length
        cfg["tokenizer_class"] = self.tokenizer_class_name
        if self.padding_side != "right":
            cfg["padding_side"] = self.padding_side
        if self.truncation_side != "right":
            cfg["truncation_side"] = self.truncation_side
        for k in ("name_or_path", "special_tokens_map_file", "tokenizer_file", "auto_map"):
            cfg.pop(k, None)
        return cfg

    def save_pretrained(self, save_directory: str | os.PathLike, legacy_format: bool | None = None, filename_prefix: str | None = None, push_to_hub: bool = False, **kwargs: Any) -> tuple[str, ...]:
        """Write tokenizer.json, tokenizer_config.json, special_tokens_map.json, the vocabulary files (vocab.txt, or
        vocab.json + merges.txt) and, when tokens were added beyond the vocabulary, added_tokens.json (atomically)."""
        folder, pre = save_folder(save_directory, filename_prefix, push_to_hub, kwargs)
        paths = {name: folder / (pre + name) for name in (loading.CONFIG_FILE, loading.SPECIAL_TOKENS_MAP_FILE, loading.TOKENIZER_FILE)}
        loading.write_json(paths[loading.CONFIG_FILE], self._config_for_save())
        loading.write_json(paths[loading.SPECIAL_TOKENS_MAP_FILE], self.special_tokens_map)
        self._tokenizer.save(paths[loading.TOKENIZER_FILE])
        written = loading.write_vocabulary_files(self._tokenizer.model, folder, pre)
        if written:  # with the slow-tokenizer files, as upstream: the added tokens they lack
            written += loading.write_added_tokens(self._tokenizer, folder, pre)
        return tuple(str(p) for p in paths.values()) + tuple(str(p) for p in written)

    # -- training a new vocabulary ------------------------------------------------------------
    def train_new_from_iterator(
        self,
        text_iterator: Iterable[str] | Iterable[Sequence[str]],
        vocab_size: int,
        length: int | None = None,
        new_special_tokens: list[str | AddedToken] | None = None,
        special_tokens_map: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> "PreTrainedTokenizerFast":
        """A tokenizer of the same class trained on `text_iterator` (texts, or batches of texts).

        Keeps this one's normalizer, pre-tokenizer, decoder, special tokens and
        options; `kwargs` are trainer options (``min_frequency``, ``limit_alphabet``
        …). WordPiece and BPE models: see :mod:`.core.trainers`.
        """
        del length  # only sizes a progress bar upstream
        rename = dict(special_tokens_map or {})
        new = train_new_tokenizer(self._tokenizer, text_iterator, vocab_size, new_special_tokens, rename, **kwargs)
        # The transformers-level object: the same class, the same options and special tokens.
        init = dict(self.init_kwargs)
        for key in SPECIAL_TOKENS_ATTRIBUTES:
            value = getattr(self, key)
            init[key] = rename.get(value, value) if value is not None else None
        additional = [rename.get(t, t) for t in self.additional_special_tokens]
        additional += [t if isinstance(t, str) else t.content for t in new_special_tokens or []]
        if additional:
            init["additional_special_tokens"] = additional
        init["name_or_path"] = self.name_or_path
        for key in ("model_max_length", "padding_side", "truncation_side", "clean_up_tokenization_spaces", "chat_template",
                    "split_special_tokens"):
            if hasattr(self, key):
                init[key] = getattr(self, key)
        cls = type(self)
        out = cls(tokenizer_object=new, **_init_kwargs_for(cls, init))
        out.init_kwargs = {**{k: v for k, v in self.init_kwargs.items() if k not in SPECIAL_TOKENS_ATTRIBUTES}, **out.init_kwargs}
        return out

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name_or_path='{self.name_or_path}', vocab_size={self.vocab_size}, "
            f"model_max_length={self.model_max_length}, is_fast=True, padding_side='{self.padding_side}', "
            f"truncation_side='{self.truncation_side}', special_tokens={self.special_tokens_map}, "
            f"clean_up_tokenization_spaces={self.clean_up_tokenization_spaces})"
        )


def _init_kwargs_for(cls: type, init_kwargs: dict[str, Any]) -> dict[str, Any]:
    """The saved init options that `cls` accepts (the rest stay in ``init_kwargs`` only)."""
    accepted = set(_INIT_KWARGS) | set(getattr(cls, "_extra_kwargs", ()))
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is not None:
            accepted |= {p.name for p in inspect.signature(init).parameters.values()
                         if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    accepted -= {"self", "vocab_file", "merges_file", "tokenizer_file", "tokenizer_object"}
    return {k: v for k, v in init_kwargs.items() if k in accepted}


PreTrainedTokenizer = PreTrainedTokenizerFast
