"""BART: every head matches the reference on tiny random checkpoints the reference made; the KV cache
stepped one token at a time equals the full forward; losses, saving and tying agree. BartForCausalLM (the
decoder alone): the same, plus greedy generate token-identical to the reference's."""

from __future__ import annotations

import pytest
import torch
import transformers

import minformers
from minformers.generation.cache import DynamicCache, EncoderDecoderCache

TINY = dict(vocab_size=99, d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
            decoder_attention_heads=4, encoder_ffn_dim=37, decoder_ffn_dim=37, max_position_embeddings=64)

HEADS = [
    ("BartModel", {}),
    ("BartForConditionalGeneration", {}),
    ("BartForConditionalGeneration", {"scale_embedding": True, "activation_function": "relu"}),
    ("BartForSequenceClassification", {"num_labels": 3}),
    ("BartForSequenceClassification", {"num_labels": 1}),
    ("BartForQuestionAnswering", {}),
    ("BartForCausalLM", {}),
    ("BartForCausalLM", {"scale_embedding": True, "tie_word_embeddings": False}),
]


def make_checkpoint(folder, cls_name: str, seed: int = 0, **config_kwargs):
    """A tiny random checkpoint saved by the reference; returns (folder, reference model in eval mode)."""
    torch.manual_seed(seed)
    ref = getattr(transformers, cls_name)(transformers.BartConfig(**{**TINY, **config_kwargs})).eval()
    ref.save_pretrained(folder)
    return folder, ref


def eager_reference(folder, cls_name: str):
    """The reference with eager attention: its sdpa path returns no attention weights."""
    return getattr(transformers, cls_name).from_pretrained(folder, attn_implementation="eager").eval()


