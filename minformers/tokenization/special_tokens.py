"""Special-token attributes, vocabulary and added-token management of ``PreTrainedTokenizerFast``.

A mixin so the ``transformers`` API class stays readable; it works on
``self._tokenizer`` (the composed :class:`~.core.tokenizer.Tokenizer`), ``self._special``
(attribute name -> token string) and ``self._additional``.
"""

from __future__ import annotations

from typing import Any, Sequence

from .core.tokenizer import AddedToken, Tokenizer

SPECIAL_TOKENS_ATTRIBUTES = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"]


class SpecialTokensMixin:
    _tokenizer: Tokenizer
    _special: dict[str, str | None]
    _additional: list[str]

    # -- special tokens ----------------------------------------------------------------------
    def _special_id(self, key: str) -> int | None:
        tok = self._special.get(key)
        return None if tok is None else self.convert_tokens_to_ids(tok)

    def _set_special(self, key: str, value: str | None) -> None:
        self._special[key] = None if value is None else str(value)
        if value is not None and str(value) not in self._tokenizer._added_by_content:
            self._tokenizer.add_token(AddedToken(str(value), special=True, normalized=False))

    bos_token = property(lambda s: s._special["bos_token"], lambda s, v: s._set_special("bos_token", v))
    eos_token = property(lambda s: s._special["eos_token"], lambda s, v: s._set_special("eos_token", v))
    unk_token = property(lambda s: s._special["unk_token"], lambda s, v: s._set_special("unk_token", v))
    sep_token = property(lambda s: s._special["sep_token"], lambda s, v: s._set_special("sep_token", v))
    pad_token = property(lambda s: s._special["pad_token"], lambda s, v: s._set_special("pad_token", v))
    cls_token = property(lambda s: s._special["cls_token"], lambda s, v: s._set_special("cls_token", v))
    mask_token = property(lambda s: s._special["mask_token"], lambda s, v: s._set_special("mask_token", v))
    bos_token_id = property(lambda s: s._special_id("bos_token"))
    eos_token_id = property(lambda s: s._special_id("eos_token"))
    unk_token_id = property(lambda s: s._special_id("unk_token"))
    sep_token_id = property(lambda s: s._special_id("sep_token"))
    pad_token_id = property(lambda s: s._special_id("pad_token"))
    cls_token_id = property(lambda s: s._special_id("cls_token"))
    mask_token_id = property(lambda s: s._special_id("mask_token"))

    @property
    def additional_special_tokens(self) -> list[str]:
        return list(self._additional)

    @property
    def special_tokens_map(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: v for k, v in self._special.items() if v is not None}
        if self._additional:
            out["additional_special_tokens"] = list(self._additional)
        return out

    @property
    def all_special_tokens(self) -> list[str]:
        seen: list[str] = []
        for t in [v for v in self._special.values() if v is not None] + self._additional:
            if t not in seen:
                seen.append(t)
        return seen

    @property
    def all_special_ids(self) -> list[int]:
        return self.convert_tokens_to_ids(self.all_special_tokens)

    # -- vocabulary -------------------------------------------------------------------------
    @property
    def backend_tokenizer(self) -> Tokenizer:
        return self._tokenizer

    @property
    def vocab_size(self) -> int:
        return self._tokenizer.get_vocab_size(with_added_tokens=False)

    def __len__(self) -> int:
        return self._tokenizer.get_vocab_size(with_added_tokens=True)

    def get_vocab(self) -> dict[str, int]:
        return self._tokenizer.get_vocab(with_added_tokens=True)

    @property
    def vocab(self) -> dict[str, int]:
        return self.get_vocab()

    def get_added_vocab(self) -> dict[str, int]:
        """Every added token (special ones in the vocabulary too, as upstream), by id."""
        return {t.content: t.id for t in sorted(self._tokenizer.added_tokens, key=lambda t: t.id)}

    def add_tokens(self, new_tokens: str | AddedToken | list[str | AddedToken], special_tokens: bool = False) -> int:
        if isinstance(new_tokens, (str, AddedToken)):
            new_tokens = [new_tokens]
        if special_tokens:
            return self._tokenizer.add_special_tokens(new_tokens)
        return self._tokenizer.add_tokens(new_tokens)

    def add_special_tokens(self, special_tokens_dict: dict[str, Any], replace_additional_special_tokens: bool = True) -> int:
        added = 0
        for key, value in special_tokens_dict.items():
            if key == "additional_special_tokens":
                values = [str(v) for v in value]
                added += self._tokenizer.add_special_tokens(values)
                self._additional = values if replace_additional_special_tokens else self._additional + values
            elif key in SPECIAL_TOKENS_ATTRIBUTES:
                added += self._tokenizer.add_special_tokens([str(value)])
                self._special[key] = str(value)
            else:
                raise ValueError(f"{key!r} is not a special token name; use one of {SPECIAL_TOKENS_ATTRIBUTES + ['additional_special_tokens']}")
        return added

    def convert_tokens_to_ids(self, tokens: str | Sequence[str] | None) -> int | list[int] | None:
        if tokens is None:
            return None
        if isinstance(tokens, str):
            idx = self._tokenizer.token_to_id(tokens)
            return self.unk_token_id if idx is None else idx
        return [self.convert_tokens_to_ids(t) for t in tokens]

    def convert_ids_to_tokens(self, ids: int | Sequence[int], skip_special_tokens: bool = False) -> str | list[str]:
        if isinstance(ids, int) or (hasattr(ids, "ndim") and ids.ndim == 0):
            return self._tokenizer.id_to_token(int(ids))
        special = set(self.all_special_ids) if skip_special_tokens else ()
        return [self._tokenizer.id_to_token(int(i)) for i in ids if int(i) not in special]

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        dec = self._tokenizer.decoder
        return dec.decode(tokens) if dec is not None else " ".join(tokens)

    def num_special_tokens_to_add(self, pair: bool = False) -> int:
        return self._tokenizer.num_special_tokens_to_add(pair)

    def build_inputs_with_special_tokens(self, token_ids_0: list[int], token_ids_1: list[int] | None = None) -> list[int]:
        out = [self.cls_token_id] + list(token_ids_0) + [self.sep_token_id]
        if token_ids_1 is not None:
            out += list(token_ids_1) + [self.sep_token_id]
        return out

    def create_token_type_ids_from_sequences(self, token_ids_0: list[int], token_ids_1: list[int] | None = None) -> list[int]:
        out = [0] * (len(token_ids_0) + 2)
        if token_ids_1 is not None:
            out += [1] * (len(token_ids_1) + 1)
        return out

    def get_special_tokens_mask(
        self, token_ids_0: list[int], token_ids_1: list[int] | None = None, already_has_special_tokens: bool = False
    ) -> list[int]:
        if already_has_special_tokens:
            special = set(self.all_special_ids)
            return [1 if i in special else 0 for i in token_ids_0]
        out = [1] + [0] * len(token_ids_0) + [1]
        if token_ids_1 is not None:
            out += [0] * len(token_ids_1) + [1]
        return out

