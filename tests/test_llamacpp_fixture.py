"""llama.cpp's greedy tokens on the SmolLM2 Q4_1 GGUF, kept as a fixture (scripts/make_llamacpp_fixture.py
made it with llama-cpp-python, a bench-only dependency): the fixture is of the installed file, our tokenizer
gives llama.cpp's prompt ids, and greedy decoding agrees with llama.cpp's first new tokens (issue 16).

llama.cpp quantizes activations to 8 bits inside its Q4_1 products, so its tokens are not the dequantized
fp32 model's: agreement is asked for on the first 8 new tokens of at least 4 of the 5 prompts.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch

import minformers

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "llamacpp_greedy_smollm2.json").read_text("utf-8"))
PROMPTS = FIXTURE["prompts"]
FIRST = 8  # new tokens compared
NEEDED = 4  # prompts of 5 that must agree


@pytest.fixture(scope="module")
def folder(smollm2_folder) -> Path:
    return Path(smollm2_folder)


def greedy_agreement(model) -> list[bool]:
    """Per prompt: do our first FIRST greedy tokens equal llama.cpp's?"""
    agree = []
    with torch.inference_mode():
        for p in PROMPTS:
            ids = torch.tensor([p["prompt_ids"]])
            out = model.generate(ids, max_new_tokens=FIRST, min_new_tokens=FIRST, do_sample=False)
            agree.append(out[0, ids.shape[1]:].tolist() == p["new_ids"][:FIRST])
    return agree


def test_fixture_is_of_the_installed_gguf(folder):
    h = hashlib.sha256((folder / FIXTURE["gguf_file"]).read_bytes()).hexdigest()
    assert h == FIXTURE["gguf_sha256"], "the GGUF changed: rerun scripts/make_llamacpp_fixture.py"
    assert len(PROMPTS) == 5 and all(len(p["new_ids"]) >= FIRST for p in PROMPTS)


@pytest.mark.parametrize("name", [p["name"] for p in PROMPTS])
def test_tokenizer_gives_llamacpp_prompt_ids(folder, name):
    tok = minformers.AutoTokenizer.from_pretrained(folder, gguf_file=FIXTURE["gguf_file"])
    p = next(p for p in PROMPTS if p["name"] == name)
    # The GGUF says tokenizer.ggml.add_bos_token = false and llama.cpp adds no BOS; the reference's GGUF
    # tokenizer (and so ours, equal to it) still puts <|im_start|> (id 1) first. The rest must be equal.
    assert tok(p["text"])["input_ids"] == [1, *p["prompt_ids"]]
    assert tok(p["text"], add_special_tokens=False)["input_ids"] == p["prompt_ids"]


@pytest.mark.xfail(strict=True, reason="issue 16 open: dequantize=False (int4 kernels, bf16 activations) agrees with "
                   "llama.cpp on the first 8 tokens of 2 of 5 prompts (llama.cpp quantizes activations to 8 bits)")
def test_quantized_greedy_matches_llamacpp(folder):
    model = minformers.AutoModelForCausalLM.from_pretrained(folder, gguf_file=FIXTURE["gguf_file"],
                                                            dequantize=False)
    agree = greedy_agreement(model)
    assert sum(agree) >= NEEDED, f"agreement per prompt: {agree}"


def test_dequantized_fp32_greedy_matches_llamacpp(folder):
    """Today's fp32 path (dequantize=True, the default) already agrees on 4 of 5 prompts (measured when the
    fixture was made: first 8 tokens equal on chat, code, list, story; "capital" parts at new token 5)."""
    model = minformers.AutoModelForCausalLM.from_pretrained(folder, gguf_file=FIXTURE["gguf_file"])
    agree = greedy_agreement(model)
    assert sum(agree) >= NEEDED, f"agreement per prompt: {agree}"
