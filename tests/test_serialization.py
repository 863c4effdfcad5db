"""Our safetensors reader/writer: interoperates with the safetensors library, validates headers, maps memory."""

from __future__ import annotations

import json
import struct

import pytest
import safetensors.torch
import torch

from minformers.weights import safetensors as serialization
from minformers.weights.safetensors import SafetensorsError, load_file, save_file


def sample_tensors() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return {
        "f32": torch.randn(3, 5, generator=g),
        "f16": torch.randn(7, generator=g).half(),
        "bf16": torch.randn(2, 3, generator=g).bfloat16(),
        "f64": torch.randn(2, generator=g).double(),
        "i64": torch.arange(10).view(2, 5),
        "i32": torch.arange(3, dtype=torch.int32),
        "i8": torch.tensor([-3, 4], dtype=torch.int8),
        "u8": torch.tensor([1, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "scalar": torch.tensor(3.5),
        "empty": torch.zeros(0, 4),
        "strided": torch.arange(12.0).view(3, 4).t(),  # non-contiguous
    }


def assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert set(a) == set(b)
    for k in a:
        assert a[k].dtype == b[k].dtype and a[k].shape == b[k].shape, k
        assert torch.equal(a[k], b[k]), k


def test_we_read_what_the_safetensors_library_writes(tmp_path):
    tensors = {k: v.contiguous() for k, v in sample_tensors().items()}
    safetensors.torch.save_file(tensors, tmp_path / "t.safetensors", metadata={"format": "pt", "note": "hi"})
    assert_same(load_file(tmp_path / "t.safetensors"), tensors)
    assert serialization.load_metadata(tmp_path / "t.safetensors") == {"format": "pt", "note": "hi"}


def test_the_safetensors_library_reads_what_we_write(tmp_path):
    tensors = sample_tensors()
    save_file(tensors, tmp_path / "t.safetensors", metadata={"note": "x"})
    assert_same(safetensors.torch.load_file(tmp_path / "t.safetensors"), tensors)
    assert_same(load_file(tmp_path / "t.safetensors"), tensors)
    with safetensors.safe_open(tmp_path / "t.safetensors", "pt") as f:
        assert f.metadata() == {"format": "pt", "note": "x"}
    assert [p.name for p in tmp_path.iterdir()] == ["t.safetensors"]  # no temp file left behind


def test_loaded_tensors_view_the_mapping_and_writes_stay_private(tmp_path):
    path = tmp_path / "t.safetensors"
    save_file({"a": torch.ones(1000), "b": torch.zeros(10)}, path)
    before = path.read_bytes()
    loaded = load_file(path)
    a, b = loaded["a"], loaded["b"]
    # both tensors point into one mapping: b starts right after a's 4000 bytes
    assert b.data_ptr() - a.data_ptr() == 4000
    a.add_(1)  # copy-on-write: the file does not change
    assert path.read_bytes() == before
    del loaded
    assert a.sum().item() == 2000  # the mapping outlives the dict that held it


def test_shared_tensors_are_refused(tmp_path):
    w = torch.ones(3)
    with pytest.raises(ValueError, match="share memory"):
        save_file({"a": w, "b": w}, tmp_path / "t.safetensors")


def _write(path, header: bytes | dict, data: bytes = b"", length: int | None = None) -> None:
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw) if length is None else length) + raw + data)


@pytest.mark.parametrize(
    "case",
    ["too_short", "huge_length", "length_past_end", "garbage_json", "not_object", "offsets_past_end",
     "unknown_dtype", "shape_disagrees", "negative_shape", "missing_field", "truncated"],
)
def test_corrupt_files_give_an_error_naming_the_file(tmp_path, case):
    path = tmp_path / f"{case}.safetensors"
    good = {"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}
    if case == "too_short":
        path.write_bytes(b"\x01\x02")
    elif case == "huge_length":
        _write(path, good, b"\0" * 16, length=2**62)
    elif case == "length_past_end":
        _write(path, good, b"\0" * 16, length=5000)
    elif case == "garbage_json":
        _write(path, b"{this is not json]", b"\0" * 16)
    elif case == "not_object":
        _write(path, [1, 2, 3], b"")
    elif case == "offsets_past_end":
        _write(path, {"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, b"\0" * 8)
    elif case == "unknown_dtype":
        _write(path, {"w": {"dtype": "F12", "shape": [2], "data_offsets": [0, 3]}}, b"\0" * 3)
    elif case == "shape_disagrees":
        _write(path, {"w": {"dtype": "F32", "shape": [3, 2], "data_offsets": [0, 16]}}, b"\0" * 16)
    elif case == "negative_shape":
        _write(path, {"w": {"dtype": "F32", "shape": [-4], "data_offsets": [0, 16]}}, b"\0" * 16)
    elif case == "missing_field":
        _write(path, {"w": {"dtype": "F32", "shape": [4]}}, b"\0" * 16)
    elif case == "truncated":
        save_file({"w": torch.ones(100)}, path)
        path.write_bytes(path.read_bytes()[:-50])
    with pytest.raises(SafetensorsError, match=f"{case}.safetensors"):
        load_file(path)
    assert issubclass(SafetensorsError, OSError)


def test_missing_file(tmp_path):
    with pytest.raises(OSError, match="nope.safetensors"):
        load_file(tmp_path / "nope.safetensors")


def test_empty_file_of_tensors(tmp_path):
    save_file({}, tmp_path / "e.safetensors")
    assert load_file(tmp_path / "e.safetensors") == {}
    assert safetensors.torch.load_file(tmp_path / "e.safetensors") == {}
