"""generate() settings found to differ from the reference in a randomised differential sweep, each checked
against the reference's generate on tiny random checkpoints; plus a small random sweep of its own.

Found and fixed: the default max_length (20 *new* tokens, within the context), min_new_tokens overriding
min_length, bad words that are all eos tokens / whose prefix fills the whole sequence, positions after a
prompt whose last token is padding, beam search's output_logits; added: min_p, epsilon_cutoff, eta_cutoff,
suppress_tokens, begin_suppress_tokens.
"""

from __future__ import annotations

import random

import pytest
import torch
import transformers

import minformers

transformers.logging.set_verbosity_error()

LLAMA = dict(vocab_size=120, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
             num_key_value_heads=2, max_position_embeddings=64, pad_token_id=0, bos_token_id=1, eos_token_id=2,
             initializer_range=0.3)
GPT2 = dict(vocab_size=99, n_embd=32, n_layer=2, n_head=4, n_positions=40, bos_token_id=1, eos_token_id=2,
            pad_token_id=0, initializer_range=0.3)
BART = dict(vocab_size=99, d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
            decoder_attention_heads=4, encoder_ffn_dim=37, decoder_ffn_dim=37, max_position_embeddings=64,
            pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=2, forced_bos_token_id=0,
            forced_eos_token_id=2, init_std=0.3)
T5 = dict(vocab_size=99, d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4, pad_token_id=0, eos_token_id=1,
          decoder_start_token_id=0, initializer_factor=1.5)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """name -> (reference model, our model), ours loaded from the reference's saved folder."""
    out = {}
    for name, cls, cfg in (("llama", "LlamaForCausalLM", transformers.LlamaConfig(**LLAMA)),
                           ("gpt2", "GPT2LMHeadModel", transformers.GPT2Config(**GPT2)),
                           ("bart", "BartForConditionalGeneration", transformers.BartConfig(**BART)),
                           ("t5", "T5ForConditionalGeneration", transformers.T5Config(**T5))):
        torch.manual_seed(0)
        ref = getattr(transformers, cls)(cfg).eval()
        folder = tmp_path_factory.mktemp(name)
        ref.save_pretrained(folder)
        auto = minformers.AutoModelForSeq2SeqLM if cfg.is_encoder_decoder else minformers.AutoModelForCausalLM
        out[name] = (ref, auto.from_pretrained(folder))
    return out


def prompts(B: int = 3, T: int = 6, seed: int = 1, pad: int = 0, vocab: int = 99):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(3, vocab, (B, T), generator=g)
    mask = torch.ones_like(ids)
    if B == 3:
        mask[1, :2] = 0  # left padding
        mask[2, :4] = 0
    return ids.masked_fill(mask == 0, pad), mask


def both(models, name, *args, seed: int | None = None, **kw):
    """(reference output, our output) of generate(*args, **kw), each after torch.manual_seed(seed) if given."""
    ref, ours = models[name]
    outs = []
    for model in (ref, ours):
        if seed is not None:
            torch.manual_seed(seed)
        outs.append(model.generate(*args, **kw))
    return outs


def assert_same(expected, got):
    assert torch.equal(got, expected), f"\nreference:\n{expected}\nours:\n{got}"


@pytest.mark.parametrize("name", ["llama", "gpt2", "bart", "t5"])
def test_default_max_length_is_twenty_new_tokens(models, name):
    """Without max_length / max_new_tokens the reference generates 20 new tokens (not 20 in all)."""
    ids, mask = prompts(pad=1 if name == "bart" else 0)
    expected, got = both(models, name, ids, attention_mask=mask, eos_token_id=None)
    new = expected.shape[1] - (1 if name in ("bart", "t5") else ids.shape[1])
    assert new == 20
    assert_same(expected, got)


