"""Trainer behaviour: arguments, schedules, data forms, callbacks, history files, bad input."""

from __future__ import annotations

import json
import math

import pytest
import torch

import minformers as mf

from .helpers import review_rows, tokenized


@pytest.fixture(scope="module")
def setup(tiny_checkpoints, rotten_tomatoes_rows):
    torch.set_num_threads(1)
    folder = tiny_checkpoints("BertForSequenceClassification")
    tok = mf.AutoTokenizer.from_pretrained(folder)
    return folder, tok, review_rows(rotten_tomatoes_rows, 32)


def _args(tmp_path, **kw):
    base = dict(output_dir=str(tmp_path), per_device_train_batch_size=8, max_steps=4, logging_steps=1,
                save_strategy="no", disable_tqdm=True)
    return mf.TrainingArguments(**{**base, **kw})


def _model(folder):
    return mf.BertForSequenceClassification.from_pretrained(folder)


# --- arguments and schedules
def test_unknown_argument_lists_valid_names():
    with pytest.raises(TypeError, match="learning_rate"):
        mf.TrainingArguments(output_dir="x", learnin_rate=1e-3)


def test_old_names_and_best_metric_defaults():
    args = mf.TrainingArguments(output_dir="x", evaluation_strategy="epoch", save_strategy="epoch",
                                load_best_model_at_end=True, no_cuda=True)
    assert args.eval_strategy == "epoch" and args.use_cpu
    assert args.metric_for_best_model == "loss" and args.greater_is_better is False
    with pytest.raises(ValueError, match="eval_strategy"):
        mf.TrainingArguments(output_dir="x", eval_strategy="sometimes")


@pytest.mark.parametrize("name", ["linear", "cosine", "cosine_with_restarts", "polynomial", "constant",
                                  "constant_with_warmup"])
def test_schedules_match_reference(name):
    import transformers

    def lrs(get):
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
        sched = get(name, opt, num_warmup_steps=3, num_training_steps=20)
        out = []
        for _ in range(22):
            out.append(sched.get_last_lr()[0])
            opt.step()
            sched.step()
        return out

    assert lrs(mf.get_scheduler) == pytest.approx(lrs(transformers.get_scheduler), abs=1e-12)


def test_weight_decay_groups_match_reference(setup, tmp_path):
    import transformers

    folder, _, _ = setup
    ours = mf.Trainer(_model(folder), _args(tmp_path, weight_decay=0.1))
    ref = transformers.Trainer(transformers.BertForSequenceClassification.from_pretrained(folder),
                               transformers.TrainingArguments(output_dir=str(tmp_path), report_to="none",
                                                              use_cpu=True))
    from minformers.training.trainer import decay_parameter_names

    assert sorted(decay_parameter_names(ours.model)) == sorted(ref.get_decay_parameter_names(ref.model))
    assert not any("LayerNorm" in n or "bias" in n for n in decay_parameter_names(ours.model))


def test_length_grouped_indices_match_reference():
    from transformers.trainer_pt_utils import get_length_grouped_indices as ref_indices

    from minformers.training.data import get_length_grouped_indices

    lengths = [int(x) for x in torch.randint(3, 60, (500,), generator=torch.Generator().manual_seed(1))]
    for seed in (0, 1):
        ours = get_length_grouped_indices(lengths, 8, generator=torch.Generator().manual_seed(seed))
        ref = ref_indices(lengths, 8, generator=torch.Generator().manual_seed(seed))
        assert ours == ref


# --- data forms
def test_datasets_course_flow(setup, tmp_path):
    """load -> map(batched=True) -> remove_columns -> set_format, as chapter 3 does."""
    datasets = pytest.importorskip("datasets")
    folder, tok, rows = setup
    raw = datasets.Dataset.from_list([dict(r, idx=i) for i, r in enumerate(rows)])
    ds = raw.map(lambda b: tok(b["text"], truncation=True, max_length=32), batched=True)
    ds = ds.remove_columns(["idx"]).rename_column("label", "labels")
    ds.set_format("torch")
    trainer = mf.Trainer(_model(folder), _args(tmp_path), train_dataset=ds, eval_dataset=ds.select(range(8)),
                         processing_class=tok)
    out = trainer.train()
    assert out.global_step == 4 and math.isfinite(out.training_loss)
    pred = trainer.predict(ds.select(range(8)))
    assert pred.predictions.shape == (8, 2) and pred.label_ids.shape == (8,)
    assert "test_loss" in pred.metrics


