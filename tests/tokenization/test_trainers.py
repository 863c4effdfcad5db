"""train_new_from_iterator (issue #3): ours against transformers' on the same base tokenizer and corpus.

Brown corpus: 20k sentences to train on, every 20th sentence of the corpus held out
(never trained on) to measure tokens per word. Bases: bert-base-uncased's WordPiece
(the all-MiniLM-L6-v2 folder) and GPT-2's byte-level BPE.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.tokenization.parity import assert_same

transformers = pytest.importorskip("transformers")

VOCAB = 8000
N_TRAIN = 20_000
BATCH = 1000


def _brown_sentences() -> list[str]:
    """One string per Brown sentence: the `word/tag` tokens' words joined by spaces."""
    import fetch_assets

    folder = fetch_assets.fetch("brown")
    out = []
    for path in sorted(p for p in folder.iterdir() if not p.name.startswith(".")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(" ".join(tok.rsplit("/", 1)[0] for tok in line.split()))
    return out


@pytest.fixture(scope="module")
def brown() -> tuple[list[str], list[str]]:
    sents = _brown_sentences()
    assert len(sents) > 50_000, "the Brown asset looks truncated"
    held_out = sents[::20]
    train = [s for i, s in enumerate(sents) if i % 20][:N_TRAIN]
    return train, held_out


@pytest.fixture(scope="module")
def gpt2_dir(tmp_path_factory) -> Path:
    """GPT-2's byte-level BPE as the reference saves it (tokenizer.json, vocab.json, merges.txt)."""
    import fetch_assets

    files = fetch_assets.fetch("gpt2_bpe")
    folder = tmp_path_factory.mktemp("gpt2")
    transformers.GPT2TokenizerFast(str(files / "encoder.json"), str(files / "vocab.bpe")).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def base_dirs(minilm_dir, gpt2_dir) -> dict[str, Path]:
    return {"bert": minilm_dir, "gpt2": gpt2_dir}


def _batches(texts: list[str]):
    """The course's shape: a generator of batches of texts."""
    return (texts[i:i + BATCH] for i in range(0, len(texts), BATCH))


@pytest.fixture(scope="module")
def trained(base_dirs, brown) -> dict[str, dict]:
    """kind -> ours, reference, both bases and the training times (each trained once per module)."""
    from minformers.tokenization.tokenizer import PreTrainedTokenizerFast

    train, _ = brown
    out = {}
    for kind, folder in base_dirs.items():
        our_base = PreTrainedTokenizerFast.from_pretrained(folder)
        ref_base = transformers.AutoTokenizer.from_pretrained(folder)
        t0 = time.perf_counter()
        ours = our_base.train_new_from_iterator(_batches(train), VOCAB)
        t1 = time.perf_counter()
        ref = ref_base.train_new_from_iterator(_batches(train), VOCAB)
        t2 = time.perf_counter()
        out[kind] = {"ours": ours, "ref": ref, "our_base": our_base, "ref_base": ref_base,
                     "our_seconds": t1 - t0, "ref_seconds": t2 - t1}
    return out


def _tokens_per_word(tok, texts: list[str]) -> float:
    n_tokens = sum(len(ids) for ids in tok(texts, add_special_tokens=False)["input_ids"])
    return n_tokens / sum(len(t.split()) for t in texts)


# ---- (1) the trained vocabulary: tokens per word within 2% of the reference; same vocabulary ----------


@pytest.mark.parametrize("kind", ["bert", "gpt2"])
def test_tokens_per_word_matches_reference(trained, brown, kind):
    got = trained[kind]
    ours, ref = got["ours"], got["ref"]
    _, held_out = brown
    assert type(ours).__name__ == type(ref).__name__
    assert len(ours) == len(ref) == VOCAB
    ours_tpw, ref_tpw = _tokens_per_word(ours, held_out), _tokens_per_word(ref, held_out)
    print(f"\n{kind}: tokens/word ours {ours_tpw:.4f} reference {ref_tpw:.4f}; training ours "
          f"{got['our_seconds']:.2f}s reference {got['ref_seconds']:.2f}s")
    assert abs(ours_tpw / ref_tpw - 1) < 0.02, (ours_tpw, ref_tpw)
    assert got["our_seconds"] < 30, "training 20k Brown sentences should take seconds"


def test_byte_level_bpe_vocabulary_and_merges_identical(trained):
    """GPT-2 style BPE has no hash-order freedom upstream: same tokens, same ids, same merges in the same order."""
    import json

    ours, ref = trained["gpt2"]["ours"], trained["gpt2"]["ref"]
    assert ours.get_vocab() == ref.get_vocab()
    ours_merges = [list(m) for m in json.loads(ours.backend_tokenizer.to_str())["model"]["merges"]]
    ref_merges = [m.split(" ") if isinstance(m, str) else m for m in json.loads(ref.backend_tokenizer.to_str())["model"]["merges"]]
    assert ours_merges == ref_merges
    assert len(ours_merges) == VOCAB - 257  # one token per merge after <|endoftext|> and the 256 bytes


def test_wordpiece_vocabulary_close_to_reference(trained):
    """Upstream numbers the `##x` pieces in hash-map order (it differs run to run), which moves ties; the rest agrees."""
    ours, ref = trained["bert"]["ours"].get_vocab(), trained["bert"]["ref"].get_vocab()
    only_ours, only_ref = set(ours) - set(ref), set(ref) - set(ours)
    print(f"\nWordPiece: {len(only_ours)} of {VOCAB} entries differ from this reference run")
    assert len(only_ours) == len(only_ref) <= VOCAB // 100
    assert all(ours[t] == ref[t] for t in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"))
    alphabet = [t for t, i in sorted(ours.items(), key=lambda kv: kv[1]) if len(t) == 1]
    assert alphabet == sorted(alphabet) and set(alphabet) == {t for t in ref if len(t) == 1}


def test_wordpiece_identical_given_the_references_piece_order(trained, brown, monkeypatch):
    """The only freedom upstream leaves: number the `##x` pieces as this reference run did, and every id agrees."""
    from minformers.tokenization.core import trainers

    ref = trained["bert"]["ref"]
    ref_vocab = ref.get_vocab()
    first_merge = min(i for t, i in ref_vocab.items() if len(t.removeprefix("##")) > 1 and t not in ref.all_special_tokens)
    order = [t for t, i in sorted(ref_vocab.items(), key=lambda kv: kv[1]) if t.startswith("##") and i < first_merge]
    alphabet = trainers.BpeTrainer._alphabet
    # `##x` tokens are numbered right after the alphabet: hand them over in the reference's order
    monkeypatch.setattr(trainers.BpeTrainer, "_alphabet", lambda self, wc: alphabet(self, wc) + order)
    ours = trained["bert"]["our_base"].train_new_from_iterator(_batches(brown[0]), VOCAB)
    assert ours.get_vocab() == ref_vocab


# ---- the rest of the tokenizer is the old one's --------------------------------------------------


@pytest.mark.parametrize("kind", ["bert", "gpt2"])
def test_pipeline_and_special_tokens_kept(trained, kind):
    got = trained[kind]
    ours, base, ref = got["ours"], got["our_base"], got["ref"]
    new, old = ours.backend_tokenizer, base.backend_tokenizer
    for stage in ("normalizer", "pre_tokenizer", "decoder"):
        a, b = getattr(new, stage), getattr(old, stage)
        assert (a.to_dict() if a else None) == (b.to_dict() if b else None), stage
    assert ours.special_tokens_map == base.special_tokens_map == ref.special_tokens_map
    assert ours.all_special_ids == ref.all_special_ids
    assert (ours.model_max_length, ours.padding_side) == (base.model_max_length, base.padding_side)
    if kind == "bert":  # the post-processor's [CLS]/[SEP] point at the new ids
        enc = ours("hello world")
        assert enc["input_ids"][0] == ours.cls_token_id == ref.cls_token_id
        assert enc["input_ids"][-1] == ours.sep_token_id == ref.sep_token_id
        assert ours.backend_tokenizer.model.unk_token == "[UNK]"
        assert ours.backend_tokenizer.model.continuing_subword_prefix == "##"


# ---- (2) byte-level round trip ---------------------------------------------------------------------

ROUND_TRIP = [
    "안녕하세요, 세계! 한국어 문장입니다.",
    "Emoji: 😀🎉👩‍👩‍👧‍👦 🇫🇷 and ❤️ done",
    "東京は日本の首都です。中文也可以。",
    "naïve café — “quotes” ‘single’ … ½ ﬁ",
    "  leading and trailing spaces  ",
    "tabs\tand\nnewlines\r\n and   runs of    spaces",
    "Ünïcödé Ελληνικά русский عربى עברית हिन्दी",
    "",
]


def test_byte_level_round_trip(trained):
    ours, ref = trained["gpt2"]["ours"], trained["gpt2"]["ref"]
    for text in ROUND_TRIP:
        ids = ours(text)["input_ids"]
        assert ours.decode(ids) == text
        assert ids == ref(text)["input_ids"], text
    unk = ours.unk_token_id
    assert all(unk not in ours(t)["input_ids"] for t in ROUND_TRIP)  # every byte is in the alphabet


# ---- (3) the saved folder loads in the reference, same ids ------------------------------------------


@pytest.mark.parametrize("kind", ["bert", "gpt2"])
def test_saved_folder_loads_in_reference(trained, brown, kind, tmp_path):
    ours = trained[kind]["ours"]
    ours.save_pretrained(tmp_path)
    theirs = transformers.AutoTokenizer.from_pretrained(tmp_path)
    assert type(theirs).__name__ == type(trained[kind]["ref"]).__name__
    assert theirs.get_vocab() == ours.get_vocab()
    texts = brown[1][:1500] + ROUND_TRIP
    assert_same(ours(texts, return_offsets_mapping=True), theirs(texts, return_offsets_mapping=True), kind)
    assert_same(ours(texts[:200], texts[200:400]), theirs(texts[:200], texts[200:400]), kind + " pairs")
    ids = theirs(texts[:300])["input_ids"]
    assert ours.batch_decode(ids, skip_special_tokens=True) == theirs.batch_decode(ids, skip_special_tokens=True)
    if kind == "bert":  # the saved post-processor adds the new [CLS]/[SEP] ids
        assert (ids[0][0], ids[0][-1]) == (theirs.convert_tokens_to_ids("[CLS]"), theirs.convert_tokens_to_ids("[SEP]"))
    else:  # identical vocabulary and merges: the reference's own trained tokenizer agrees too
        assert_same(theirs(texts), trained[kind]["ref"](texts), "reference-trained")


# ---- options, against the reference on a small corpus -------------------------------------------------


@pytest.fixture(scope="module")
def roberta_dir(tmp_path_factory) -> Path:
    import fetch_assets

    files = fetch_assets.fetch("gpt2_bpe")
    folder = tmp_path_factory.mktemp("roberta")
    transformers.RobertaTokenizerFast(str(files / "encoder.json"), str(files / "vocab.bpe")).save_pretrained(folder)
    return folder


@pytest.mark.parametrize("options", [
    {"vocab_size": 700},
    {"vocab_size": 600, "new_special_tokens": ["<extra>"], "special_tokens_map": {"<s>": "<bos>", "</s>": "<eos>"}},
    {"vocab_size": 900, "min_frequency": 4},
    {"vocab_size": 900, "max_token_length": 4},
])
def test_roberta_options_match_reference(roberta_dir, brown, options):
    from minformers.tokenization.tokenizer import PreTrainedTokenizerFast

    texts = brown[0][:1500] + ROUND_TRIP
    ours = PreTrainedTokenizerFast.from_pretrained(roberta_dir).train_new_from_iterator(texts, **options)
    ref = transformers.AutoTokenizer.from_pretrained(roberta_dir).train_new_from_iterator(texts, **options)
    assert ours.get_vocab() == ref.get_vocab()
    assert ours.special_tokens_map == ref.special_tokens_map
    sample = brown[1][:300] + ["<extra> a <mask> b <bos> c", "x <eos>"]
    assert_same(ours(sample, return_offsets_mapping=True), ref(sample, return_offsets_mapping=True), str(options))
    assert_same(ours(sample[:50], sample[50:100]), ref(sample[:50], sample[50:100]), str(options))


def test_wordpiece_renamed_special_tokens_match_reference(minilm_dir, brown, tmp_path):
    from minformers.tokenization.tokenizer import PreTrainedTokenizerFast

    texts = brown[0][:1500]
    opts = {"new_special_tokens": ["[NEW]"], "special_tokens_map": {"[CLS]": "[BOS]", "[UNK]": "[UNKNOWN]"}}
    ours = PreTrainedTokenizerFast.from_pretrained(minilm_dir).train_new_from_iterator(texts, 1500, **opts)
    ref = transformers.AutoTokenizer.from_pretrained(minilm_dir).train_new_from_iterator(texts, 1500, **opts)
    assert ours.special_tokens_map == ref.special_tokens_map
    assert ours.backend_tokenizer.model.unk_token == "[UNKNOWN]"
    ids = ours("hello [NEW] zzzqqq")["input_ids"]
    assert ids[0] == ours.convert_tokens_to_ids("[BOS]") and ours.convert_tokens_to_ids("[NEW]") in ids
    ours.save_pretrained(tmp_path)
    theirs = transformers.AutoTokenizer.from_pretrained(tmp_path)
    sample = brown[1][:300] + ["hello [NEW] world", "é 😀"]
    assert_same(ours(sample), theirs(sample), "renamed")


def test_iterator_shapes_give_the_same_tokenizer(minilm_dir, brown):
    from minformers.tokenization.tokenizer import PreTrainedTokenizerFast

    base = PreTrainedTokenizerFast.from_pretrained(minilm_dir)
    texts = brown[0][:800]
    vocabs = [
        base.train_new_from_iterator(texts, 600).get_vocab(),  # a list of texts
        base.train_new_from_iterator(iter(texts), 600).get_vocab(),  # a generator of texts
        base.train_new_from_iterator(_batches(texts), 600).get_vocab(),  # a generator of batches
        base.train_new_from_iterator([tuple(texts[:400]), texts[400:]], 600, length=800).get_vocab(),
    ]
    assert all(v == vocabs[0] for v in vocabs)


# ---- (4) bad input ------------------------------------------------------------------------------------


def _never_read():
    raise AssertionError("the corpus should not be read when vocab_size is already known to be too small")
    yield  # pragma: no cover


def test_vocab_size_too_small(trained, brown):
    gpt2, bert = trained["gpt2"]["our_base"], trained["bert"]["our_base"]
    # byte level: 256 bytes + <|endoftext|> known up front
    with pytest.raises(ValueError, match=r"vocab_size=100 is smaller .* ask for at least 257"):
        gpt2.train_new_from_iterator(_never_read(), 100)
    # WordPiece: the alphabet comes from the corpus
    with pytest.raises(ValueError, match=r"vocab_size=30 is smaller than the initial vocabulary of \d+ tokens \(5 special tokens"):
        bert.train_new_from_iterator(brown[0][:200], 30)
    with pytest.raises(ValueError, match="vocab_size must be positive"):
        bert.train_new_from_iterator(brown[0][:10], 0)


@pytest.mark.parametrize("corpus, message", [
    (42, "not iterable"),
    (None, "not iterable"),
    ("a single text", "not a single str"),
    ([["fine", 3]], "holds a int"),
    ([b"bytes"], "decode them"),
    ([1.5], "yielded a float"),
])
def test_bad_corpus_is_a_type_error(trained, corpus, message):
    with pytest.raises(TypeError, match=message):
        trained["bert"]["our_base"].train_new_from_iterator(corpus, 500)


def test_bad_options_are_type_errors(trained):
    base = trained["bert"]["our_base"]
    with pytest.raises(TypeError, match="vocab_size must be an int"):
        base.train_new_from_iterator(["a b"], "1000")
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) \['min_freq'\]"):
        base.train_new_from_iterator(["a b"], 1000, min_freq=2)
    with pytest.raises(TypeError, match="max_token_length"):  # not a WordPiece trainer option (as upstream)
        base.train_new_from_iterator(["a b"], 1000, max_token_length=4)
