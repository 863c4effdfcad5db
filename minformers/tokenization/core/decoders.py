"""Stage 5 of 5: decoding (the ``decoder`` entry of tokenizer.json): tokens -> text.

Each decoder maps a list of tokens to a list of strings (``decode_chain``), so a
``Sequence`` (:class:`DecoderSequence`) can chain them as upstream
``decoders::Sequence`` does; ``decode`` joins the last list. BERT uses
``WordPiece``; SentencePiece pipelines ``Metaspace`` (T5/ALBERT/XLM-R) or
``Replace`` + ``ByteFallback`` + ``Fuse`` + ``Strip`` (Llama-2); the byte-level
decoder is in :mod:`.byte_level`.
"""

from __future__ import annotations

import re
from typing import Any

from .normalizers import compile_pattern, find_matches


def cleanup(text: str) -> str:
    """Undo the spaces tokenisation put before punctuation and English contractions (upstream ``cleanup``)."""
    return (
        text.replace(" .", ".")
        .replace(" ?", "?")
        .replace(" !", "!")
        .replace(" ,", ",")
        .replace(" ' ", "'")
        .replace(" n't", "n't")
        .replace(" 'm", "'m")
        .replace(" do not", " don't")
        .replace(" 's", "'s")
        .replace(" 've", "'ve")
        .replace(" 're", "'re")
    )


class ChainDecoder:
    """A decoder defined by ``decode_chain`` (tokens -> strings); ``decode`` joins what it returns."""

    def decode_chain(self, tokens: list[str]) -> list[str]:  # pragma: no cover - overridden
        return tokens

    def decode(self, tokens: list[str]) -> str:
        return "".join(self.decode_chain(list(tokens)))


class WordPiece(ChainDecoder):
    """Glue ``##`` continuations to the previous token, put a space before every other token."""

    def __init__(self, prefix: str = "##", cleanup: bool = True) -> None:
        self.prefix = prefix
        self.cleanup = cleanup

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "WordPiece":
        return cls(prefix=d.get("prefix", "##"), cleanup=d.get("cleanup", True))

    def to_dict(self) -> dict[str, Any]:
        return {"type": "WordPiece", "prefix": self.prefix, "cleanup": self.cleanup}

    def decode_chain(self, tokens: list[str]) -> list[str]:
        """Each token on its own (upstream ``decode_chain``), so a decoder after it in a ``Sequence`` sees them."""
        parts = []
        p, n = self.prefix, len(self.prefix)
        for i, tok in enumerate(tokens):
            if i:
                tok = tok[n:] if tok.startswith(p) else " " + tok
            if self.cleanup:
                tok = cleanup(tok)
            parts.append(tok)
        return parts


class CTC(ChainDecoder):
    """Upstream ``decoders::CTC``: repeated tokens collapsed, `pad_token` removed; with `cleanup`, the
    WordPiece cleanup and `word_delimiter_token` -> space. Tokens left empty are dropped."""

    def __init__(self, pad_token: str = "<pad>", word_delimiter_token: str = "|", cleanup: bool = True) -> None:
        self.pad_token, self.word_delimiter_token, self.cleanup = pad_token, word_delimiter_token, cleanup

    def to_dict(self) -> dict[str, Any]:
        return {"type": "CTC", "pad_token": self.pad_token, "word_delimiter_token": self.word_delimiter_token,
                "cleanup": self.cleanup}

    def decode_chain(self, tokens: list[str]) -> list[str]:
        out = []
        for i, tok in enumerate(tokens):
            if i and tok == tokens[i - 1]:
                continue
            tok = tok.replace(self.pad_token, "")
            if self.cleanup:
                tok = cleanup(tok).replace(self.word_delimiter_token, " ")
            if tok:
                out.append(tok)
        return out


class BPEDecoder:
    """Upstream ``decoders::BPEDecoder``: the end-of-word suffix becomes a space (nothing after the last token)."""

    def __init__(self, suffix: str = "</w>") -> None:
        self.suffix = suffix

    def to_dict(self) -> dict[str, Any]:
        return {"type": "BPEDecoder", "suffix": self.suffix}

    def decode_chain(self, tokens: list[str]) -> list[str]:
        n = len(tokens)
        return [t.replace(self.suffix, "" if i == n - 1 else " ") for i, t in enumerate(tokens)]

    def decode(self, tokens: list[str]) -> str:
        return "".join(self.decode_chain(list(tokens)))


# -- SentencePiece pipelines' decoders ------------------------------------------------------------


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
