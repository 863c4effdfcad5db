"""Our own safetensors reader and writer.

Format (https://github.com/huggingface/safetensors#format):

    [8 bytes: N, little-endian u64][N bytes: JSON header][data bytes]

The header maps each tensor name to ``{"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}``
(offsets relative to the start of the data bytes) and may hold ``"__metadata__": {str: str}``.

Reading validates the header before touching any data (a corrupt or truncated file gives
:class:`SafetensorsError` naming the file) and memory-maps the data: every tensor is a
view of a private copy-on-write mapping of the file, so loading copies nothing.

Reading a model folder's weights (safetensors, single or sharded, or pytorch_model.bin) is
:mod:`minformers.weights.loading`'s.
"""

from __future__ import annotations

import json
import math
import mmap
import os
import struct
import tempfile
from pathlib import Path
from typing import Any, Iterable

import torch

MAX_HEADER_BYTES = 100 * 1024 * 1024  # the safetensors library's own limit

# safetensors dtype name -> (torch dtype, bytes per element)
DTYPES: dict[str, torch.dtype] = {
    "BOOL": torch.bool,
    "U8": torch.uint8,
    "I8": torch.int8,
    "I16": torch.int16,
    "U16": torch.uint16,
    "I32": torch.int32,
    "U32": torch.uint32,
    "I64": torch.int64,
    "U64": torch.uint64,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "F32": torch.float32,
    "F64": torch.float64,
    "F8_E4M3": torch.float8_e4m3fn,
    "F8_E5M2": torch.float8_e5m2,
}
DTYPE_NAMES: dict[torch.dtype, str] = {v: k for k, v in DTYPES.items()}


class SafetensorsError(OSError):
    """A safetensors file that cannot be read; the message names the file."""


