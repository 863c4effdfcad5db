"""Command line: run a pipeline and print its answers as JSON.

    python -m minformers sentiment-analysis "I love this." "I hate this."
    python -m minformers feature-extraction --model path/to/folder --pooling mean "Hello"
    echo "one text per line" | python -m minformers text-classification --model path/to/folder

Texts come from the arguments, or one per line from standard input.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def build_parser() -> argparse.ArgumentParser:
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
