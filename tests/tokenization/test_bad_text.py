"""Text that is not text: lone surrogates in a str, bytes instead of str.

The reference's Rust backend refuses a lone surrogate with ``TypeError: TextEncodeInput must be
Union[...]`` (``TextInputSequence must be str`` for a pair) whatever the family (its slow Marian tokenizer
a RuntimeError from the SentencePiece binding); ours raises TypeError before any stage runs, naming the
input, the position and the fix. Bytes: the reference raises ValueError; ours
TypeError (it is a type error), saying to decode them and where they are not UTF-8.
"""

from __future__ import annotations

import warnings

import pytest

from .sp_fixtures import build_marian_reference, build_reference

transformers = pytest.importorskip("transformers")

FAMILIES = ["wordpiece", "byte_level_bpe", "t5", "xlmr", "llama", "marian"]


@pytest.fixture(scope="module", params=FAMILIES)
def pair(request, tmp_path_factory, minilm_dir):
    """(ours, reference) for one tokenizer family, from the same folder."""
    import fetch_assets

    from minformers import AutoTokenizer

    name = request.param
    folder = tmp_path_factory.mktemp(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name == "wordpiece":
            folder = minilm_dir
        elif name == "byte_level_bpe":
            files = fetch_assets.fetch("gpt2_bpe")
            transformers.GPT2TokenizerFast(str(files / "encoder.json"), str(files / "vocab.bpe")).save_pretrained(folder)
        elif name == "marian":
            build_marian_reference(folder)
        else:
            build_reference(name, folder)
        return name, AutoTokenizer.from_pretrained(folder), transformers.AutoTokenizer.from_pretrained(folder)


CASES = [
    ("a\ud800b", {}, "text contains a lone surrogate '\\\\ud800' at position 1"),
    (["fine", "also fine", "x\udfffy"], {}, r"text\[2\] contains a lone surrogate '\\udfff' at position 1"),
    ("fine", {"text_pair": "\ud83d half an emoji"}, "text_pair contains a lone surrogate '\\\\ud83d' at position 0"),
    ([["pre", "split\udc80"]], {"is_split_into_words": True}, r"text\[0\]\[1\] contains a lone surrogate"),
]


@pytest.mark.parametrize("text,kw,message", CASES, ids=["single", "batch", "pair", "pre-split"])
def test_lone_surrogate_is_a_type_error_naming_its_place(pair, text, kw, message):
    name, ours, ref = pair
    if name == "byte_level_bpe" and kw.get("is_split_into_words"):
        pytest.skip("GPT-2 needs add_prefix_space=True for pre-split words")
    # the reference's slow Marian tokenizer fails inside the SentencePiece library's binding (RuntimeError:
    # "Unable to cast Python instance of type <class 'str'> to C++ type"); ours is a TypeError for every family
    with pytest.raises(RuntimeError if name == "marian" else TypeError):
        ref(text, **kw)
    with pytest.raises(TypeError, match=message) as err:
        ours(text, **kw)
    assert "fix its encoding" in str(err.value)
    with pytest.raises(TypeError, match="lone surrogate"):
        ours.encode("a\udbffb")
    with pytest.raises(TypeError, match="lone surrogate"):
        ours.tokenize("a\udbffb")


def test_surrogate_pairs_written_as_characters_are_fine(pair):
    """Only *lone* surrogates are refused: an emoji (one code point above U+FFFF) is ordinary text,
    and the fix the message suggests turns a split pair back into it."""
    name, ours, ref = pair
    broken = "ok \ud83d\ude00 ok"
    fixed = broken.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    assert fixed == "ok 😀 ok"
    assert ours(fixed)["input_ids"] == ref(fixed)["input_ids"]


@pytest.mark.parametrize("data,message", [
    (b"plain ascii", r"got bytes; decode bytes to str first, e.g. data.decode\('utf-8'\)"),
    (b"caf\xe9 au lait", r"not even valid UTF-8 \(invalid continuation byte: b'\\xe9' at byte 3\)"),
    ([b"\xff\xfe"], r"got list\[bytes\], which are not even valid UTF-8 \(invalid start byte: b'\\xff' at byte 0\)"),
], ids=["utf8", "latin1", "batch"])
def test_bytes_are_a_type_error_saying_how_to_decode(pair, data, message):
    name, ours, ref = pair
    with pytest.raises(TypeError, match=message):
        ours(data)
    with pytest.raises((TypeError, ValueError)):  # the reference: ValueError ("text input must be of type `str`")
        ref(data)
