"""The five stages composed: ``Tokenizer`` (the analogue of ``tokenizers.Tokenizer``).

    text ──► split out added tokens ──► normalize ──► pre-tokenize ──► model ──► post-process ──► pad
             ([CLS], <s> … in text)      (alignment)   (words)          (WordPiece/ ([CLS] A [SEP])
                                                                         BPE …)

``Tokenizer`` is the composed pipeline producing :class:`Encoding` objects
(:mod:`.encoding`); it reads and writes tokenizer.json (its stages through
:mod:`.serialization`). The ``transformers`` API on top
(``PreTrainedTokenizerFast``, the model factories) lives one floor up, in
``minformers.tokenization``, and wraps a ``Tokenizer``; nothing here imports it.

No torch or numpy import at module scope: they are imported only when
``return_tensors`` asks for them.
"""

from __future__ import annotations

import json
import os
import re
from functools import partial
from itertools import chain
from typing import Any, Iterable, Literal, Mapping, Sequence

from .byte_level import byte_positions as _byte_positions
from .encoding import Encoding, _truncate_pair
from .models.base import VocabModel
from .normalizers import Normalizer
from .pre_tokenizers import PreTokenizer
from .pre_tokenizers import Sequence as PreTokenizerSequence
from .processors import TemplateProcessing
from .serialization import (
    decoder_from_dict,
    model_from_dict,
    normalizer_from_dict,
    pre_tokenizer_from_dict,
    processor_from_dict,
    read_json,
    write_atomic,
)

_chain = chain.from_iterable
Settings = Mapping[str, Any]  # truncation or padding settings: a truncation_params / padding_params dict

# ----------------------------------------------------------------------------------------------
# Tokenizer: the five stages composed
# ----------------------------------------------------------------------------------------------


class AddedToken:
    """A token matched verbatim in the text before normalisation (``[CLS]``, ``[MASK]`` …)."""

    def __init__(
        self,
        content: str,
        special: bool = False,
        normalized: bool | None = None,
        lstrip: bool = False,
        rstrip: bool = False,
        single_word: bool = False,
    ) -> None:
        self.content = content
        self.special = special
        self.normalized = (not special) if normalized is None else normalized
        self.lstrip = lstrip
        self.rstrip = rstrip
        self.single_word = single_word
        self.id: int = -1

    def __str__(self) -> str:
        return self.content

    def __repr__(self) -> str:
        return (
            f"AddedToken({self.content!r}, rstrip={self.rstrip}, lstrip={self.lstrip}, single_word={self.single_word}, "
            f"normalized={self.normalized}, special={self.special})"
        )


