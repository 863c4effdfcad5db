"""T5 v1.0 (ReLU, tied lm_head) and v1.1 (gated-GELU, untied): every class matches the reference on tiny
random checkpoints it made; cached decoding equals the full forward; losses, saving and tying agree."""

from __future__ import annotations

import pytest
import torch
import transformers

import minformers
from minformers.cache import EncoderDecoderCache

# few buckets and a short max distance, so inputs of ~20 tokens reach the logarithmic buckets
TINY = dict(vocab_size=99, d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4, decoder_start_token_id=0,
            relative_attention_num_buckets=8, relative_attention_max_distance=20)
VARIANTS = {"v1.0": {}, "v1.1": {"feed_forward_proj": "gated-gelu", "tie_word_embeddings": False},
            "uneven": {"num_decoder_layers": 3}}
CASES = [(c, v) for c in ("T5Model", "T5ForConditionalGeneration", "T5EncoderModel") for v in ("v1.0", "v1.1")]
CASES.append(("T5ForConditionalGeneration", "uneven"))


def make_checkpoint(folder, cls_name: str, variant: str = "v1.0", seed: int = 0):
    torch.manual_seed(seed)
    ref = getattr(transformers, cls_name)(transformers.T5Config(**TINY, **VARIANTS[variant])).eval()
    ref.save_pretrained(folder)
    return folder, ref


def make_batch(B: int = 3, S: int = 23, T: int = 19, seed: int = 1) -> dict:
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(2, 99, (B, S), generator=g)
    mask = torch.ones(B, S, dtype=torch.long)
    for i, n in enumerate([S, 12, 5][:B]):
        ids[i, n - 1] = 1  # </s>
        ids[i, n:] = 0  # <pad>
        mask[i, n:] = 0
    dec = torch.randint(2, 99, (B, T), generator=g)
    dec[:, 0] = 0
    dec_mask = torch.ones(B, T, dtype=torch.long)
    dec_mask[2, 9:] = 0
    return {"input_ids": ids, "attention_mask": mask, "decoder_input_ids": dec, "decoder_attention_mask": dec_mask}


def inputs_for(cls_name: str, batch: dict, padded: bool = True) -> dict:
    keep = ["input_ids", "attention_mask"] if padded else ["input_ids"]
    if cls_name != "T5EncoderModel":
        keep += ["decoder_input_ids", "decoder_attention_mask"] if padded else ["decoder_input_ids"]
    return {k: batch[k] for k in keep}


def assert_outputs_equal(theirs, ours, atol: float = 1e-4) -> None:
    assert list(ours.keys()) == list(theirs.keys())
    for key in theirs.keys():
        if key == "past_key_values":
            continue
        a, b = theirs[key], ours[key]
        if isinstance(a, tuple):
            assert len(a) == len(b), key
        for x, y in zip(a, b) if isinstance(a, tuple) else [(a, b)]:
            torch.testing.assert_close(y, x, atol=atol, rtol=0, msg=lambda m: f"{key}: {m}")


@pytest.mark.parametrize("cls_name, variant", CASES, ids=[f"{c}-{v}" for c, v in CASES])
def test_matches_reference(tmp_path, cls_name, variant):
    folder, ref = make_checkpoint(tmp_path, cls_name, variant)
    ours, info = getattr(minformers, cls_name).from_pretrained(folder, output_loading_info=True)
    assert info["missing_keys"] == [] and info["unexpected_keys"] == []
    batch = make_batch()
    flags = {"output_hidden_states": True, "output_attentions": True}
    with torch.no_grad():
        for padded in (False, True):
            inputs = inputs_for(cls_name, batch, padded)
            assert_outputs_equal(ref(**inputs), ours(**inputs))
        assert_outputs_equal(ref(**inputs_for(cls_name, batch), **flags), ours(**inputs_for(cls_name, batch), **flags))


