"""summarization / translation / text2text-generation: the same answers as the reference's pipelines on tiny
random BART (GPT-2 byte-level BPE vocab), T5 and Marian (SentencePiece Unigram vocab) checkpoints: defaults
from the generation config and ``config.task_specific_params`` (prefixes, beam settings), beam search,
num_return_sequences, batching, return_tensors, stop_sequence, translation_xx_to_yy; clear errors.

The pipeline logic is proven with the reference's tokenizer objects; ``test_*_with_our_tokenizer`` repeats
it with minformers' own tokenizer read from the saved tokenizer.json (skipped while it cannot load it).
"""

from __future__ import annotations

import warnings

import pytest
import torch
import transformers

import minformers
from minformers.pipelines import pipeline

transformers.logging.set_verbosity_error()

TEXTS = ["The quick brown fox jumps over the lazy dog near the river bank.", "It was a dark and stormy night.",
         "Hello there"]
SUMMARY_PARAMS = {"length_penalty": 2.0, "max_length": 14, "min_length": 4, "no_repeat_ngram_size": 3,
                  "num_beams": 2, "early_stopping": True}


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/pipelines/conftest.py


@pytest.fixture(scope="module")
def folders(tmp_path_factory, gpt2_vocab_dir):
    import fetch_assets

    spm = fetch_assets.fetch("sentencepiece_models")
    btok = transformers.BartTokenizerFast(vocab_file=str(gpt2_vocab_dir / "vocab.json"),
                                          merges_file=str(gpt2_vocab_dir / "merges.txt"))
    ttok = transformers.T5TokenizerFast(vocab_file=str(spm / "botchan_en_unigram_1000.model"), extra_ids=0)
    small = dict(d_model=16, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2, decoder_attention_heads=2,
                 encoder_ffn_dim=32, decoder_ffn_dim=32, max_position_embeddings=128)
    out = {}
    torch.manual_seed(0)
    # BART like distilbart-cnn: summarization settings in the generation config and in task_specific_params
    bart = transformers.BartForConditionalGeneration(transformers.BartConfig(
        vocab_size=len(btok), bos_token_id=btok.bos_token_id, pad_token_id=btok.pad_token_id,
        eos_token_id=btok.eos_token_id, decoder_start_token_id=btok.eos_token_id, forced_eos_token_id=btok.eos_token_id,
        task_specific_params={"summarization": SUMMARY_PARAMS}, **small)).eval()
    bart.generation_config.update(**SUMMARY_PARAMS)
    torch.manual_seed(0)
    # T5 like t5-base: prefixes and settings in task_specific_params only
    t5 = transformers.T5ForConditionalGeneration(transformers.T5Config(
        vocab_size=len(ttok), d_model=16, d_kv=8, d_ff=32, num_layers=1, num_decoder_layers=1, num_heads=2,
        pad_token_id=ttok.pad_token_id, eos_token_id=ttok.eos_token_id, decoder_start_token_id=ttok.pad_token_id,
        task_specific_params={
            "summarization": {"prefix": "summarize: ", **SUMMARY_PARAMS},
            "translation_en_to_fr": {"prefix": "translate English to French: ", "max_length": 12, "num_beams": 2,
                                     "early_stopping": True}})).eval()
    torch.manual_seed(0)
    marian = transformers.MarianMTModel(transformers.MarianConfig(
        vocab_size=len(ttok), pad_token_id=ttok.pad_token_id, eos_token_id=ttok.eos_token_id,
        decoder_start_token_id=ttok.pad_token_id, forced_eos_token_id=ttok.eos_token_id, max_length=12, num_beams=2,
        **small)).eval()
    for name, model, tok in (("bart", bart, btok), ("t5", t5, ttok), ("marian", marian, ttok)):
        out[name] = tmp_path_factory.mktemp(f"tiny_{name}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.save_pretrained(out[name])
        tok.save_pretrained(out[name])
    return out


def pair(task, folder, **kwargs):
    """(reference pipeline, ours) on the same checkpoint, each with its own reference tokenizer object."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = transformers.pipeline(task, model=str(folder), tokenizer=transformers.AutoTokenizer.from_pretrained(
            folder), **kwargs)
        ours = pipeline(task, model=minformers.AutoModelForSeq2SeqLM.from_pretrained(folder),
                        tokenizer=transformers.AutoTokenizer.from_pretrained(folder), **kwargs)
    return ref, ours


# (call-time max_length only counts when max_new_tokens is None: the pipeline's default max_new_tokens=256 wins)
SETTINGS = [
    dict(max_new_tokens=6),
    dict(num_beams=3, num_return_sequences=2, max_new_tokens=6),
    dict(max_length=10, max_new_tokens=None, min_length=6, no_repeat_ngram_size=2, length_penalty=0.5, num_beams=2),
    dict(max_new_tokens=6, num_beams=1, stop_sequence="the"),
    dict(max_new_tokens=6, clean_up_tokenization_spaces=True),
]
CASES = [("bart", "summarization"), ("t5", "summarization"), ("t5", "translation_en_to_fr"),
         ("marian", "translation"), ("bart", "text2text-generation")]


@pytest.mark.parametrize("arch,task", CASES, ids=[f"{a}-{t}" for a, t in CASES])
def test_matches_reference(folders, arch, task):
    ref, ours = pair(task, folders[arch])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if arch == "bart" and task == "summarization":  # elsewhere the default is 256 new tokens: slow here
            assert ours(TEXTS[0]) == ref(TEXTS[0])  # the defaults: generation config / task_specific_params
            assert ours(TEXTS, batch_size=2) == ref(TEXTS, batch_size=2)
        for settings in SETTINGS:
            for batch_size in (1, 2):
                assert ours(TEXTS, batch_size=batch_size, **settings) == ref(TEXTS, batch_size=batch_size, **settings)
        expected = ref(TEXTS[:2], max_new_tokens=5, return_tensors=True)
        assert ours(TEXTS[:2], max_new_tokens=5, return_tensors=True) == [
            {k: v.tolist() for k, v in r.items()} for r in expected]


def test_task_parameters_and_answer_keys(folders):
    _, summarizer = pair("summarization", folders["t5"])
    assert summarizer.prefix == "summarize: "
    cfg = summarizer.generation_config
    assert (cfg.max_new_tokens, cfg.max_length, cfg.num_beams, cfg.no_repeat_ngram_size) == (256, 14, 2, 3)
    assert list(summarizer(TEXTS[0], max_new_tokens=3)[0]) == ["summary_text"]
    _, translator = pair("translation_en_to_fr", folders["t5"])
    assert translator.prefix == "translate English to French: "
    assert list(translator(TEXTS[0], max_new_tokens=3)[0]) == ["translation_text"]
    with pytest.warns(UserWarning, match='defaulting to "translation_en_to_fr"'):
        plain = pipeline("translation", model=str(folders["t5"]), tokenizer=translator.tokenizer)
    assert plain.task == "translation_en_to_fr" and plain.prefix == translator.prefix
    _, t2t = pair("text2text-generation", folders["bart"])
    out = t2t(TEXTS[0], max_new_tokens=3, num_beams=2, num_return_sequences=2)
    assert len(out) == 2 and list(out[0]) == ["generated_text"]
    nested = t2t(TEXTS[:2], max_new_tokens=3, num_beams=2, num_return_sequences=2)
    assert [len(x) for x in nested] == [2, 2]
    # summarization settings in the model's generation config win over the pipeline's max_new_tokens default
    _, bart = pair("summarization", folders["bart"])
    assert (bart.generation_config.max_new_tokens, bart.generation_config.max_length) == (None, 14)


def test_bad_input_gives_clear_errors(folders):
    _, ours = pair("summarization", folders["bart"])
    with pytest.raises(TypeError, match="max_lenght.*valid parameters are:.*max_length"):
        ours("Hi", max_lenght=3)
    with pytest.raises(ValueError, match=r"num_return_sequences \(3\) has to be smaller or equal to num_beams \(2\)"):
        ours("Hi", num_beams=2, num_return_sequences=3)
    with pytest.raises(ValueError, match="accepts at most 128 positions.*truncation=True"):
        ours("word " * 300)
    ours.tokenizer.model_max_length = 128
    assert ours("word " * 300, truncation=True, max_new_tokens=3)  # truncated to the tokenizer's limit: works
    with pytest.raises(TypeError, match="takes a str or a list of str"):
        ours(42)
    with pytest.raises(ValueError, match="decoder-only"):
        pipeline("summarization", model=minformers.GPT2LMHeadModel(minformers.GPT2Config(
            vocab_size=10, n_embd=8, n_layer=1, n_head=2)), tokenizer=ours.tokenizer)
    with pytest.raises(ValueError, match="no default model for 'translation_de_to_en'"):
        pipeline("translation_de_to_en")
    with pytest.raises(KeyError, match="translation_XX_to_YY"):
        pipeline("translation_en_fr")


def test_pipeline_with_our_tokenizer(folders):
    for arch, task in (("bart", "summarization"), ("t5", "translation_en_to_fr"), ("marian", "translation")):
        tok = minformers.AutoTokenizer.from_pretrained(folders[arch])
        ref, _ = pair(task, folders[arch])
        ours = pipeline(task, model=str(folders[arch]), tokenizer=tok)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert ours(TEXTS, batch_size=2, max_new_tokens=6) == ref(TEXTS, batch_size=2, max_new_tokens=6)
            assert ours(TEXTS[0]) == ref(TEXTS[0])
