"""Our Trainer against transformers.Trainer: same weights, data order and arguments -> same losses.

Data order is made identical by a SequentialSampler in both (``_get_train_sampler``). The
runs use dropout ON (the default 0.1): our BERT draws its dropout masks in the reference's
order (embeddings, attention probabilities inside SDPA, the two residual branches, the
classifier), and both trainers create their DataLoader iterators at the same points, so
the global torch RNG is consumed identically. A dropout-0 run is checked too.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from .helpers import recording, review_rows, tokenized

STEPS = 20


def _metrics(eval_pred):
    logits, labels = eval_pred
    return {"accuracy": float((np.argmax(logits, -1) == labels).mean())}


def _run(lib, folder, rows, out_dir, ga: int, dropout: bool, bf16: bool = False):
    torch.set_num_threads(1)
    kw = {} if dropout else {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}
    tok = lib.AutoTokenizer.from_pretrained(folder)
    model = lib.BertForSequenceClassification.from_pretrained(folder, **kw)
    train = tokenized(tok, review_rows(rows, 4 * ga * STEPS))
    evals = tokenized(tok, review_rows(rows, 24, offset=500))
    args = lib.TrainingArguments(output_dir=str(out_dir), per_device_train_batch_size=4,
                                 per_device_eval_batch_size=8, gradient_accumulation_steps=ga, max_steps=STEPS,
                                 learning_rate=2e-3, warmup_steps=4, weight_decay=0.01, logging_steps=1,
                                 eval_strategy="steps", eval_steps=10, save_strategy="no", report_to="none",
                                 disable_tqdm=True, use_cpu=True, seed=7, bf16=bf16)
    trainer = recording(lib.Trainer)(model=model, args=args, train_dataset=train, eval_dataset=evals,
                                     data_collator=lib.DataCollatorWithPadding(tok), compute_metrics=_metrics)
    trainer.train()
    evals_logged = [e for e in trainer.state.log_history if "eval_loss" in e]
    weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return trainer.step_losses, evals_logged, weights, trainer.evaluate()


@pytest.mark.parametrize("ga,dropout", [(1, True), (2, True)])
def test_losses_match_reference(ga, dropout, tiny_checkpoints, rotten_tomatoes_rows, tmp_path):
    import transformers

    import minformers

    folder = tiny_checkpoints("BertForSequenceClassification")
    ours, our_evals, our_w, our_final = _run(minformers, folder, rotten_tomatoes_rows, tmp_path / "ours", ga, dropout)
    ref, ref_evals, ref_w, ref_final = _run(transformers, folder, rotten_tomatoes_rows, tmp_path / "ref", ga, dropout)
    assert len(ours) == len(ref) == STEPS * ga
    diff = np.abs(np.array(ours) - np.array(ref))
    print(f"\nparity ga={ga} dropout={dropout}: max per-step loss diff {diff.max():.2e}; final eval_loss "
          f"{our_final['eval_loss']:.6f} vs {ref_final['eval_loss']:.6f}")
    assert diff.max() < 1e-4, f"per-step loss differs by up to {diff.max():.2e}: {ours} vs {ref}"
    assert len(our_evals) == len(ref_evals) == 2
    for a, b in zip(our_evals, ref_evals):
        assert a["step"] == b["step"]
        assert a["eval_loss"] == pytest.approx(b["eval_loss"], abs=1e-4)
        assert a["eval_accuracy"] == b["eval_accuracy"]
    assert our_final["eval_loss"] == pytest.approx(ref_final["eval_loss"], abs=1e-4)
    for k, v in ref_w.items():
        torch.testing.assert_close(our_w[k], v, atol=2e-4, rtol=1e-3, msg=k)


def test_bf16_mixed_precision_matches_reference(tiny_checkpoints, rotten_tomatoes_rows, tmp_path, monkeypatch):
    """bf16=True: forward and loss under CPU autocast (bf16 products), fp32 weights and optimizer, fp32 logits
    for compute_metrics -- the reference's cpu_amp. The losses follow the reference's to bf16 precision and
    differ from an fp32 run (so autocast really was on)."""
    import transformers

    import minformers

    folder = tiny_checkpoints("BertForSequenceClassification")
    ours, our_evals, our_w, our_final = _run(minformers, folder, rotten_tomatoes_rows, tmp_path / "o", 1, False, True)
    # the reference's TrainingArguments(bf16=True) sets os.environ["ACCELERATE_MIXED_PRECISION"]; monkeypatch undoes it
    monkeypatch.setenv("ACCELERATE_MIXED_PRECISION", "no")
    try:
        ref, ref_evals, _, ref_final = _run(transformers, folder, rotten_tomatoes_rows, tmp_path / "r", 1, False, True)
    finally:  # and accelerate keeps mixed_precision="bf16" in a process-wide state
        from accelerate.state import AcceleratorState

        AcceleratorState._reset_state(reset_partial_state=True)
    fp32, *_ = _run(minformers, folder, rotten_tomatoes_rows, tmp_path / "f", 1, False, False)
    diff = np.abs(np.array(ours) - np.array(ref))
    print(f"\nbf16 parity: max per-step loss diff {diff.max():.2e} (vs our fp32 run: "
          f"{np.abs(np.array(ours) - np.array(fp32)).max():.2e})")
    assert diff.max() < 2e-3, f"bf16 losses differ from the reference's by up to {diff.max():.2e}"
    assert np.abs(np.array(ours) - np.array(fp32)).max() > 1e-5, "bf16=True gave exactly the fp32 losses"
    assert all(v.dtype == torch.float32 for v in our_w.values() if v.is_floating_point())
    assert our_final["eval_accuracy"] == ref_final["eval_accuracy"]
    assert our_final["eval_loss"] == pytest.approx(ref_final["eval_loss"], abs=2e-2)


def test_fp16_on_cpu_is_refused_with_advice():
    import minformers

    with pytest.raises(ValueError, match="bf16=True"):
        minformers.TrainingArguments(output_dir="x", fp16=True)


# --- a batch with nothing to learn (issue 13, item 5)
def _token_rows(tok, texts):
    """Word-level NER-like labels (word index % 3) on the first sub-token; an empty text gives only -100."""
    rows = []
    for text in texts:
        enc = tok(text.split(), is_split_into_words=True, truncation=True, max_length=24)
        labels, previous = [], None
        for w in enc.word_ids():
            labels.append(-100 if w is None or w == previous else w % 3)
            previous = w
        rows.append({"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"], "labels": labels})
    return rows


def _run_token(lib, folder, texts, out_dir, ga):
    torch.set_num_threads(1)
    tok = lib.AutoTokenizer.from_pretrained(folder)
    model = lib.BertForTokenClassification.from_pretrained(folder, hidden_dropout_prob=0.0,
                                                           attention_probs_dropout_prob=0.0)
    args = lib.TrainingArguments(output_dir=str(out_dir), per_device_train_batch_size=1,
                                 gradient_accumulation_steps=ga, num_train_epochs=1, learning_rate=5e-3,
                                 weight_decay=0.01, logging_steps=1, save_strategy="no", report_to="none",
                                 disable_tqdm=True, use_cpu=True, seed=11)
    trainer = recording(lib.Trainer)(model=model, args=args, train_dataset=_token_rows(tok, texts),
                                     data_collator=lib.DataCollatorForTokenClassification(tok))
    trainer.train()
    logged = [(e["loss"], e["learning_rate"]) for e in trainer.state.log_history if "loss" in e]
    return trainer.step_losses, logged, {k: v.detach().clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("ga", [1, 2])
def test_batch_without_labelled_tokens_trains_on_like_reference(ga, tiny_checkpoints, rotten_tomatoes_rows, tmp_path):
    """An empty line (labels all -100, a NaN mean loss) is not divergence: training goes on, weights equal the reference's."""
    import transformers

    import minformers

    folder = tiny_checkpoints("BertForTokenClassification", num_labels=3)
    texts = [r["text"] for r in review_rows(rotten_tomatoes_rows, 7)]
    texts.insert(2, "")  # the empty line: [CLS] [SEP], nothing labelled
    texts.insert(5, "")
    ours, our_logged, our_w = _run_token(minformers, folder, texts, tmp_path / "ours", ga)
    ref, ref_logged, ref_w = _run_token(transformers, folder, texts, tmp_path / "ref", ga)
    assert len(ours) == len(ref) == len(texts)
    assert np.isnan(ours[2]) and np.isnan(ref[2])  # the step loss itself is NaN in both: nothing was measured
    assert all(np.isfinite(x) for x, _ in our_logged)
    np.testing.assert_allclose(our_logged, ref_logged, atol=1e-4)  # the reference rounds logged losses to 4 places
    for k, v in ref_w.items():
        assert torch.isfinite(our_w[k]).all(), k
        torch.testing.assert_close(our_w[k], v, atol=1e-5, rtol=1e-4, msg=k)
