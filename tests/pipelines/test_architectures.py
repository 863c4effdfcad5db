"""Every architecture that can serve a task gives the reference pipeline's answers (issue #5).

For each (task, architecture) pair the reference library serves, a tiny random checkpoint made by the
reference (hidden 32, 2 layers, a real tokenizer of that family) goes through
``minformers.pipeline(task, model=folder)`` (our model *and* our tokenizer, read from the folder) and
``transformers.pipeline(task, model=folder)`` on the same inputs: one string, and batched lists of texts
of different lengths (batch_size=2), long inputs in windows (stride / doc_stride), impossible answers,
every aggregation strategy, multi-label zero-shot. Labels, words, spans, tokens and generated text must
be equal; scores within 1e-4. The BERT checkpoints are covered in depth by the per-task test files.

Tokenizers, by family (all built by the reference from offline assets, see tests/conftest.py):
- RoBERTa / BART: GPT-2's byte-level BPE with RoBERTa's specials first (<s>=0, <pad>=1, </s>=2, <unk>=3)
  and <mask> last, as roberta-base's vocab is laid out (RoBERTa's positions need a small pad id);
- GPT-2: GPT-2's own files, <|endoftext|> as pad; XLM-R: SentencePiece Unigram (botchan);
- Llama: SentencePiece BPE (botchan), </s> as pad; T5 and Marian: SentencePiece Unigram (botchan) as a
  T5 tokenizer.json (minformers cannot read Opus-MT's source.spm / target.spm / vocab.json yet);
- DistilBERT: bert-base-uncased's WordPiece (all-MiniLM-L6-v2's files).
Encoder tokenizers have model_max_length 64 (short windows) and pad on the right: the reference computes
no position ids from the mask outside generate(), so its causal classifiers only give padding-independent
answers with right padding. Text-generation tokenizers pad on the left.
"""

from __future__ import annotations

import json
import shutil
import warnings

import pytest
import torch

import minformers

transformers = pytest.importorskip("transformers")
transformers.logging.set_verbosity_error()

MAX_LEN = 64  # tokenizer model_max_length: long texts need windows
INIT = 0.2  # initializer_range: wide enough that answers depend on the input (0.02 gives one answer for all)
SENTIMENT = {0: "NEGATIVE", 1: "NEUTRAL", 2: "POSITIVE"}
NER = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]
NLI = {0: "contradiction", 1: "neutral", 2: "entailment"}  # entailment not first: the reference looks it up
TEXTS = ["My name is Sylvain and I work at Hugging Face in Brooklyn.",
         "I hate this so much!",
         "The quick brown fox jumps over the lazy dog near the river bank, then it rests."]
QUESTION, CONTEXT = "Where do I work?", "My name is Sylvain and I work at Hugging Face in Brooklyn."

