"""Writing a checkpoint folder all at once, and cutting large weights into shards.

:func:`write_weights` writes a state dict as ``model.safetensors`` (or ``pytorch_model.bin``), cut
into ``model-00001-of-0000N.safetensors`` shards named by an index when it is larger than the limit.

``atomic_folder`` gives ``save_pretrained`` a fresh temp folder next to the target,
pre-filled (by hard links, no copying) with the target's files that this save does
not replace -- a tokenizer saved earlier, a README, training checkpoints. Only when
everything is written is the temp folder swapped in: with ``renameat2(RENAME_EXCHANGE)``
on Linux, atomically; elsewhere by two renames. A crash or an exception mid-save
leaves the previous folder exactly as it was and removes the temp folder.

A target that is a symbolic link to a folder (``latest -> v3``) is written through: the
link's target is what gets swapped, the link stays. The temp folder's name carries the
host and process id of its owner (``.NAME.saving-HOST-PID-xxxx``), so when a save was
killed (SIGKILL, power loss) the next save of the same target removes what it left, and
never the temp folder of a save still running in another process.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import torch
from torch import Tensor

from . import SAFE_WEIGHTS_INDEX_NAME, SAFE_WEIGHTS_NAME, WEIGHTS_INDEX_NAME, WEIGHTS_NAME, safetensors

_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def parse_size(size: int | str) -> int:
    """``"5GB"`` -> 5_000_000_000, ``"200KiB"`` -> 204_800, ``123`` -> 123 (as the reference reads max_shard_size)."""
    if isinstance(size, int) and not isinstance(size, bool):
        value = size
    elif isinstance(size, str):
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]I?B|B)?\s*", size.upper())
        if m is None:
            raise ValueError(f"max_shard_size {size!r} is not a size: use bytes (an int) or e.g. '200KB', '5GB', '2GiB'")
        value = int(float(m.group(1)) * _UNITS[m.group(2) or ""])
    else:
        raise TypeError(f"max_shard_size must be an int (bytes) or a string such as '5GB', got {size!r}")
    if value <= 0:
        raise ValueError(f"max_shard_size must be positive, got {size!r}")
    return value


def split_into_shards(sizes: dict[str, int], max_shard_size: int) -> list[list[str]]:
    """Group names (in order) into shards of at most `max_shard_size` bytes; a bigger tensor gets a shard alone."""
    shards: list[list[str]] = [[]]
    current = 0
    for name, nbytes in sizes.items():
        if shards[-1] and current + nbytes > max_shard_size:
            shards.append([])
            current = 0
        shards[-1].append(name)
        current += nbytes
    return shards


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False when the system can't."""
    if not hasattr(os, "uname") or os.uname().sysname != "Linux":
        return False
    import ctypes  # lazy: only for this Linux system call

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    AT_FDCWD, RENAME_EXCHANGE = -100, 2
    return renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0


def _link_tree(src: Path, dst: Path) -> None:
    def link(s: str, d: str) -> None:
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)

    shutil.copytree(src, dst, symlinks=True, copy_function=link, dirs_exist_ok=True)


# --- temporaries: ".NAME.KIND-HOST-PID-random", KIND saving (being written), old (being replaced), deleting
_KINDS = ("saving", "old", "deleting")
_LEGACY_STALE_SECONDS = 3600  # temp folders named before the owner was recorded: stale after an hour


def _owner_tag() -> str:
    host = re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname()) or "host"
    return f"{host}-{os.getpid()}"


def make_temp(folder: Path, name: str, kind: str) -> Path:
    """A new empty folder ``folder/.NAME.KIND-HOST-PID-xxxx`` (mode 0700) owned by this process."""
    return Path(tempfile.mkdtemp(dir=folder, prefix=f".{name}.{kind}-{_owner_tag()}-"))


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # another save of this process (a thread) may be writing it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    try:  # a killed child not yet reaped by its parent is a zombie: dead for our purpose
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def is_stale_temporary(entry: Path, names: str = r"[^/]+") -> bool:
    """Whether `entry` is a temp folder of a save/delete of a target named like `names` (a regex) whose
    owner is gone: a process of this host that no longer runs, or (names without an owner) older than an hour."""
    m = re.fullmatch(rf"\.(?:{names})\.({'|'.join(_KINDS)})-(.+)-(\d+)-[a-z0-9_]+", entry.name)
    if m is not None:
        host, pid = m.group(2), int(m.group(3))
        return host == _owner_tag().rsplit("-", 1)[0] and not _pid_alive(pid)
    if re.fullmatch(rf"\.(?:{names})\.(?:{'|'.join(_KINDS)})-[a-z0-9_]+", entry.name):
        try:
            return time.time() - entry.lstat().st_mtime > _LEGACY_STALE_SECONDS
        except OSError:
            return False
    return False


