#!/usr/bin/env python3
"""Write minformers/tokenization/core/unicode_tables.py: the reference's character classes, measured.

    python scripts/make_unicode_tables.py            # needs the test extras (tokenizers)

Upstream `tokenizers` classifies characters with several Unicode tables of
different ages: Oniguruma's for the ``\\p{..}``/``\\s`` classes of ``Split`` and
``ByteLevel`` regexes, the ``unicode_categories`` crate for BERT's control and
punctuation tests, Rust's ``char`` methods for whitespace and digits, the
``regex`` crate for ``Whitespace``'s ``\\w``. Python's ``unicodedata`` is yet
another version (3.11: Unicode 14), so code points assigned since then (or in
the crates' older tables, not yet) fall into different classes and words split
differently. Rather than guess versions, this script runs every code point
through the reference's stages and stores, for each class, the code points the
reference puts in it, as hex ranges. The tables are facts about the reference's
behaviour (like the Unicode data they come from), so they do not depend on the
Python version minformers later runs on.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "minformers" / "tokenization" / "core" / "unicode_tables.py"
ALL = [cp for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF]
ALL_TEXT = "".join(map(chr, ALL))

# the \p{..} classes the Hub's regexes use (GPT-2, Llama-3, Qwen, GPT-4o style patterns), by Oniguruma
REGEX_CLASSES = ["L", "Lu", "Ll", "Lt", "Lm", "Lo", "M", "Mn", "Mc", "Me", "N", "Nd", "Nl", "No",
                 "P", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "S", "Sm", "Sc", "Sk", "So", "Z", "Zs", "Zl", "Zp",
                 "Cc", "Cf", "Co"]


def regex_class(pattern: str) -> list[int]:
    """Code points the reference's regex engine matches with `pattern` (one character)."""
    from tokenizers import Regex
    from tokenizers.pre_tokenizers import Split

    kept = Split(Regex(pattern), "removed").pre_tokenize_str(ALL_TEXT)  # the runs that do NOT match
    out = set(ALL)
    for _, (a, b) in kept:
        out.difference_update(ALL[a:b])
    return sorted(out)


def per_char(fn) -> dict[str, list[int]]:
    """Group code points by fn(char) (a short label)."""
    groups: dict[str, list[int]] = {}
    for cp in ALL:
        groups.setdefault(fn(chr(cp)), []).append(cp)
    return groups


def ranges(cps: list[int]) -> str:
    from minformers.tokenization.core.patterns import runs

    return " ".join(f"{a:x}" if a == b else f"{a:x}-{b:x}" for a, b in runs(cps))


def main() -> int:
    import tokenizers
    from tokenizers import normalizers, pre_tokenizers

    tables: dict[str, list[int]] = {}
    for name in REGEX_CLASSES:
        tables[f"regex:{name}"] = regex_class(rf"\p{{{name}}}")
    tables["regex:s"] = regex_class(r"\s")

    # BertNormalizer(clean_text): a char is removed (control), becomes " " (whitespace), or stays
    clean = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False)
    g = per_char(lambda c: {"": "removed", " ": "space"}.get(clean.normalize_str(c), "kept"))
    tables["bert:control"], tables["bert:whitespace"] = g["removed"], g["space"]
    # BertNormalizer(strip_accents): the characters that vanish (non-spacing marks in its tables)
    strip = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True, lowercase=False)
    tables["bert:strip"] = per_char(lambda c: "gone" if strip.normalize_str(c) == "" else "")["gone"]

    def split_kind(pre):
        def kind(c: str) -> str:
            words = [w for w, _ in pre.pre_tokenize_str(f"a{c}a")]
            return {1: "joined", 2: "dropped", 3: "isolated"}.get(len(words), "other")
        return kind

    g = per_char(split_kind(pre_tokenizers.BertPreTokenizer()))
    assert set(g) <= {"joined", "dropped", "isolated"}, set(g)
    tables["bert:split_whitespace"], tables["bert:punctuation"] = g["dropped"], g["isolated"]
    g = per_char(split_kind(pre_tokenizers.Punctuation()))
    tables["punctuation"] = g["isolated"]
    g = per_char(split_kind(pre_tokenizers.WhitespaceSplit()))
    tables["whitespace_split"] = g["dropped"]
    # Whitespace: \w+|[^\w\s]+ (Rust regex crate): "a{c}a" is one word iff c is \w
    g = per_char(split_kind(pre_tokenizers.Whitespace()))
    tables["whitespace:w"] = g["joined"]
    tables["whitespace:s"] = g["dropped"]
    g = per_char(split_kind(pre_tokenizers.Digits(individual_digits=True)))
    tables["digits"] = g["isolated"]

    lines = [
        '"""The reference\'s character classes, measured code point by code point (generated: do not edit).',
        "",
        f"Made by scripts/make_unicode_tables.py from tokenizers {tokenizers.__version__}; each value lists the",
        "code points in hex ranges. See that script for why these are not taken from ``unicodedata``.",
        '"""',
        "",
        "TABLES = {",
    ]
    for name, cps in tables.items():
        lines.append(f"    {name!r}: {ranges(cps)!r},")
    lines += ["}", ""]
    OUT.write_text("\n".join(lines))
    print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KB, {len(tables)} tables)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
