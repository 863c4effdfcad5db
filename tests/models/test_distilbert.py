"""DistilBERT: every head matches the reference on tiny random checkpoints the reference made."""

from __future__ import annotations

import pytest
import torch
import transformers

import minformers

TINY = dict(dim=32, n_layers=2, n_heads=4, hidden_dim=37, vocab_size=99, max_position_embeddings=64)

HEADS = [
    ("DistilBertModel", {}),
    ("DistilBertForSequenceClassification", {"num_labels": 3}),
    ("DistilBertForSequenceClassification", {"num_labels": 1}),
    ("DistilBertForTokenClassification", {"num_labels": 5}),
    ("DistilBertForQuestionAnswering", {}),
    ("DistilBertForMaskedLM", {}),
    ("DistilBertForMultipleChoice", {}),
]


def make_checkpoint(folder, cls_name: str, seed: int = 0, **config_kwargs):
    torch.manual_seed(seed)
    ref = getattr(transformers, cls_name)(transformers.DistilBertConfig(**{**TINY, **config_kwargs})).eval()
    ref.save_pretrained(folder)
    return folder, ref


def make_batch(multiple_choice: bool = False, B: int = 3, T: int = 9, seed: int = 1) -> dict:
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, 99, (B, T), generator=g)
    mask = torch.ones(B, T, dtype=torch.long)
    mask[0, 7:] = 0
    mask[2, 2:] = 0
    ids[mask == 0] = 0
    batch = {"input_ids": ids, "attention_mask": mask}
    if multiple_choice:
        batch = {k: torch.stack([v, v.roll(1, dims=0)], dim=1) for k, v in batch.items()}
    return batch


def assert_outputs_equal(theirs, ours, atol: float = 1e-5) -> None:
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
    batch = make_batch(multiple_choice="MultipleChoice" in cls_name)
    with torch.no_grad():
        for flags in ({}, {"output_hidden_states": True, "output_attentions": True}):
            assert_outputs_equal(ref(**batch, **flags), ours(**batch, **flags))


@pytest.mark.parametrize("cls_name, extra", HEADS, ids=[f"{c}-{e}" for c, e in HEADS])
def test_saved_by_minformers_loads_in_reference(tmp_path, cls_name, extra):
    folder, ref = make_checkpoint(tmp_path / "ref", cls_name, **extra)
    getattr(minformers, cls_name).from_pretrained(folder).save_pretrained(tmp_path / "ours")
    back, info = getattr(transformers, cls_name).from_pretrained(tmp_path / "ours", output_loading_info=True)
    assert info["missing_keys"] == [] and info["unexpected_keys"] == []
    for key, value in ref.state_dict().items():
        torch.testing.assert_close(back.state_dict()[key], value, atol=0, rtol=0, msg=key)
    batch = make_batch(multiple_choice="MultipleChoice" in cls_name)
    with torch.no_grad():
        assert_outputs_equal(ref(**batch), back.eval()(**batch), atol=1e-6)


@pytest.mark.parametrize(
    "num_labels, problem_type, labels",
    [
        (1, None, torch.tensor([0.5, -1.0, 2.0])),
        (3, None, torch.tensor([0, 2, 1])),
        (3, "multi_label_classification", torch.tensor([[1.0, 1.0, 0.0], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])),
    ],
)
def test_sequence_classification_loss_matches_reference(tmp_path, num_labels, problem_type, labels):
    folder, ref = make_checkpoint(tmp_path, "DistilBertForSequenceClassification", num_labels=num_labels,
                                  problem_type=problem_type)
    ours = minformers.DistilBertForSequenceClassification.from_pretrained(folder)
    batch = make_batch()
    with torch.no_grad():
        torch.testing.assert_close(ours(**batch, labels=labels).loss, ref(**batch, labels=labels).loss,
                                   atol=1e-6, rtol=0)


