"""`minformers download NAME` and `minformers cache ls/rm`, against the fake Hub of tests/fake_hub.py."""

from __future__ import annotations

import importlib.util
import io
import subprocess
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("test_hub_helpers", Path(__file__).with_name("test_hub.py"))
helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(helpers)
hub = helpers.hub  # the fixture: a fake Hub on 127.0.0.1, HF_ENDPOINT and HF_HUB_CACHE pointed at it


@pytest.fixture(scope="module")
def tiny_dir(tiny_checkpoints):
    return tiny_checkpoints("BertForSequenceClassification")


def run(argv, capsys, stdin: str | None = None, monkeypatch=None) -> tuple[int, str, str]:
    from minformers.cli import main

    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_download_then_ls_then_rm(hub, tiny_dir, capsys, monkeypatch):
    sha = hub.push_folder("org/tiny", tiny_dir)
    v2 = hub.push_folder("org/tiny", tiny_dir, branch="v2", **{"extra.json": b"{}"})
    code, out, err = run(["download", "org/tiny"], capsys)
    assert code == 0, err
    folder = Path(out.strip())
    assert folder == hub.cache / "models--org--tiny" / "snapshots" / sha and (folder / "model.safetensors").is_file()
    assert run(["download", "org/tiny", "--revision", "v2"], capsys)[0] == 0

    code, out, _ = run(["cache", "ls"], capsys)
    assert code == 0 and "org/tiny" in out and sha[:12] in out and v2[:12] in out and "main" in out and "v2" in out

    code, out, _ = run(["cache", "rm", "org/tiny", "--revision", "v2"], capsys, stdin="n\n", monkeypatch=monkeypatch)
    assert code == 1 and "nothing removed" in out
    assert (hub.cache / "models--org--tiny" / "snapshots" / v2).is_dir()
    code, out, _ = run(["cache", "rm", "org/tiny", "--revision", "v2", "--yes"], capsys)
    assert code == 0 and "removed" in out
    assert not (hub.cache / "models--org--tiny" / "snapshots" / v2).exists() and folder.is_dir()
    code, out, _ = run(["cache", "rm", "org/tiny", "-y"], capsys)
    assert code == 0 and not (hub.cache / "models--org--tiny").exists()
    code, out, _ = run(["cache", "ls"], capsys)
    assert code == 0 and "no models cached" in out


def test_errors_are_one_line_and_name_the_model(hub, capsys, tmp_path):
    code, _, err = run(["download", "org/missing"], capsys)
    assert code == 1 and "org/missing" in err and "Traceback" not in err
    code, _, err = run(["cache", "rm", "org/missing", "--yes"], capsys)
    assert code == 1 and "not in the cache" in err
    code, _, err = run(["download", "org/missing", "--cache-dir", str(tmp_path / "c")], capsys)
    assert code == 1


def test_download_a_gguf_file_and_offline_refusal(hub, tiny_dir, capsys, monkeypatch):
    hub.push_folder("org/g", tiny_dir, **{"m.gguf": b"GGUF" + b"\0" * 28})
    code, out, err = run(["download", "org/g", "--file", "m.gguf"], capsys)
    folder = Path(out.strip())
    assert code == 0 and (folder / "m.gguf").is_file() and not (folder / "model.safetensors").exists()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code, _, err = run(["download", "org/g"], capsys)
    assert code == 1 and "offline" in err


def test_the_task_command_line_still_works():
    done = subprocess.run([sys.executable, "-m", "minformers", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "task" in done.stdout
    done = subprocess.run([sys.executable, "-m", "minformers", "cache", "--help"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and "ls" in done.stdout and "rm" in done.stdout