def test_config_defaults_and_aliases():
    ours, theirs = minformers.T5Config(), transformers.T5Config()
    for key, value in theirs.to_dict().items():
        if hasattr(ours, key) and key not in ("transformers_version", "architectures"):
            assert getattr(ours, key) == value, key
    v11 = minformers.T5Config(feed_forward_proj="gated-gelu")
    assert (v11.dense_act_fn, v11.is_gated_act) == ("gelu_new", True)
    assert (ours.hidden_size, ours.num_attention_heads, ours.num_hidden_layers, ours.head_dim) == (512, 8, 6, 64)
    with pytest.raises(ValueError, match="feed_forward_proj"):
        minformers.T5Config(feed_forward_proj="gated-gelu-x")


@pytest.mark.parametrize("variant", ["v1.0", "v1.1"])
def test_cached_decoding_matches_full_forward(tmp_path, variant):
    folder, _ = make_checkpoint(tmp_path, "T5ForConditionalGeneration", variant)
    ours = minformers.AutoModelForSeq2SeqLM.from_pretrained(folder)
    batch = make_batch()
    dec, enc_mask = batch["decoder_input_ids"], batch["attention_mask"]
    with torch.no_grad():
        full = ours(input_ids=batch["input_ids"], attention_mask=enc_mask, decoder_input_ids=dec).logits
        enc = ours.get_encoder()(input_ids=batch["input_ids"], attention_mask=enc_mask)
        for cache in (EncoderDecoderCache(), ours.make_cache(3, dec.shape[1])):
            steps = [ours(decoder_input_ids=dec[:, t:t + 1], encoder_outputs=enc, attention_mask=enc_mask,
                          past_key_values=cache, use_cache=True).logits for t in range(dec.shape[1])]
            torch.testing.assert_close(torch.cat(steps, 1), full, atol=1e-4, rtol=0)


@pytest.mark.parametrize("variant", ["v1.0", "v1.1"])
def test_loss_and_tying(tmp_path, variant):
    folder, ref = make_checkpoint(tmp_path, "T5ForConditionalGeneration", variant)
    ours = minformers.T5ForConditionalGeneration.from_pretrained(folder)
    tied = variant == "v1.0"
    assert (ours.lm_head.weight is ours.shared.weight) == tied
    assert ours.encoder.embed_tokens.weight is ours.shared.weight is ours.decoder.embed_tokens.weight
    batch = make_batch()
    labels = batch["decoder_input_ids"].roll(-1, 1)
    labels[1, 10:] = -100
    with torch.no_grad():
        theirs = ref(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=labels)
        mine = ours(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=labels)
    torch.testing.assert_close(mine.loss, theirs.loss, atol=1e-5, rtol=0)
    torch.testing.assert_close(mine.logits, theirs.logits, atol=1e-4, rtol=0)


@pytest.mark.parametrize("cls_name, variant", [("T5ForConditionalGeneration", "v1.0"),
                                               ("T5ForConditionalGeneration", "v1.1"), ("T5EncoderModel", "v1.0")])
def test_saved_by_minformers_loads_in_reference(tmp_path, cls_name, variant):
    folder, ref = make_checkpoint(tmp_path / "ref", cls_name, variant)
    getattr(minformers, cls_name).from_pretrained(folder).save_pretrained(tmp_path / "ours")
    back, info = getattr(transformers, cls_name).from_pretrained(tmp_path / "ours", output_loading_info=True)
    assert info["missing_keys"] == [] and info["unexpected_keys"] == []
    for key, value in ref.state_dict().items():
        torch.testing.assert_close(back.state_dict()[key], value, atol=0, rtol=0, msg=key)


def test_encoder_model_loads_a_full_checkpoint(tmp_path):
    folder, ref = make_checkpoint(tmp_path, "T5ForConditionalGeneration")
    enc, info = minformers.T5EncoderModel.from_pretrained(folder, output_loading_info=True)
    assert info["missing_keys"] == []
    batch = make_batch()
    with torch.no_grad():
        torch.testing.assert_close(enc(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])[0],
                                   ref.get_encoder()(input_ids=batch["input_ids"],
                                                     attention_mask=batch["attention_mask"])[0], atol=1e-4, rtol=0)