def test_default_max_length_stays_within_the_context(models):
    """... but no further than max_position_embeddings (GPT-2 here: n_positions = 40, prompt 30 tokens)."""
    ids = prompts(B=1, T=30)[0]
    expected, got = both(models, "gpt2", ids, eos_token_id=None)
    assert expected.shape[1] == 40
    assert_same(expected, got)
    # an explicit max_length=20 is not the default: nothing is added to it
    expected, got = both(models, "gpt2", ids[:, :10], max_length=20, eos_token_id=None)
    assert expected.shape[1] == 20
    assert_same(expected, got)


def test_min_new_tokens_overrides_min_length(models):
    """With min_new_tokens set, min_length is the prompt plus min_new_tokens, whatever min_length says."""
    ids, mask = prompts()
    free = models["llama"][0].generate(ids, attention_mask=mask, max_new_tokens=8, eos_token_id=None)
    eos = int(free[0, ids.shape[1] + 1])  # row 0's second new token
    for kw in (dict(min_new_tokens=1, min_length=ids.shape[1] + 6), dict(min_new_tokens=0, min_length=30)):
        expected, got = both(models, "llama", ids, attention_mask=mask, max_new_tokens=8, eos_token_id=eos, **kw)
        assert expected[0, ids.shape[1] + 1] == eos  # the eos token was allowed from the second new token on
        assert_same(expected, got)


def test_bad_words_that_are_all_eos_tokens_ban_nothing(models):
    ids, mask = prompts()
    for kw in (dict(bad_words_ids=[[5]], eos_token_id=5), dict(bad_words_ids=[[5], [7]], eos_token_id=[7, 5])):
        expected, got = both(models, "llama", ids, attention_mask=mask, max_new_tokens=5, **kw)
        assert_same(expected, got)


@pytest.mark.parametrize("name", ["llama", "t5"])
def test_bad_word_prefix_must_leave_room_for_its_last_token(models, name):
    """A bad word of n tokens applies only to sequences of at least n tokens (the reference skips longer words):
    a one-token prompt (or decoder start) followed by its usual next token is not banned at the first step."""
    ref, _ = models[name]
    if name == "llama":
        ids = prompts(B=1, T=1)[0]
        start = int(ids[0, 0])
    else:
        ids = prompts(B=1, T=5)[0]
        start = T5["decoder_start_token_id"]
    free = ref.generate(ids, max_new_tokens=3, eos_token_id=None)
    first = int(free[0, -3])
    bad = [[start, first], [first, int(free[0, -2])]]  # the second word fires once `first` is in the sequence
    expected, got = both(models, name, ids, max_new_tokens=3, eos_token_id=None, bad_words_ids=bad)
    assert expected[0, -3] == first and expected[0, -2] != free[0, -2]
    assert_same(expected, got)


def test_prompt_ending_in_padding_counts_positions_from_the_mask(models):
    """New tokens' positions count the attended tokens before them, also when the prompt's last token is
    masked (right padding, which the reference warns about but computes)."""
    ids, mask = prompts()
    mask = mask.flip(1)  # right padding: rows 1 and 2 end with masked tokens
    ids = ids.flip(1)
    for kw in (dict(max_new_tokens=6), dict(max_new_tokens=6, num_beams=3)):
        expected, got = both(models, "llama", ids, attention_mask=mask, **kw)
        assert_same(expected, got)
    # the default mask inferred from a pad id that ends the prompt
    expected, got = both(models, "llama", ids, max_new_tokens=6, pad_token_id=int(ids[2, -1]))
    assert_same(expected, got)


@pytest.mark.parametrize("name", ["llama", "bart"])
def test_beam_search_outputs(models, name):
    """output_logits in beam search (raw logits per step); sequences_scores only with output_scores."""
    ids, mask = prompts(pad=1 if name == "bart" else 0)
    kw = dict(max_new_tokens=5, num_beams=3, num_return_sequences=2, return_dict_in_generate=True)
    r, o = both(models, name, ids, attention_mask=mask, output_logits=True, **kw)
    assert_same(r.sequences, o.sequences)
    assert o.sequences_scores is None and r.sequences_scores is None
    assert o.logits is not None and len(o.logits) == len(r.logits)
    for a, b in zip(r.logits, o.logits):
        torch.testing.assert_close(b, a, atol=1e-4, rtol=0)
    r, o = both(models, name, ids, attention_mask=mask, output_scores=True, **kw)
    torch.testing.assert_close(o.sequences_scores, r.sequences_scores, atol=1e-4, rtol=0)
    assert torch.equal(o.beam_indices, r.beam_indices)


