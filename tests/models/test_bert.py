"""BERT: every head matches the reference on tiny random checkpoints the reference made, and the real MiniLM."""

from __future__ import annotations

import pytest
import torch
import transformers

import minformers

TINY = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37, vocab_size=99,
            max_position_embeddings=64, type_vocab_size=2)

HEADS = [
    ("BertModel", {}),
    ("BertForSequenceClassification", {"num_labels": 3}),
    ("BertForSequenceClassification", {"num_labels": 1}),
    ("BertForTokenClassification", {"num_labels": 5}),
    ("BertForQuestionAnswering", {"num_labels": 2}),
    ("BertForMaskedLM", {}),
    ("BertForMultipleChoice", {}),
]


def make_checkpoint(folder, cls_name: str, seed: int = 0, **config_kwargs):
    """A tiny random checkpoint saved by the reference; returns (folder, reference model in eval mode)."""
    torch.manual_seed(seed)
    config = transformers.BertConfig(**{**TINY, **config_kwargs})
    ref = getattr(transformers, cls_name)(config).eval()
    ref.save_pretrained(folder)
    return folder, ref


def make_batch(multiple_choice: bool = False, B: int = 3, T: int = 9, seed: int = 1) -> dict:
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, 99, (B, T), generator=g)
    mask = torch.ones(B, T, dtype=torch.long)
    mask[1, 6:] = 0  # padding
    mask[2, 3:] = 0
    ids[mask == 0] = 0
    types = torch.zeros_like(ids)
    types[:, 4:] = 1
    batch = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
    if multiple_choice:  # (B, C=2, T): the second choice is the first shifted
        batch = {k: torch.stack([v, v.roll(1, dims=0)], dim=1) for k, v in batch.items()}
    return batch


def assert_outputs_equal(theirs, ours, atol: float = 1e-5) -> None:
    """Every field the reference returns is in ours, equal within atol (tuples element-wise)."""
    assert list(ours.keys()) == list(theirs.keys())
    for key in theirs.keys():
        a, b = theirs[key], ours[key]
        if isinstance(a, tuple):
            assert len(a) == len(b), key
            for x, y in zip(a, b):
                torch.testing.assert_close(y, x, atol=atol, rtol=0)
        else:
            torch.testing.assert_close(b, a, atol=atol, rtol=0, msg=lambda m: f"{key}: {m}")


@pytest.mark.parametrize("cls_name, extra", HEADS, ids=[f"{c}-{e}" for c, e in HEADS])
def test_head_matches_reference(tmp_path, cls_name, extra):
    folder, ref = make_checkpoint(tmp_path, cls_name, **extra)
    ours = getattr(minformers, cls_name).from_pretrained(folder)
    assert not ours.training  # eval() after loading, like the reference
    batch = make_batch(multiple_choice="MultipleChoice" in cls_name)
    with torch.no_grad():
        for flags in ({}, {"output_hidden_states": True, "output_attentions": True}):
            assert_outputs_equal(ref(**batch, **flags), ours(**batch, **flags))


@pytest.mark.parametrize("cls_name, extra", HEADS, ids=[f"{c}-{e}" for c, e in HEADS])
def test_saved_by_minformers_loads_in_reference(tmp_path, cls_name, extra):
    folder, ref = make_checkpoint(tmp_path / "ref", cls_name, **extra)
    ours = getattr(minformers, cls_name).from_pretrained(folder)
    ours.save_pretrained(tmp_path / "ours")
    back, info = getattr(transformers, cls_name).from_pretrained(tmp_path / "ours", output_loading_info=True)
    assert info["missing_keys"] == [] and info["unexpected_keys"] == []
    theirs_sd, back_sd = ref.state_dict(), back.state_dict()
    assert set(back_sd) == set(theirs_sd)
    for key, value in theirs_sd.items():
        torch.testing.assert_close(back_sd[key], value, atol=0, rtol=0, msg=key)  # bit-exact weights
    batch = make_batch(multiple_choice="MultipleChoice" in cls_name)
    with torch.no_grad():
        assert_outputs_equal(ref(**batch), back.eval()(**batch), atol=1e-6)


@pytest.mark.parametrize(
    "num_labels, problem_type, labels",
    [
        (1, None, torch.tensor([0.5, -1.0, 2.0])),  # inferred regression
        (3, None, torch.tensor([0, 2, 1])),  # inferred single-label
        (3, None, torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])),  # inferred multi-label
        (2, "regression", torch.tensor([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]])),
        (3, "single_label_classification", torch.tensor([2, 2, 0])),
        (3, "multi_label_classification", torch.tensor([[1.0, 1.0, 0.0], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])),
    ],
)
def test_sequence_classification_loss_matches_reference(tmp_path, num_labels, problem_type, labels):
    folder, ref = make_checkpoint(tmp_path, "BertForSequenceClassification", num_labels=num_labels,
                                  problem_type=problem_type)
    ours = minformers.BertForSequenceClassification.from_pretrained(folder)
    batch = make_batch()
    with torch.no_grad():
        theirs, mine = ref(**batch, labels=labels), ours(**batch, labels=labels)
    torch.testing.assert_close(mine.loss, theirs.loss, atol=1e-6, rtol=0)
    assert ours.config.problem_type == ref.config.problem_type
    assert mine[0] is mine.loss and mine.to_tuple()[1] is mine.logits


