"""PreTrainedModel: loading (safetensors, shards, .bin), prefix/legacy handling, reports, saving, and errors."""

from __future__ import annotations

import json
import logging
import os
import struct

import pytest
import torch
import transformers

import minformers
from minformers import modeling
from minformers.weights.safetensors import SafetensorsError

TINY = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37, vocab_size=99,
            max_position_embeddings=64)


def reference_checkpoint(folder, cls_name="BertForSequenceClassification", seed=0, save_kwargs=None, **config):
    torch.manual_seed(seed)
    ref = getattr(transformers, cls_name)(transformers.BertConfig(**{**TINY, **config})).eval()
    ref.save_pretrained(folder, **(save_kwargs or {}))
    return ref


def inputs():
    ids = torch.tensor([[2, 15, 27, 33, 3, 0], [2, 40, 41, 3, 0, 0]])
    return {"input_ids": ids, "attention_mask": (ids != 0).long()}


def same_outputs(ref, ours, field="logits"):
    with torch.no_grad():
        torch.testing.assert_close(getattr(ours(**inputs()), field), getattr(ref(**inputs()), field),
                                   atol=1e-5, rtol=0)


def test_safetensors_weights_are_memory_mapped_not_copied(tmp_path):
    reference_checkpoint(tmp_path)
    model = minformers.BertForSequenceClassification.from_pretrained(tmp_path)
    target = str((tmp_path / "model.safetensors").resolve())
    ranges = []
    with open("/proc/self/maps") as f:
        for line in f:
            if line.rstrip().endswith(target):
                lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
                ranges.append((lo, hi))
    assert ranges, "model.safetensors is not mapped"
    for name, p in model.named_parameters():
        assert any(lo <= p.data_ptr() < hi for lo, hi in ranges), f"{name} was copied out of the mapping"


def test_loading_does_not_run_random_init(tmp_path, monkeypatch):
    reference_checkpoint(tmp_path)
    calls = []
    monkeypatch.setattr(minformers.BertForSequenceClassification, "_init_weights",
                        lambda self, module: calls.append(module))
    minformers.BertForSequenceClassification.from_pretrained(tmp_path)
    assert calls == []


def test_sharded_safetensors(tmp_path):
    ref = reference_checkpoint(tmp_path, save_kwargs={"max_shard_size": "20KB"})
    assert (tmp_path / "model.safetensors.index.json").is_file() and not (tmp_path / "model.safetensors").exists()
    same_outputs(ref, minformers.BertForSequenceClassification.from_pretrained(tmp_path))


def test_pytorch_model_bin_and_sharded_bin(tmp_path):
    ref = reference_checkpoint(tmp_path / "one", save_kwargs={"safe_serialization": False})
    assert (tmp_path / "one" / "pytorch_model.bin").is_file()
    same_outputs(ref, minformers.BertForSequenceClassification.from_pretrained(tmp_path / "one"))
    ref = reference_checkpoint(tmp_path / "many", save_kwargs={"safe_serialization": False, "max_shard_size": "20KB"})
    assert (tmp_path / "many" / "pytorch_model.bin.index.json").is_file()
    same_outputs(ref, minformers.BertForSequenceClassification.from_pretrained(tmp_path / "many"))


class _Evil:
    marker = ""

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_is_refused(tmp_path):
    transformers.BertConfig(**TINY).save_pretrained(tmp_path)
    marker = tmp_path / "pwned"
    evil = _Evil()
    evil.marker = str(marker)
    torch.save({"bert.embeddings.word_embeddings.weight": torch.zeros(99, 32), "x": evil},
               tmp_path / "pytorch_model.bin")
    with pytest.raises(OSError, match="pytorch_model.bin"):
        minformers.BertModel.from_pretrained(tmp_path)
    assert not marker.exists()


