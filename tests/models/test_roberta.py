"""RoBERTa: every head matches the reference on tiny random checkpoints it made (position ids from the
input ids, padding included); losses, saving and tying agree."""

from __future__ import annotations

import pytest
import torch
import transformers

import minformers

TINY = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37, vocab_size=99,
            max_position_embeddings=20, type_vocab_size=1)
PAD = 1

HEADS = [
    ("Model", {}),
    ("ForMaskedLM", {}),
    ("ForCausalLM", {"is_decoder": True}),
    ("ForSequenceClassification", {"num_labels": 3}),
    ("ForSequenceClassification", {"num_labels": 1}),
    ("ForTokenClassification", {"num_labels": 5}),
    ("ForQuestionAnswering", {}),
    ("ForMultipleChoice", {}),
]


def make_checkpoint(folder, prefix: str, head: str, seed: int = 0, **config_kwargs):
    torch.manual_seed(seed)
    config = getattr(transformers, f"{prefix}Config")(**{**TINY, **config_kwargs})
    ref = getattr(transformers, f"{prefix}{head}")(config).eval()
    ref.save_pretrained(folder)
    return folder, ref


def make_batch(multiple_choice: bool = False, B: int = 3, T: int = 17, seed: int = 1) -> dict:
    """<s> ... </s> then <pad>: the longest row uses every position the table has (T + 2 = 19 < 20)."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(3, 99, (B, T), generator=g)
    ids[:, 0] = 0
    mask = torch.ones(B, T, dtype=torch.long)
    for i, n in enumerate([T, 9, 4][:B]):
        ids[i, n - 1] = 2
        ids[i, n:] = PAD
        mask[i, n:] = 0
    batch = {"input_ids": ids, "attention_mask": mask}
    if multiple_choice:  # (B, C=2, T)
        batch = {k: torch.stack([v, v.roll(1, dims=0)], dim=1) for k, v in batch.items()}
    return batch


def assert_outputs_equal(theirs, ours, atol: float = 1e-5) -> None:
    keys = [k for k in theirs.keys() if k != "past_key_values"]  # RobertaForCausalLM: no cache here
    assert [k for k in ours.keys() if k != "past_key_values"] == keys
    for key in keys:
        a, b = theirs[key], ours[key]
        for x, y in zip(a, b) if isinstance(a, tuple) else [(a, b)]:
            torch.testing.assert_close(y, x, atol=atol, rtol=0, msg=lambda m: f"{key}: {m}")


@pytest.mark.parametrize("head, extra", HEADS, ids=[f"{h}-{e}" for h, e in HEADS])
def test_head_matches_reference(tmp_path, head, extra):
    folder, ref = make_checkpoint(tmp_path, "Roberta", head, **extra)
    ours, info = getattr(minformers, f"Roberta{head}").from_pretrained(folder, output_loading_info=True)
    assert info["missing_keys"] == [] and info["unexpected_keys"] == []
    batch = make_batch(multiple_choice=head == "ForMultipleChoice")
    eager = getattr(transformers, f"Roberta{head}").from_pretrained(folder, attn_implementation="eager").eval()
    with torch.no_grad():
        assert_outputs_equal(ref(input_ids=batch["input_ids"]), ours(input_ids=batch["input_ids"]))
        assert_outputs_equal(ref(**batch), ours(**batch))
        flags = {"output_hidden_states": True, "output_attentions": True}
        assert_outputs_equal(eager(**batch, **flags), ours(**batch, **flags))


def test_position_ids_and_length_limit(tmp_path):
    folder, ref = make_checkpoint(tmp_path, "Roberta", "Model")
    ours = minformers.RobertaModel.from_pretrained(folder)
    from minformers.models.roberta import create_position_ids_from_input_ids

    ids = torch.tensor([[0, 5, 6, 2, PAD, PAD]])
    assert create_position_ids_from_input_ids(ids, PAD).tolist() == [[2, 3, 4, 5, 1, 1]]
    embeds = ref.embeddings.word_embeddings(make_batch()["input_ids"])
    with torch.no_grad():  # inputs_embeds: positions padding_idx+1 ... (no padding can be seen)
        torch.testing.assert_close(ours(inputs_embeds=embeds).last_hidden_state,
                                   ref(inputs_embeds=embeds).last_hidden_state, atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="at most 18 tokens"):
        ours(input_ids=torch.full((1, 19), 5))


def test_head_losses_match_reference(tmp_path):
    batch = make_batch()
    token_labels = torch.randint(0, 5, (3, 17))
    token_labels[batch["attention_mask"] == 0] = -100
    lm_labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    cases = [
        ("ForTokenClassification", {"num_labels": 5}, batch, {"labels": token_labels}),
        ("ForMaskedLM", {}, batch, {"labels": lm_labels}),
        ("ForCausalLM", {"is_decoder": True}, batch, {"labels": lm_labels}),
        ("ForSequenceClassification", {"num_labels": 3}, batch, {"labels": torch.tensor([0, 2, 1])}),
        ("ForSequenceClassification", {"num_labels": 1}, batch, {"labels": torch.tensor([0.5, -1.0, 2.0])}),
        ("ForQuestionAnswering", {}, batch, {"start_positions": torch.tensor([1, 50, 3]),
                                             "end_positions": torch.tensor([[2], [4], [70]])}),
        ("ForMultipleChoice", {}, make_batch(multiple_choice=True), {"labels": torch.tensor([1, 0, 1])}),
    ]
    for i, (head, extra, inputs, labels) in enumerate(cases):
        folder, ref = make_checkpoint(tmp_path / str(i), "Roberta", head, **extra)
        ours = getattr(minformers, f"Roberta{head}").from_pretrained(folder)
        with torch.no_grad():
            theirs, mine = ref(**inputs, **labels), ours(**inputs, **labels)
        torch.testing.assert_close(mine.loss, theirs.loss, atol=1e-5, rtol=0, msg=lambda m: f"{head}: {m}")


@pytest.mark.parametrize("head", ["Model", "ForMaskedLM", "ForSequenceClassification", "ForMultipleChoice"])
def test_saved_by_minformers_loads_in_reference(tmp_path, head):
    folder, ref = make_checkpoint(tmp_path / "ref", "Roberta", head)
    getattr(minformers, f"Roberta{head}").from_pretrained(folder).save_pretrained(tmp_path / "ours")
    back, info = getattr(transformers, f"Roberta{head}").from_pretrained(tmp_path / "ours", output_loading_info=True)
    assert info["missing_keys"] == [] and info["unexpected_keys"] == []
    for key, value in ref.state_dict().items():
        torch.testing.assert_close(back.state_dict()[key], value, atol=0, rtol=0, msg=key)


def test_lm_head_is_tied(tmp_path):
    folder, _ = make_checkpoint(tmp_path, "Roberta", "ForMaskedLM")
    ours = minformers.AutoModelForMaskedLM.from_pretrained(folder)
    assert type(ours) is minformers.RobertaForMaskedLM
    assert ours.lm_head.decoder.weight is ours.roberta.embeddings.word_embeddings.weight
    assert ours.lm_head.decoder.bias is ours.lm_head.bias


def test_config_defaults():
    ours, theirs = minformers.RobertaConfig(), transformers.RobertaConfig()
    for key, value in theirs.to_dict().items():
        if hasattr(ours, key) and key not in ("transformers_version", "architectures"):
            assert getattr(ours, key) == value, key
