"""Llama: every head matches the reference on tiny random checkpoints the reference made (GQA, RoPE variants,
tied / untied embeddings, biases), with and without left padding; the KV cache equals the full forward."""

from __future__ import annotations

import pytest
import torch
import transformers

import minformers
from minformers.generation.cache import DynamicCache, StaticCache

TINY = dict(vocab_size=99, hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=64, pad_token_id=0, bos_token_id=1, eos_token_id=2)
VARIANTS = {
    "base": {},
    "tied": {"tie_word_embeddings": True},
    "llama3": {"rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                "high_freq_factor": 4.0, "original_max_position_embeddings": 16}},
    "linear": {"rope_scaling": {"type": "linear", "factor": 2.0}},
    "dynamic": {"rope_scaling": {"rope_type": "dynamic", "factor": 2.0}, "max_position_embeddings": 8},
    "bias-mha": {"attention_bias": True, "mlp_bias": True, "num_key_value_heads": 4, "head_dim": 16},
}
HEADS = [("LlamaModel", {}), ("LlamaForCausalLM", {}), ("LlamaForSequenceClassification", {"num_labels": 3}),
         ("LlamaForTokenClassification", {"num_labels": 5}), ("LlamaForQuestionAnswering", {})]


def make(folder, cls_name: str, variant: str = "base", seed: int = 0, **extra):
    torch.manual_seed(seed)
    config = transformers.LlamaConfig(**{**TINY, **VARIANTS[variant], **extra})
    ref = getattr(transformers, cls_name)(config).eval()
    ref.save_pretrained(folder)
    return ref, getattr(minformers, cls_name).from_pretrained(folder)


def batch(B: int = 3, T: int = 10, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(3, 99, (B, T), generator=g)
    mask = torch.ones(B, T, dtype=torch.long)
    mask[1, :3] = 0  # left padding
    mask[2, :6] = 0
    ids[mask == 0] = 0
    return ids, mask


def close(a, b, mask=None, atol=1e-4):
    if mask is not None:  # compare real tokens only: padded positions are undefined in both libraries
        a, b = a[mask.bool()], b[mask.bool()]
    torch.testing.assert_close(b, a, atol=atol, rtol=0)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_causal_lm_matches_reference(tmp_path, variant):
    ref, ours = make(tmp_path, "LlamaForCausalLM", variant)
    ids, mask = batch()
    with torch.no_grad():
        close(ref(ids).logits, ours(ids).logits)
        close(ref(ids, attention_mask=mask).logits, ours(ids, attention_mask=mask).logits, mask)
        labels = ids.masked_fill(mask == 0, -100)
        close(ref(ids, labels=labels).loss, ours(ids, labels=labels).loss)
        r = ref(ids, output_hidden_states=True)
        o = ours(ids, output_hidden_states=True)
        assert len(r.hidden_states) == len(o.hidden_states)
        for a, b in zip(r.hidden_states, o.hidden_states):
            close(a, b)
    if variant == "tied":
        assert ours.lm_head.weight is ours.model.embed_tokens.weight


@pytest.mark.parametrize("cls_name, extra", HEADS, ids=[h[0] for h in HEADS])
def test_heads_match_reference(tmp_path, cls_name, extra):
    ref, ours = make(tmp_path, cls_name, **extra)
    ids, mask = batch()
    with torch.no_grad():
        for kw in ({}, {"attention_mask": mask}):
            r, o = ref(ids, **kw), ours(ids, **kw)
            m = kw.get("attention_mask")
            if cls_name == "LlamaModel":
                close(r.last_hidden_state, o.last_hidden_state, m)
            elif cls_name == "LlamaForQuestionAnswering":
                close(r.start_logits, o.start_logits, m)
                close(r.end_logits, o.end_logits, m)
            elif cls_name == "LlamaForSequenceClassification":
                close(r.logits, o.logits)
            else:
                close(r.logits, o.logits, m)
        if cls_name == "LlamaForSequenceClassification":
            labels = torch.tensor([0, 2, 1])
            close(ref(ids, labels=labels).loss, ours(ids, labels=labels).loss)
        if cls_name == "LlamaForTokenClassification":
            labels = torch.randint(0, 5, ids.shape).masked_fill(mask == 0, -100)
            close(ref(ids, labels=labels).loss, ours(ids, labels=labels).loss)


@pytest.mark.parametrize("cache_cls", ["dynamic", "static"])
def test_kv_cache_step_by_step_equals_full_forward(tmp_path, cache_cls):
    _, ours = make(tmp_path, "LlamaForCausalLM", "llama3")
    ids, mask = batch()
    pos = (mask.cumsum(-1) - 1).clamp(min=0)
    with torch.no_grad():
        full = ours(ids, attention_mask=mask, position_ids=pos).logits
        cache = DynamicCache() if cache_cls == "dynamic" else ours.make_cache(3, ids.shape[1])
        steps = [ours(ids[:, :4], attention_mask=mask[:, :4], position_ids=pos[:, :4], past_key_values=cache).logits]
        for t in range(4, ids.shape[1]):
            out = ours(ids[:, t:t + 1], attention_mask=mask[:, :t + 1], position_ids=pos[:, t:t + 1],
                       past_key_values=cache)
            steps.append(out.logits)
    close(full, torch.cat(steps, dim=1), mask, atol=1e-5)
    assert isinstance(cache, (DynamicCache, StaticCache))


def test_saved_by_minformers_loads_in_reference(tmp_path):
    ref, ours = make(tmp_path / "ref", "LlamaForCausalLM", "tied")
    ours.save_pretrained(tmp_path / "ours")
    back, info = transformers.LlamaForCausalLM.from_pretrained(tmp_path / "ours", output_loading_info=True)
    assert info["missing_keys"] == [] and info["unexpected_keys"] == []
    ids, _ = batch()
    with torch.no_grad():
        close(ref(ids).logits, back(ids).logits, atol=0)


def test_auto_model_for_causal_lm(tmp_path):
    make(tmp_path, "LlamaForCausalLM")
    model = minformers.AutoModelForCausalLM.from_pretrained(tmp_path)
    assert type(model).__name__ == "LlamaForCausalLM"
    assert model.generation_config.eos_token_id == 2