# task -> architecture -> reference model class: the pairs of issue #5, then (second dict) the other pairs
# the reference serves with our architectures (fill-mask with BART: its BartForConditionalGeneration).
PAIRS = {
    "text-classification": {"roberta": "RobertaForSequenceClassification",
                            "xlm-roberta": "XLMRobertaForSequenceClassification",
                            "distilbert": "DistilBertForSequenceClassification",
                            "gpt2": "GPT2ForSequenceClassification", "llama": "LlamaForSequenceClassification",
                            "bart": "BartForSequenceClassification"},
    "token-classification": {"roberta": "RobertaForTokenClassification",
                             "distilbert": "DistilBertForTokenClassification",
                             "gpt2": "GPT2ForTokenClassification", "llama": "LlamaForTokenClassification"},
    "question-answering": {"roberta": "RobertaForQuestionAnswering", "distilbert": "DistilBertForQuestionAnswering",
                           "bart": "BartForQuestionAnswering", "llama": "LlamaForQuestionAnswering"},
    "fill-mask": {"roberta": "RobertaForMaskedLM", "distilbert": "DistilBertForMaskedLM",
                  "bart": "BartForConditionalGeneration"},
    "zero-shot-classification": {"bart": "BartForSequenceClassification",
                                 "roberta": "RobertaForSequenceClassification"},
    "text-generation": {"gpt2": "GPT2LMHeadModel", "llama": "LlamaForCausalLM"},
    "summarization": {"bart": "BartForConditionalGeneration", "t5": "T5ForConditionalGeneration"},
    "text2text-generation": {"bart": "BartForConditionalGeneration", "t5": "T5ForConditionalGeneration"},
    "translation": {"marian": "MarianMTModel"},
}
EXTRA_PAIRS = {
    "text-classification": {"t5": "T5ForSequenceClassification"},
    "token-classification": {"xlm-roberta": "XLMRobertaForTokenClassification", "t5": "T5ForTokenClassification"},
    "question-answering": {"gpt2": "GPT2ForQuestionAnswering", "xlm-roberta": "XLMRobertaForQuestionAnswering",
                           "t5": "T5ForQuestionAnswering"},
    "fill-mask": {"xlm-roberta": "XLMRobertaForMaskedLM"},
    "zero-shot-classification": {"gpt2": "GPT2ForSequenceClassification", "llama": "LlamaForSequenceClassification",
                                 "t5": "T5ForSequenceClassification"},
    "text-generation": {"bart": "BartForCausalLM"},
    "summarization": {"marian": "MarianMTModel"},
    "translation": {"t5": "T5ForConditionalGeneration", "bart": "BartForConditionalGeneration"},
}
for _task, _extra in EXTRA_PAIRS.items():
    PAIRS[_task].update(_extra)
GENERATION_TASKS = ("text-generation", "summarization", "text2text-generation", "translation")
def cases(task: str) -> list:
    return [pytest.param(arch, id=arch) for arch in PAIRS[task]]


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/pipelines/conftest.py