def test_head_losses_match_reference(tmp_path):
    batch = make_batch()
    token_labels = torch.randint(0, 5, (3, 9))
    token_labels[batch["attention_mask"] == 0] = -100
    mlm_labels = torch.full((3, 9), -100)
    mlm_labels[:, 1] = torch.tensor([5, 17, 98])
    cases = [
        ("DistilBertForTokenClassification", {"num_labels": 5}, batch, {"labels": token_labels}),
        ("DistilBertForMaskedLM", {}, batch, {"labels": mlm_labels}),
        ("DistilBertForQuestionAnswering", {}, batch,
         {"start_positions": torch.tensor([1, 50, 3]), "end_positions": torch.tensor([2, 4, 70])}),
        ("DistilBertForMultipleChoice", {}, make_batch(multiple_choice=True), {"labels": torch.tensor([1, 0, 1])}),
    ]
    for i, (cls_name, extra, inputs, labels) in enumerate(cases):
        folder, ref = make_checkpoint(tmp_path / str(i), cls_name, **extra)
        ours = getattr(minformers, cls_name).from_pretrained(folder)
        with torch.no_grad():
            theirs, mine = ref(**inputs, **labels), ours(**inputs, **labels)
        torch.testing.assert_close(mine.loss, theirs.loss, atol=1e-6, rtol=0, msg=lambda m: f"{cls_name}: {m}")


def test_sinusoidal_positions_match_reference(tmp_path):
    folder, ref = make_checkpoint(tmp_path, "DistilBertModel", sinusoidal_pos_embds=True)
    fresh = minformers.DistilBertModel(minformers.DistilBertConfig(**TINY, sinusoidal_pos_embds=True))
    torch.testing.assert_close(fresh.embeddings.position_embeddings.weight,
                               ref.embeddings.position_embeddings.weight, atol=1e-6, rtol=0)
    assert not fresh.embeddings.position_embeddings.weight.requires_grad
    ours = minformers.DistilBertModel.from_pretrained(folder)
    batch = make_batch()
    with torch.no_grad():
        assert_outputs_equal(ref(**batch), ours(**batch))


def test_masked_lm_projector_is_tied(tmp_path):
    folder, _ = make_checkpoint(tmp_path, "DistilBertForMaskedLM")
    ours = minformers.DistilBertForMaskedLM.from_pretrained(folder)
    assert ours.vocab_projector.weight is ours.distilbert.embeddings.word_embeddings.weight


def test_question_answering_needs_two_labels():
    with pytest.raises(ValueError, match="num_labels should be 2"):
        minformers.DistilBertForQuestionAnswering(minformers.DistilBertConfig(**TINY, num_labels=3))


def test_too_long_input_is_a_clear_value_error(tmp_path):
    folder, _ = make_checkpoint(tmp_path, "DistilBertModel")
    ours = minformers.DistilBertModel.from_pretrained(folder)
    with pytest.raises(ValueError, match="at most 64"):
        ours(input_ids=torch.ones(2, 100, dtype=torch.long))


def test_token_type_ids_are_not_an_input(tmp_path):
    """Like the reference, DistilBERT has no segments: passing token_type_ids is a TypeError."""
    folder, _ = make_checkpoint(tmp_path, "DistilBertModel")
    ours = minformers.DistilBertModel.from_pretrained(folder)
    with pytest.raises(TypeError):
        ours(input_ids=torch.ones(1, 3, dtype=torch.long), token_type_ids=torch.zeros(1, 3, dtype=torch.long))


def test_parameter_count_and_keys_match_reference():
    for cls_name, extra in HEADS:
        config = {**TINY, **extra}
        ours = getattr(minformers, cls_name)(minformers.DistilBertConfig(**config))
        theirs = getattr(transformers, cls_name)(transformers.DistilBertConfig(**config))
        assert ours.num_parameters() == theirs.num_parameters(), cls_name
        assert set(ours.state_dict()) == set(theirs.state_dict()), cls_name