def test_head_losses_match_reference(tmp_path):
    batch = make_batch()
    token_labels = torch.randint(0, 5, (3, 9))
    token_labels[batch["attention_mask"] == 0] = -100
    mlm_labels = torch.full((3, 9), -100)
    mlm_labels[:, 2] = torch.tensor([5, 17, 98])
    cases = [
        ("BertForTokenClassification", {"num_labels": 5}, batch, {"labels": token_labels}),
        ("BertForMaskedLM", {}, batch, {"labels": mlm_labels}),
        # positions past the input are clamped and then ignored
        ("BertForQuestionAnswering", {}, batch,
         {"start_positions": torch.tensor([1, 50, 3]), "end_positions": torch.tensor([[2], [4], [70]])}),
        ("BertForMultipleChoice", {}, make_batch(multiple_choice=True), {"labels": torch.tensor([1, 0, 1])}),
    ]
    for i, (cls_name, extra, inputs, labels) in enumerate(cases):
        folder, ref = make_checkpoint(tmp_path / str(i), cls_name, **extra)
        ours = getattr(minformers, cls_name).from_pretrained(folder)
        with torch.no_grad():
            theirs, mine = ref(**inputs, **labels), ours(**inputs, **labels)
        torch.testing.assert_close(mine.loss, theirs.loss, atol=1e-6, rtol=0, msg=lambda m: f"{cls_name}: {m}")


def test_masked_lm_decoder_is_tied_to_word_embeddings(tmp_path):
    folder, _ = make_checkpoint(tmp_path, "BertForMaskedLM")
    ours = minformers.BertForMaskedLM.from_pretrained(folder)
    assert ours.cls.predictions.decoder.weight is ours.bert.embeddings.word_embeddings.weight
    assert ours.cls.predictions.decoder.bias is ours.cls.predictions.bias
    fresh = minformers.BertForMaskedLM(minformers.BertConfig(**TINY))
    assert fresh.get_output_embeddings().weight is fresh.get_input_embeddings().weight


def test_output_access_and_return_dict(tmp_path):
    folder, _ = make_checkpoint(tmp_path, "BertModel")
    ours = minformers.BertModel.from_pretrained(folder)
    batch = make_batch()
    out = ours(**batch)
    assert out.keys() == ["last_hidden_state", "pooler_output"]
    assert out[0] is out.last_hidden_state is out["last_hidden_state"]
    assert out[1] is out.pooler_output
    assert out.hidden_states is None and "hidden_states" not in out
    with pytest.raises(KeyError):
        out["hidden_states"]
    as_tuple = ours(**batch, return_dict=False)
    assert isinstance(as_tuple, tuple) and len(as_tuple) == 2
    torch.testing.assert_close(as_tuple[0], out.last_hidden_state, atol=0, rtol=0)
    assert out.last_hidden_state.shape == (3, 9, 32) and out.pooler_output.shape == (3, 32)


def test_head_mask_and_position_ids_and_inputs_embeds_match_reference(tmp_path):
    folder, ref = make_checkpoint(tmp_path, "BertModel")
    ours = minformers.BertModel.from_pretrained(folder)
    batch = make_batch()
    head_mask = torch.tensor([[1.0, 0.0, 1.0, 1.0], [0.0, 1.0, 1.0, 0.0]])
    position_ids = torch.arange(2, 11)[None]
    embeds = ref.embeddings.word_embeddings(batch["input_ids"])
    with torch.no_grad():
        assert_outputs_equal(ref(**batch, head_mask=head_mask), ours(**batch, head_mask=head_mask))
        assert_outputs_equal(ref(**batch, position_ids=position_ids), ours(**batch, position_ids=position_ids))
        kw = {"attention_mask": batch["attention_mask"], "inputs_embeds": embeds}
        assert_outputs_equal(ref(**kw), ours(**kw))


