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


def _run(lib, folder, rows, out_dir, ga: int, dropout: bool):
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
                                 disable_tqdm=True, use_cpu=True, seed=7)
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
