"""Tables a model computes instead of loading (Marian's sinusoidal positions, cached per shape) follow the
model's later changes, as the reference's weights do (issue 13, the class of item 1)."""

from __future__ import annotations

import torch
import transformers

import minformers

TINY = dict(vocab_size=99, d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=4,
            decoder_attention_heads=4, encoder_ffn_dim=37, decoder_ffn_dim=37, max_position_embeddings=64,
            pad_token_id=98, decoder_start_token_id=98, eos_token_id=0)


def test_marian_positions_follow_model_to_dtype(tmp_path):
    """The table is cached in fp32; after an fp32 call, `model.bfloat16()` must give the reference's bf16
    logits (it raised: an fp32 table added to bf16 embeddings made fp32 inputs for bf16 layers)."""
    torch.manual_seed(0)
    transformers.MarianMTModel(transformers.MarianConfig(**TINY)).save_pretrained(tmp_path)
    ours = minformers.AutoModelForSeq2SeqLM.from_pretrained(tmp_path)
    theirs = transformers.MarianMTModel.from_pretrained(tmp_path).eval()
    ids = torch.randint(1, 98, (2, 6), generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        ours(input_ids=ids, decoder_input_ids=ids)  # the table is made and cached
    ours.bfloat16()
    theirs.bfloat16()
    with torch.no_grad():
        got = ours(input_ids=ids, decoder_input_ids=ids).logits
        want = theirs(input_ids=ids, decoder_input_ids=ids).logits
    assert got.dtype == torch.bfloat16
    torch.testing.assert_close(got, want)
    tokens = ours.generate(ids, max_new_tokens=5, min_new_tokens=5, do_sample=False, num_beams=1)
    assert torch.equal(tokens, theirs.generate(ids, max_new_tokens=5, min_new_tokens=5, do_sample=False, num_beams=1))