def test_string_columns_are_dropped_and_torch_dataset(setup, tmp_path):
    folder, tok, rows = setup
    data = tokenized(tok, rows, keep_text=True)

    class TorchData(torch.utils.data.Dataset):
        def __len__(self):
            return len(data)

        def __getitem__(self, i):
            return data[i]

    for train in (data, TorchData()):
        out = mf.Trainer(_model(folder), _args(tmp_path, max_steps=2), train_dataset=train,
                         processing_class=tok).train()
        assert out.global_step == 2
    with pytest.raises(ValueError, match=r"\['text'\]"):
        mf.Trainer(_model(folder), _args(tmp_path, max_steps=1, remove_unused_columns=False), train_dataset=data,
                   processing_class=tok).train()


def test_no_labels_is_a_clear_error(setup, tmp_path):
    folder, tok, rows = setup
    data = [{k: v for k, v in r.items() if k != "label"} for r in tokenized(tok, rows)]
    with pytest.raises(ValueError, match=r"returned no loss.*columns \['input_ids', 'token_type_ids', "):
        mf.Trainer(_model(folder), _args(tmp_path), train_dataset=data, processing_class=tok).train()


def test_empty_dataset(setup, tmp_path):
    folder, tok, _ = setup
    with pytest.raises(ValueError, match="empty"):
        mf.Trainer(_model(folder), _args(tmp_path), train_dataset=[], processing_class=tok).train()


def test_nan_loss_stops_and_keeps_last_checkpoint(setup, tmp_path):
    folder, tok, rows = setup
    data = tokenized(tok, rows)

    class PoisonAt(mf.TrainerCallback):  # corrupt the weights after step 2 (checkpoint-2 is already saved)
        def on_save(self, args, state, control, model=None, **kwargs):
            with torch.no_grad():
                model.classifier.weight.fill_(float("nan"))

    trainer = mf.Trainer(_model(folder), _args(tmp_path, save_strategy="steps", save_steps=2), train_dataset=data,
                         processing_class=tok, callbacks=[PoisonAt()])
    with pytest.raises(mf.TrainingDivergedError, match="checkpoint-2"):
        trainer.train()
    saved = mf.BertForSequenceClassification.from_pretrained(tmp_path / "checkpoint-2")
    assert torch.isfinite(saved.classifier.weight).all()


def test_failed_save_keeps_previous_checkpoint(setup, tmp_path, monkeypatch):
    folder, tok, rows = setup
    data = tokenized(tok, rows)
    from minformers.weights import safetensors as serialization

    real_save = serialization.save_file
    calls = {"n": 0}

    def flaky(tensors, path, metadata=None):  # the second checkpoint dies mid-write (disk full)
        calls["n"] += 1
        if calls["n"] == 2:
            path.write_bytes(b"partial")
            raise OSError(28, "No space left on device")
        return real_save(tensors, path, metadata)

    monkeypatch.setattr(serialization, "save_file", flaky)
    trainer = mf.Trainer(_model(folder), _args(tmp_path, save_strategy="steps", save_steps=2), train_dataset=data,
                         processing_class=tok)
    with pytest.raises(OSError, match="checkpoint-4.*intact"):
        trainer.train()
    assert mf.get_last_checkpoint(str(tmp_path)).endswith("checkpoint-2")
    assert not (tmp_path / "checkpoint-4").exists()
    mf.BertForSequenceClassification.from_pretrained(tmp_path / "checkpoint-2")  # loads: intact
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp folders left


