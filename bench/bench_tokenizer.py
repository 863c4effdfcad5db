"""Tokenizer throughput: minformers (pure Python) vs the reference (transformers fast tokenizer, Rust core).

Batch-encodes the whole Rotten Tomatoes corpus (input_ids + attention_mask,
padding to the longest, batches of 1000) with both, on the same folder
(all-MiniLM-L6-v2, the bert-base-uncased vocabulary). Prints the median
sentences/s of several runs and the ratio. Run: `.venv/bin/python bench/bench_tokenizer.py`.
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


def run(tokenizer, texts: list[str], batch_size: int) -> float:
    start = time.perf_counter()
    for i in range(0, len(texts), batch_size):
        tokenizer(texts[i : i + batch_size], padding=True, return_token_type_ids=False, return_attention_mask=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args()

    import torch
    import transformers

    from conftest import load_rotten_tomatoes
    from minformers.hub import packaged_model_dir
    from minformers.tokenization.tokenizer import PreTrainedTokenizerFast

    torch.set_num_threads(2)
    transformers.logging.set_verbosity_error()
    import logging

    logging.getLogger("minformers").setLevel(logging.ERROR)
    folder = packaged_model_dir("sentence-transformers/all-MiniLM-L6-v2")
    texts = [row["text"] for row in load_rotten_tomatoes()]
    ours = PreTrainedTokenizerFast.from_pretrained(folder)
    ref = transformers.AutoTokenizer.from_pretrained(folder)

    tokenizers = {"minformers": ours, "reference": ref}
    times: dict[str, list[float]] = {name: [] for name in tokenizers}
    for tok in tokenizers.values():
        run(tok, texts[:2000], args.batch_size)  # warm-up (fills our word cache as any long run would)
    for _ in range(args.runs):  # interleaved, so background load hits both alike
        for name, tok in tokenizers.items():
            times[name].append(run(tok, texts, args.batch_size))
    results = {}
    for name in tokenizers:
        results[name] = len(texts) / statistics.median(times[name])
        print(f"{name:>10}: {results[name]:10.0f} sentences/s (median of {args.runs} runs, {len(texts)} sentences)")
    print(f"     ratio: {results['minformers'] / results['reference']:.2f}x the reference's speed")


if __name__ == "__main__":
    main()
