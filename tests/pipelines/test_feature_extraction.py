"""feature-extraction: the same features as the reference, and sentence embeddings on the real MiniLM."""

from __future__ import annotations

import pytest
import torch

import minformers

SENTENCES = [
    "I've been waiting for a HuggingFace course my whole life.",
    "I hate this so much!",
    "This course is exactly what I hoped for.",
    "The stock market fell sharply on Monday.",
]


def max_diff(a, b) -> float:
    return (torch.tensor(a) - torch.tensor(b)).abs().max().item()


def test_default_is_real_minilm_and_matches_reference(minilm_dir, caplog):
    import transformers

    with caplog.at_level("WARNING"):
        ours = minformers.pipeline("feature-extraction")
    assert "all-MiniLM-L6-v2" in caplog.text  # says which model it chose
    theirs = transformers.pipeline("feature-extraction", model=str(minilm_dir))
    for text in SENTENCES:
        a, b = ours(text), theirs(text)
        assert torch.tensor(a).shape == torch.tensor(b).shape == (1, len(theirs.tokenizer(text)["input_ids"]), 384)
        assert max_diff(a, b) < 1e-5
    # a list, batched: every text gets its own un-padded features, equal to the reference's one-by-one answer
    batched = ours(SENTENCES, batch_size=4)
    for a, text in zip(batched, SENTENCES):
        assert max_diff(a, theirs(text)) < 1e-5
    tensors = ours(SENTENCES[0], return_tensors=True)
    assert isinstance(tensors, torch.Tensor) and tensors.shape[0] == 1


def test_sentence_embeddings(minilm_dir):
    """Mean pooling + normalisation as sentence-transformers: similar sentences are closer."""
    pipe = minformers.pipeline("feature-extraction", model=str(minilm_dir))
    vectors = torch.tensor(pipe(SENTENCES, pooling="mean", normalize=True)).squeeze(1)  # (N, H)
    assert vectors.shape == (4, 384)
    assert torch.allclose(vectors.norm(dim=-1), torch.ones(4), atol=1e-5)
    sim = vectors @ vectors.T
    # "waiting for a course" is closer to "the course I hoped for" than to the stock market
    assert sim[0, 2] > sim[0, 3] + 0.1
    # mean pooling by hand from the token features
    tokens = torch.tensor(pipe(SENTENCES[1]))[0]  # (T, H)
    manual = torch.nn.functional.normalize(tokens.mean(0), dim=-1)
    assert torch.allclose(manual, vectors[1], atol=1e-5)
    cls = torch.tensor(pipe(SENTENCES[1], pooling="cls"))[0]
    assert torch.allclose(cls, tokens[0], atol=1e-6)


def test_truncation_and_bad_input(minilm_dir):
    pipe = minformers.pipeline("feature-extraction", model=str(minilm_dir))
    long_text = "word " * 2000
    out = pipe(long_text, truncation=True)
    assert torch.tensor(out).shape == (1, 512, 384)
    with pytest.raises(ValueError, match="at most 512"):
        pipe(long_text)
    with pytest.raises(ValueError, match="twice"):
        pipe("x", truncation=True, tokenize_kwargs={"truncation": True})
    with pytest.raises(ValueError, match="pooling"):
        pipe("x", pooling="max")
    with pytest.raises(TypeError):
        pipe(["ok", 3])
