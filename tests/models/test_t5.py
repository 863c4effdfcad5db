"""T5 v1.0 (ReLU, tied lm_head) and v1.1 (gated-GELU, untied): every class -- base models, the LM and the
task heads (sequence / token classification, question answering) -- matches the reference on tiny random
checkpoints it made; cached decoding equals the full forward; losses, saving and tying agree."""

from __future__ import annotations

import pytest
import torch
import transformers

import minformers
from minformers.generation.cache import EncoderDecoderCache

# few buckets and a short max distance, so inputs of ~20 tokens reach the logarithmic buckets
TINY = dict(vocab_size=99, d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4, decoder_start_token_id=0,
            relative_attention_num_buckets=8, relative_attention_max_distance=20)
VARIANTS = {"v1.0": {}, "v1.1": {"feed_forward_proj": "gated-gelu", "tie_word_embeddings": False},
            "uneven": {"num_decoder_layers": 3}}
HEADS = ("T5ForSequenceClassification", "T5ForTokenClassification", "T5ForQuestionAnswering")
CASES = [(c, v) for c in ("T5Model", "T5ForConditionalGeneration", "T5EncoderModel") + HEADS
         for v in ("v1.0", "v1.1")]
CASES += [("T5ForConditionalGeneration", "uneven"), ("T5ForSequenceClassification", "uneven"),
          ("T5ForQuestionAnswering", "uneven")]


def make_checkpoint(folder, cls_name: str, variant: str = "v1.0", seed: int = 0, **config_kwargs):
    torch.manual_seed(seed)
    config = transformers.T5Config(**{**TINY, **VARIANTS[variant], **config_kwargs})
    ref = getattr(transformers, cls_name)(config).eval()
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
    """Encoder-only classes take input_ids; the sequence classifier and QA build their decoder inputs
    from input_ids (shifted right) when none are given, so they run both ways."""
    keep = ["input_ids", "attention_mask"] if padded else ["input_ids"]
    if cls_name not in ("T5EncoderModel", "T5ForTokenClassification", "T5ForSequenceClassification"):
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
        if cls_name in ("T5ForQuestionAnswering", "T5ForSequenceClassification"):  # decoder inputs from input_ids
            inputs = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
            assert_outputs_equal(ref(**inputs), ours(**inputs))
        if cls_name in HEADS:  # tuples too (the reference's token classifier returns (logits, ()): compare logits)
            theirs, mine = ref(**inputs, return_dict=False), ours(**inputs, return_dict=False)
            torch.testing.assert_close(mine[0], theirs[0], atol=1e-4, rtol=0)
            if cls_name != "T5ForTokenClassification":
                assert len(mine) == len(theirs)


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
                                               ("T5ForConditionalGeneration", "v1.1"), ("T5EncoderModel", "v1.0"),
                                               *[(c, "v1.1") for c in HEADS]])
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


def test_head_losses_match_reference(tmp_path):
    """Single-label, regression and multi-label classification; token classification with ignored tokens;
    span loss with positions outside the input (ignored, as the reference)."""
    batch = make_batch()
    enc = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
    token_labels = torch.randint(0, 3, batch["input_ids"].shape)
    token_labels[batch["attention_mask"] == 0] = -100
    cases = [
        ("T5ForSequenceClassification", {"num_labels": 3}, {"labels": torch.tensor([0, 2, 1])}),
        ("T5ForSequenceClassification", {"num_labels": 1}, {"labels": torch.tensor([0.5, -1.0, 2.0])}),
        ("T5ForSequenceClassification", {"num_labels": 3, "problem_type": "multi_label_classification"},
         {"labels": torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0]])}),
        ("T5ForTokenClassification", {"num_labels": 3}, {"labels": token_labels}),
        ("T5ForQuestionAnswering", {}, {"start_positions": torch.tensor([1, 50, 3]),
                                        "end_positions": torch.tensor([2, 4, 70])}),
    ]
    for i, (cls_name, extra, labels_kw) in enumerate(cases):
        folder, ref = make_checkpoint(tmp_path / str(i), cls_name, "v1.1", **extra)
        ours = getattr(minformers, cls_name).from_pretrained(folder)
        with torch.no_grad():
            theirs, mine = ref(**enc, **labels_kw), ours(**enc, **labels_kw)
        torch.testing.assert_close(mine.loss, theirs.loss, atol=1e-5, rtol=0, msg=lambda m: f"{cls_name}: {m}")
        assert mine[0] is mine.loss
        assert ours.config.problem_type == ref.config.problem_type


