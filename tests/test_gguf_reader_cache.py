"""The parsed GGUF reader kept for the last file (minformers.weights.gguf._reader) follows a replaced file."""

from __future__ import annotations

import os

import numpy as np
from gguf import GGUFWriter

from minformers.weights.gguf import read_gguf_metadata


def write_gguf(path, name: str) -> None:
    writer = GGUFWriter(str(path), "llama")
    writer.add_name(name)
    writer.add_tensor("token_embd.weight", np.zeros((4, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def test_file_replaced_with_same_size_and_mtime_is_read_again(tmp_path):
    """`cp -p` / `rsync -a` of another model of the same size over the file keeps size and mtime: the cached
    reader must not answer with the old file's metadata."""
    path, other = tmp_path / "model.gguf", tmp_path / "other.gguf"
    write_gguf(path, "aaaa")
    write_gguf(other, "bbbb")
    assert path.stat().st_size == other.stat().st_size
    assert read_gguf_metadata(path)["general.name"] == "aaaa"
    before = path.stat()
    os.utime(other, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(other, path)
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert read_gguf_metadata(path)["general.name"] == "bbbb"