def make_batch(B: int = 3, S: int = 11, T: int = 7, seed: int = 1) -> dict:
    """Encoder inputs ending in </s> (id 2) with right padding (pad id 1); decoder inputs with padding too."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(3, 99, (B, S), generator=g)
    mask = torch.ones(B, S, dtype=torch.long)
    lengths = [S, 7, 4][:B]
    for i, n in enumerate(lengths):
        ids[i, n - 1] = 2
        ids[i, n:] = 1
        mask[i, n:] = 0
    dec = torch.randint(3, 99, (B, T), generator=g)
    dec[:, 0] = 2
    dec_mask = torch.ones(B, T, dtype=torch.long)
    dec_mask[2, 5:] = 0
    return {"input_ids": ids, "attention_mask": mask, "decoder_input_ids": dec, "decoder_attention_mask": dec_mask}


def inputs_for(cls_name: str, batch: dict, padded: bool) -> dict:
    inputs = dict(batch)
    if not padded:
        inputs.pop("attention_mask")
        inputs.pop("decoder_attention_mask")
    if cls_name == "BartForSequenceClassification":  # decoder inputs = shifted input_ids (eos pooling)
        inputs.pop("decoder_input_ids")
        inputs.pop("decoder_attention_mask", None)
    if cls_name == "BartForCausalLM":  # the decoder alone: its inputs are input_ids
        inputs = {"input_ids": inputs["decoder_input_ids"]}
        if padded:
            inputs["attention_mask"] = batch["decoder_attention_mask"]
    return inputs


def assert_outputs_equal(theirs, ours, atol: float = 1e-4) -> None:
    """Every tensor field the reference returns is in ours, equal within atol (tuples element-wise)."""
    assert list(ours.keys()) == list(theirs.keys())
    for key in theirs.keys():
        if key == "past_key_values":  # a cache object, compared through the cached-decoding tests
            continue
        a, b = theirs[key], ours[key]
        if isinstance(a, tuple):
            assert len(a) == len(b), key
            for x, y in zip(a, b):
                torch.testing.assert_close(y, x, atol=atol, rtol=0, msg=lambda m: f"{key}: {m}")
        else:
            torch.testing.assert_close(b, a, atol=atol, rtol=0, msg=lambda m: f"{key}: {m}")


@pytest.mark.parametrize("cls_name, extra", HEADS, ids=[f"{c}-{e}" for c, e in HEADS])
def test_head_matches_reference(tmp_path, cls_name, extra):
    folder, ref = make_checkpoint(tmp_path, cls_name, **extra)
    ours, info = getattr(minformers, cls_name).from_pretrained(folder, output_loading_info=True)
    assert info["missing_keys"] == [] and info["unexpected_keys"] == []
    assert not ours.training
    batch = make_batch()
    with torch.no_grad():
        for padded in (False, True):
            inputs = inputs_for(cls_name, batch, padded)
            assert_outputs_equal(ref(**inputs), ours(**inputs))
        flags = {"output_hidden_states": True, "output_attentions": True}
        inputs = inputs_for(cls_name, batch, True)
        assert_outputs_equal(eager_reference(folder, cls_name)(**inputs, **flags), ours(**inputs, **flags))


def test_config_defaults_and_aliases():
    ours, theirs = minformers.BartConfig(), transformers.BartConfig()
    for key, value in theirs.to_dict().items():
        if hasattr(ours, key) and key not in ("transformers_version", "architectures"):
            assert getattr(ours, key) == value, key
    assert ours.num_labels == 3 and ours.is_encoder_decoder and ours.decoder_start_token_id == 2
    tiny = minformers.BartConfig(**TINY)
    assert (tiny.hidden_size, tiny.num_attention_heads, tiny.num_hidden_layers) == (32, 4, 2)


def test_cached_decoding_matches_full_forward(tmp_path):
    """The generate() path: encoder once, then one decoder token at a time over an EncoderDecoderCache."""
    folder, ref = make_checkpoint(tmp_path, "BartForConditionalGeneration")
    ours = minformers.BartForConditionalGeneration.from_pretrained(folder)
    batch = make_batch()
    dec = batch["decoder_input_ids"]
    ids, enc_mask = batch["input_ids"], batch["attention_mask"]
    with torch.no_grad():
        full = ours(input_ids=ids, attention_mask=enc_mask, decoder_input_ids=dec)
        theirs = ref(input_ids=ids, attention_mask=enc_mask, decoder_input_ids=dec)
        torch.testing.assert_close(full.logits, theirs.logits, atol=1e-4, rtol=0)
        enc = ours.get_encoder()(input_ids=ids, attention_mask=enc_mask)
        for cache in (EncoderDecoderCache(DynamicCache()), ours.make_cache(3, dec.shape[1]), None):
            steps = []
            for t in range(dec.shape[1]):
                out = ours(decoder_input_ids=dec[:, t:t + 1], encoder_outputs=enc, attention_mask=enc_mask,
                           past_key_values=cache, use_cache=True)
                cache = out.past_key_values  # None given: the model makes one
                steps.append(out.logits)
            torch.testing.assert_close(torch.cat(steps, 1), full.logits, atol=1e-4, rtol=0)
            assert cache.get_seq_length() == dec.shape[1] and cache.cross(0) is not None
        # a prompt of several tokens, then one more
        cache = EncoderDecoderCache()
        first = ours(decoder_input_ids=dec[:, :4], encoder_outputs=(enc.last_hidden_state,),
                     attention_mask=enc_mask, past_key_values=cache, use_cache=True)
        nxt = ours(decoder_input_ids=dec[:, 4:5], encoder_outputs=enc, attention_mask=enc_mask,
                   past_key_values=cache, use_cache=True)
        torch.testing.assert_close(torch.cat([first.logits, nxt.logits], 1), full.logits[:, :5], atol=1e-4, rtol=0)


def test_losses_match_reference(tmp_path):
    batch = make_batch()
    labels = torch.randint(3, 99, (3, 6))
    labels[1, 4:] = -100
    cases = [
        ("BartForConditionalGeneration", {}, {"labels": labels}, ("decoder_input_ids", "decoder_attention_mask")),
        ("BartForSequenceClassification", {"num_labels": 3}, {"labels": torch.tensor([0, 2, 1])},
         ("decoder_input_ids", "decoder_attention_mask")),
        ("BartForSequenceClassification", {"num_labels": 1}, {"labels": torch.tensor([0.5, -1.0, 2.0])},
         ("decoder_input_ids", "decoder_attention_mask")),
        ("BartForQuestionAnswering", {}, {"start_positions": torch.tensor([1, 50, 3]),
                                          "end_positions": torch.tensor([2, 4, 70])}, ()),
        ("BartForCausalLM", {}, {"labels": torch.cat([labels, labels[:, :1]], 1)}, ()),  # not shifted, as the reference
    ]
    for i, (cls_name, extra, labels_kw, drop) in enumerate(cases):
        folder, ref = make_checkpoint(tmp_path / str(i), cls_name, **extra)
        ours = getattr(minformers, cls_name).from_pretrained(folder)
        inputs = {k: v for k, v in batch.items() if k not in drop}
        if cls_name == "BartForCausalLM":
            inputs = inputs_for(cls_name, batch, padded=True)
        with torch.no_grad():
            theirs, mine = ref(**inputs, **labels_kw), ours(**inputs, **labels_kw)
        torch.testing.assert_close(mine.loss, theirs.loss, atol=1e-5, rtol=0, msg=lambda m: f"{cls_name}: {m}")
        assert mine[0] is mine.loss


def test_eos_pooling_needs_the_same_number_of_eos_per_row(tmp_path):
    folder, _ = make_checkpoint(tmp_path, "BartForSequenceClassification")
    ours = minformers.BartForSequenceClassification.from_pretrained(folder)
    ids = torch.tensor([[0, 5, 2, 7, 2], [0, 5, 6, 7, 2]])
    with pytest.raises(ValueError, match="same number of <eos> tokens"):
        ours(input_ids=ids)


@pytest.mark.parametrize("cls_name", ["BartModel", "BartForConditionalGeneration", "BartForSequenceClassification",
                                      "BartForQuestionAnswering", "BartForCausalLM"])
def test_saved_by_minformers_loads_in_reference(tmp_path, cls_name):
    folder, ref = make_checkpoint(tmp_path / "ref", cls_name)
    getattr(minformers, cls_name).from_pretrained(folder).save_pretrained(tmp_path / "ours")
    back, info = getattr(transformers, cls_name).from_pretrained(tmp_path / "ours", output_loading_info=True)
    assert info["missing_keys"] == [] and info["unexpected_keys"] == []
    for key, value in ref.state_dict().items():
        torch.testing.assert_close(back.state_dict()[key], value, atol=0, rtol=0, msg=key)
    inputs = inputs_for(cls_name, make_batch(), True)
    with torch.no_grad():
        assert_outputs_equal(ref(**inputs), back.eval()(**inputs), atol=1e-6)


def test_tied_weights_and_loading_a_base_checkpoint(tmp_path):
    folder, _ = make_checkpoint(tmp_path / "lm", "BartForConditionalGeneration")
    ours = minformers.BartForConditionalGeneration.from_pretrained(folder)
    shared = ours.model.shared.weight
    assert ours.lm_head.weight is shared
    assert ours.model.encoder.embed_tokens.weight is shared and ours.model.decoder.embed_tokens.weight is shared
    fresh = minformers.BartForConditionalGeneration(minformers.BartConfig(**TINY))
    assert fresh.get_output_embeddings().weight is fresh.get_input_embeddings().weight
    # a BartModel checkpoint (like facebook/bart-base) into the LM head class: final_logits_bias -> zeros, silently
    base_folder, base = make_checkpoint(tmp_path / "base", "BartModel")
    lm, info = minformers.BartForConditionalGeneration.from_pretrained(base_folder, output_loading_info=True)
    assert info["missing_keys"] == [] and info["unexpected_keys"] == []
    assert lm.final_logits_bias.abs().sum() == 0
    torch.testing.assert_close(lm.lm_head.weight, base.shared.weight, atol=0, rtol=0)


def test_auto_classes(tmp_path):
    folder, _ = make_checkpoint(tmp_path, "BartForConditionalGeneration")
    assert type(minformers.AutoModelForSeq2SeqLM.from_pretrained(folder)).__name__ == "BartForConditionalGeneration"
    assert type(minformers.AutoModel.from_pretrained(folder)).__name__ == "BartModel"
    assert type(minformers.AutoConfig.from_pretrained(folder)).__name__ == "BartConfig"
    causal = minformers.AutoModelForCausalLM.from_pretrained(folder)  # the reference's choice too
    assert type(causal).__name__ == "BartForCausalLM"
    assert type(transformers.AutoModelForCausalLM.from_pretrained(folder)).__name__ == "BartForCausalLM"


# ---- BartForCausalLM: the decoder alone over its KV cache
def test_causal_lm_cached_decoding_matches_full_forward(tmp_path):
    """One token at a time (and a several-token prompt, then one more) over each kind of cache == the full forward."""
    folder, ref = make_checkpoint(tmp_path, "BartForCausalLM")
    ours = minformers.BartForCausalLM.from_pretrained(folder)
    assert ours.config.is_decoder and not ours.config.is_encoder_decoder
    ids = make_batch()["decoder_input_ids"]  # (3, 7)
    with torch.no_grad():
        full = ours(ids).logits
        torch.testing.assert_close(full, ref(ids).logits, atol=1e-4, rtol=0)
        for cache in (DynamicCache(), ours.make_cache(3, ids.shape[1]), None):
            steps = []
            for t in range(ids.shape[1]):
                out = ours(ids[:, t:t + 1], past_key_values=cache, use_cache=True)
                cache = out.past_key_values  # None given: the model makes one
                steps.append(out.logits)
            torch.testing.assert_close(torch.cat(steps, 1), full, atol=1e-4, rtol=0)
            assert cache.get_seq_length() == ids.shape[1]
        cache = DynamicCache()
        first = ours(ids[:, :4], past_key_values=cache, use_cache=True, logits_to_keep=1).logits
        nxt = ours(ids[:, 4:5], past_key_values=cache, use_cache=True).logits
        torch.testing.assert_close(torch.cat([first, nxt], 1), full[:, 3:5], atol=1e-4, rtol=0)
        # padded (right): every step masks the padding seen so far, as the full forward does
        mask = torch.ones_like(ids)
        mask[2, 5:] = 0
        full = ours(ids, attention_mask=mask).logits
        torch.testing.assert_close(full, ref(ids, attention_mask=mask).logits, atol=1e-4, rtol=0)
        cache = DynamicCache()
        steps = [ours(ids[:, t:t + 1], attention_mask=mask[:, :t + 1], past_key_values=cache, use_cache=True).logits
                 for t in range(ids.shape[1])]
        torch.testing.assert_close(torch.cat(steps, 1), full, atol=1e-4, rtol=0)


def causal_lm_prompts(B: int = 3, T: int = 6, seed: int = 3):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(3, 99, (B, T), generator=g)
    ids[:, 0] = 0  # <s>
    mask = torch.ones_like(ids)
    mask[1, :2] = 0  # left padding (pad id 1)
    mask[2, :3] = 0
    return ids.masked_fill(mask == 0, 1), mask


@pytest.mark.parametrize("settings", [dict(max_new_tokens=12), dict(max_new_tokens=12, num_beams=3),
                                      dict(max_new_tokens=10, repetition_penalty=1.5, eos_token_id=[5, 7, 9]),
                                      dict(max_new_tokens=10, num_beams=2, num_return_sequences=2)],
                         ids=["greedy", "beam", "greedy-penalty-eos", "beam-2-returned"])
def test_causal_lm_generate_matches_reference(tmp_path, settings):
    """Greedy and beam search, batched with left padding, token-identical to the reference's generate."""
    folder, ref = make_checkpoint(tmp_path, "BartForCausalLM")
    ours = minformers.AutoModelForCausalLM.from_pretrained(folder)
    ids, mask = causal_lm_prompts()
    for kw in ({"input_ids": ids[:1], "attention_mask": mask[:1]}, {"input_ids": ids, "attention_mask": mask}):
        expected = ref.generate(**kw, **settings)
        got = ours.generate(**kw, **settings)
        assert torch.equal(got, expected), f"\n{expected}\n{got}"
    with pytest.raises(ValueError, match="context"):  # learned positions: prompt + new tokens must fit the table
        ours.generate(ids, attention_mask=mask, max_new_tokens=64)