# ---- tokenizers ------------------------------------------------------------------------------------
def _save(tok, folder, padding_side: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tok.save_pretrained(folder)
    path = folder / "tokenizer_config.json"
    config = json.loads(path.read_text())
    config.update(model_max_length=MAX_LEN, padding_side=padding_side)
    path.write_text(json.dumps(config))
    return folder


def _build_tokenizer(family: str, folder, minilm_dir, padding_side: str):
    import fetch_assets

    if family == "distilbert":
        for name in ("tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
            shutil.copy(minilm_dir / name, folder / name)
        path = folder / "tokenizer_config.json"
        config = json.loads(path.read_text())
        config.update(tokenizer_class="DistilBertTokenizer", model_max_length=MAX_LEN, padding_side=padding_side)
        path.write_text(json.dumps(config))
        return folder
    if family in ("roberta", "bart", "gpt2"):
        bpe = fetch_assets.fetch("gpt2_bpe")
        encoder = json.loads((bpe / "encoder.json").read_text(encoding="utf-8"))
        raw = folder / "raw"
        raw.mkdir()
        shutil.copy(bpe / "vocab.bpe", raw / "merges.txt")
        if family == "gpt2":
            (raw / "vocab.json").write_text(json.dumps(encoder), encoding="utf-8")
            tok = transformers.GPT2TokenizerFast.from_pretrained(raw)
            tok.pad_token = tok.eos_token
        else:  # roberta-base's layout: specials first, <mask> last
            specials = ["<s>", "<pad>", "</s>", "<unk>"]
            vocab = {**{s: i for i, s in enumerate(specials)},
                     **{piece: i + len(specials) for piece, i in sorted(encoder.items(), key=lambda kv: kv[1])}}
            vocab["<mask>"] = len(vocab)
            (raw / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
            cls = transformers.RobertaTokenizerFast if family == "roberta" else transformers.BartTokenizerFast
            tok = cls(vocab_file=str(raw / "vocab.json"), merges_file=str(raw / "merges.txt"))
        shutil.rmtree(raw)
        return _save(tok, folder, padding_side)
    spm = fetch_assets.fetch("sentencepiece_models")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if family == "xlm-roberta":
            tok = transformers.XLMRobertaTokenizerFast(vocab_file=str(spm / "botchan_en_unigram_1000.model"))
        elif family == "llama":
            tok = transformers.LlamaTokenizerFast(vocab_file=str(spm / "botchan_en_bpe_1000.model"))
            tok.pad_token = tok.eos_token
        else:  # t5, marian (Marian's own tokenizer is SentencePiece-only: the reference has no fast one)
            tok = transformers.T5TokenizerFast(vocab_file=str(spm / "botchan_en_unigram_1000.model"), extra_ids=0)
    return _save(tok, folder, padding_side)


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory, minilm_dir):
    """family, padding side -> a folder holding that reference tokenizer (cached)."""
    cache: dict = {}

    def get(family: str, padding_side: str):
        if (family, padding_side) not in cache:
            folder = tmp_path_factory.mktemp(f"tok_{family}_{padding_side}")
            cache[family, padding_side] = _build_tokenizer(family, folder, minilm_dir, padding_side)
        return cache[family, padding_side]

    return get


# ---- checkpoints -----------------------------------------------------------------------------------
def _config(arch: str, tok, task: str):
    """A tiny reference config for `arch` with `tok`'s special ids and the task's labels."""
    special = {"pad_token_id": tok.pad_token_id, "bos_token_id": tok.bos_token_id, "eos_token_id": tok.eos_token_id}
    special = {k: v for k, v in special.items() if v is not None}
    labels = {"text-classification": SENTIMENT, "token-classification": dict(enumerate(NER)),
              "zero-shot-classification": NLI}.get(task)
    if labels is not None:
        special.update(id2label=labels, label2id={v: k for k, v in labels.items()})
    vocab = len(tok)
    seq2seq = dict(vocab_size=vocab, d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
                   decoder_attention_heads=4, encoder_ffn_dim=37, decoder_ffn_dim=37, max_position_embeddings=128,
                   init_std=INIT)
    if arch in ("roberta", "xlm-roberta"):
        cls = transformers.RobertaConfig if arch == "roberta" else transformers.XLMRobertaConfig
        return cls(vocab_size=vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
                   max_position_embeddings=MAX_LEN + 2, type_vocab_size=1, initializer_range=INIT, **special)
    if arch == "distilbert":
        return transformers.DistilBertConfig(vocab_size=vocab, dim=32, hidden_dim=37, n_layers=2, n_heads=4,
                                             max_position_embeddings=MAX_LEN, initializer_range=INIT, **special)
    if arch == "gpt2":
        return transformers.GPT2Config(vocab_size=vocab, n_embd=32, n_layer=2, n_head=4, n_positions=128,
                                       initializer_range=INIT, **special)
    if arch == "llama":
        return transformers.LlamaConfig(vocab_size=vocab, hidden_size=32, intermediate_size=37, num_hidden_layers=2,
                                        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                                        initializer_range=INIT, **special)
    if arch == "bart":
        return transformers.BartConfig(**seq2seq, decoder_start_token_id=tok.eos_token_id,
                                       forced_eos_token_id=tok.eos_token_id, **special)
    if arch == "t5":
        return transformers.T5Config(vocab_size=vocab, d_model=32, d_kv=8, d_ff=37, num_layers=2, num_decoder_layers=2,
                                     num_heads=4, decoder_start_token_id=tok.pad_token_id, **special,
                                     # (its heads' scores underflow to exact-zero ties with a wider init)
                                     initializer_factor=INIT / 0.02 if task in GENERATION_TASKS else 1.0)
    if arch == "marian":
        return transformers.MarianConfig(**seq2seq, decoder_start_token_id=tok.pad_token_id,
                                         forced_eos_token_id=tok.eos_token_id, **special)
    raise KeyError(arch)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, tokenizer_dir):
    """task, arch -> a folder with the reference's tiny random model for that task and its tokenizer (cached)."""
    cache: dict = {}

    def get(task: str, arch: str):
        if (task, arch) not in cache:
            family = "t5" if arch == "marian" else arch
            tok_dir = tokenizer_dir(family, "left" if task == "text-generation" else "right")
            tok = transformers.AutoTokenizer.from_pretrained(tok_dir)
            torch.manual_seed(0)
            model = getattr(transformers, PAIRS[task][arch])(_config(arch, tok, task)).eval()
            folder = tmp_path_factory.mktemp(f"{task}_{arch}")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.save_pretrained(folder)
            shutil.copytree(tok_dir, folder, dirs_exist_ok=True)
            cache[task, arch] = folder
        return cache[task, arch]

    return get


@pytest.fixture(scope="module")
def pipes(checkpoint):
    """task, arch -> (our pipeline, the reference's), both built from the folder alone."""

    def get(task: str, arch: str):
        folder = str(checkpoint(task, arch))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return minformers.pipeline(task, model=folder), transformers.pipeline(task, model=folder)

    return get


def assert_same(ours, theirs, tol: float = 1e-4, where: str = "answer") -> None:
    """The same structure, keys, strings and ints; floats within `tol`."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict) and set(ours) == set(theirs), f"{where}: {ours} != {theirs}"
        for key in theirs:
            assert_same(ours[key], theirs[key], tol, f"{where}.{key}")
    elif isinstance(theirs, (list, tuple)):
        assert isinstance(ours, (list, tuple)) and len(ours) == len(theirs), f"{where}: {ours} != {theirs}"
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, tol, f"{where}[{i}]")
    elif isinstance(theirs, float) or type(theirs).__name__.startswith("float"):  # numpy floats too
        assert abs(float(ours) - float(theirs)) <= tol, f"{where}: {ours} != {theirs}"
    else:
        assert ours == theirs, f"{where}: {ours!r} != {theirs!r}"


def both(ours, theirs, *args, **kwargs) -> None:
    """Our pipeline's answer equals the reference's for the same call (both warn alike: not checked here)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = theirs(*args, **kwargs)
        got = ours(*args, **kwargs)
    assert_same(got, expected)


@pytest.fixture(scope="module")
def long_text(rotten_tomatoes_texts) -> str:
    """A plot summary (well over 64 tokens in every tokenizer here) with named entities at the end."""
    return rotten_tomatoes_texts[0] + " " + TEXTS[0]


# ---- the tests -------------------------------------------------------------------------------------
@pytest.mark.parametrize("arch", cases("text-classification"))
def test_text_classification(pipes, arch, long_text):
    ours, theirs = pipes("text-classification", arch)
    for kw in ({}, {"top_k": None}, {"top_k": 2, "function_to_apply": "sigmoid"}):
        both(ours, theirs, TEXTS[0], **kw)
        both(ours, theirs, TEXTS, batch_size=2, **kw)
    both(ours, theirs, [long_text, TEXTS[1]], batch_size=2, truncation=True, top_k=None)


@pytest.mark.parametrize("arch", cases("token-classification"))
def test_token_classification(pipes, arch, long_text):
    ours, theirs = pipes("token-classification", arch)
    for strategy in ("none", "simple", "first", "average", "max"):
        kw = {"aggregation_strategy": strategy}
        both(ours, theirs, TEXTS[0], **kw)
        both(ours, theirs, TEXTS, batch_size=2, ignore_labels=[], **kw)
        if strategy != "none":  # windows over a long text: the reference needs an aggregation for stride
            both(ours, theirs, [long_text, TEXTS[1]], batch_size=2, stride=16, **kw)


@pytest.mark.parametrize("arch", cases("question-answering"))
def test_question_answering(pipes, arch, long_text):
    ours, theirs = pipes("question-answering", arch)
    for kw in ({}, {"top_k": 3}, {"handle_impossible_answer": True, "top_k": 2},
               {"max_seq_len": 48, "doc_stride": 16, "top_k": 3}):
        both(ours, theirs, question=QUESTION, context=CONTEXT, **kw)
        both(ours, theirs, question=QUESTION, context=long_text, **kw)  # several windows
    examples = [{"question": QUESTION, "context": CONTEXT}, {"question": "Who is it?", "context": long_text},
                {"question": "What is it?", "context": TEXTS[2]}]
    both(ours, theirs, examples, batch_size=2)
    both(ours, theirs, examples, batch_size=2, top_k=2, handle_impossible_answer=True)
    # more answers asked for than spans with a non-zero score: the zero-score ties fill the list as the
    # reference's np.argpartition does (unbatched: batched, the reference's own ties change with the padding)
    for kw in ({"top_k": 30}, {"top_k": 30, "handle_impossible_answer": True, "max_answer_len": 3}):
        both(ours, theirs, question="Who?", context=TEXTS[1], **kw)


@pytest.mark.parametrize("arch", cases("fill-mask"))
def test_fill_mask(pipes, arch):
    ours, theirs = pipes("fill-mask", arch)
    mask = ours.tokenizer.mask_token
    texts = [f"This man works as a {mask}.", f"Paris is the {mask} of {mask}, and a longer text follows here."]
    for kw in ({}, {"top_k": 2}, {"targets": [" paris", " city", " capital"] if arch in ("roberta", "bart")
                                  else ["paris", "city", "capital"]}):
        both(ours, theirs, texts[0], **kw)
        both(ours, theirs, texts, batch_size=2, **kw)


@pytest.mark.parametrize("arch", cases("zero-shot-classification"))
def test_zero_shot_classification(pipes, arch, long_text):
    ours, theirs = pipes("zero-shot-classification", arch)
    labels = ["education", "politics", "business"]
    for multi_label in (False, True):
        both(ours, theirs, TEXTS[0], candidate_labels=labels, multi_label=multi_label)
        both(ours, theirs, TEXTS + [long_text], candidate_labels=labels, multi_label=multi_label, batch_size=2)
    both(ours, theirs, TEXTS[:2], candidate_labels="sports, cinema", hypothesis_template="The topic is {}.",
         batch_size=2)


@pytest.mark.parametrize("arch", cases("text-generation"))
def test_text_generation(pipes, arch):
    ours, theirs = pipes("text-generation", arch)
    prompts = ["Hello world, this is", "The capital of France is a city that", "A"]
    settings = dict(max_new_tokens=8, do_sample=False)
    # BartForCausalLM's learned positions ignore the mask: left-padded batches change its answers, in both
    # libraries (which texts share a batch differs: ours are sorted by length)
    batch_size = 1 if arch == "bart" else 2
    both(ours, theirs, prompts[0], **settings)
    both(ours, theirs, prompts, batch_size=batch_size, **settings)
    both(ours, theirs, prompts, batch_size=batch_size, return_full_text=False, **settings)


@pytest.mark.parametrize("task, arch", [pytest.param(t, a, id=f"{t}-{a}") for t in GENERATION_TASKS[1:]
                                         for a in PAIRS[t]])
def test_seq2seq_generation(pipes, task, arch):
    ours, theirs = pipes(task, arch)
    texts = TEXTS + ["Hello there"]
    # (no_repeat_ngram_size: random models repeat one token; this makes the answers depend on the input)
    for settings in (dict(max_new_tokens=8), dict(max_new_tokens=8, no_repeat_ngram_size=1),
                     dict(max_new_tokens=8, num_beams=2, no_repeat_ngram_size=2)):
        both(ours, theirs, texts[0], **settings)
        both(ours, theirs, texts, batch_size=2, **settings)
