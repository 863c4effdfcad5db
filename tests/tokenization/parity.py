"""Helpers to compare our tokenizer output with the reference's, row by row."""

from __future__ import annotations

ALIGNMENT = ("word_ids", "sequence_ids", "tokens")


def assert_same(ours, theirs, label: str = "") -> None:
    """Same keys, same values (every row), same word_ids/sequence_ids/tokens per row."""
    assert set(ours.keys()) == set(theirs.keys()), f"{label}: keys {sorted(ours.keys())} != {sorted(theirs.keys())}"
    for key in theirs.keys():
        a, b = ours[key], theirs[key]
        if hasattr(b, "tolist"):
            a, b = a.tolist(), b.tolist()
        if a != b:
            assert len(a) == len(b), f"{label}: {key} has {len(a)} rows, reference {len(b)}"
            row = next(i for i, (x, y) in enumerate(zip(a, b)) if x != y)
            raise AssertionError(f"{label}: {key} differs at row {row}:\n ours {a[row]}\n ref  {b[row]}")
    if theirs.encodings is not None:
        assert len(ours.encodings) == len(theirs.encodings)
        for name in ALIGNMENT:
            for i in range(len(theirs.encodings)):
                x, y = getattr(ours, name)(i), getattr(theirs, name)(i)
                assert x == y, f"{label}: {name}({i}) differs:\n ours {x}\n ref  {y}"
