"""Stage 4 of 5: post-processing (the ``post_processor`` entry of tokenizer.json).

Adds the model's special tokens around one or two encoded sequences —
``[CLS] A [SEP]`` / ``[CLS] A [SEP] B [SEP]`` for BERT — and sets the token
type ids. Overflowing windows (from truncation with a stride) are processed the
same way, in upstream's order: every window of A with B and with every window
of B, then A with every window of B (``Encoding::merge_with``).
"""

from __future__ import annotations

from typing import Any

from .byte_level import trim_offsets
from .encoding import Encoding


class TemplateProcessing:
    """``single``/``pair`` are lists of pieces: ``("A"|"B", type_id)`` or ``("[CLS]", type_id, is_special=True)``.

    Stored as ``(kind, name, type_id)`` with kind ``"seq"`` or ``"special"``;
    ``special_tokens`` maps a special piece name to ``(ids, tokens)``.
    """

    def __init__(
        self,
        single: list[tuple[str, str, int]],
        pair: list[tuple[str, str, int]],
        special_tokens: dict[str, tuple[list[int], list[str]]],
    ) -> None:
        self.single = single
        self.pair = pair
        self.special_tokens = special_tokens
        # ``trim_offsets`` of a byte-level post-processor: None (off) or its ``add_prefix_space``
        self.trim: bool | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TemplateProcessing":
        def pieces(items: list[dict]) -> list[tuple[str, str, int]]:
            out = []
            for item in items:
                if "Sequence" in item:
                    out.append(("seq", item["Sequence"]["id"], item["Sequence"]["type_id"]))
                else:
                    out.append(("special", item["SpecialToken"]["id"], item["SpecialToken"]["type_id"]))
            return out

        specials = {k: (list(v["ids"]), list(v["tokens"])) for k, v in d.get("special_tokens", {}).items()}
        return cls(pieces(d["single"]), pieces(d["pair"]), specials)

    @classmethod
    def bert(cls, cls_token: tuple[str, int], sep_token: tuple[str, int]) -> "TemplateProcessing":
        """The BERT template (also what upstream ``BertProcessing`` does)."""
        c, s = cls_token[0], sep_token[0]
        return cls(
            [("special", c, 0), ("seq", "A", 0), ("special", s, 0)],
            [("special", c, 0), ("seq", "A", 0), ("special", s, 0), ("seq", "B", 1), ("special", s, 1)],
            {c: ([cls_token[1]], [c]), s: ([sep_token[1]], [s])},
        )

    def to_dict(self) -> dict[str, Any]:
        def pieces(items: list[tuple[str, str, int]]) -> list[dict]:
            return [
                {"Sequence": {"id": n, "type_id": t}} if k == "seq" else {"SpecialToken": {"id": n, "type_id": t}}
                for k, n, t in items
            ]

        return {
            "type": "TemplateProcessing",
            "single": pieces(self.single),
            "pair": pieces(self.pair),
            "special_tokens": {k: {"id": k, "ids": ids, "tokens": toks} for k, (ids, toks) in self.special_tokens.items()},
        }

    def added_tokens(self, is_pair: bool) -> int:
        return sum(len(self.special_tokens[n][0]) for k, n, _ in (self.pair if is_pair else self.single) if k == "special")

    def _apply(self, a: "Encoding", b: "Encoding | None", add_special_tokens: bool) -> "Encoding":
        ids: list[int] = []
        type_ids: list[int] = []
        for kind, name, type_id in self.pair if b is not None else self.single:
            if kind == "seq":
                enc = a if name == "A" else b
                ids += enc.ids
                type_ids += [type_id] * len(enc.ids)
            elif add_special_tokens:
                s_ids = self.special_tokens[name][0]
                ids += s_ids
                type_ids += [type_id] * len(s_ids)
        return Encoding(  # tokens, offsets, word ids, masks: when asked for
            ids, type_ids, None, None, None, None, [1] * len(ids), None, thunk=lambda: self._details(a, b, add_special_tokens)
        )

    def _details(self, a: "Encoding", b: "Encoding | None", add_special_tokens: bool) -> tuple[list, list, list, list, list]:
        tokens: list[str] = []
        offsets: list[tuple[int, int]] = []
        word_ids: list[int | None] = []
        special: list[int] = []
        seq_ids: list[int | None] = []
        template = self.pair if b is not None else self.single
        # upstream keeps one token range per sequence (a map, later entries overwriting): a sequence the
        # template repeats has sequence ids only on its last copy
        last = {name: i for i, (kind, name, _) in enumerate(template) if kind == "seq"}
        for i, (kind, name, _) in enumerate(template):
            if kind == "seq":
                enc = a if name == "A" else b
                n = len(enc.ids)
                tokens += enc.tokens
                if self.trim is None:
                    offsets += enc.offsets
                else:
                    offsets += trim_offsets(enc.tokens, enc.offsets, self.trim)
                word_ids += enc.word_ids
                special += [0] * n
                seq_ids += [(0 if name == "A" else 1) if last[name] == i else None] * n
            elif add_special_tokens:
                s_toks = self.special_tokens[name][1]
                n = len(s_toks)
                tokens += s_toks
                offsets += [(0, 0)] * n
                word_ids += [None] * n
                special += [1] * n
                seq_ids += [None] * n
        return tokens, offsets, word_ids, special, seq_ids

    def process(self, a: "Encoding", b: "Encoding | None" = None, add_special_tokens: bool = True) -> "Encoding":
        main = self._apply(a, b, add_special_tokens)
        if a.overflowing or (b is not None and b.overflowing):
            main._overflow_thunk = lambda: self._overflow(a, b, add_special_tokens)  # built when asked for
        return main

    def _overflow(self, a: "Encoding", b: "Encoding | None", add_special_tokens: bool) -> list["Encoding"]:
        if b is None:
            return [self._apply(o, None, add_special_tokens) for o in a.overflowing]
        over = []
        for ao in a.overflowing:
            over.append(self._apply(ao, b, add_special_tokens))
            over.extend(self._apply(ao, bo, add_special_tokens) for bo in b.overflowing)
        over.extend(self._apply(a, bo, add_special_tokens) for bo in b.overflowing)
        return over


class Described(TemplateProcessing):
    """A template equivalent to another tokenizer.json processor, saved back as that processor.

    ``ByteLevel`` (no special tokens; trims offsets), ``RobertaProcessing``
    (``<s> A </s>`` / ``<s> A </s></s> B </s>``, all type id 0) and ``Sequence``
    (a ``ByteLevel`` then a template — the Llama-3 shape) are all a template plus
    the optional offset trimming.
    """

    def __init__(self, spec: dict[str, Any], template: TemplateProcessing, trim: bool | None) -> None:
        super().__init__(template.single, template.pair, template.special_tokens)
        self.spec = spec
        self.trim = trim

    def to_dict(self) -> dict[str, Any]:
        return dict(self.spec)
