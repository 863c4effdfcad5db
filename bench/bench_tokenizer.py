"""Tokenizer throughput: minformers (pure Python) vs the reference (transformers fast tokenizer, Rust core).

Batch-encodes the whole Rotten Tomatoes corpus (input_ids + attention_mask,
padding to the longest, batches of 1000) with both, on the same vocabulary: WordPiece
(all-MiniLM-L6-v2, the bert-base-uncased vocabulary) and byte-level BPE (GPT-2's vocab.json +
merges.txt, the `gpt2_bpe` asset). Prints the median sentences/s of several interleaved runs
and the ratio. Run: `.venv/bin/python bench/bench_tokenizer.py [--runs 5]`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "bench"))


def run(tokenizer, texts: list[str], batch_size: int) -> float:
    start = time.perf_counter()
    for i in range(0, len(texts), batch_size):
        tokenizer(texts[i : i + batch_size], padding=True, return_token_type_ids=False, return_attention_mask=True)
    return time.perf_counter() - start


def gpt2_folder() -> Path:
    """GPT-2's byte-level BPE saved by the reference (tokenizer.json, vocab.json, merges.txt), made once."""
    import fetch_assets
    import transformers

    from common import WORK

    folder = WORK / "gpt2-bpe-tokenizer"
    if not (folder / "tokenizer.json").exists():
        files = fetch_assets.fetch("gpt2_bpe")
        transformers.GPT2TokenizerFast(str(files / "encoder.json"), str(files / "vocab.bpe")).save_pretrained(folder)
    return folder


def compare(name: str, ours, ref, texts: list[str], runs: int, batch_size: int) -> float:
    tokenizers = {"minformers": ours, "reference": ref}
    times: dict[str, list[float]] = {key: [] for key in tokenizers}
    for tok in tokenizers.values():
        run(tok, texts[:2000], batch_size)  # warm-up (fills our word cache as any long run would)
    for _ in range(runs):  # interleaved, so background load hits both alike
        for key, tok in tokenizers.items():
            times[key].append(run(tok, texts, batch_size))
    speed = {key: len(texts) / statistics.median(t) for key, t in times.items()}
    ratio = speed["minformers"] / speed["reference"]
    print(f"{name:>16}: minformers {speed['minformers']:8.0f} sentences/s, reference {speed['reference']:8.0f} "
          f"sentences/s  ->  {ratio:.2f}x  (median of {runs} runs, {len(texts)} sentences)")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args()

    import logging

    import torch
    import transformers

    from conftest import load_rotten_tomatoes
    from minformers.hub import packaged_model_dir
    from minformers.tokenization.tokenizer import PreTrainedTokenizerFast

    torch.set_num_threads(2)
    transformers.logging.set_verbosity_error()
    logging.getLogger("minformers").setLevel(logging.ERROR)
    texts = [row["text"] for row in load_rotten_tomatoes()]
    for name, folder in (("WordPiece", packaged_model_dir("sentence-transformers/all-MiniLM-L6-v2")),
                         ("byte-level BPE", gpt2_folder())):
        ours = PreTrainedTokenizerFast.from_pretrained(folder)
        ref = transformers.AutoTokenizer.from_pretrained(folder)
        for tok in (ours, ref):
            if tok.pad_token is None:  # GPT-2 has none: pad with the end-of-text token, as the course does
                tok.pad_token = tok.eos_token
        compare(name, ours, ref, texts, args.runs, args.batch_size)


if __name__ == "__main__":
    main()
