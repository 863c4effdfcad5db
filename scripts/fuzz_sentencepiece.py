#!/usr/bin/env python3
"""Long differential fuzz of our SentencePiece tokenizers against the reference.

    python scripts/fuzz_sentencepiece.py --n 100000            # every tokenizer
    python scripts/fuzz_sentencepiece.py --n 20000 --only t5

Random strings (any Unicode, weighted towards Hangul, kana, CJK, half/full width,
combining marks, emoji, control characters and odd whitespace, plus long words)
are batch-encoded by both; ids, offsets, tokens, word ids and decoded strings must
agree. Prints the mismatch count per tokenizer and the first few examples.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests" / "tokenization"))
sys.path.insert(0, str(ROOT))

RANGES = [(0x20, 0x7E), (0x00, 0x1F), (0x80, 0x24F), (0x300, 0x36F), (0x1100, 0x11FF), (0xAC00, 0xD7A3), (0x3000, 0x30FF),
          (0x4E00, 0x9FFF), (0xFF00, 0xFFEF), (0x1F300, 0x1FAFF), (0x2000, 0x206F), (0x0E00, 0x0E7F), (0x0900, 0x097F),
          (0x0600, 0x06FF), (0x10000, 0x10FFFF)]
ODD = list(" \t\n\r\x0b\x0c\x00\x85\xa0\u2028\u3000\u200b\u200d\ufeff\u2581`'\"") + ["\r\n", "  ", "<s>", "</s>", "<unk>"]


def random_text(rng: random.Random) -> str:
    if rng.random() < 0.05:
        return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(50, 400)))
    out = []
    for _ in range(rng.randint(0, 30)):
        r = rng.random()
        if r < 0.2:
            out.append(rng.choice(ODD))
        else:
            lo, hi = rng.choice(RANGES)
            cp = rng.randint(lo, hi)
            if 0xD800 <= cp <= 0xDFFF:
                cp = 0xFFFD
            out.append(chr(cp))
    return "".join(out)


def main(argv: list[str] | None = None) -> int:
    from sp_fixtures import SPECS, build_reference

    from minformers.tokenization.tokenization_utils import PreTrainedTokenizerFast

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10000, help="strings per tokenizer")
    ap.add_argument("--only", nargs="*", default=None, choices=list(SPECS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=1000)
    args = ap.parse_args(argv)
    total_bad = 0
    for name in args.only or list(SPECS):
        with tempfile.TemporaryDirectory() as tmp:
            ref = build_reference(name, Path(tmp))
            ours = PreTrainedTokenizerFast.from_pretrained(tmp)
        rng = random.Random(args.seed)
        bad, shown = 0, 0
        for start in range(0, args.n, args.batch):
            texts = [random_text(rng) for _ in range(min(args.batch, args.n - start))]
            a = ours(texts, return_offsets_mapping=True)
            b = ref(texts, return_offsets_mapping=True)
            for i, t in enumerate(texts):
                same = (a["input_ids"][i] == b["input_ids"][i] and a["offset_mapping"][i] == b["offset_mapping"][i]
                        and a.word_ids(i) == b.word_ids(i) and a.tokens(i) == b.tokens(i))
                same = same and ours.decode(b["input_ids"][i]) == ref.decode(b["input_ids"][i])
                if not same:
                    bad += 1
                    if shown < 5:
                        shown += 1
                        print(f"  {name} mismatch: {t!r}\n    ours {list(zip(a.tokens(i), a['offset_mapping'][i]))[:20]}"
                              f"\n    ref  {list(zip(b.tokens(i), b['offset_mapping'][i]))[:20]}", flush=True)
        print(f"{name}: {bad} mismatches in {args.n} strings", flush=True)
        total_bad += bad
    return 1 if total_bad else 0


if __name__ == "__main__":
    sys.exit(main())
