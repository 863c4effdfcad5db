#!/usr/bin/env python3
"""Every code block of the course notes (../shared/course-notes/*.txt), with file and line.

    python scripts/course_blocks.py            # one line per distinct block: key, kind, where, first line
    python scripts/course_blocks.py --code -v  # only code blocks, with their text

Blocks are the ``` fences of the markdown notes and the ``In [N]:`` cells of the notebook
export (001_*.txt). A block is "code" when it has statements (imports, assignments, calls
of our objects) and "output" when it only shows a result (literals, ``tensor(...)``,
``torch.Size(...)``, an error line). Blocks are deduplicated by content: the key is a
hash of the block with comments, blank lines and spacing removed, so the same snippet in
two files (or twice in one) gets one key, with every place it appears.

tests/test_course_notes.py imports `distinct_blocks()` and checks that each code key is
run by a test (or listed with the reason it cannot run offline).
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import io
import os
import re
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

_SHARED_NOTES = Path(__file__).resolve().parents[2] / "shared" / "course-notes"  # the source, beside the repo
_COPIED_NOTES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "course_notes"  # for a lone clone
NOTES_DIR = Path(os.environ.get("MINFORMERS_COURSE_NOTES",
                                _SHARED_NOTES if _SHARED_NOTES.is_dir() else _COPIED_NOTES))
FENCE = re.compile(r"^(\s*)```(\w*)\s*$")
CELL = re.compile(r"^In \[\d*\]:\s*$")
PROMPT = re.compile(r"^(>>> |\.\.\.( |$))")
OUTPUT_CALLS = {"tensor", "Size", "TensorShape", "DatasetDict", "Dataset", "Value", "ClassLabel"}
CODE_LINE = re.compile(r"^\s*(from \S+ import |import \w|[\w\[\]\"'.]+\s*=[^=])")


@dataclass
class Block:
    file: str  # file name inside the notes folder
    line: int  # 1-based line of the block's first code line
    text: str
    kind: str = ""  # "code" or "output"
    key: str = ""


@dataclass
class DistinctBlock:
    key: str
    kind: str
    text: str  # of the first occurrence
    places: list[tuple[str, int]] = field(default_factory=list)


def _strip_prompts(text: str) -> str:
    return "\n".join(PROMPT.sub("", line) for line in text.splitlines())


def _parse(text: str) -> ast.Module | None:
    try:
        return ast.parse(_strip_prompts(text))
    except SyntaxError:
        return None


def _is_output_value(value: ast.AST) -> bool:
    """A printed result: literals, and calls such as tensor(...) / torch.Size(...), nested in containers."""
    if isinstance(value, ast.Call):
        func = value.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        return name in OUTPUT_CALLS
    if isinstance(value, ast.Dict):
        return all(k is not None and _is_output_value(k) for k in value.keys) and all(
            _is_output_value(v) for v in value.values)
    if isinstance(value, (ast.List, ast.Tuple, ast.Set)):
        return all(_is_output_value(e) for e in value.elts)
    if isinstance(value, ast.UnaryOp):
        return _is_output_value(value.operand)
    return isinstance(value, ast.Constant)


def _is_output_expr(node: ast.AST) -> bool:
    return isinstance(node, ast.Expr) and _is_output_value(node.value)


def classify(text: str) -> str:
    tree = _parse(text)
    if tree is None:  # a typo'd snippet (an unterminated string, `pip install`) is still code
        return "code" if any(CODE_LINE.match(line) for line in text.splitlines()) else "output"
    return "code" if any(not _is_output_expr(node) for node in tree.body) else "output"


def normalise(text: str) -> str:
    """The block without comments, blank lines, prompts, spacing or trailing commas: what the key hashes
    (the code as Python prints it back; a block that does not parse, token by token)."""
    tree = _parse(text)
    if tree is not None:
        return ast.unparse(tree)
    text = _strip_prompts(text)
    try:
        tokens = [t for t in tokenize.generate_tokens(io.StringIO(text + "\n").readline)
                  if t.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                                    tokenize.DEDENT, tokenize.ENDMARKER)]
        return " ".join(t.string for t in tokens)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        lines = (re.sub(r"\s+", " ", line.split("#")[0]).strip() for line in text.splitlines())
        return "\n".join(line for line in lines if line)


def key_of(text: str) -> str:
    return hashlib.sha1(normalise(text).encode()).hexdigest()[:10]


def _fenced(name: str, lines: list[str]) -> list[Block]:
    blocks, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, start = len(m.group(1)), i + 1
        j = start
        while j < len(lines) and not FENCE.match(lines[j]):
            j += 1
        body = []
        for line in lines[start:j]:  # the fence's own indentation is the notes' layout, not the code's
            lead = len(line) - len(line.lstrip(" "))
            body.append(line[min(lead, indent):].rstrip())
        while body and not body[0].strip():
            body.pop(0)
            start += 1
        text = "\n".join(body).strip("\n")
        if text.strip():
            blocks.append(Block(name, start + 1, text))
        i = j + 1
    return blocks


def _cells(name: str, lines: list[str]) -> list[Block]:
    """Notebook cells: paragraphs after `In [N]:` while they parse as Python and the cell so far
    does not end in an expression (whose printed value, the output, comes next)."""
    blocks = []
    for i, line in enumerate(lines):
        if not CELL.match(line):
            continue
        paragraphs, current, start = [], [], i + 1
        for j in range(i + 1, len(lines)):
            if CELL.match(lines[j]) or lines[j].startswith("#"):
                break
            if lines[j].strip():
                current.append((j, lines[j].rstrip()))
            elif current:
                paragraphs.append(current)
                current = []
        if current:
            paragraphs.append(current)
        cell: list[tuple[int, str]] = []
        for para in paragraphs:
            candidate = cell + ([(-1, "")] if cell else []) + para
            tree = _parse("\n".join(t for _, t in candidate))
            if tree is None:
                break
            cell = candidate
            if tree.body and isinstance(tree.body[-1], ast.Expr):
                break
        if cell:
            start = cell[0][0]
            blocks.append(Block(name, start + 1, "\n".join(t for _, t in cell)))
    return blocks


def all_blocks(notes_dir: Path = NOTES_DIR) -> list[Block]:
    """Every block of every notes file, in file and line order."""
    if not notes_dir.is_dir():
        raise FileNotFoundError(f"course notes folder not found: {notes_dir} (set MINFORMERS_COURSE_NOTES)")
    blocks: list[Block] = []
    for path in sorted(notes_dir.glob("*.txt")):
        lines = path.read_text(encoding="utf-8").splitlines()
        found = _fenced(path.name, lines) if any(FENCE.match(line) for line in lines) else _cells(path.name, lines)
        for block in found:
            block.kind, block.key = classify(block.text), key_of(block.text)
        blocks.extend(found)
    return blocks


def distinct_blocks(notes_dir: Path = NOTES_DIR, kind: str | None = None) -> dict[str, DistinctBlock]:
    """key -> the block and every place it appears, in order of first appearance."""
    out: dict[str, DistinctBlock] = {}
    for block in all_blocks(notes_dir):
        if kind is not None and block.kind != kind:
            continue
        entry = out.setdefault(block.key, DistinctBlock(block.key, block.kind, block.text))
        entry.places.append((block.file, block.line))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--code", action="store_true", help="only code blocks")
    p.add_argument("-v", "--verbose", action="store_true", help="print each block's text")
    p.add_argument("--notes", type=Path, default=NOTES_DIR)
    a = p.parse_args()
    blocks = all_blocks(a.notes)
    distinct = distinct_blocks(a.notes, "code" if a.code else None)
    for entry in distinct.values():
        places = ", ".join(f"{f[:3]}:{n}" for f, n in entry.places)
        first = next((line for line in entry.text.splitlines() if line.strip()), "")
        print(f"{entry.key}  {entry.kind:6}  {places:32}  {first[:70]}")
        if a.verbose:
            print("    " + entry.text.replace("\n", "\n    ") + "\n")
    code = [b for b in blocks if b.kind == "code"]
    print(f"\n{len(blocks)} blocks ({len(code)} code) in {len({b.file for b in blocks})} files; "
          f"{len({b.key for b in code})} distinct code blocks", end="")
    print("" if a.code else f", {len({b.key for b in blocks if b.kind == 'output'})} distinct outputs")


if __name__ == "__main__":
    main()
