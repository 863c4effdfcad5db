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
