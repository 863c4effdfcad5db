"""SentencePiece decoders (stage 5 of 5): ``Metaspace``, ``Replace``, ``ByteFallback``, ``Fuse``, ``Strip``, ``Sequence``.

Each maps a list of tokens to a list of strings (``decode_chain``), so a
``Sequence`` can chain them as upstream ``decoders::Sequence`` does; ``decode``
joins the last list. Llama-2 style pipelines use ``Replace`` + ``ByteFallback``
+ ``Fuse`` + ``Strip``; T5/ALBERT/XLM-R use ``Metaspace``.
"""

from __future__ import annotations

import re
from typing import Any

from .decoders import ChainDecoder
from .sp_normalizers import compile_pattern, find_matches


class MetaspaceDecoder(ChainDecoder):
    """``▁`` -> space; in the first token every ``▁`` is dropped unless ``prepend_scheme`` is ``never`` (upstream)."""

    def __init__(self, replacement: str = "\u2581", prepend_scheme: str = "always", split: bool = True) -> None:
        self.replacement, self.prepend_scheme, self.split_words = replacement, prepend_scheme, split

    def to_dict(self) -> dict[str, Any]:
        return {"type": "Metaspace", "replacement": self.replacement, "prepend_scheme": self.prepend_scheme,
                "split": self.split_words}

    def decode_chain(self, tokens: list[str]) -> list[str]:
        r = self.replacement
        out = [t.replace(r, " ") for t in tokens]
        if out and self.prepend_scheme != "never":
            out[0] = tokens[0].replace(r, "")
        return out


class ReplaceDecoder(ChainDecoder):
    def __init__(self, pattern: dict[str, str] | str, content: str) -> None:
        self.pattern = pattern if isinstance(pattern, dict) else {"String": pattern}
        self.content = content
        self._rx = compile_pattern(self.pattern)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "Replace", "pattern": self.pattern, "content": self.content}

    def decode_chain(self, tokens: list[str]) -> list[str]:
        """Each token's matches replaced by `content` (upstream: ``find_matches`` per token, so empty
        matches insert `content` too, except in an empty token)."""
        lit = self.pattern.get("String")
        if lit:
            return [t.replace(lit, self.content) for t in tokens]
        return ["".join(self.content if m else t[a:b] for a, b, m in find_matches(t, self._rx)) for t in tokens]


# upstream: a 6-char ``<0x..>`` whose middle ``u8::from_str_radix(.., 16)`` parses (either case, or a '+' sign)
_BYTE_TOKEN = re.compile(r"<0x([0-9A-Fa-f]{2}|\+[0-9A-Fa-f])>")


class ByteFallback(ChainDecoder):
    """Runs of ``<0xXX>`` tokens -> their UTF-8 text; invalid UTF-8 gives one ``�`` per byte (upstream)."""

    def to_dict(self) -> dict[str, Any]:
        return {"type": "ByteFallback"}

    def decode_chain(self, tokens: list[str]) -> list[str]:
        out: list[str] = []
        run = bytearray()

        def flush() -> None:
            if run:
                try:
                    out.append(run.decode("utf-8"))
                except UnicodeDecodeError:
                    out.extend("\ufffd" for _ in run)
                run.clear()

        for t in tokens:
            m = _BYTE_TOKEN.fullmatch(t) if len(t) == 6 else None
            if m is not None:
                run.append(int(m.group(1), 16))
            else:
                flush()
                out.append(t)
        flush()
        return out


class Fuse(ChainDecoder):
    def to_dict(self) -> dict[str, Any]:
        return {"type": "Fuse"}

    def decode_chain(self, tokens: list[str]) -> list[str]:
        return ["".join(tokens)]


class StripDecoder(ChainDecoder):
    """Remove up to `start` leading and `stop` trailing `content` chars from every token."""

    def __init__(self, content: str = " ", start: int = 0, stop: int = 0) -> None:
        self.content, self.start, self.stop = content, start, stop

    def to_dict(self) -> dict[str, Any]:
        return {"type": "Strip", "content": self.content, "start": self.start, "stop": self.stop}

    def decode_chain(self, tokens: list[str]) -> list[str]:
        out = []
        for t in tokens:
            chars = list(t)
            a = 0
            while a < min(self.start, len(chars)) and chars[a] == self.content:
                a += 1
            b = len(chars)
            n = 0
            while n < self.stop and b > a and chars[b - 1] == self.content:
                b -= 1
                n += 1
            out.append("".join(chars[a:b]))
        return out


class DecoderSequence(ChainDecoder):
    def __init__(self, decoders: list[Any]) -> None:
        self.decoders = list(decoders)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "Sequence", "decoders": [d.to_dict() for d in self.decoders]}

    def decode_chain(self, tokens: list[str]) -> list[str]:
        for d in self.decoders:
            tokens = d.decode_chain(tokens) if hasattr(d, "decode_chain") else [d.decode(tokens)]
        return tokens


DECODERS = {
    "Metaspace": lambda d: MetaspaceDecoder(d.get("replacement", "\u2581"), d.get("prepend_scheme") or (
        "always" if d.get("add_prefix_space", True) else "never"), d.get("split", True)),
    "Replace": lambda d: ReplaceDecoder(d["pattern"], d["content"]),
    "ByteFallback": lambda d: ByteFallback(),
    "Fuse": lambda d: Fuse(),
    "Strip": lambda d: StripDecoder(d.get("content", " "), d.get("start", 0), d.get("stop", 0)),
}