SAMPLING_WARPERS = [
    dict(min_p=0.2),
    dict(min_p=0.1, temperature=0.7, top_k=20),
    dict(epsilon_cutoff=0.03),
    dict(eta_cutoff=0.03),
    dict(eta_cutoff=0.001, top_p=0.9),
    dict(min_p=0.3, num_beams=2),  # beam sampling keeps at least 1 + n_eos tokens
]


@pytest.mark.parametrize("settings", SAMPLING_WARPERS, ids=[str(i) for i in range(len(SAMPLING_WARPERS))])
def test_new_sampling_warpers_match_reference(models, settings):
    ids, mask = prompts()
    kw = dict(do_sample=True, max_new_tokens=8, return_dict_in_generate=True, output_scores=True, **settings)
    r, o = both(models, "llama", ids, attention_mask=mask, seed=3, **kw)
    assert_same(r.sequences, o.sequences)
    truncated = 0
    for a, b in zip(r.scores, o.scores):
        assert torch.equal(torch.isinf(a), torch.isinf(b))  # the same tokens were cut
        truncated += int(torch.isinf(a).any())
    assert truncated  # the warper did cut something


@pytest.mark.parametrize("name", ["llama", "bart"])
def test_suppress_tokens_match_reference(models, name):
    ref, _ = models[name]
    ids, mask = prompts(pad=1 if name == "bart" else 0)
    free = ref.generate(ids, attention_mask=mask, max_new_tokens=6, eos_token_id=None)
    first_new = 2 if name == "bart" else ids.shape[1]  # BART forces BOS at the first step
    common = free[:, first_new:].flatten().mode().values.item()
    cases = (dict(suppress_tokens=[common, 1000]),  # ids outside the vocabulary are ignored
             dict(begin_suppress_tokens=free[:, first_new].tolist()),
             dict(suppress_tokens=[common], begin_suppress_tokens=[int(free[0, first_new])], num_beams=3))
    for kw in cases:
        expected, got = both(models, name, ids, attention_mask=mask, max_new_tokens=6, eos_token_id=None, **kw)
        assert not torch.equal(expected, free)  # the suppression changed the output
        assert_same(expected, got)


def random_settings(rng: random.Random) -> dict:
    s: dict = {"max_new_tokens": rng.randint(1, 10)} if rng.random() < 0.7 else {}
    if rng.random() < 0.3:
        s["min_new_tokens" if rng.random() < 0.5 else "min_length"] = rng.randint(0, 6)
    if rng.random() < 0.3:
        s["repetition_penalty"] = rng.choice([0.7, 1.5])
    if rng.random() < 0.2:
        s["no_repeat_ngram_size"] = rng.choice([1, 2, 3])
    if rng.random() < 0.5:
        s["eos_token_id"] = rng.sample(range(3, 99), rng.randint(1, 8))
    if rng.random() < 0.15:
        s["forced_eos_token_id"] = rng.randrange(99)
    if rng.random() < 0.5:
        nb = rng.randint(2, 4)
        s.update(num_beams=nb, num_return_sequences=rng.randint(1, nb), length_penalty=rng.choice([-1.0, 0.0, 2.0]),
                 early_stopping=rng.choice([True, False, "never"]))
    if rng.random() < 0.3:
        s.update(do_sample=True, top_k=rng.choice([0, 5]), top_p=rng.choice([1.0, 0.8]))
    return s


