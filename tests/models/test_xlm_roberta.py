"""XLM-RoBERTa: RoBERTa's architecture under model_type "xlm-roberta"; every head matches the reference."""

from __future__ import annotations

import pytest
import torch
import transformers

import minformers

TINY = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37, vocab_size=99,
            max_position_embeddings=40)
HEADS = [("Model", {}), ("ForMaskedLM", {}), ("ForCausalLM", {"is_decoder": True}),
         ("ForSequenceClassification", {"num_labels": 3}), ("ForTokenClassification", {"num_labels": 5}),
         ("ForQuestionAnswering", {}), ("ForMultipleChoice", {})]


@pytest.mark.parametrize("head, extra", HEADS, ids=[h for h, _ in HEADS])
def test_head_matches_reference_through_auto(tmp_path, head, extra):
    torch.manual_seed(0)
    ref = getattr(transformers, f"XLMRoberta{head}")(transformers.XLMRobertaConfig(**TINY, **extra)).eval()
    ref.save_pretrained(tmp_path)
    auto = {"Model": "AutoModel", "ForCausalLM": None}.get(head, f"AutoModel{head}")
    cls = getattr(minformers, auto) if auto else minformers.XLMRobertaForCausalLM
    ours, info = cls.from_pretrained(tmp_path, output_loading_info=True)
    assert type(ours).__name__ == f"XLMRoberta{head}"
    assert info["missing_keys"] == [] and info["unexpected_keys"] == []
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(3, 99, (3, 12), generator=g)
    mask = torch.ones_like(ids)
    mask[1, 7:], ids[1, 7:] = 0, 1
    batch = {"input_ids": ids, "attention_mask": mask}
    if head == "ForMultipleChoice":
        batch = {k: torch.stack([v, v.roll(1, dims=0)], dim=1) for k, v in batch.items()}
    with torch.no_grad():
        theirs, mine = ref(**batch), ours(**batch)
    for key in (k for k in theirs.keys() if k != "past_key_values"):
        torch.testing.assert_close(mine[key], theirs[key], atol=1e-5, rtol=0, msg=lambda m: f"{key}: {m}")


def test_config_and_save_round_trip(tmp_path):
    config = minformers.AutoConfig.for_model("xlm-roberta", **TINY)
    assert type(config) is minformers.XLMRobertaConfig and config.model_type == "xlm-roberta"
    assert minformers.XLMRobertaConfig().vocab_size == transformers.XLMRobertaConfig().vocab_size
    torch.manual_seed(0)
    model = minformers.XLMRobertaForMaskedLM(config)
    model.save_pretrained(tmp_path)
    back, info = transformers.XLMRobertaForMaskedLM.from_pretrained(tmp_path, output_loading_info=True)
    assert type(back.config) is transformers.XLMRobertaConfig
    assert info["missing_keys"] == [] and info["unexpected_keys"] == []
