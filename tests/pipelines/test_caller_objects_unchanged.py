"""A pipeline never changes the caller's tokenizer or model (issue 15): it pads on its own side.

For every task, with minformers' own tokenizer and with the reference's: after ``pipeline(task, model=m,
tokenizer=tok)`` and a batched call, ``tok.padding_side``, ``tok.pad_token`` and every attribute in
``tok.__dict__`` are as they were, and so are the model's mode, dtype, config and generation config.
(The text-generation pipeline used to set the caller's tokenizer to left padding with the eos token as its pad
token.) The answers themselves are proven equal to the reference's by each task's parity tests.
"""

from __future__ import annotations

import pytest
import torch
import transformers

import minformers
from minformers.pipelines import pipeline

transformers.logging.set_verbosity_error()

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/pipelines/conftest.py

TEXTS = ["Hello world, this is a test", "The capital of France is", "A"]
NLI = {0: "contradiction", 1: "neutral", 2: "entailment"}


@pytest.fixture(scope="module")
def folders(tiny_checkpoints, tmp_path_factory, gpt2_vocab_dir):
    """task -> (checkpoint folder, auto class, call arguments)."""
    gpt2_tok = transformers.GPT2TokenizerFast.from_pretrained(gpt2_vocab_dir)
    torch.manual_seed(0)
    gpt2 = transformers.GPT2LMHeadModel(transformers.GPT2Config(
        vocab_size=len(gpt2_tok), n_embd=16, n_layer=2, n_head=2, n_positions=128)).eval()
    gpt2_dir = tmp_path_factory.mktemp("unchanged_gpt2")
    gpt2.save_pretrained(gpt2_dir)
    gpt2_tok.save_pretrained(gpt2_dir)
    btok = transformers.BartTokenizerFast(vocab_file=str(gpt2_vocab_dir / "vocab.json"),
                                          merges_file=str(gpt2_vocab_dir / "merges.txt"))
    torch.manual_seed(0)
    bart = transformers.BartForConditionalGeneration(transformers.BartConfig(
        vocab_size=len(btok), d_model=16, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32, max_position_embeddings=128,
        bos_token_id=btok.bos_token_id, pad_token_id=btok.pad_token_id, eos_token_id=btok.eos_token_id,
        decoder_start_token_id=btok.eos_token_id)).eval()
    bart_dir = tmp_path_factory.mktemp("unchanged_bart")
    bart.save_pretrained(bart_dir)
    btok.save_pretrained(bart_dir)
    generate = dict(max_new_tokens=4, do_sample=False)
    return {
        "text-generation": (gpt2_dir, "AutoModelForCausalLM", generate),
        "summarization": (bart_dir, "AutoModelForSeq2SeqLM", generate),
        "text2text-generation": (bart_dir, "AutoModelForSeq2SeqLM", generate),
        "text-classification": (tiny_checkpoints("BertForSequenceClassification", num_labels=2),
                                "AutoModelForSequenceClassification", {}),
        "token-classification": (tiny_checkpoints("BertForTokenClassification", num_labels=3),
                                 "AutoModelForTokenClassification", {}),
        "fill-mask": (tiny_checkpoints("BertForMaskedLM"), "AutoModelForMaskedLM", {}),
        "feature-extraction": (tiny_checkpoints("BertModel"), "AutoModel", {}),
        "zero-shot-classification": (tiny_checkpoints("BertForSequenceClassification", num_labels=3, id2label=NLI,
                                                      label2id={v: k for k, v in NLI.items()}),
                                     "AutoModelForSequenceClassification", {"candidate_labels": ["a", "b"]}),
        "question-answering": (tiny_checkpoints("BertForQuestionAnswering"), "AutoModelForQuestionAnswering", {}),
    }


def state(obj) -> dict:
    """Every attribute of `obj` as its repr: a value set, replaced or reset shows.

    Not the reference's Rust backend (``_tokenizer``): transformers itself leaves each call's truncation and
    padding settings in it (any ``tok(text, truncation=True)`` does), which is no doing of the pipeline."""
    skip = {"_tokenizer"} if isinstance(obj, transformers.PreTrainedTokenizerBase) else set()
    return {key: repr(value) for key, value in vars(obj).items() if key not in skip}


def inputs_for(task: str, tokenizer) -> list:
    if task == "fill-mask":
        return [f"Paris is the {tokenizer.mask_token} of France.", f"The {tokenizer.mask_token} is blue."]
    if task == "question-answering":
        return [{"question": "Where?", "context": "In Paris, near the river."},
                {"question": "Who?", "context": "Sylvain works at Hugging Face in Brooklyn."}]
    return TEXTS


@pytest.mark.parametrize("library", ["minformers", "reference"])
@pytest.mark.parametrize("task", ["text-generation", "summarization", "text2text-generation", "text-classification",
                                  "token-classification", "fill-mask", "feature-extraction",
                                  "zero-shot-classification", "question-answering"])
def test_pipeline_leaves_the_callers_tokenizer_and_model_as_they_were(folders, task, library):
    folder, auto_class, call = folders[task]
    tok = (minformers if library == "minformers" else transformers).AutoTokenizer.from_pretrained(folder)
    model = getattr(minformers, auto_class).from_pretrained(folder)
    side, pad, pad_id = tok.padding_side, tok.pad_token, tok.pad_token_id
    tok_before = state(tok)
    model_before = (model.training, next(model.parameters()).dtype, next(model.parameters()).device,
                    state(model.config), model.generation_config.to_dict() if hasattr(model, "generate") else None)

    pipe = pipeline(task, model=model, tokenizer=tok)
    pipe(inputs_for(task, tok), batch_size=2, **call)
    pipe(inputs_for(task, tok)[0], **call)

    assert (tok.padding_side, tok.pad_token, tok.pad_token_id) == (side, pad, pad_id)
    assert state(tok) == tok_before
    assert (model.training, next(model.parameters()).dtype, next(model.parameters()).device, state(model.config),
            model.generation_config.to_dict() if hasattr(model, "generate") else None) == model_before


def test_text_generation_pads_left_with_eos_on_its_own_side(folders):
    """GPT-2's tokenizer has no pad token and pads on the right: the pipeline pads its batches on the left with
    the eos token (as the reference does once told to), and a prompt it is asked to pad too."""
    folder = folders["text-generation"][0]
    tok = transformers.AutoTokenizer.from_pretrained(folder)
    pipe = pipeline("text-generation", model=minformers.AutoModelForCausalLM.from_pretrained(folder), tokenizer=tok)
    assert (tok.padding_side, tok.pad_token) == ("right", None)
    assert pipe.generation_config.pad_token_id == tok.eos_token_id
    enc = pipe.preprocess("Hello world", padding="max_length", max_length=6, truncation=True)
    ids = tok("Hello world")["input_ids"]
    assert enc["input_ids"] == [tok.eos_token_id] * (6 - len(ids)) + ids
    assert enc["attention_mask"] == [0] * (6 - len(ids)) + [1] * len(ids)
    batch = pipe._collate([pipe.preprocess(t) for t in TEXTS[:2]])
    assert batch["input_ids"][1, 0].item() == tok.eos_token_id and batch["attention_mask"][1, 0].item() == 0
