"""Fully masked query rows (issue 13, item 14): a query that may attend to no key at all.

This happens with a left-padded prompt whose pad token is the BOS token (GPT-2, Llama: position 0 is
padding and sees only itself), and with any all-zero attention_mask row (an empty text in a batch). The
reference (transformers 4.57, default SDPA attention) answers these rows in two ways, and ours must give
the same logits at EVERY position, padded ones included:

- causal decoders (GPT-2, Llama) build a *boolean* mask, and SDPA gives a fully masked row zero attention
  output (the residual stream passes through unchanged);
- encoders (BERT, RoBERTa, XLM-R, DistilBERT) and the seq2seq models (BART, Marian, T5: encoder, decoder
  self-attention and cross-attention) add dtype-min to masked scores, so a fully masked row attends
  uniformly to every key.

Each architecture is checked in inference, with output_attentions (the written-out attention path), with
a KV cache stepped one token at a time, and in training mode (with the same seed, so dropout draws the
same masks), including BERT's packed pooled-head path.
"""

from __future__ import annotations

import pytest
import torch
import transformers

import minformers
from minformers.generation.cache import DynamicCache, EncoderDecoderCache

PAD = 1  # == bos for the decoders: the case of issue 13
DECODERS = {
    "gpt2": ("GPT2Config", "GPT2LMHeadModel", dict(vocab_size=99, n_embd=32, n_layer=2, n_head=4, n_positions=32,
                                                   bos_token_id=PAD, pad_token_id=PAD, eos_token_id=2)),
    "llama": ("LlamaConfig", "LlamaForCausalLM", dict(vocab_size=99, hidden_size=32, intermediate_size=37,
                                                      num_hidden_layers=2, num_attention_heads=4,
                                                      num_key_value_heads=2, max_position_embeddings=64,
                                                      bos_token_id=PAD, pad_token_id=PAD, eos_token_id=2,
                                                      attention_dropout=0.1)),
}
ENC = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37, vocab_size=99,
           max_position_embeddings=64, pad_token_id=PAD)
ENCODERS = {
    "bert-mlm": ("BertConfig", "BertForMaskedLM", ENC),
    "bert-token": ("BertConfig", "BertForTokenClassification", ENC),
    "bert-pooled": ("BertConfig", "BertForSequenceClassification", ENC),  # the packed first-token path
    "roberta": ("RobertaConfig", "RobertaForMaskedLM", ENC),
    "roberta-causal": ("RobertaConfig", "RobertaForCausalLM", dict(ENC, is_decoder=True)),  # causal + padding, additive
    "xlm-roberta": ("XLMRobertaConfig", "XLMRobertaForSequenceClassification", ENC),
    "distilbert": ("DistilBertConfig", "DistilBertForMaskedLM", dict(dim=32, n_layers=2, n_heads=4, hidden_dim=37,
                                                                     vocab_size=99, max_position_embeddings=64,
                                                                     pad_token_id=PAD)),
    "distilbert-cls": ("DistilBertConfig", "DistilBertForSequenceClassification",
                       dict(dim=32, n_layers=2, n_heads=4, hidden_dim=37, vocab_size=99, max_position_embeddings=64,
                            pad_token_id=PAD)),
}
S2S = dict(vocab_size=99, d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
           decoder_attention_heads=4, encoder_ffn_dim=37, decoder_ffn_dim=37, max_position_embeddings=64,
           pad_token_id=PAD, eos_token_id=2, decoder_start_token_id=2)
SEQ2SEQ = {
    "bart": ("BartConfig", "BartForConditionalGeneration", dict(S2S, bos_token_id=0)),
    "marian": ("MarianConfig", "MarianMTModel", S2S),
    "t5": ("T5Config", "T5ForConditionalGeneration", dict(vocab_size=99, d_model=32, d_kv=8, d_ff=37, num_layers=2,
                                                          num_heads=4, decoder_start_token_id=0, pad_token_id=0,
                                                          eos_token_id=1)),
}


def make(folder, spec) -> tuple:
    config_name, cls_name, kwargs = spec
    torch.manual_seed(0)
    ref = getattr(transformers, cls_name)(getattr(transformers, config_name)(**kwargs)).eval()
    ref.save_pretrained(folder)
    return ref, getattr(minformers, cls_name).from_pretrained(folder).eval()


