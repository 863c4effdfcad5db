"""Claim: the BERT template adds [CLS]/[SEP] with the right type ids, and the WordPiece
decoder joins tokens like the reference's decoder."""

from __future__ import annotations

import pytest

from minformers.tokenization.core import decoders, processors
from minformers.tokenization.core.serialization import processor_from_dict
from minformers.tokenization.tokenizer import Encoding

tokenizers = pytest.importorskip("tokenizers")


def enc(ids):
    n = len(ids)
    return Encoding(list(ids), [0] * n, [f"t{i}" for i in ids], [(i, i + 1) for i in range(n)], list(range(n)), [0] * n, [1] * n, [0] * n)


def test_bert_template_single_and_pair():
    p = processors.TemplateProcessing.bert(("[CLS]", 101), ("[SEP]", 102))
    single = p.process(enc([5, 6]))
    assert single.ids == [101, 5, 6, 102]
    assert single.type_ids == [0, 0, 0, 0]
    assert single.special_tokens_mask == [1, 0, 0, 1]
    assert single.word_ids == [None, 0, 1, None]
    assert single.offsets == [(0, 0), (0, 1), (1, 2), (0, 0)]
    pair = p.process(enc([5]), enc([7, 8]))
    assert pair.ids == [101, 5, 102, 7, 8, 102]
    assert pair.type_ids == [0, 0, 0, 1, 1, 1]
    assert pair.sequence_ids == [None, 0, None, 1, 1, None]
    assert p.added_tokens(False) == 2 and p.added_tokens(True) == 3
    assert p.process(enc([5]), enc([7]), add_special_tokens=False).ids == [5, 7]


def test_template_round_trips_through_dict(minilm_dir):
    import json

    d = json.loads((minilm_dir / "tokenizer.json").read_text())["post_processor"]
    p = processor_from_dict(d)
    assert p.to_dict() == {**d, "special_tokens": d["special_tokens"]}
    assert processor_from_dict({"type": "BertProcessing", "sep": ["[SEP]", 102], "cls": ["[CLS]", 101]}).process(enc([1])).ids == [101, 1, 102]


@pytest.mark.parametrize(
    "tokens",
    [
        ["hello", "##world", ",", "i", "do", "not", "know", "!"],
        ["[CLS]", "it", "'", "s", "un", "##aff", "##able", ".", "[SEP]"],
        ["can", "'", "t", "won", "'", "t", "i", "'", "m", "we", "'", "re", "?"],
        ["##start", "x"],
        [],
    ],
)
@pytest.mark.parametrize("cleanup", [True, False])
def test_wordpiece_decoder_matches_reference(tokens, cleanup):
    ours = decoders.WordPiece(cleanup=cleanup).decode(tokens)
    theirs = tokenizers.decoders.WordPiece(prefix="##", cleanup=cleanup).decode(tokens)
    assert ours == theirs
