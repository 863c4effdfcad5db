"""`python -m minformers TASK [--model M] TEXT...` prints JSON answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def run_cli(*args, stdin=None):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "minformers", *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=300)


def test_text_classification(tiny_checkpoints):
    import transformers

    folder = tiny_checkpoints("BertForSequenceClassification")
    texts = ["I love this.", "I hate this so much!"]
    result = run_cli("sentiment-analysis", "--model", str(folder), *texts)
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout)
    reference = transformers.pipeline("text-classification", model=str(folder))(texts)
    assert [a["label"] for a in answers] == [r["label"] for r in reference]
    assert [a["score"] for a in answers] == pytest.approx([r["score"] for r in reference], abs=1e-4)
    # texts on standard input, every label
    result = run_cli("text-classification", "--model", str(folder), "--top-k", "all", stdin="I love this.\n")
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)) == 1 and len(json.loads(result.stdout)[0]) == 2


def test_feature_extraction_default_model():
    result = run_cli("feature-extraction", "--pooling", "mean", "--normalize", "hello world")
    assert result.returncode == 0, result.stderr
    (vector,) = json.loads(result.stdout)
    assert len(vector[0]) == 384
    assert "all-MiniLM-L6-v2" in result.stderr  # which default it chose


def test_errors():
    result = run_cli("no-such-task", "text")
    assert result.returncode == 2 and "Available tasks" in result.stderr and "feature-extraction" in result.stderr
    result = run_cli("text-classification", "--model", "/no/such/folder", "text")
    assert result.returncode == 1 and "/no/such/folder" in result.stderr


# ---- output cut short by the reader (`minformers ... | head -c 10`): a quiet exit, no traceback -----------
def run_cut(*args, read: int = 10, env_extra: dict | None = None):
    """Run the CLI with its stdout on a real pipe whose read end is closed after `read` bytes, as `| head -c`
    does; returns (bytes read, stderr, exit status)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env_extra or {})}
    proc = subprocess.Popen([sys.executable, "-m", "minformers", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    head = proc.stdout.read(read)
    proc.stdout.close()  # the reader goes away
    stderr = proc.stderr.read().decode()
    proc.wait(timeout=300)
    return head, stderr, proc.returncode


def test_pipeline_output_cut_by_head(tiny_checkpoints):
    folder = tiny_checkpoints("BertModel")
    texts = [f"hello world, this is text number {i}" for i in range(40)]  # ~400 KB of JSON: more than a pipe holds
    head, stderr, status = run_cut("feature-extraction", "--model", str(folder), *texts)
    assert head == b"[[[[" + head[4:] and len(head) == 10
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
    assert status == 141  # 128 + SIGPIPE, as a shell reports for `yes | head`


def _fake_hub_cache(root, n: int):
    """A Hugging Face cache with `n` small model repos, laid out as huggingface_hub writes it."""
    for i in range(n):
        repo = root / f"models--org--model-{i:04d}"
        commit = f"{i:040x}"
        (repo / "blobs").mkdir(parents=True)
        (repo / "blobs" / f"blob{i}").write_text("{}")
        (repo / "refs").mkdir()
        (repo / "refs" / "main").write_text(commit)
        snapshot = repo / "snapshots" / commit
        snapshot.mkdir(parents=True)
        (snapshot / "config.json").symlink_to(f"../../blobs/blob{i}")


def test_cache_ls_and_help_cut_by_head(tmp_path):
    _fake_hub_cache(tmp_path, 1500)  # ~100 KB of listing
    head, stderr, status = run_cut("cache", "ls", "--cache-dir", str(tmp_path))
    assert head.startswith(b"MODEL")
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
    assert status == 141
    # --help (argparse prints it): the reader gone before anything is written
    head, stderr, status = run_cut("--help", read=0)
    assert "Traceback" not in stderr, stderr
    assert status in (0, 141)  # 0 when the text fitted in the pipe before the reader left


def test_download_output_to_a_closed_pipe(monkeypatch, tmp_path):
    """download prints one line: to a pipe nobody reads any more (`minformers download X | true`), quietly."""
    import minformers.hub
    from minformers import cli

    monkeypatch.setattr(minformers.hub, "download", lambda name, **kw: tmp_path / name)
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone
    with os.fdopen(write_end, "w") as stdout:
        monkeypatch.setattr(sys, "stdout", stdout)
        status = cli.main(["download", "org/model"])
    assert status == cli.EXIT_BROKEN_PIPE