# --- callbacks, evaluation, history
def test_callbacks_history_and_best_model(setup, tmp_path):
    folder, tok, rows = setup
    data = tokenized(tok, rows)
    events = []

    class Recorder(mf.TrainerCallback):
        def on_train_begin(self, args, state, control, **kw):
            events.append("begin")

        def on_epoch_end(self, args, state, control, **kw):
            events.append("epoch")

        def on_evaluate(self, args, state, control, metrics=None, **kw):
            events.append(("eval", round(metrics["eval_accuracy"], 3)))

        def on_save(self, args, state, control, **kw):
            events.append(("save", state.global_step))

        def on_step_end(self, args, state, control, **kw):
            if state.global_step == 7:
                control.should_training_stop = True

    def accuracy(p):
        return {"accuracy": float((p.predictions.argmax(-1) == p.label_ids).mean())}

    args = _args(tmp_path, max_steps=-1, num_train_epochs=3, eval_strategy="epoch", save_strategy="epoch",
                 load_best_model_at_end=True, metric_for_best_model="accuracy", save_total_limit=1,
                 learning_rate=1e-3)
    trainer = mf.Trainer(_model(folder), args, train_dataset=data, eval_dataset=data[:16], processing_class=tok,
                         compute_metrics=accuracy, callbacks=[Recorder()])
    trainer.train()
    assert events[0] == "begin" and events.count("epoch") == 2  # stopped in epoch 2 by the callback
    assert trainer.state.global_step == 7
    assert trainer.state.best_model_checkpoint is not None
    history = json.loads((tmp_path / "log_history.json").read_text())
    assert [e["step"] for e in history if "loss" in e] == list(range(1, 8))
    assert all("eval_accuracy" in e for e in history if "eval_loss" in e)
    state = json.loads((tmp_path / "trainer_state.json").read_text())
    assert state["global_step"] == 7 and state["log_history"] == history
    pytest.importorskip("matplotlib")
    assert (tmp_path / "loss_curve.png").stat().st_size > 1000


def test_save_model_round_trip(setup, tmp_path):
    import transformers

    folder, tok, rows = setup
    trainer = mf.Trainer(_model(folder), _args(tmp_path, max_steps=1), train_dataset=tokenized(tok, rows),
                         processing_class=tok)
    trainer.train()
    trainer.save_model(str(tmp_path / "final"))
    ref = transformers.BertForSequenceClassification.from_pretrained(tmp_path / "final")
    torch.testing.assert_close(ref.classifier.weight, trainer.model.classifier.weight)
    assert (tmp_path / "final" / "tokenizer.json").is_file()


# --- a subclass changes training by overriding the reference's method names
def test_subclass_overrides_are_honoured(setup, tmp_path):
    """The loop calls the Trainer's own methods, so a subclass that overrides ``compute_loss``,
    ``training_step``, ``create_optimizer``, ``get_train_dataloader`` or ``evaluate`` changes the run."""
    folder, tok, rows = setup
    calls: dict[str, list] = {"compute_loss": [], "training_step": [], "create_optimizer": [],
                              "get_train_dataloader": [], "evaluate": []}

    class Custom(mf.Trainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            outputs = model(**{k: v for k, v in inputs.items() if k != "labels"})
            loss = (outputs.logits ** 2).mean() + 5.0  # not the model's loss (about 0.69)
            calls["compute_loss"].append(loss.item())
            return (loss, outputs) if return_outputs else loss

        def training_step(self, model, inputs, num_items_in_batch=None):
            calls["training_step"].append(len(inputs["input_ids"]))
            return super().training_step(model, inputs, num_items_in_batch)

        def create_optimizer(self):
            calls["create_optimizer"].append(1)
            self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.5)
            return self.optimizer

        def get_train_dataloader(self):
            calls["get_train_dataloader"].append(1)
            return super().get_train_dataloader()

        def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix="eval"):
            calls["evaluate"].append(self.state.global_step)
            return super().evaluate(eval_dataset, ignore_keys, metric_key_prefix)

    args = _args(tmp_path, max_steps=4, eval_strategy="steps", eval_steps=2)
    trainer = Custom(_model(folder), args, train_dataset=tokenized(tok, rows), eval_dataset=tokenized(tok, rows[:8]),
                     processing_class=tok)
    before = trainer.model.classifier.weight.detach().clone()
    trainer.train()
    assert calls["training_step"] == [8, 8, 8, 8] and len(calls["compute_loss"]) == 4
    assert calls["create_optimizer"] == [1] and isinstance(trainer.optimizer, torch.optim.SGD)
    assert calls["get_train_dataloader"] == [1] and calls["evaluate"] == [2, 4]
    logged = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    assert logged == calls["compute_loss"]  # the overridden loss is what trained and what was logged
    assert not torch.equal(trainer.model.classifier.weight, before)