def left_padded(B: int = 4, T: int = 9, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows: no padding, 3 pads, 6 pads (left, pad == bos), and an all-zero mask row."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(3, 99, (B, T), generator=g)
    mask = torch.ones(B, T, dtype=torch.long)
    mask[1, :3] = 0
    mask[2, :6] = 0
    mask[3] = 0
    ids[mask == 0] = PAD
    ids[1, 3] = ids[2, 6] = PAD  # each prompt starts with its bos, which is the pad token
    return ids, mask


def right_padded(B: int = 4, T: int = 9, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows: no padding, 2 pads, 5 pads (right), and an all-zero mask row."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(3, 99, (B, T), generator=g)
    mask = torch.ones(B, T, dtype=torch.long)
    mask[1, 7:] = 0
    mask[2, 4:] = 0
    mask[3] = 0
    return ids.masked_fill(mask == 0, PAD), mask


def close(theirs: torch.Tensor, ours: torch.Tensor, what: str) -> None:
    torch.testing.assert_close(ours, theirs, atol=1e-4, rtol=0, msg=lambda m: f"{what}: {m}")


def run_both(ref, ours, train: bool, **inputs):
    """(reference output, our output) with the same random stream (dropout) in training mode."""
    outs = []
    for model in (ref, ours):
        model.train(train)
        torch.manual_seed(7)
        with torch.no_grad():
            outs.append(model(**inputs))
        model.eval()
    return outs


@pytest.mark.parametrize("arch", list(DECODERS))
def test_decoder_fully_masked_rows_match_reference(tmp_path, arch):
    ref, ours = make(tmp_path, DECODERS[arch])
    ids, mask = left_padded()
    for train in (False, True):
        r, o = run_both(ref, ours, train, input_ids=ids, attention_mask=mask)
        close(r.logits, o.logits, f"{arch} train={train}")
    r, o = run_both(ref, ours, False, input_ids=ids, attention_mask=mask, output_attentions=True)
    close(r.logits, o.logits, f"{arch} output_attentions")
    # a fully masked row attends to nothing: zero weights (the reference's SDPA result)
    assert o.attentions[0][3].abs().max() == 0 and o.attentions[0][1, :, :3].abs().max() == 0
    torch.testing.assert_close(o.attentions[0][0].sum(-1), torch.ones(4, 9))
    # a KV cache: a 4-token prompt, then one token at a time (the mask grows with the sequence)
    for cache in (DynamicCache(), ours.make_cache(4, ids.shape[1])):
        with torch.no_grad():
            steps = [ours(ids[:, :4], attention_mask=mask[:, :4], past_key_values=cache, use_cache=True).logits]
            for t in range(4, ids.shape[1]):
                steps.append(ours(ids[:, t:t + 1], attention_mask=mask[:, :t + 1], past_key_values=cache,
                                  use_cache=True).logits)
        close(r.logits, torch.cat(steps, 1), f"{arch} cached {type(cache).__name__}")


@pytest.mark.parametrize("arch", list(ENCODERS))
def test_encoder_all_zero_mask_rows_match_reference(tmp_path, arch):
    ref, ours = make(tmp_path, ENCODERS[arch])
    ids, mask = right_padded()
    for train in (False, True):
        for batch in ((ids, mask), (ids[[0, 3]], mask[[0, 3]])):  # the second: the packed path's fallback
            r, o = run_both(ref, ours, train, input_ids=batch[0], attention_mask=batch[1])
            close(r.logits, o.logits, f"{arch} train={train} rows={len(batch[0])}")
    r, o = run_both(ref, ours, False, input_ids=ids, attention_mask=mask, output_hidden_states=True)
    close(r.logits, o.logits, f"{arch} written-out path")


@pytest.mark.parametrize("arch", list(SEQ2SEQ))
def test_seq2seq_fully_masked_rows_match_reference(tmp_path, arch):
    ref, ours = make(tmp_path, SEQ2SEQ[arch])
    ids, mask = right_padded()
    dec, dec_mask = left_padded(T=7, seed=2)  # leading zeros: fully masked decoder self-attention rows
    inputs = dict(input_ids=ids, attention_mask=mask, decoder_input_ids=dec, decoder_attention_mask=dec_mask)
    for train in (False, True):
        r, o = run_both(ref, ours, train, **inputs)
        close(r.logits, o.logits, f"{arch} train={train}")
    # cached decoding, one token at a time; the oracle is the reference decoding the same way: a fully
    # masked row then attends uniformly over the keys seen so far, not over all of them as in one forward
    logits = {}
    for name, model in (("reference", ref), ("ours", ours)):
        with torch.no_grad():
            enc = model.get_encoder()(input_ids=ids, attention_mask=mask)
            cache = transformers.EncoderDecoderCache(transformers.DynamicCache(), transformers.DynamicCache()) \
                if model is ref else EncoderDecoderCache(DynamicCache())
            steps = []
            for t in range(dec.shape[1]):
                out = model(decoder_input_ids=dec[:, t:t + 1], decoder_attention_mask=dec_mask[:, :t + 1],
                            encoder_outputs=enc, attention_mask=mask, past_key_values=cache, use_cache=True)
                cache = out.past_key_values
                steps.append(out.logits)
        logits[name] = torch.cat(steps, 1)
    close(logits["reference"], logits["ours"], f"{arch} cached")
