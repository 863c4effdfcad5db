"""Fixtures for the tokenizer tests: ours and the reference, loaded from the same real folder."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def reference_tokenizer(minilm_dir):
    transformers = pytest.importorskip("transformers")
    return transformers.AutoTokenizer.from_pretrained(minilm_dir)


@pytest.fixture(scope="session")
def our_tokenizer(minilm_dir):
    from minformers.tokenization.tokenizer import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast.from_pretrained(minilm_dir)


@pytest.fixture()
def fresh_tokenizer(minilm_dir):
    """A tokenizer whose once-only warnings have not fired yet."""
    from minformers.tokenization.tokenizer import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast.from_pretrained(minilm_dir)