class Tokenizer:
    """normalizer -> pre_tokenizer -> model -> post_processor (+ decoder), each swappable.

    Mirrors ``tokenizers.Tokenizer``: ``encode``/``encode_batch`` return
    :class:`Encoding`; truncation and padding are optional settings of the
    pipeline (``enable_truncation``/``enable_padding``, what tokenizer.json's
    "truncation"/"padding" load into). A call may instead pass its own
    (``truncation=``/``padding=``: settings from :func:`truncation_params` /
    :func:`padding_params`, or False for none), leaving the stored ones as they
    are: callers sharing one tokenizer never see each other's settings.
    """

    def __init__(
        self,
        model: VocabModel,
        normalizer: Normalizer | None = None,
        pre_tokenizer: PreTokenizer | None = None,
        post_processor: TemplateProcessing | None = None,
        decoder: Any = None,
    ) -> None:
        self.model = model
        self.normalizer = normalizer
        self.pre_tokenizer = pre_tokenizer
        self.post_processor = post_processor
        self.decoder = decoder
        self.added_tokens: list[AddedToken] = []
        self._added_by_content: dict[str, AddedToken] = {}
        self._added_by_id: dict[int, AddedToken] = {}
        self._split_re: re.Pattern | None = None
        self._added_first: set[str] = set()
        self.truncation: dict[str, Any] | None = None
        self.padding: dict[str, Any] | None = None

    # -- construction / serialisation --------------------------------------------------------
    @classmethod
    def from_file(cls, path: str | os.PathLike) -> "Tokenizer":
        try:
            d = read_json(path)
        except json.JSONDecodeError as e:
            raise ValueError(f"{os.fspath(path)}: not valid JSON ({e})") from None
        try:
            return cls.from_dict(d)
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            what = f"missing key {e}" if isinstance(e, KeyError) else str(e)
            raise ValueError(f"{os.fspath(path)}: not a valid tokenizer.json ({what})") from None

    @classmethod
    def from_str(cls, text: str) -> "Tokenizer":
        return cls.from_dict(json.loads(text))

    def to_str(self, pretty: bool = False) -> str:
        return json.dumps(self.to_dict(), indent=2 if pretty else None, ensure_ascii=False)

    def save(self, path: str | os.PathLike, pretty: bool = True) -> None:
        write_atomic(path, self.to_str(pretty))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Tokenizer":
        """tokenizer.json content -> Tokenizer (the five stages + added tokens + truncation/padding)."""
        tok = cls(
            model_from_dict(d["model"]),
            normalizer=normalizer_from_dict(d.get("normalizer")),
            pre_tokenizer=pre_tokenizer_from_dict(d.get("pre_tokenizer")),
            post_processor=processor_from_dict(d.get("post_processor")),
            decoder=decoder_from_dict(d.get("decoder")),
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": "1.0",
            "truncation": _truncation_to_dict(self.truncation),
            "padding": _padding_to_dict(self.padding),
            "added_tokens": [
                {
                    "id": t.id, "content": t.content, "single_word": t.single_word, "lstrip": t.lstrip,
                    "rstrip": t.rstrip, "normalized": t.normalized, "special": t.special,
                }
                for t in self.added_tokens
            ],
            "normalizer": self.normalizer.to_dict() if self.normalizer else None,
            "pre_tokenizer": self.pre_tokenizer.to_dict() if self.pre_tokenizer else None,
            "post_processor": self.post_processor.to_dict() if self.post_processor else None,
            "decoder": self.decoder.to_dict() if self.decoder else None,
            "model": self.model.to_dict(),
        }

    # -- vocabulary ------------------------------------------------------------------------
    def add_token(self, token: AddedToken, idx: int | None = None) -> bool:
        """Add one token; returns True when it is new to the vocabulary."""
        if token.content in self._added_by_content:
            return False
        if idx is None:
            idx = self.model.token_to_id(token.content)
        new = idx is None
        if new:
            idx = self.get_vocab_size(with_added_tokens=True)
        token.id = idx
        self.added_tokens.append(token)
        self._added_by_content[token.content] = token
        self._added_by_id[idx] = token
        self._build_split_re()
        return new

    def add_tokens(self, tokens: Iterable[str | AddedToken]) -> int:
        return sum(self.add_token(t if isinstance(t, AddedToken) else AddedToken(t)) for t in tokens)

    def add_special_tokens(self, tokens: Iterable[str | AddedToken]) -> int:
        return sum(self.add_token(t if isinstance(t, AddedToken) else AddedToken(t, special=True)) for t in tokens)

    def _build_split_re(self) -> None:
        if not self.added_tokens:
            self._split_re = None
            return
        alts = []
        for t in sorted(self.added_tokens, key=lambda t: -len(t.content)):  # longest match first
            body = re.escape(t.content)
            if t.single_word:
                body = rf"(?<!\w){body}(?!\w)"
            alts.append((r"\s*" if t.lstrip else "") + f"({body})" + (r"\s*" if t.rstrip else ""))
        self._added_first = {t.content[0] for t in self.added_tokens if t.content}
        # A match starts with a token's first char (or whitespace an lstrip token swallows): a lookahead on
        # those chars lets `re` skip other positions instead of trying every alternative (T5's 100
        # <extra_id_*>: 300x faster on plain text).
        first = "".join(sorted(self._added_first))
        if first and all(t.content for t in self.added_tokens):
            ws = r"\s" if any(t.lstrip for t in self.added_tokens) else ""
            self._split_re = re.compile(f"(?=[{ws}{re.escape(first)}])(?:{'|'.join(alts)})")
        else:
            self._split_re = re.compile("|".join(alts))

    def get_vocab(self, with_added_tokens: bool = True) -> dict[str, int]:
        vocab = dict(self.model.vocab)
        if with_added_tokens:
            vocab.update({t.content: t.id for t in self.added_tokens})
        return vocab

    def get_vocab_size(self, with_added_tokens: bool = True) -> int:
        n = len(self.model.vocab)
        if with_added_tokens:
            n += sum(1 for t in self.added_tokens if t.content not in self.model.vocab)
        return n

    def token_to_id(self, token: str) -> int | None:
        t = self._added_by_content.get(token)
        return t.id if t is not None else self.model.token_to_id(token)

    def id_to_token(self, idx: int) -> str | None:
        t = self._added_by_id.get(idx)
        return t.content if t is not None else self.model.id_to_token(idx)

    # -- settings --------------------------------------------------------------------------
    def enable_truncation(self, max_length: int, stride: int = 0, strategy: str = "longest_first", direction: str = "right") -> None:
        self.truncation = truncation_params(max_length, stride, strategy, direction)

    def no_truncation(self) -> None:
        self.truncation = None

    def enable_padding(
        self, direction: str = "right", pad_id: int = 0, pad_type_id: int = 0, pad_token: str = "[PAD]",
        length: int | None = None, pad_to_multiple_of: int | None = None,
    ) -> None:
        self.padding = padding_params(direction, pad_id, pad_type_id, pad_token, length, pad_to_multiple_of)

    def no_padding(self) -> None:
        self.padding = None

    def num_special_tokens_to_add(self, is_pair: bool) -> int:
        return self.post_processor.added_tokens(is_pair) if self.post_processor is not None else 0

    # -- encoding --------------------------------------------------------------------------
    def _segments(self, text: str) -> list[tuple[int, int, AddedToken | None]]:
        """Cut `text` around added tokens: (start, end, token or None)."""
        rx = self._split_re
        if rx is None:
            return [(0, len(text), None)]
        out: list[tuple[int, int, AddedToken | None]] = []
        pos = 0
        for m in rx.finditer(text):
            g = m.lastindex
            start, end = m.span()
            if start > pos:
                out.append((pos, start, None))
            tok = self._added_by_content[m.group(g)]
            out.append((start, end, tok))  # upstream: an lstrip/rstrip token's span includes the whitespace
            pos = end
        if pos < len(text):
            out.append((pos, len(text), None))
        return out

    def _encode_words(self, text: str, fixed_word: int | None = None) -> Encoding:
        """One text (no special tokens): ids now; tokens, offsets and word ids when asked for.

        The fast path (no added token in the text) is C-level string work plus one
        dict look-up per word; the per-token details are computed lazily.
        """
        rx = self._split_re
        if rx is None or self._added_first.isdisjoint(text) or rx.search(text) is None:
            norm = self.normalizer.normalize(text)[0] if self.normalizer is not None else text
            if self.pre_tokenizer is not None:
                if hasattr(self.pre_tokenizer, "rewrite"):  # Metaspace: ' ' -> '▁', prepend '▁'
                    norm = self.pre_tokenizer.rewrite(norm, None, True)[0]
                words = self.pre_tokenizer.split(norm)
            else:
                words = [norm] if norm else []
            ids = list(_chain(map(self._word_ids().__getitem__, words)))
            n = len(ids)
            return Encoding(ids, [0] * n, None, None, None, None, [1] * n, None, thunk=partial(self._details, text, fixed_word))
        return self._encode_words_eager(text, fixed_word)

    def _word_ids(self) -> dict[str, tuple[int, ...]]:
        """raw word -> ids. A byte-level pre-tokeniser maps words before the model: cache per raw word."""
        model, pre = self.model, self.pre_tokenizer
        mapper = getattr(pre, "map_word", None)
        if mapper is None:
            return model.word_ids_cache
        key = self.__dict__.get("_mapped_for")
        if key is None or key[0] is not model or key[1] is not pre:
            self._mapped_for = (model, pre)
            self._mapped_cache = model.new_ids_cache(_MappedWordIds(model.word_ids, mapper))
        return self._mapped_cache

    def _details(self, text: str, fixed_word: int | None) -> tuple[list, list, list, list, list]:
        e = self._encode_words_eager(text, fixed_word)
        return e._tokens, e._offsets, e._word_ids, e._special_tokens_mask, e._sequence_ids

    def _encode_words_eager(self, text: str, fixed_word: int | None = None) -> Encoding:
        ids: list[int] = []
        tokens: list[str] = []
        offsets: list[tuple[int, int]] = []
        word_ids: list[int | None] = []
        normalize = self.normalizer.normalize if self.normalizer is not None else None
        pre = self.pre_tokenizer
        mapper = getattr(pre, "map_word", None)
        tokenize = self.model.tokenize
        w = 0
        for seg_start, seg_end, added in self._segments(text):
            if added is not None:
                ids.append(added.id)
                tokens.append(text[seg_start:seg_end])  # the matched text (with lstrip/rstrip whitespace)
                offsets.append((seg_start, seg_end))
                word_ids.append(w if fixed_word is None else fixed_word)
                w += 1
                continue
            piece = text[seg_start:seg_end] if (seg_start or seg_end != len(text)) else text
            norm, align = normalize(piece) if normalize is not None else (piece, None)
            if pre is not None:
                if hasattr(pre, "rewrite"):  # the rewrite may insert chars: it extends the alignment
                    norm, align = pre.rewrite(norm, align, seg_start == 0)
                    words = pre.split_spans(norm)
                elif isinstance(pre, PreTokenizerSequence):  # its Metaspace steps need to know too
                    words = pre.split_spans(norm, seg_start == 0)
                else:
                    words = pre.split_spans(norm)
            else:
                words = [(norm, 0, len(norm))] if norm else []
            for item in words:
                word, ws = item[0], item[1]
                pos = item[3] if len(item) > 3 else None  # each word char's index in `norm`
                if mapper is not None:  # byte level: one char per UTF-8 byte, each at its source char
                    if pos is None and word.isascii():
                        pass
                    else:
                        pos = _byte_positions(word, ws) if pos is None else [
                            p for ch, p in zip(word, pos) for _ in range(len(ch.encode("utf-8", "surrogatepass")))
                        ]
                    word = mapper(word)
                p_ids, p_toks, p_spans = tokenize(word)
                ids += p_ids
                tokens += p_toks
                if pos is None and align is None:
                    base = seg_start + ws
                    offsets += [(base + a, base + b) for a, b in p_spans]
                elif pos is None:
                    offsets += [(seg_start + align[ws + a], seg_start + align[ws + b - 1] + 1) for a, b in p_spans]
                elif align is None:
                    offsets += [(seg_start + pos[a], seg_start + pos[b - 1] + 1) if b > a else (seg_start + pos[a], seg_start + pos[a])
                                for a, b in p_spans]
                else:
                    offsets += [(seg_start + align[pos[a]], seg_start + align[pos[b - 1]] + 1) for a, b in p_spans]
                word_ids += [w if fixed_word is None else fixed_word] * len(p_ids)
                w += 1
        n = len(ids)
        return Encoding(ids, [0] * n, tokens, offsets, word_ids, [0] * n, [1] * n, [0] * n)

    def _encode_sequence(self, seq: str | Sequence[str], is_pretokenized: bool) -> Encoding:
        if not is_pretokenized:
            return self._encode_words(seq)
        out = Encoding.empty()
        for i, word in enumerate(seq):
            e = self._encode_words(word, fixed_word=i)
            out.ids += e.ids
            out.tokens += e.tokens
            out.offsets += e.offsets
            out.word_ids += e.word_ids
        n = len(out.ids)
        out.type_ids, out.special_tokens_mask, out.attention_mask, out.sequence_ids = [0] * n, [0] * n, [1] * n, [0] * n
        return out

    def encode(
        self,
        sequence: str | Sequence[str],
        pair: str | Sequence[str] | None = None,
        is_pretokenized: bool = False,
        add_special_tokens: bool = True,
        *,
        truncation: Settings | Literal[False] | None = None,
        padding: Settings | Literal[False] | None = None,
    ) -> Encoding:
        """`truncation`/`padding`: this call's settings (False: none); None: the stored ones."""
        enc = self._encode_unpadded(sequence, pair, is_pretokenized, add_special_tokens, self._setting(truncation, self.truncation))
        pad = self._setting(padding, self.padding)
        if pad is not None:
            pad_batch([enc], pad)
        return enc

    @staticmethod
    def _setting(given: Settings | Literal[False] | None, stored: Settings | None) -> Settings | None:
        """A call's setting: its own when given (False: none), else the tokenizer's stored one."""
        if given is None:
            return stored
        return None if given is False else given

    def _encode_unpadded(self, sequence, pair, is_pretokenized: bool, add_special_tokens: bool, t: Settings | None) -> Encoding:
        """One input, truncated by `t` (a :func:`truncation_params` dict, or None), with its special tokens."""
        a = self._encode_sequence(sequence, is_pretokenized)
        b = self._encode_sequence(pair, is_pretokenized) if pair is not None else None
        if t is not None:
            n_added = self.num_special_tokens_to_add(b is not None) if add_special_tokens else 0
            if t["max_length"] < n_added:
                raise ValueError(_no_room_message(t["max_length"], n_added, b is not None))
            _truncate_pair(a, b, t["max_length"] - n_added, t["stride"], t["strategy"], t["direction"])
        if self.post_processor is not None:
            return self.post_processor.process(a, b, add_special_tokens)
        if b is None:
            return a
        b.type_ids = [1] * len(b.ids)
        b.sequence_ids = [1] * len(b.ids)
        for name in Encoding.FIELDS:
            setattr(a, name, getattr(a, name) + getattr(b, name))
        return a

    def encode_batch(
        self, inputs: Sequence[Any], is_pretokenized: bool = False, add_special_tokens: bool = True, *,
        truncation: Settings | Literal[False] | None = None, padding: Settings | Literal[False] | None = None,
    ) -> list[Encoding]:
        """Each input is a text, or a (text, pair) tuple/list. `truncation`/`padding` as in :meth:`encode`."""
        t = self._setting(truncation, self.truncation)
        encs = []
        for item in inputs:
            if isinstance(item, (tuple, list)) and len(item) == 2 and not is_pretokenized or (
                is_pretokenized and isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], (list, tuple))
            ):
                encs.append(self._encode_unpadded(item[0], item[1], is_pretokenized, add_special_tokens, t))
            else:
                encs.append(self._encode_unpadded(item, None, is_pretokenized, add_special_tokens, t))
        pad = self._setting(padding, self.padding)
        if pad is not None:
            pad_batch(encs, pad)
        return encs

    # -- decoding --------------------------------------------------------------------------
    def decode(self, ids: Sequence[int], skip_special_tokens: bool = True) -> str:
        tokens = []
        for i in ids:
            added = self._added_by_id.get(i)
            if added is not None:
                if skip_special_tokens and added.special:
                    continue
                tokens.append(added.content)
                continue
            t = self.model.id_to_token(i)
            if t is not None:
                tokens.append(t)
        return self.decoder.decode(tokens) if self.decoder is not None else " ".join(tokens)

    def decode_batch(self, sequences: Sequence[Sequence[int]], skip_special_tokens: bool = True) -> list[str]:
        return [self.decode(s, skip_special_tokens) for s in sequences]