def test_no_mask_and_all_ones_mask_agree(tmp_path):
    folder, ref = make_checkpoint(tmp_path, "BertModel")
    ours = minformers.BertModel.from_pretrained(folder)
    ids = make_batch()["input_ids"]
    with torch.no_grad():
        a = ours(input_ids=ids).last_hidden_state
        b = ours(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state
        c = ref(input_ids=ids).last_hidden_state
    torch.testing.assert_close(a, b, atol=0, rtol=0)
    torch.testing.assert_close(a, c, atol=1e-5, rtol=0)


def test_too_long_input_is_a_clear_value_error(tmp_path):
    folder, _ = make_checkpoint(tmp_path, "BertForSequenceClassification")
    ours = minformers.BertForSequenceClassification.from_pretrained(folder)
    with pytest.raises(ValueError, match=r"65 tokens.*at most 64"):
        ours(input_ids=torch.ones(1, 65, dtype=torch.long))
    ours(input_ids=torch.ones(1, 64, dtype=torch.long))  # the maximum itself is fine


def test_unknown_keyword_is_a_type_error(tmp_path):
    folder, _ = make_checkpoint(tmp_path, "BertModel")
    ours = minformers.BertModel.from_pretrained(folder)
    with pytest.raises(TypeError):
        ours(input_ids=torch.ones(1, 3, dtype=torch.long), not_an_input=1)


def test_random_init_follows_the_reference():
    config = minformers.BertConfig(**{**TINY, "hidden_size": 64, "intermediate_size": 256, "vocab_size": 500},
                                   initializer_range=0.05)
    model = minformers.BertForMaskedLM(config)
    assert model.training  # a fresh model is in train mode, like torch/reference
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear):
            assert abs(module.weight.std().item() - 0.05) < 0.01, name
            assert torch.all(module.bias == 0), name
        elif isinstance(module, torch.nn.Embedding):
            assert abs(module.weight.std().item() - 0.05) < 0.015, name
            if module.padding_idx is not None:
                assert torch.all(module.weight[module.padding_idx] == 0), name
        elif isinstance(module, torch.nn.LayerNorm):
            assert torch.all(module.weight == 1) and torch.all(module.bias == 0), name
    assert torch.all(model.cls.predictions.bias == 0)


def test_parameter_count_matches_reference():
    for cls_name, extra in HEADS:
        config = {**TINY, **extra}
        ours = getattr(minformers, cls_name)(minformers.BertConfig(**config))
        theirs = getattr(transformers, cls_name)(transformers.BertConfig(**config))
        assert ours.num_parameters() == theirs.num_parameters(), cls_name
        assert set(ours.state_dict()) == set(theirs.state_dict()), cls_name


def test_train_mode_dropout_runs_and_backpropagates(tmp_path):
    folder, _ = make_checkpoint(tmp_path, "BertForSequenceClassification")
    ours = minformers.BertForSequenceClassification.from_pretrained(folder).train()
    out = ours(**make_batch(), labels=torch.tensor([0, 1, 0]))
    out.loss.backward()
    assert ours.classifier.weight.grad is not None
    assert ours.bert.embeddings.word_embeddings.weight.grad is not None


def test_real_minilm_matches_reference(minilm_dir):
    tokenizer = transformers.AutoTokenizer.from_pretrained(minilm_dir)
    sentences = ["Hello world!", "The quick brown fox jumps over the lazy dog.",
                 "A much longer sentence, with punctuation; numbers like 3.14 and 42; and unusual words: "
                 "antidisestablishmentarianism.", "ok"]
    batch = tokenizer(sentences, padding=True, return_tensors="pt")
    ref = transformers.BertModel.from_pretrained(minilm_dir).eval()
    ours = minformers.BertModel.from_pretrained(minilm_dir)
    with torch.no_grad():
        theirs, mine = ref(**batch), ours(**batch)
    torch.testing.assert_close(mine.last_hidden_state, theirs.last_hidden_state, atol=1e-5, rtol=0)
    torch.testing.assert_close(mine.pooler_output, theirs.pooler_output, atol=1e-5, rtol=0)


def test_packed_pooled_path_equals_full_forward():
    """BertModel.pool (packed tokens, last layer for [CLS] only) == forward().pooler_output, any padding."""
    import minformers

    torch.manual_seed(0)
    model = minformers.BertModel(minformers.BertConfig(vocab_size=50, hidden_size=32, intermediate_size=64,
                                                       num_hidden_layers=3, num_attention_heads=4)).eval()
    ids = torch.randint(1, 50, (4, 9))
    right = torch.tensor([[1] * 9, [1] * 3 + [0] * 6, [1] * 6 + [0] * 3, [1] + [0] * 8])
    left = right.flip(1)  # rows starting with padding: falls back to the full forward
    holes = torch.tensor([[1, 0, 1, 1, 0, 1, 1, 1, 1]] * 4)
    with torch.inference_mode():
        for mask in (right, left, holes, None):
            full = model(input_ids=ids, attention_mask=mask).pooler_output
            fast = model.pool(input_ids=ids, attention_mask=mask)
            assert (full - fast).abs().max() < 1e-6