def read_header(path: str | os.PathLike) -> tuple[dict[str, dict[str, Any]], dict[str, str], int]:
    """Parse and validate the header: returns (tensors, metadata, data_start)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise SafetensorsError(f"{path} is not a valid safetensors file: {size} bytes, too short for a header")
            (n,) = struct.unpack("<Q", head)
            if n == 0 or n > MAX_HEADER_BYTES or 8 + n > size:
                raise SafetensorsError(
                    f"{path} is not a valid safetensors file: its header length {n} is impossible "
                    f"for a file of {size} bytes (corrupt or truncated?)"
                )
            raw = f.read(n)
    except FileNotFoundError as e:
        raise SafetensorsError(f"no such safetensors file: {path}") from e
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SafetensorsError(f"{path} is not a valid safetensors file: its header is not JSON ({e})") from e
    if not isinstance(header, dict):
        raise SafetensorsError(f"{path} is not a valid safetensors file: its header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict):
        raise SafetensorsError(f"{path} is not a valid safetensors file: __metadata__ is not an object")
    data_start = 8 + n
    data_size = size - data_start
    for name, info in header.items():
        _validate_entry(path, name, info, data_size)
    return header, metadata, data_start


def _validate_entry(path: Path, name: str, info: Any, data_size: int) -> None:
    bad = f"{path} is not a valid safetensors file: tensor {name!r}"
    if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= info.keys():
        raise SafetensorsError(f"{bad} needs dtype, shape and data_offsets")
    if info["dtype"] not in DTYPES:
        raise SafetensorsError(f"{bad} has an unknown dtype {info['dtype']!r} (known: {', '.join(DTYPES)})")
    shape, offsets = info["shape"], info["data_offsets"]
    if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise SafetensorsError(f"{bad} has an invalid shape {shape!r}")
    if (not isinstance(offsets, list) or len(offsets) != 2
            or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)):
        raise SafetensorsError(f"{bad} has invalid data_offsets {offsets!r}")
    begin, end = offsets
    if not 0 <= begin <= end <= data_size:
        raise SafetensorsError(
            f"{bad} has data_offsets [{begin}, {end}] outside the {data_size} data bytes of the file "
            "(corrupt or truncated?)"
        )
    nbytes = math.prod(shape) * DTYPES[info["dtype"]].itemsize
    if end - begin != nbytes:
        raise SafetensorsError(
            f"{bad} has shape {shape} and dtype {info['dtype']} ({nbytes} bytes) but data_offsets "
            f"cover {end - begin} bytes"
        )


def load_file(path: str | os.PathLike, device: str = "cpu") -> dict[str, torch.Tensor]:
    """All tensors of a safetensors file, as views of a memory map of the file (no copy)."""
    path = Path(path)
    header, _, data_start = read_header(path)
    if not header:
        return {}
    with open(path, "rb") as f:
        # ACCESS_COPY: a private copy-on-write mapping, writable as torch wants, never written back
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
    tensors: dict[str, torch.Tensor] = {}
    for name, info in header.items():
        dtype = DTYPES[info["dtype"]]
        begin, end = info["data_offsets"]
        offset = data_start + begin
        count = (end - begin) // dtype.itemsize
        if count == 0:
            t = torch.empty(info["shape"], dtype=dtype)
        elif offset % dtype.itemsize == 0:
            t = torch.frombuffer(mm, dtype=dtype, count=count, offset=offset).view(info["shape"])
        else:  # misaligned data (not written by the safetensors library): copy this one tensor
            t = torch.frombuffer(bytearray(mm[offset:offset + end - begin]), dtype=dtype).view(info["shape"])
        tensors[name] = t if device == "cpu" else t.to(device)
    return tensors


def load_metadata(path: str | os.PathLike) -> dict[str, str]:
    return read_header(path)[1]


def save_file(tensors: dict[str, torch.Tensor], path: str | os.PathLike, metadata: dict[str, str] | None = None) -> None:
    """Write `tensors` as a safetensors file, atomically (temp file in the same folder, then os.replace).

    Tensors must not share memory (drop tied duplicates first); the reference refuses those too.
    """
    path = Path(path)
    _check_no_shared(tensors)
    header: dict[str, Any] = {"__metadata__": {"format": "pt", **(metadata or {})}}
    offset = 0
    order = sorted(tensors)  # the safetensors library sorts too (by dtype then name); any order is valid
    for name in order:
        t = tensors[name]
        if t.dtype not in DTYPE_NAMES:
            raise ValueError(f"cannot save tensor {name!r} of dtype {t.dtype} in safetensors")
        nbytes = t.numel() * t.element_size()
        header[name] = {"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)  # pad so the data starts 8-byte aligned
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(struct.pack("<Q", len(raw)))
            f.write(raw)
            for name in order:
                t = tensors[name].detach()
                if t.numel() == 0:
                    continue
                t = t.to("cpu").contiguous()
                f.write(memoryview(t.reshape(-1).view(torch.uint8).numpy()))
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _check_no_shared(tensors: dict[str, torch.Tensor]) -> None:
    seen: dict[tuple[int, int], str] = {}
    for name, t in tensors.items():
        if t.numel() == 0 or t.device.type == "meta":
            continue
        key = (t.untyped_storage().data_ptr(), t.storage_offset())
        if key in seen:
            raise ValueError(f"tensors {seen[key]!r} and {name!r} share memory; save only one of them")
        seen[key] = name


def shared_groups(names_and_tensors: Iterable[tuple[str, torch.Tensor]]) -> list[list[str]]:
    """Groups of names whose tensors share the same memory (tied weights)."""
    groups: dict[tuple[int, int, tuple[int, ...]], list[str]] = {}
    for name, t in names_and_tensors:
        if t.device.type == "meta" or t.numel() == 0:
            continue
        groups.setdefault((t.untyped_storage().data_ptr(), t.storage_offset(), tuple(t.shape)), []).append(name)
    return [g for g in groups.values() if len(g) > 1]
