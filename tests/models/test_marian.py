"""Marian (Opus-MT): both classes match the reference on tiny random checkpoints it made; cached decoding
equals the full forward; the sinusoidal tables are recomputed, not loaded or saved."""

from __future__ import annotations

import pytest
import torch
import transformers

import minformers
from minformers.generation.cache import EncoderDecoderCache

PAD = 98  # Opus-MT: the last id is <pad>, which also starts every translation; </s> is 0
TINY = dict(vocab_size=99, d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
            decoder_attention_heads=4, encoder_ffn_dim=37, decoder_ffn_dim=37, max_position_embeddings=64,
            pad_token_id=PAD, decoder_start_token_id=PAD, eos_token_id=0, activation_function="swish",
            scale_embedding=True)

CASES = [
    ("MarianModel", {}),
    ("MarianMTModel", {}),
    ("MarianMTModel", {"share_encoder_decoder_embeddings": False}),
]


def make_checkpoint(folder, cls_name: str, seed: int = 0, **config_kwargs):
    torch.manual_seed(seed)
    ref = getattr(transformers, cls_name)(transformers.MarianConfig(**{**TINY, **config_kwargs})).eval()
    ref.save_pretrained(folder)
    return folder, ref


def make_batch(B: int = 3, S: int = 11, T: int = 7, seed: int = 1) -> dict:
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, PAD, (B, S), generator=g)
    mask = torch.ones(B, S, dtype=torch.long)
    for i, n in enumerate([S, 7, 4][:B]):
        ids[i, n - 1] = 0
        ids[i, n:] = PAD
        mask[i, n:] = 0
    dec = torch.randint(1, PAD, (B, T), generator=g)
    dec[:, 0] = PAD
    dec_mask = torch.ones(B, T, dtype=torch.long)
    dec_mask[2, 5:] = 0
    return {"input_ids": ids, "attention_mask": mask, "decoder_input_ids": dec, "decoder_attention_mask": dec_mask}


def assert_outputs_equal(theirs, ours, atol: float = 1e-4) -> None:
    assert list(ours.keys()) == list(theirs.keys())
    for key in theirs.keys():
        if key == "past_key_values":
            continue
        a, b = theirs[key], ours[key]
        for x, y in zip(a, b) if isinstance(a, tuple) else [(a, b)]:
            torch.testing.assert_close(y, x, atol=atol, rtol=0, msg=lambda m: f"{key}: {m}")


@pytest.mark.parametrize("cls_name, extra", CASES, ids=[f"{c}-{e}" for c, e in CASES])
def test_matches_reference(tmp_path, cls_name, extra):
    folder, ref = make_checkpoint(tmp_path, cls_name, **extra)
    ours, info = getattr(minformers, cls_name).from_pretrained(folder, output_loading_info=True)
    assert info["missing_keys"] == [] and info["unexpected_keys"] == []
    batch = make_batch()
    unpadded = {"input_ids": batch["input_ids"], "decoder_input_ids": batch["decoder_input_ids"]}
    flags = {"output_hidden_states": True, "output_attentions": True}
    eager = getattr(transformers, cls_name).from_pretrained(folder, attn_implementation="eager").eval()
    with torch.no_grad():
        assert_outputs_equal(ref(**unpadded), ours(**unpadded))
        assert_outputs_equal(ref(**batch), ours(**batch))
        assert_outputs_equal(eager(**batch, **flags), ours(**batch, **flags))


def test_config_defaults():
    ours, theirs = minformers.MarianConfig(), transformers.MarianConfig()
    for key, value in theirs.to_dict().items():
        if hasattr(ours, key) and key not in ("transformers_version", "architectures"):
            assert getattr(ours, key) == value, key
    assert ours.decoder_start_token_id == ours.pad_token_id == 58100 and ours.hidden_size == 1024


def test_cached_decoding_loss_and_tying(tmp_path):
    folder, ref = make_checkpoint(tmp_path, "MarianMTModel")
    ours = minformers.AutoModelForSeq2SeqLM.from_pretrained(folder)
    assert type(ours) is minformers.MarianMTModel
    assert ours.lm_head.weight is ours.model.shared.weight is ours.model.decoder.embed_tokens.weight
    batch = make_batch()
    dec, enc_mask = batch["decoder_input_ids"], batch["attention_mask"]
    with torch.no_grad():
        full = ours(input_ids=batch["input_ids"], attention_mask=enc_mask, decoder_input_ids=dec).logits
        enc = ours.get_encoder()(input_ids=batch["input_ids"], attention_mask=enc_mask)
        for cache in (EncoderDecoderCache(), ours.make_cache(3, 10)):
            steps = [ours(decoder_input_ids=dec[:, t:t + 1], encoder_outputs=enc, attention_mask=enc_mask,
                          past_key_values=cache, use_cache=True).logits for t in range(dec.shape[1])]
            torch.testing.assert_close(torch.cat(steps, 1), full, atol=1e-4, rtol=0)
        labels = dec.roll(-1, 1)
        labels[0, -2:] = -100
        theirs = ref(input_ids=batch["input_ids"], attention_mask=enc_mask, labels=labels)
        mine = ours(input_ids=batch["input_ids"], attention_mask=enc_mask, labels=labels)
        torch.testing.assert_close(mine.loss, theirs.loss, atol=1e-5, rtol=0)
        torch.testing.assert_close(mine.logits, theirs.logits, atol=1e-4, rtol=0)


@pytest.mark.parametrize("cls_name", ["MarianModel", "MarianMTModel"])
def test_saved_by_minformers_loads_in_reference(tmp_path, cls_name):
    folder, ref = make_checkpoint(tmp_path / "ref", cls_name)
    getattr(minformers, cls_name).from_pretrained(folder).save_pretrained(tmp_path / "ours")
    back, info = getattr(transformers, cls_name).from_pretrained(tmp_path / "ours", output_loading_info=True)
    # the sinusoidal tables are not saved (as the reference's MarianMTModel); it rebuilds them
    assert [k for k in info["missing_keys"] if "embed_positions" not in k] == [] and info["unexpected_keys"] == []
    batch = make_batch()
    with torch.no_grad():
        assert_outputs_equal(ref(**batch), back.eval()(**batch), atol=1e-6)
