"""The tokenizer's caches stay bounded: a long-running process tokenising text that never repeats stays flat.

Every per-word and per-character cache of the tokenizer (word -> ids, word -> tokens and spans, the
byte-level raw-word cache, the normaliser's character table, SentencePiece's grapheme cache) keeps a
bounded number of entries of a bounded length. Proven with the real mechanism: the RSS of a fresh
process (VmRSS from /proc/self/status) over 50,000 calls of never-repeating words, on the real MiniLM
WordPiece tokenizer and GPT-2's byte-level BPE.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

transformers = pytest.importorskip("transformers")

ROOT = Path(__file__).resolve().parents[2]

# A fresh interpreter: load the tokenizer, warm it up, then 50,000 single-text calls whose words never
# repeat (hex ids, numbers, base64, every 250th call a 4,000-character base64 blob). Prints the growth.
CHILD = r"""
import base64, json, random, sys, time
sys.path.insert(0, sys.argv[2])
from minformers.tokenization.tokenizer import PreTrainedTokenizerFast

def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

tok = PreTrainedTokenizerFast.from_pretrained(sys.argv[1])
rng = random.Random(0)

def text(i):
    words = [f"id{i:x}z{rng.getrandbits(32):x}", str(rng.getrandbits(48)), base64.b64encode(rng.randbytes(9)).decode()]
    if i % 250 == 0:
        words.append(base64.b64encode(rng.randbytes(3000)).decode())
    return " ".join(words)

for i in range(1, 2001):  # warm-up: every lazy table built, allocator settled
    tok(text(-i), return_offsets_mapping=i % 10 == 0)
start, t0, peak = rss_mb(), time.perf_counter(), 0.0
for i in range(50_000):
    tok(text(i), return_offsets_mapping=i % 10 == 0)  # the offsets path fills the tokens-and-spans cache
    if i % 1000 == 999:
        peak = max(peak, rss_mb() - start)
print(json.dumps({"growth_mb": peak, "seconds": time.perf_counter() - t0}))
"""


def rss_growth(folder: Path, package_root: Path = ROOT) -> dict:
    """Peak RSS growth (MB) of a fresh process over the 50,000 calls of CHILD, and their time."""
    out = subprocess.run([sys.executable, "-c", CHILD, str(folder), str(package_root)], capture_output=True,
                         text=True, timeout=600, env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def gpt2_dir(tmp_path_factory) -> Path:
    import fetch_assets

    files = fetch_assets.fetch("gpt2_bpe")
    folder = tmp_path_factory.mktemp("gpt2")
    transformers.GPT2TokenizerFast(str(files / "encoder.json"), str(files / "vocab.bpe")).save_pretrained(folder)
    return folder


@pytest.mark.parametrize("which", ["wordpiece", "byte_level_bpe"])
def test_rss_stays_flat_over_50k_calls_of_fresh_words(which, minilm_dir, gpt2_dir):
    folder = minilm_dir if which == "wordpiece" else gpt2_dir
    measured = rss_growth(folder)
    print(which, measured)
    assert measured["growth_mb"] <= 100, f"{which}: RSS grew {measured['growth_mb']:.0f} MB over 50,000 calls"


def test_word_caches_keep_their_bounds(our_tokenizer):
    """Each word cache holds at most its entries, characters and word length, and answers as before."""
    model = our_tokenizer._tokenizer.model
    expected = {}
    for i in range(3 * model.cache_size // 4):  # 4 fresh words a call: the caches fill and empty several times
        text = f"w{i}a k{i * 7919} {'x' * 300}{i} q{i}q"
        ids = our_tokenizer(text, add_special_tokens=False)["input_ids"]
        if i % 997 == 0:
            expected[text] = ids
        for cache in (model.word_ids_cache, model.cache):
            assert len(cache) <= cache.max_entries and cache.chars <= cache.max_chars
    assert all(len(w) <= model.cache_word_len for w in model.word_ids_cache)
    assert all(len(w) <= model.cache_word_len for w in model.cache)
    for text, ids in expected.items():  # after the churn, the same ids
        assert our_tokenizer(text, add_special_tokens=False)["input_ids"] == ids


def test_character_table_stays_bounded_and_right(minilm_dir, reference_tokenizer):
    """The normaliser's per-character table empties when full; a text whose normalisation spans the
    emptying still gets the reference's text and offsets (accents stripped, CJK spaced, controls dropped)."""
    from minformers.tokenization.tokenizer import PreTrainedTokenizerFast

    ours = PreTrainedTokenizerFast.from_pretrained(minilm_dir)
    table = ours._tokenizer.normalizer._table
    table.max_entries = 40  # small, so that a single text empties it several times
    texts = ["Café 東京 naïve\x07 résumé 北京大学 Ünïcödé ÅÄÖ 漢字かな " * 3, "plain ascii then 中文 " * 5,
             "".join(chr(c) for c in range(0x4E00, 0x4E00 + 300)) + " é"]
    for text in texts:
        mine = ours(text, return_offsets_mapping=True)
        theirs = reference_tokenizer(text, return_offsets_mapping=True)
        assert mine["input_ids"] == theirs["input_ids"]
        assert mine["offset_mapping"] == theirs["offset_mapping"]
        assert len(table) <= 40
    assert type(table).max_entries == 65_536


def test_sentencepiece_grapheme_cache_stays_bounded(tmp_path):
    """SentencePiece's precompiled character map caches per grapheme, within bounds: tens of thousands of
    distinct graphemes (a base letter with combining marks) leave it at its limit, with the reference's ids."""
    from .sp_fixtures import build_reference

    from minformers import AutoTokenizer

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = build_reference("t5", tmp_path)
        ours = AutoTokenizer.from_pretrained(tmp_path)
    norm = ours._tokenizer.normalizer
    precompiled = next(n for n in getattr(norm, "normalizers", [norm]) if hasattr(n, "_cache"))
    cache = precompiled._cache
    marks = [chr(c) for c in range(0x300, 0x36F)]
    texts = []
    for i in range(30_000):
        a, b, c = marks[i % len(marks)], marks[(i // len(marks)) % len(marks)], marks[i // len(marks) ** 2]
        texts.append(chr(0x41 + i % 26) + a + b + c + " x")
    for start in range(0, len(texts), 500):
        batch = " ".join(texts[start:start + 500])
        ours(batch)
        assert len(cache) <= cache.max_entries and cache.chars <= cache.max_chars
    sample = " ".join(texts[::997])
    assert ours(sample)["input_ids"] == ref(sample)["input_ids"]
