"""SentencePiece pre-tokeniser (stage 2 of 5): ``Metaspace``.

Spaces become ``▁``, a ``▁`` is prepended (``always``/``first``/``never``), and
words start at every ``▁`` (upstream ``pre_tokenizers::Metaspace``). Its
counterpart on the way back is :class:`.sp_decoders.MetaspaceDecoder`.
"""

from __future__ import annotations

import re
from typing import Any

PREPEND_SCHEMES = ("always", "first", "never")


class Metaspace:
    """Spaces -> ``▁``, a ``▁`` prepended, words cut before every ``▁`` (upstream ``pre_tokenizers::Metaspace``).

    ``prepend_scheme``: ``always`` prepends to every piece of text (each run between
    added tokens), ``first`` only to the piece that starts the input, ``never``
    never; nothing is prepended to a piece that already starts with ``▁``.
    The rewrite happens in :meth:`rewrite` (it changes the text and its alignment),
    the cut in :meth:`split`/:meth:`split_spans`.
    """

    def __init__(self, replacement: str = "\u2581", prepend_scheme: str = "always", split: bool = True) -> None:
        if len(replacement) != 1:
            raise ValueError(f"Metaspace: replacement must be one character, got {replacement!r}")
        if prepend_scheme not in PREPEND_SCHEMES:
            raise ValueError(f"Metaspace: prepend_scheme must be one of {PREPEND_SCHEMES}, got {prepend_scheme!r}")
        self.replacement = replacement
        self.prepend_scheme = prepend_scheme
        self.split_words = split
        r = re.escape(replacement)
        self._rx = re.compile(f"[^{r}]+|{r}[^{r}]*")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Metaspace":
        scheme = d.get("prepend_scheme")
        if scheme is None:  # files written before prepend_scheme existed
            scheme = "always" if d.get("add_prefix_space", True) else "never"
        return cls(d.get("replacement", "\u2581"), scheme, d.get("split", True))

    def to_dict(self) -> dict[str, Any]:
        return {"type": "Metaspace", "replacement": self.replacement, "prepend_scheme": self.prepend_scheme,
                "split": self.split_words}

    def rewrite(self, text: str, align: list[int] | None, at_start: bool) -> tuple[str, list[int] | None]:
        r = self.replacement
        text = text.replace(" ", r)
        if text and not text.startswith(r) and (
            self.prepend_scheme == "always" or (self.prepend_scheme == "first" and at_start)
        ):
            text = r + text
            align = [align[0] if align else 0] + (align if align is not None else list(range(len(text) - 1)))
        return text, align

    def split(self, text: str) -> list[str]:
        if not self.split_words:
            return [text] if text else []
        return self._rx.findall(text)

    def split_spans(self, text: str) -> list[tuple[str, int, int]]:
        if not self.split_words:
            return [(text, 0, len(text))] if text else []
        return [(m.group(), m.start(), m.end()) for m in self._rx.finditer(text)]


PRE_TOKENIZERS = {"Metaspace": Metaspace.from_dict}
