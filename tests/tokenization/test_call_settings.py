"""Claim: padding and truncation are arguments of an encode call, not state set and reset (issue 15).

``PreTrainedTokenizerFast`` hands each call's settings to the core ``Tokenizer`` as arguments
(``encode(..., truncation=, padding=)``): it never calls the backend's ``enable_padding`` /
``enable_truncation`` / ``no_padding`` / ``no_truncation``, the backend's stored settings read the same
before and after a call, and two threads sharing one tokenizer each get their own settings. Outputs
against the reference: tests/tokenization/test_tokenizer.py and the others.
"""

from __future__ import annotations

import threading

import pytest

from minformers.tokenization.core.tokenizer import Tokenizer, padding_params, truncation_params
from minformers.tokenization.tokenizer import PreTrainedTokenizerFast

TEXT = "I've been waiting for a HuggingFace course my whole life."
SETTERS = ("enable_padding", "no_padding", "enable_truncation", "no_truncation")


def test_a_call_never_sets_or_resets_the_backend_settings(minilm_dir, monkeypatch):
    tok = PreTrainedTokenizerFast.from_pretrained(minilm_dir)
    backend = tok.backend_tokenizer
    calls: list[str] = []

    def spy(name: str):
        real = getattr(backend, name)
        return lambda *args, **kwargs: (calls.append(name), real(*args, **kwargs))[1]

    for name in SETTERS:
        monkeypatch.setattr(backend, name, spy(name))
    before = (backend.padding, backend.truncation)
    assert before == (None, None)  # the file's settings are dropped at load: transformers sets them per call
    pair = ("How old are you?", "I'm 6 years old")
    tok([TEXT, "short"], padding=True, truncation=True, max_length=8, return_overflowing_tokens=True, stride=2)
    tok(TEXT, padding="max_length", truncation="only_first", max_length=16, pad_to_multiple_of=8)
    tok(*pair, padding="longest", truncation="only_second", max_length=9, padding_side="left")
    tok([TEXT, "short"], padding=False, truncation=False)
    tok.encode(TEXT, padding="max_length", truncation=True, max_length=6)
    tok.batch_encode_plus([pair, pair], padding=True, truncation=True, max_length=10)
    tok.pad({"input_ids": [[1, 2], [3]]}, padding=True)
    with pytest.raises(ValueError):  # truncation with no room for the special tokens: the error path too
        tok(TEXT, truncation=True, max_length=1)
    assert calls == []
    assert (backend.padding, backend.truncation) == before


def test_two_threads_with_different_settings_each_get_their_own(minilm_dir, monkeypatch):
    """Thread A is held inside its encode while thread B runs a whole call with other settings: with
    settings set on the shared backend and reset after, B's reset removed A's truncation mid-call."""
    tok = PreTrainedTokenizerFast.from_pretrained(minilm_dir)
    a_kw = dict(padding="max_length", truncation=True, max_length=8)
    b_kw = dict(padding=False, truncation=False)
    expected = {"A": tok(TEXT, **a_kw)["input_ids"], "B": tok(TEXT, **b_kw)["input_ids"]}
    assert len(expected["A"]) == 8 and len(expected["B"]) > 8
    backend = tok.backend_tokenizer
    inner = backend._encode_sequence
    a_inside, b_done = threading.Event(), threading.Event()

    def encode_sequence(*args, **kwargs):
        if threading.current_thread().name == "A":
            a_inside.set()
            b_done.wait(timeout=30)
        return inner(*args, **kwargs)

    monkeypatch.setattr(backend, "_encode_sequence", encode_sequence)
    results: dict[str, list[int]] = {}

    def run_a() -> None:
        results["A"] = tok(TEXT, **a_kw)["input_ids"]

    def run_b() -> None:
        a_inside.wait(timeout=30)
        try:
            results["B"] = tok(TEXT, **b_kw)["input_ids"]
        finally:
            b_done.set()

    threads = [threading.Thread(target=run_a, name="A"), threading.Thread(target=run_b, name="B")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert results == expected


def test_core_call_settings_override_the_stored_ones_and_leave_them(minilm_dir):
    """The core API: a call's own settings are used (False: none); without them, the stored ones."""
    backend = Tokenizer.from_file(minilm_dir / "tokenizer.json")  # the file stores truncation 128 + padding 128
    stored = (dict(backend.padding), dict(backend.truncation))
    assert len(backend.encode("short").ids) == 128
    assert len(backend.encode("short", padding=False).ids) == 3
    assert len(backend.encode(TEXT * 20, padding=False).ids) == 128
    assert len(backend.encode(TEXT * 20, padding=False, truncation=False).ids) > 128
    assert backend.encode(TEXT, truncation=truncation_params(5), padding=False).ids == backend.encode(
        TEXT, padding=False).ids[:4] + [102]
    encs = backend.encode_batch(["short", TEXT], truncation=False, padding=padding_params(pad_to_multiple_of=8))
    assert [len(e.ids) for e in encs] == [16, 16] and encs[0].attention_mask == [1] * 3 + [0] * 13
    assert [len(e.ids) for e in backend.encode_batch(["short", TEXT])] == [128, 128]
    assert (backend.padding, backend.truncation) == stored