def test_causal_lm_from_a_full_bart_checkpoint(tmp_path):
    """A BartForConditionalGeneration checkpoint (tied embeddings saved once, as model.shared.weight): the
    decoder and lm_head come from it; logits equal the reference's decoder + lm_head on the same weights."""
    folder, full = make_checkpoint(tmp_path, "BartForConditionalGeneration")
    ours, info = minformers.BartForCausalLM.from_pretrained(folder, output_loading_info=True)
    assert info["missing_keys"] == []
    assert ours.lm_head.weight is ours.model.decoder.embed_tokens.weight
    torch.testing.assert_close(ours.lm_head.weight, full.model.shared.weight, atol=0, rtol=0)
    ids = make_batch()["decoder_input_ids"]
    with torch.no_grad():
        expected = full.lm_head(full.model.decoder(input_ids=ids).last_hidden_state)
        torch.testing.assert_close(ours(ids).logits, expected, atol=1e-4, rtol=0)


@pytest.mark.parametrize("cls_name, extra", [("BartForConditionalGeneration", {}),
                                             ("BartForConditionalGeneration", {"encoder_layerdrop": 0.5,
                                                                               "decoder_layerdrop": 0.5}),
                                             ("BartForCausalLM", {"decoder_layerdrop": 0.3})])
def test_training_forward_draws_the_reference_random_stream(tmp_path, cls_name, extra):
    """In training the reference draws one number per layer for LayerDrop (even at 0) before the layer's dropout:
    with the same seed, ours draws the same, so dropout masks, skipped layers, logits and loss are equal."""
    folder, ref = make_checkpoint(tmp_path, cls_name, dropout=0.1, encoder_layers=3, decoder_layers=3, **extra)
    ours = getattr(minformers, cls_name).from_pretrained(folder)
    batch = make_batch()
    inputs = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
    if cls_name == "BartForCausalLM":
        inputs["labels"] = batch["input_ids"]
    else:
        inputs.update(decoder_input_ids=batch["decoder_input_ids"], labels=batch["decoder_input_ids"])
    ref.train(), ours.train()
    for seed in range(4):
        torch.manual_seed(seed)
        theirs = ref(**inputs)
        torch.manual_seed(seed)
        mine = ours(**inputs)
        torch.testing.assert_close(mine.logits, theirs.logits, atol=1e-5, rtol=0)
        torch.testing.assert_close(mine.loss, theirs.loss, atol=1e-5, rtol=0)