def truncation_params(max_length: int, stride: int = 0, strategy: str = "longest_first", direction: str = "right") -> dict[str, Any]:
    """Truncation settings, as ``Tokenizer.truncation`` stores them (``tokenizers``' dict)."""
    return {"max_length": max_length, "stride": stride, "strategy": strategy, "direction": direction}


def padding_params(
    direction: str = "right", pad_id: int = 0, pad_type_id: int = 0, pad_token: str = "[PAD]",
    length: int | None = None, pad_to_multiple_of: int | None = None,
) -> dict[str, Any]:
    """Padding settings, as ``Tokenizer.padding`` stores them; `length` None pads to the batch's longest."""
    return {
        "length": length, "direction": direction, "pad_id": pad_id, "pad_type_id": pad_type_id,
        "pad_token": pad_token, "pad_to_multiple_of": pad_to_multiple_of,
    }


def pad_batch(encs: list[Encoding], p: Settings) -> None:
    """Pad `encs` in place as the settings `p` (a :func:`padding_params` dict) say."""
    length = p["length"]
    if length is None:
        length = max((len(e.ids) for e in encs), default=0)
    m = p["pad_to_multiple_of"]
    if m and length % m:
        length += m - length % m
    for e in encs:
        e.pad(length, p["pad_id"], p["pad_type_id"], p["pad_token"], p["direction"])


def _no_room_message(max_length: int, n_added: int, pair: bool) -> str:
    """Truncation to fewer tokens than the special tokens alone. The reference (tokenizers 0.22) subtracts
    the special tokens from max_length in unsigned arithmetic, wraps round and returns the whole text,
    silently ignoring max_length; we refuse, saying what fits."""
    what = "a pair of sequences" if pair else "a single sequence"
    return (f"truncation to max_length={max_length} leaves no room: this tokenizer adds {n_added} special tokens "
            f"to {what}, so max_length must be at least {n_added} (exactly {n_added} keeps only the special "
            "tokens); pass a larger max_length, or add_special_tokens=False to count only the text's tokens")


class _MappedWordIds:
    """raw word -> ids through the pre-tokeniser's word mapping (a class, not a lambda: copies and pickles)."""

    def __init__(self, word_ids: Any, mapper: Any) -> None:
        self.word_ids, self.mapper = word_ids, mapper

    def __call__(self, word: str) -> tuple[int, ...]:
        return self.word_ids(self.mapper(word))


def _snake(name: str) -> str:
    return {"LongestFirst": "longest_first", "OnlyFirst": "only_first", "OnlySecond": "only_second"}.get(name, name)


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