def test_base_checkpoint_into_head_reports_new_weights(tmp_path, caplog):
    ref_base = reference_checkpoint(tmp_path, "BertModel")
    _, ref_info = transformers.BertForSequenceClassification.from_pretrained(tmp_path, output_loading_info=True)
    with caplog.at_level(logging.INFO, logger="minformers"):
        model, info = minformers.BertForSequenceClassification.from_pretrained(tmp_path, output_loading_info=True)
    assert set(info["missing_keys"]) == set(ref_info["missing_keys"]) == {"classifier.weight", "classifier.bias"}
    assert info["unexpected_keys"] == []
    text = caplog.text
    assert f"Some weights of BertForSequenceClassification were not initialized from the model checkpoint at {tmp_path}" \
           " and are newly initialized: " in text
    assert "You should probably TRAIN this model on a down-stream task" in text
    with torch.no_grad():  # the base weights were loaded under the "bert." prefix
        torch.testing.assert_close(model.bert(**inputs()).last_hidden_state,
                                   ref_base(**inputs()).last_hidden_state, atol=1e-5, rtol=0)
    assert torch.all(model.classifier.bias == 0) and model.classifier.weight.abs().sum() > 0


def test_head_checkpoint_into_base_reports_unused_weights(tmp_path, caplog):
    ref = reference_checkpoint(tmp_path, "BertForMaskedLM")
    _, ref_info = transformers.BertModel.from_pretrained(tmp_path, output_loading_info=True)
    with caplog.at_level(logging.INFO, logger="minformers"):
        model, info = minformers.BertModel.from_pretrained(tmp_path, output_loading_info=True)
    assert set(info["unexpected_keys"]) == set(ref_info["unexpected_keys"])
    assert set(info["missing_keys"]) == set(ref_info["missing_keys"])  # the pooler
    assert f"Some weights of the model checkpoint at {tmp_path} were not used when initializing BertModel: [" in caplog.text
    with torch.no_grad():
        torch.testing.assert_close(model(**inputs()).last_hidden_state,
                                   ref.bert(**inputs()).last_hidden_state, atol=1e-5, rtol=0)


def test_legacy_layernorm_gamma_beta_names(tmp_path):
    torch.manual_seed(0)
    ref = transformers.BertModel(transformers.BertConfig(**TINY)).eval()
    ref.config.save_pretrained(tmp_path)
    legacy = {k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta"): v
              for k, v in ref.state_dict().items()}
    legacy["embeddings.position_ids"] = torch.arange(64)[None]  # old checkpoints saved this buffer
    assert any(k.endswith("gamma") for k in legacy)
    torch.save(legacy, tmp_path / "pytorch_model.bin")
    model, info = minformers.BertModel.from_pretrained(tmp_path, output_loading_info=True)
    assert info["missing_keys"] == [] and info["unexpected_keys"] == []
    same_outputs(ref, model, "last_hidden_state")