@pytest.mark.parametrize("name", ["llama", "bart"])
def test_random_settings_match_reference(models, name):
    """A few random combinations of the above, batched and padded (left for Llama, right for BART)."""
    rng = random.Random(name)
    for case in range(30):
        pad = 1 if name == "bart" else 0
        ids, mask = prompts(seed=case, pad=pad)
        if name == "bart":
            ids, mask = ids.flip(1), mask.flip(1)
        s = random_settings(rng)
        expected, got = both(models, name, ids, attention_mask=mask, seed=case, **s)
        assert torch.equal(got, expected), f"case {case} {s}:\nreference:\n{expected}\nours:\n{got}"


# ---- the context: the last new token is never fed back, so max_length may be the context + 1 --------------
@pytest.mark.parametrize("num_beams", [1, 2])
def test_learned_positions_fill_the_whole_context(models, num_beams):
    """GPT-2 (n_positions=40) continues a 1-token prompt by 40 tokens, a 5-token one by 36, as the reference;
    one more is refused early and clearly (the reference fails with an IndexError inside the model)."""
    for T0 in (1, 5):
        ids = prompts(B=1, T=T0)[0]
        expected, got = both(models, "gpt2", ids, max_new_tokens=41 - T0, num_beams=num_beams, eos_token_id=None)
        assert expected.shape[1] == 41
        assert_same(expected, got)
        with pytest.raises(ValueError, match=f"context of 40 positions.*at most {41 - T0} new tokens fit"):
            models["gpt2"][1].generate(ids, max_new_tokens=42 - T0, num_beams=num_beams, eos_token_id=None)


def test_encoder_decoder_positions_fill_the_whole_table(models):
    """BART's decoder (64 positions) makes 64 new tokens after its start token, as the reference; 65 are refused
    before any work (the reference fails with an IndexError)."""
    ids, mask = prompts(B=1, pad=1)
    expected, got = both(models, "bart", ids, attention_mask=mask, max_new_tokens=64, min_new_tokens=64)
    assert expected.shape[1] == 65
    assert_same(expected, got)
    with pytest.raises(ValueError, match="context of 64 positions"):
        models["bart"][1].generate(ids, attention_mask=mask, max_new_tokens=65)


def test_rope_model_does_not_warn_within_the_context(models, caplog):
    """Llama (64 positions): 65 ids use positions 0..63 only; no 'beyond the context' warning, the same ids."""
    ids = prompts(B=1, T=1)[0]
    with caplog.at_level("WARNING", logger="minformers.generation"):
        expected, got = both(models, "llama", ids, max_new_tokens=64, eos_token_id=None)
    assert_same(expected, got)
    assert not [r for r in caplog.records if "beyond" in r.getMessage()]
    with caplog.at_level("WARNING", logger="minformers.generation"):
        models["llama"][1].generate(ids, max_new_tokens=65, eos_token_id=None)
    assert [r for r in caplog.records if "beyond the model's context" in r.getMessage()]


@pytest.mark.parametrize("name", ["gpt2", "bart"])
def test_max_length_not_beyond_the_prompt_is_refused(models, name):
    """A max_length (the total) no longer than the prompt leaves nothing to generate: the reference raises a
    ValueError, and so do we (it returned the prompt with a logged warning), saying to pass max_new_tokens."""
    ids, mask = prompts(B=1, T=7, pad=1 if name == "bart" else 0)
    kw = dict(decoder_input_ids=ids[:, :5]) if name == "bart" else {}
    ref, ours = models[name]
    for model in (ref, ours):
        with pytest.raises(ValueError, match="max_length"):
            model.generate(ids, max_length=5, **kw)
    with pytest.raises(ValueError, match="nothing is left to generate. Pass max_new_tokens=N"):
        ours.generate(ids, max_length=5, **kw)
    expected, got = both(models, name, ids, max_length=5, max_new_tokens=3, **kw)  # max_new_tokens wins
    assert_same(expected, got)
