"""Command line: run a pipeline and print its answers as JSON.

    python -m minformers sentiment-analysis "I love this." "I hate this."
    python -m minformers feature-extraction --model path/to/folder --pooling mean "Hello"
    echo "one text per line" | python -m minformers text-classification --model path/to/folder

Texts come from the arguments, or one per line from standard input.

Output cut short by the reader (``minformers ... | head``) ends the command quietly, as it ends
other Unix tools: no BrokenPipeError traceback, exit status 141 (128 + SIGPIPE, what a shell
reports for ``yes | head``). See "Note on SIGPIPE" in the Python ``signal`` docs.

The Hugging Face cache (shared with `transformers` and `huggingface_hub`):

    minformers download ORG/NAME [--revision R] [--cache-dir D] [--file F ...]
    minformers cache ls [--cache-dir D]
    minformers cache rm ORG/NAME [--revision R] [--cache-dir D] [--yes]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

# Exit status when the reader of our output went away: a process killed by SIGPIPE shows 128 + 13 in a shell.
EXIT_BROKEN_PIPE = 141


def build_parser() -> argparse.ArgumentParser:
    # the CLI imports what a command needs when it runs (lazy for speed: `minformers --help` loads no pipelines)
    from .pipelines.registry import ALIASES, TASKS

    tasks = sorted(set(TASKS) | set(ALIASES))
    parser = argparse.ArgumentParser(
        prog="minformers", description="Run a pipeline on texts and print the answers as JSON.",
        epilog="Tasks: " + ", ".join(tasks),
    )
    parser.add_argument("task", help="the pipeline task, e.g. sentiment-analysis")
    parser.add_argument("texts", nargs="*", help="texts to run (default: one per line from standard input)")
    parser.add_argument("--model", help="a model folder or name (default: the task's default model)")
    parser.add_argument("--tokenizer", help="a tokenizer folder or name (default: the model's)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--top-k", type=_top_k, help="text-classification: how many labels (all = every label)")
    parser.add_argument("--pooling", choices=["mean", "cls"], help="feature-extraction: one vector per text")
    parser.add_argument("--normalize", action="store_true", help="feature-extraction: unit-length vectors")
    parser.add_argument("--truncation", action="store_true", help="cut texts longer than the model")
    parser.add_argument("--indent", type=int, default=None, help="indent the JSON output")
    return parser


def _top_k(value: str) -> Any:
    return None if value == "all" else int(value)


def main(argv: list[str] | None = None) -> int:
    """Every command (pipelines, download, cache, --help), ending quietly when its output pipe is closed."""
    try:
        status = _main(argv)
        sys.stdout.flush()  # buffered output meets the closed pipe here, not at interpreter exit
        return status
    except BrokenPipeError:
        # Python's recipe ("Note on SIGPIPE"): point stdout at devnull so the flush at exit cannot raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_BROKEN_PIPE


def _main(argv: list[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else list(argv)
    if args_list and args_list[0] in ("download", "cache"):
        return hub_main(args_list)
    parser = build_parser()
    args = parser.parse_intermixed_args(argv)
    texts = args.texts or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    if not texts:
        parser.error("no texts given: pass them as arguments or on standard input")

    from .pipelines import pipeline
    from .pipelines.registry import resolve_task

    try:
        task, _ = resolve_task(args.task)
    except KeyError as err:
        parser.error(err.args[0])
    params: dict[str, Any] = {}
    if args.top_k is not None or "--top-k" in (argv or sys.argv):
        params["top_k"] = args.top_k
    if args.pooling:
        params["pooling"] = args.pooling
    if args.normalize:
        params["normalize"] = True
    if args.truncation:
        params["truncation"] = True
    try:
        pipe = pipeline(task, model=args.model, tokenizer=args.tokenizer, batch_size=args.batch_size)
        answers = pipe(texts, **params)
    except (OSError, ValueError, TypeError) as err:
        print(f"minformers: error: {err}", file=sys.stderr)
        return 1
    print(json.dumps(answers, indent=args.indent, ensure_ascii=False))
    return 0


# --- download / cache ---
def build_hub_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="minformers", description="Download models and manage the Hugging Face cache.")
    sub = parser.add_subparsers(dest="command", required=True)
    dl = sub.add_parser("download", help="download a model's config, tokenizer and weights into the cache")
    dl.add_argument("name", help="a Hub model id, e.g. distilbert/distilbert-base-uncased-finetuned-sst-2-english")
    dl.add_argument("--revision", help="a branch, tag or commit (default: main)")
    dl.add_argument("--cache-dir", help="the cache folder (default: HF_HUB_CACHE, else HF_HOME/hub)")
    dl.add_argument("--file", action="append", dest="files", metavar="FILE",
                    help="download this file instead of the weights (e.g. a .gguf); repeatable")
    dl.add_argument("--force", action="store_true", help="download again even if cached")
    cache = sub.add_parser("cache", help="list or remove cached models")
    cache_sub = cache.add_subparsers(dest="action", required=True)
    ls = cache_sub.add_parser("ls", help="list the cached models, their revisions and sizes")
    ls.add_argument("--cache-dir")
    rm = cache_sub.add_parser("rm", help="remove a cached model (all revisions, or one)")
    rm.add_argument("name")
    rm.add_argument("--revision", help="remove only this revision (a branch, tag or commit)")
    rm.add_argument("--cache-dir")
    rm.add_argument("--yes", "-y", action="store_true", help="don't ask for confirmation")
    return parser


def hub_main(argv: list[str]) -> int:
    args = build_hub_parser().parse_args(argv)
    try:
        if args.command == "download":
            from .hub import download

            folder = download(args.name, revision=args.revision, cache_dir=args.cache_dir,
                              force_download=args.force, filenames=args.files)
            print(folder)
            return 0
        if args.action == "ls":
            return _cache_ls(args.cache_dir)
        return _cache_rm(args.name, args.revision, args.cache_dir, args.yes)
    except BrokenPipeError:  # an OSError too, but not a failure of the command: main() ends quietly
        raise
    except (OSError, ValueError) as err:
        print(f"minformers: error: {err}", file=sys.stderr)
        return 1


def _scan(cache_dir: str | None) -> Any:
    from huggingface_hub import scan_cache_dir

    from .hub import hub_cache_dir

    folder = hub_cache_dir(cache_dir)
    if not folder.is_dir():
        return None
    return scan_cache_dir(folder)


def _human(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return str(n)


def _cache_ls(cache_dir: str | None) -> int:
    from .hub import hub_cache_dir

    info = _scan(cache_dir)
    repos = sorted((r for r in (info.repos if info else ()) if r.repo_type == "model"), key=lambda r: r.repo_id)
    if not repos:
        print(f"no models cached in {hub_cache_dir(cache_dir)}")
        return 0
    rows = [("MODEL", "REVISION", "REFS", "SIZE", "FILES")]
    for repo in repos:
        for rev in sorted(repo.revisions, key=lambda r: r.last_modified, reverse=True):
            rows.append((repo.repo_id, rev.commit_hash[:12], ",".join(sorted(rev.refs)) or "-",
                         _human(rev.size_on_disk), str(rev.nb_files)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    print(f"\n{len(repos)} model(s), {_human(info.size_on_disk)} in {hub_cache_dir(cache_dir)}")
    return 0


def _cache_rm(name: str, revision: str | None, cache_dir: str | None, yes: bool) -> int:
    info = _scan(cache_dir)
    repo = next((r for r in (info.repos if info else ()) if r.repo_type == "model" and r.repo_id == name), None)
    if repo is None:
        raise OSError(f"'{name}' is not in the cache (see `minformers cache ls`)")
    revisions = list(repo.revisions)
    if revision is not None:
        revisions = [r for r in revisions if revision in r.refs or r.commit_hash.startswith(revision)]
        if not revisions:
            raise OSError(f"'{name}' has no cached revision {revision!r} (see `minformers cache ls`)")
    strategy = info.delete_revisions(*(r.commit_hash for r in revisions))
    what = f"{len(revisions)} revision(s) of {name}" if revision else f"{name} (all {len(revisions)} revision(s))"
    if not yes:
        try:
            answer = input(f"Remove {what}, freeing {strategy.expected_freed_size_str}? [y/N] ")
        except EOFError:
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing removed")
            return 1
    strategy.execute()
    print(f"removed {what}, freed {strategy.expected_freed_size_str}")
    return 0