def test_missing_weights_missing_folder_and_corrupt_file(tmp_path):
    transformers.BertConfig(**TINY).save_pretrained(tmp_path)
    with pytest.raises(OSError, match=r"model\.safetensors.*pytorch_model\.bin"):
        minformers.BertModel.from_pretrained(tmp_path)
    with pytest.raises(OSError):
        minformers.BertModel.from_pretrained(tmp_path / "does-not-exist")
    with pytest.raises(OSError):
        minformers.AutoModel.from_pretrained("no-such-org/no-such-model")
    header = json.dumps({"w": {"dtype": "F32", "shape": [1000], "data_offsets": [0, 4000]}}).encode()
    (tmp_path / "model.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 100)
    with pytest.raises(SafetensorsError, match="model.safetensors"):
        minformers.BertModel.from_pretrained(tmp_path)


def test_mismatched_sizes(tmp_path, caplog):
    reference_checkpoint(tmp_path, num_labels=3)
    with pytest.raises(RuntimeError, match="size mismatch for classifier.weight"):
        minformers.BertForSequenceClassification.from_pretrained(tmp_path, num_labels=5)
    with caplog.at_level(logging.WARNING, logger="minformers"):
        model = minformers.BertForSequenceClassification.from_pretrained(tmp_path, num_labels=5,
                                                                         ignore_mismatched_sizes=True)
    assert model.classifier.weight.shape == (5, 32) and model.config.num_labels == 5
    assert "shapes did not match" in caplog.text


def test_config_overrides_explicit_config_and_unknown_kwargs(tmp_path):
    reference_checkpoint(tmp_path, num_labels=2)
    model = minformers.BertForSequenceClassification.from_pretrained(
        tmp_path, id2label={0: "neg", 1: "pos"}, output_hidden_states=True)
    assert model.config.id2label == {0: "neg", 1: "pos"} and model.config.label2id == {"neg": 0, "pos": 1}
    assert len(model(**inputs()).hidden_states) == 3
    config = minformers.BertConfig.from_pretrained(tmp_path)
    config.num_labels = 2
    model = minformers.BertForSequenceClassification.from_pretrained(tmp_path, config=config)
    assert model.config is not config and model.config.name_or_path == config.name_or_path
    with pytest.raises(TypeError, match="not_a_real_option"):
        minformers.BertForSequenceClassification.from_pretrained(tmp_path, not_a_real_option=1)


def test_dtype(tmp_path):
    reference_checkpoint(tmp_path)
    assert minformers.BertForSequenceClassification.from_pretrained(tmp_path).dtype == torch.float32
    model = minformers.BertForSequenceClassification.from_pretrained(tmp_path, dtype=torch.bfloat16)
    assert model.dtype == torch.bfloat16 and all(p.dtype == torch.bfloat16 for p in model.parameters())
    assert model(**inputs()).logits.dtype == torch.bfloat16
    assert minformers.BertForSequenceClassification.from_pretrained(tmp_path, torch_dtype="float16").dtype == \
        torch.float16
    assert minformers.BertForSequenceClassification.from_pretrained(tmp_path, dtype="auto").dtype == torch.float32


def test_save_pretrained_round_trip_in_place_and_as_bin(tmp_path):
    ref = reference_checkpoint(tmp_path / "a", "BertForMaskedLM")
    model = minformers.BertForMaskedLM.from_pretrained(tmp_path / "a")
    model.save_pretrained(tmp_path / "a")  # over the file it is memory-mapped from
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["config.json", "model.safetensors"]
    saved = json.loads((tmp_path / "a" / "config.json").read_text())
    assert saved["architectures"] == ["BertForMaskedLM"] and saved["model_type"] == "bert"
    same_outputs(ref, minformers.BertForMaskedLM.from_pretrained(tmp_path / "a"))
    same_outputs(ref, model)  # the model that was saved still works
    model.save_pretrained(tmp_path / "b", safe_serialization=False)
    back = transformers.BertForMaskedLM.from_pretrained(tmp_path / "b").eval()
    same_outputs(ref, back)
    same_outputs(ref, minformers.BertForMaskedLM.from_pretrained(tmp_path / "b"))


def test_fresh_model_save_and_reload_is_exact(tmp_path):
    model = minformers.DistilBertForSequenceClassification(minformers.DistilBertConfig(
        dim=32, n_layers=1, n_heads=4, hidden_dim=40, vocab_size=50, num_labels=4))
    model.eval().save_pretrained(tmp_path)
    back = minformers.AutoModelForSequenceClassification.from_pretrained(tmp_path)
    for (k, a), (_, b) in zip(model.state_dict().items(), back.state_dict().items()):
        assert torch.equal(a, b), k
    assert back.config.num_labels == 4


def test_accessors(tmp_path):
    ref = reference_checkpoint(tmp_path, "BertForMaskedLM")
    model = minformers.BertForMaskedLM.from_pretrained(tmp_path)
    assert model.num_parameters() == ref.num_parameters()
    assert model.num_parameters(exclude_embeddings=True) == ref.num_parameters(exclude_embeddings=True)
    assert model.get_input_embeddings() is model.bert.embeddings.word_embeddings
    assert model.device == torch.device("cpu") and model.config.model_type == "bert"
    assert isinstance(model, minformers.PreTrainedModel) and model.base_model is model.bert
    assert modeling.SAFE_WEIGHTS_NAME == "model.safetensors"


def test_model_init_arguments_pass_through(tmp_path):
    reference_checkpoint(tmp_path, "BertModel")
    model = minformers.AutoModel.from_pretrained(tmp_path, add_pooling_layer=False)
    assert model.pooler is None and model(**inputs()).pooler_output is None


def test_malicious_pickle_error_says_why(tmp_path):
    transformers.BertConfig(**TINY).save_pretrained(tmp_path)
    torch.save({"x": _Evil()}, tmp_path / "pytorch_model.bin")
    with pytest.raises(OSError, match="Refusing to load"):
        minformers.BertModel.from_pretrained(tmp_path)


def test_cold_load_stays_light(tmp_path):
    """Loading (with missing weights to initialise) and one forward must not pull in sympy & co.

    Meta-device init ops (normal_, empty_like) import torch's symbolic machinery, ~1-2 s of cold start.
    """
    import subprocess
    import sys

    reference_checkpoint(tmp_path, "BertForMaskedLM")
    code = (
        "import sys, torch, minformers\n"
        f"m = minformers.AutoModelForSequenceClassification.from_pretrained({str(tmp_path)!r})\n"
        "m(input_ids=torch.ones(2, 5, dtype=torch.long), attention_mask=torch.tensor([[1] * 5, [1, 1, 1, 0, 0]]))\n"
        "heavy = [name for name in ('sympy', 'torch.fx.experimental.symbolic_shapes') "
        "if name in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- issue 13, item 19(c): padded input_ids without an attention_mask warn (once per model) ---
PAD_WARNING_MODELS = {  # class -> (config class, config); True: the reference warns there too
    "BertModel": ("BertConfig", dict(TINY, pad_token_id=0), True),
    "BertForSequenceClassification": ("BertConfig", dict(TINY, pad_token_id=0), True),  # the pooled fast path
    "RobertaForMaskedLM": ("RobertaConfig", dict(TINY, pad_token_id=0, bos_token_id=5, eos_token_id=6), True),
    "XLMRobertaModel": ("XLMRobertaConfig", dict(TINY, pad_token_id=0, bos_token_id=5, eos_token_id=6), True),
    "DistilBertForSequenceClassification": ("DistilBertConfig", dict(dim=32, n_layers=1, n_heads=4, hidden_dim=37,
                                                                     vocab_size=99, pad_token_id=0), True),
    "GPT2LMHeadModel": ("GPT2Config", dict(vocab_size=99, n_embd=32, n_layer=1, n_head=4, n_positions=32,
                                           bos_token_id=5, eos_token_id=6, pad_token_id=0), True),
    "MarianMTModel": ("MarianConfig", dict(vocab_size=99, d_model=32, encoder_layers=1, decoder_layers=1,
                                           encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=37,
                                           decoder_ffn_dim=37, pad_token_id=0, eos_token_id=6,
                                           decoder_start_token_id=0), True),
    # the reference is silent for these three; a padded unmasked input is as wrong there, so ours warns
    "LlamaForCausalLM": ("LlamaConfig", dict(vocab_size=99, hidden_size=32, intermediate_size=37, num_hidden_layers=1,
                                             num_attention_heads=4, pad_token_id=0, bos_token_id=5, eos_token_id=6),
                         False),
    "BartForConditionalGeneration": ("BartConfig", dict(vocab_size=99, d_model=32, encoder_layers=1, decoder_layers=1,
                                                        encoder_attention_heads=4, decoder_attention_heads=4,
                                                        encoder_ffn_dim=37, decoder_ffn_dim=37, pad_token_id=0,
                                                        bos_token_id=5, eos_token_id=6, decoder_start_token_id=6),
                                     False),
    "BartForCausalLM": ("BartConfig", dict(vocab_size=99, d_model=32, encoder_layers=1, decoder_layers=1,
                                           encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=37,
                                           decoder_ffn_dim=37, pad_token_id=0, bos_token_id=5, eos_token_id=6),
                        False),
    "T5ForConditionalGeneration": ("T5Config", dict(vocab_size=99, d_model=32, d_kv=8, d_ff=37, num_layers=1,
                                                    num_heads=4, pad_token_id=0, eos_token_id=6,
                                                    decoder_start_token_id=0), False),
}


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _padding_warnings(model, logger_name: str, **inputs) -> list[str]:
    """The attention-mask warnings one forward logs (handler on the logger itself: transformers' do not
    propagate to the root)."""
    handler = _Records()
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.WARNING)  # whatever verbosity another test left (transformers.logging.set_verbosity_*)
    logger.addHandler(handler)
    try:
        if "decoder_input_ids" not in inputs and model.config.is_encoder_decoder:
            inputs["decoder_input_ids"] = torch.tensor([[0, 7], [0, 8]])  # starts with pad: never checked
        with torch.no_grad():
            model(**inputs)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    return [m for m in handler.messages if "attention_mask" in m]


@pytest.mark.parametrize("cls_name", list(PAD_WARNING_MODELS))
def test_padding_without_attention_mask_warns_once(cls_name):
    config_name, config, reference_warns = PAD_WARNING_MODELS[cls_name]
    ours = getattr(minformers, cls_name)(getattr(minformers, config_name)(**config)).eval()
    theirs = getattr(transformers, cls_name)(getattr(transformers, config_name)(**config)).eval()
    padded = torch.tensor([[7, 8, 9, 10], [7, 8, 0, 0]])  # right padding: pad in the last column
    cases = [  # (inputs, ours warns)
        ({"input_ids": padded}, True),
        ({"input_ids": padded, "attention_mask": (padded != 0).long()}, False),
        ({"input_ids": torch.tensor([[7, 8, 9, 10], [7, 8, 9, 11]])}, False),  # no padding
        ({"input_ids": torch.tensor([[7, 0, 9, 10], [7, 8, 0, 11]])}, False),  # pad only inside: not looked at
        ({"input_ids": torch.tensor([[0, 0, 9, 10], [7, 8, 9, 11]])}, True),  # left padding
    ]
    for inputs, warns in cases:
        transformers_logging = logging.getLogger("transformers.modeling_utils")
        logging.Logger.warning_once.cache_clear()  # the reference warns once per process: reset it per case
        mine = _padding_warnings(ours, "minformers.modeling", **inputs)
        assert len(mine) == int(warns), (inputs, mine)
        if reference_warns:
            ref = _padding_warnings(theirs, transformers_logging.name, **inputs)
            assert len(ref) == int(warns), (inputs, ref)
            assert mine == ref[:len(mine)]  # the same text
        if warns:  # once per model
            assert _padding_warnings(ours, "minformers.modeling", **inputs) == []
            ours = getattr(minformers, cls_name)(ours.config).eval()
    unset = getattr(minformers, cls_name)(getattr(minformers, config_name)(**{**config, "pad_token_id": None})).eval()
    if config_name.endswith("RobertaConfig"):  # positions count from the pad token: a clear error (the reference's
        with pytest.raises(ValueError, match="pad_token_id is None"):  # is a TypeError from an embedding)
            unset(input_ids=padded)
    else:  # no pad token: nothing to warn about
        assert _padding_warnings(unset, "minformers.modeling", input_ids=padded) == []


def test_padding_warning_names_a_pad_token_equal_to_bos():
    """pad == bos (GPT-2, Llama tokenizers): the warning says it may be ignored when the input is not padded."""
    config = minformers.GPT2Config(vocab_size=99, n_embd=32, n_layer=1, n_head=4, n_positions=32, bos_token_id=0,
                                   eos_token_id=0, pad_token_id=0)
    model = minformers.GPT2LMHeadModel(config).eval()
    [message] = _padding_warnings(model, "minformers.modeling", input_ids=torch.tensor([[0, 8, 9]]))
    assert "You may ignore this warning if your `pad_token_id` (0) is identical to the `bos_token_id` (0)" in message
    # generate() passes what the reference's passes; its cached steps are not user input: no warning
    model = minformers.GPT2LMHeadModel(config).eval()
    handler, logger = _Records(), logging.getLogger("minformers.modeling")
    level = logger.level
    logger.setLevel(logging.WARNING)
    logger.addHandler(handler)
    try:
        model.generate(torch.tensor([[0, 8, 9]]), max_new_tokens=4, do_sample=False)  # starts with bos == pad
        model(torch.tensor([[0, 8, 9]]))  # a user's call after generate() still warns
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert len([m for m in handler.messages if "attention_mask" in m]) == 1