def remove_stale_temporaries(folder: str | os.PathLike, names: str) -> list[Path]:
    """Delete what killed saves left in `folder` for targets whose name matches the regex `names`."""
    folder = Path(folder)
    removed = []
    try:
        entries = [e for e in folder.iterdir() if e.name.startswith(".")]
    except OSError:
        return removed
    for entry in entries:
        if is_stale_temporary(entry, names):
            if entry.is_symlink() or not entry.is_dir():
                entry.unlink(missing_ok=True)
            else:
                shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def remove_folder(folder: str | os.PathLike) -> None:
    """Delete a folder so that no half-deleted copy is ever visible under its name: rename, then delete."""
    folder = Path(folder)
    doomed = make_temp(folder.parent, folder.name, "deleting")
    os.replace(folder, doomed)  # doomed was an empty folder: replaced atomically
    shutil.rmtree(doomed, ignore_errors=True)


@contextmanager
def atomic_folder(target: str | os.PathLike, replaces: Callable[[str], bool]) -> Iterator[Path]:
    """Yield a temp folder to write into; swap it in for `target` when the block ends without an error.

    Entries of an existing `target` for which ``replaces(name)`` is false are carried over. A `target`
    that is a symlink is written through (its target folder is replaced, the link kept).
    """
    target = Path(target)
    if target.is_symlink():
        target = Path(os.path.realpath(target))  # `latest -> v3`: save into v3, keep the link
    if target.is_file():
        raise OSError(f"save_pretrained needs a folder, but {target} is a file")
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(target.parent, re.escape(target.name))
    tmp = make_temp(target.parent, target.name, "saving")
    try:
        if target.is_dir():
            for entry in target.iterdir():
                if replaces(entry.name):
                    continue
                if entry.is_dir() and not entry.is_symlink():
                    _link_tree(entry, tmp / entry.name)
                elif entry.is_symlink():
                    os.symlink(os.readlink(entry), tmp / entry.name)
                else:
                    try:
                        os.link(entry, tmp / entry.name)
                    except OSError:
                        shutil.copy2(entry, tmp / entry.name)
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it 0700; a saved folder is a normal folder
        if not target.exists():
            os.replace(tmp, target)
        elif _exchange(tmp, target):
            shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the previous folder
        else:
            old = make_temp(target.parent, target.name, "old")
            os.rmdir(old)
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# --- the weights of a save_pretrained ---
# files a save_pretrained replaces in an existing folder (stale weights of another format or shard count too)
_SAVED_FILES = re.compile(
    r"^(config\.json|model\.safetensors(\.index\.json)?|pytorch_model\.bin(\.index\.json)?"
    r"|model-\d{5}-of-\d{5}\.safetensors|pytorch_model-\d{5}-of-\d{5}\.bin)$"
)


def written_by_save_pretrained(filename: str) -> bool:
    """Whether ``save_pretrained`` writes (so replaces) a file of this name; :func:`atomic_folder` keeps the others."""
    return _SAVED_FILES.match(filename) is not None


def write_weights(state_dict: dict[str, Tensor], folder: Path, safe_serialization: bool, limit: int) -> None:
    """Write `state_dict` (no two tensors sharing memory) into `folder`: one file, or shards of at most
    `limit` bytes with their index."""
    weights_name = SAFE_WEIGHTS_NAME if safe_serialization else WEIGHTS_NAME
    shards = split_into_shards({k: v.numel() * v.element_size() for k, v in state_dict.items()}, limit)

    def write(tensors: dict[str, Tensor], path: Path) -> None:
        if safe_serialization:
            safetensors.save_file(tensors, path)
        else:
            torch.save({k: v.contiguous() for k, v in tensors.items()}, path)

    if len(shards) == 1:
        write(state_dict, folder / weights_name)
    else:
        stem, ext = weights_name.rsplit(".", 1)
        weight_map: dict[str, str] = {}
        for i, names in enumerate(shards, start=1):
            shard = f"{stem}-{i:05d}-of-{len(shards):05d}.{ext}"
            write({k: state_dict[k] for k in names}, folder / shard)
            weight_map.update(dict.fromkeys(names, shard))
        total = sum(v.numel() * v.element_size() for v in state_dict.values())
        index = {"metadata": {"total_size": total}, "weight_map": weight_map}
        index_name = SAFE_WEIGHTS_INDEX_NAME if safe_serialization else WEIGHTS_INDEX_NAME
        (folder / index_name).write_text(json.dumps(index, indent=2, sort_keys=True) + "\n", encoding="utf-8")
