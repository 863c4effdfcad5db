"""GPT-2: every head matches the reference on tiny random checkpoints the reference made, with and without
left padding; the KV cache equals the full forward; old checkpoints with attn.bias buffers load."""

from __future__ import annotations

import pytest
import torch
import transformers

import minformers
from minformers.generation.cache import DynamicCache

TINY = dict(vocab_size=99, n_embd=32, n_layer=2, n_head=4, n_positions=32, bos_token_id=1, eos_token_id=2,
            pad_token_id=0)
HEADS = [("GPT2Model", {}), ("GPT2LMHeadModel", {}), ("GPT2ForSequenceClassification", {"num_labels": 3}),
         ("GPT2ForTokenClassification", {"num_labels": 5}), ("GPT2ForQuestionAnswering", {})]


def make(folder, cls_name: str, seed: int = 0, **extra):
    torch.manual_seed(seed)
    ref = getattr(transformers, cls_name)(transformers.GPT2Config(**{**TINY, **extra})).eval()
    ref.save_pretrained(folder)
    return ref, getattr(minformers, cls_name).from_pretrained(folder)


def batch(B: int = 3, T: int = 10, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(3, 99, (B, T), generator=g)
    mask = torch.ones(B, T, dtype=torch.long)
    mask[1, :3] = 0
    mask[2, :6] = 0
    ids[mask == 0] = 0
    return ids, mask


def close(a, b, mask=None, atol=1e-4):
    if mask is not None:
        a, b = a[mask.bool()], b[mask.bool()]
    torch.testing.assert_close(b, a, atol=atol, rtol=0)


@pytest.mark.parametrize("cls_name, extra", HEADS, ids=[h[0] for h in HEADS])
def test_heads_match_reference(tmp_path, cls_name, extra):
    ref, ours = make(tmp_path, cls_name, **extra)
    ids, mask = batch()
    with torch.no_grad():
        for kw in ({}, {"attention_mask": mask}):
            r, o = ref(ids, **kw), ours(ids, **kw)
            m = kw.get("attention_mask")
            if cls_name == "GPT2Model":
                close(r.last_hidden_state, o.last_hidden_state, m)
            elif cls_name == "GPT2ForQuestionAnswering":
                close(r.start_logits, o.start_logits, m)
                close(r.end_logits, o.end_logits, m)
            elif cls_name == "GPT2ForSequenceClassification":
                close(r.logits, o.logits)
            else:
                close(r.logits, o.logits, m)
        if cls_name == "GPT2LMHeadModel":
            close(ref(ids, labels=ids).loss, ours(ids, labels=ids).loss)
            r, o = ref(ids, output_hidden_states=True), ours(ids, output_hidden_states=True)
            assert len(r.hidden_states) == len(o.hidden_states)
            for a, b in zip(r.hidden_states, o.hidden_states):
                close(a, b)
            assert ours.lm_head.weight is ours.transformer.wte.weight  # tied
        if cls_name == "GPT2ForSequenceClassification":
            labels = torch.tensor([0, 2, 1])
            close(ref(ids, labels=labels).loss, ours(ids, labels=labels).loss)


def test_scale_by_inverse_layer_idx(tmp_path):
    """The reference's SDPA path ignores scale_attn_by_inverse_layer_idx; its eager path (the definition) applies it."""
    _, ours = make(tmp_path, "GPT2LMHeadModel", scale_attn_by_inverse_layer_idx=True)
    ref = transformers.GPT2LMHeadModel.from_pretrained(tmp_path, attn_implementation="eager").eval()
    ids, _ = batch()
    with torch.no_grad():
        close(ref(ids).logits, ours(ids).logits)


def test_kv_cache_step_by_step_equals_full_forward(tmp_path):
    _, ours = make(tmp_path, "GPT2LMHeadModel")
    ids, _ = batch()
    with torch.no_grad():
        full = ours(ids).logits
        cache = DynamicCache()
        steps = [ours(ids[:, :4], past_key_values=cache).logits]
        for t in range(4, ids.shape[1]):
            steps.append(ours(ids[:, t:t + 1], past_key_values=cache).logits)
    close(full, torch.cat(steps, dim=1), atol=1e-5)


def test_conv1d_layout_and_round_trip(tmp_path):
    ref, ours = make(tmp_path / "ref", "GPT2LMHeadModel")
    assert ours.transformer.h[0].attn.c_attn.weight.shape == (32, 96)  # (in, out): transposed vs nn.Linear
    ours.save_pretrained(tmp_path / "ours")
    back, info = transformers.GPT2LMHeadModel.from_pretrained(tmp_path / "ours", output_loading_info=True)
    assert info["missing_keys"] == [] and info["unexpected_keys"] == []
    ids, _ = batch()
    with torch.no_grad():
        close(ref(ids).logits, back(ids).logits, atol=0)


def test_too_long_input_is_refused(tmp_path):
    _, ours = make(tmp_path, "GPT2LMHeadModel")
    with pytest.raises(ValueError, match="at most 32 tokens"):
        ours(torch.ones(1, 33, dtype=torch.long))
