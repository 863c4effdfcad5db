#!/usr/bin/env python3
"""Differential fuzzing of the WordPiece and byte-level BPE tokenizers against the reference (transformers + tokenizers).

    python scripts/fuzz_tokenizers.py --n 100000            # BERT (uncased, cased), GPT-2, RoBERTa, SmolLM2 (GGUF)
    python scripts/fuzz_tokenizers.py --n 5000 --only gpt2

Random strings mix every kind of text the tokenizers meet: ASCII words, Latin
accents, Korean, CJK, emoji (with ZWJ/skin tones), combining marks, control
characters, odd whitespace, digits, punctuation, added-token names, very long
words. Compared: ids, offsets, word ids, type ids, special-token masks, and the
decoded strings (with and without special tokens). Prints one line per
tokenizer: strings tried and mismatches, plus the first few mismatching inputs.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

POOLS = [
    "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789", " ", "  ", "\t\n\r\x0b\x0c",
    "'s 't 're 've 'm 'll 'd", ".,;:!?-()[]{}\"'`~@#$%^&*_+=|\\/<>", "éèêëàâäôöûüçñßøåæœ", "가나다라마바사아자차카타파하한국어",
    "中文字符漢字日本語のテキスト", "😀😃🎉👍🏽👨‍👩‍👧🇫🇷", "\u0301\u0308\u0327\u20dd", "\x00\x01\x1c\x1f\x7f\x85",
    "\u00a0\u2000\u2009\u200b\u202f\u3000\u2028\ufeff", "١٢٣४५६", "<s></s><mask><|endoftext|><|im_start|><|im_end|>",
    "\U0001d400\U00020000\U0010fffd", "αβγδεζηθ", "Привет мир",
]


NAMES = ["bert", "bert_cased", "gpt2", "roberta", "smollm2"]


def random_text(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(0, 12)):
        r = rng.random()
        if r < 0.05:
            parts.append(rng.choice("ab한😀") * rng.randint(50, 400))  # very long word
        elif r < 0.1:
            parts.append(chr(rng.randint(0, 0x2FFFF)) if rng.random() < 0.9 else chr(rng.randint(0xE0000, 0x10FFFF)))
        else:
            pool = rng.choice(POOLS)
            parts.append("".join(rng.choice(pool) for _ in range(rng.randint(1, 8))))
        if rng.random() < 0.5:
            parts.append(rng.choice([" ", "  ", "\n", ""]))
    s = "".join(parts)
    return "".join(c for c in s if not 0xD800 <= ord(c) <= 0xDFFF)


def build(name: str, work: Path):
    """(ours, reference) for one tokenizer name."""
    import transformers

    from minformers.tokenization.tokenizer import PreTrainedTokenizerFast

    if name == "smollm2":
        from minformers.hub import packaged_model_dir

        folder = packaged_model_dir("HuggingFaceTB/SmolLM2-135M-Instruct")
        gguf = "SmolLM2-135M-Instruct.Q4_1.gguf"
        ref = transformers.AutoTokenizer.from_pretrained(str(folder), gguf_file=gguf)
        return PreTrainedTokenizerFast.from_pretrained(str(folder), gguf_file=gguf), ref
    if name in ("bert", "bert_cased"):  # WordPiece: MiniLM's bert-base-uncased vocabulary; cased = no lowercasing
        import json
        import shutil

        from minformers.hub import packaged_model_dir

        minilm = packaged_model_dir("sentence-transformers/all-MiniLM-L6-v2")
        out = work / name
        out.mkdir()
        for f in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
            shutil.copy(minilm / f, out / f)
        if name == "bert_cased":
            spec = json.loads((out / "tokenizer.json").read_text())
            spec["normalizer"]["lowercase"] = False
            spec["normalizer"]["strip_accents"] = False
            (out / "tokenizer.json").write_text(json.dumps(spec))
            cfg = json.loads((out / "tokenizer_config.json").read_text())
            cfg["do_lower_case"] = False
            (out / "tokenizer_config.json").write_text(json.dumps(cfg))
        return PreTrainedTokenizerFast.from_pretrained(out), transformers.AutoTokenizer.from_pretrained(out)
    sys.path.insert(0, str(ROOT / "scripts"))
    from fetch_assets import fetch

    files = fetch("gpt2_bpe")
    cls = transformers.RobertaTokenizerFast if name == "roberta" else transformers.GPT2TokenizerFast
    out = work / name
    cls(str(files / "encoder.json"), str(files / "vocab.bpe")).save_pretrained(out)
    return PreTrainedTokenizerFast.from_pretrained(out), transformers.AutoTokenizer.from_pretrained(out)


def compare(ours, ref, texts: list[str], pairs: list[str] | None = None) -> list[tuple[str, str]]:
    """Mismatching (text, field) for one batch."""
    kw = dict(return_offsets_mapping=True, return_special_tokens_mask=True)
    a = ours(texts, pairs, **kw) if pairs else ours(texts, **kw)
    b = ref(texts, pairs, **kw) if pairs else ref(texts, **kw)
    bad = []
    for i, t in enumerate(texts):
        for key in b.keys():
            x = [tuple(v) for v in a[key][i]] if key == "offset_mapping" else a[key][i]
            y = [tuple(v) for v in b[key][i]] if key == "offset_mapping" else b[key][i]
            if x != y:
                bad.append((t, key))
                break
        else:
            if a.word_ids(i) != b.word_ids(i):
                bad.append((t, "word_ids"))
            else:
                ids = b["input_ids"][i]
                for skip in (False, True):
                    if ours.decode(ids, skip_special_tokens=skip) != ref.decode(ids, skip_special_tokens=skip):
                        bad.append((t, f"decode(skip={skip})"))
                        break
    return bad


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10000, help="strings per tokenizer")
    ap.add_argument("--only", action="append", choices=NAMES)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=1000)
    args = ap.parse_args(argv)
    total_bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.only or NAMES:
            ours, ref = build(name, Path(tmp))
            rng = random.Random(args.seed)
            bad: list[tuple[str, str]] = []
            t0, done = time.time(), 0
            while done < args.n:
                texts = [random_text(rng) for _ in range(min(args.batch, args.n - done))]
                bad += compare(ours, ref, texts)
                bad += compare(ours, ref, texts[: len(texts) // 4], [random_text(rng) for _ in range(len(texts) // 4)])
                done += len(texts)
            total_bad += len(bad)
            print(f"{name}: {done} strings (+{done // 4} pairs), {len(bad)} mismatches, {time.time() - t0:.0f}s", flush=True)
            for t, field in bad[:5]:
                print(f"  {field}: {t!r}", flush=True)
    return 1 if total_bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