def test_sequence_classification_eos_pooling(tmp_path):
    """The decoder state at the last </s> of each row; rows with different numbers of </s> are refused."""
    folder, ref = make_checkpoint(tmp_path, "T5ForSequenceClassification")
    ours = minformers.T5ForSequenceClassification.from_pretrained(folder)
    two_eos = torch.tensor([[5, 1, 7, 8, 1], [5, 6, 1, 7, 1]])
    with torch.no_grad():
        torch.testing.assert_close(ours(input_ids=two_eos).logits, ref(input_ids=two_eos).logits, atol=1e-4, rtol=0)
    with pytest.raises(ValueError, match="same number of <eos> tokens"):
        ours(input_ids=torch.tensor([[5, 1, 7, 8, 1], [5, 6, 6, 7, 1]]))
    with pytest.raises(ValueError, match="<eos>"):  # the reference fails with an IndexError here
        ours(input_ids=torch.tensor([[5, 6, 7]]))


@pytest.mark.parametrize("cls_name", HEADS)
def test_head_from_a_pretrained_lm_checkpoint(tmp_path, cls_name):
    """Fine-tuning start: a T5ForConditionalGeneration checkpoint into a head class loads the same weights as
    the reference and initialises only the head (with the reference's scale)."""
    folder, lm = make_checkpoint(tmp_path, "T5ForConditionalGeneration", "v1.1", d_model=64, num_labels=16)
    kw = {} if cls_name == "T5ForQuestionAnswering" else {"num_labels": 16}
    ours, info = getattr(minformers, cls_name).from_pretrained(folder, output_loading_info=True, **kw)
    theirs, ref_info = getattr(transformers, cls_name).from_pretrained(folder, output_loading_info=True, **kw)
    assert sorted(info["missing_keys"]) == sorted(ref_info["missing_keys"])
    # (our loader names unexpected keys after adding the `transformer.` prefix; the reference, before)
    assert sorted(k.removeprefix("transformer.") for k in info["unexpected_keys"]) == \
        sorted(k.removeprefix("transformer.") for k in ref_info["unexpected_keys"])
    state, ref_state = ours.state_dict(), theirs.state_dict()
    assert sorted(state) == sorted(ref_state)
    for key in state:
        if key in info["missing_keys"]:
            if key.endswith("bias"):
                assert state[key].abs().sum() == 0, key
            else:  # same distribution: std 1 (token classifier) or d_model ** -0.5 (the others)
                assert abs(state[key].std() / ref_state[key].std() - 1) < 0.25, key
        else:
            torch.testing.assert_close(state[key], ref_state[key], atol=0, rtol=0, msg=key)
    assert ours.get_input_embeddings() is ours.get_encoder().embed_tokens


def test_auto_classes_pick_the_heads(tmp_path):
    folder, _ = make_checkpoint(tmp_path, "T5ForConditionalGeneration")
    for auto, name in (("AutoModelForSequenceClassification", "T5ForSequenceClassification"),
                       ("AutoModelForTokenClassification", "T5ForTokenClassification"),
                       ("AutoModelForQuestionAnswering", "T5ForQuestionAnswering")):
        assert type(getattr(minformers, auto).from_pretrained(folder)).__name__ == name
        assert type(getattr(transformers, auto).from_pretrained(folder)).__name__ == name
