"""Running a code block of the course notes statement by statement, in minformers and in the reference,
and comparing what each statement makes (used by tests/test_course_notes.py)."""

from __future__ import annotations

import ast
import contextlib
import io
import re

import numpy as np
import pytest
import torch
import transformers

from course_blocks import distinct_blocks

BLOCKS = distinct_blocks(kind="code")
TOL = 1e-4
TYPOS = {"transforemres": "transformers", "trainsforemers": "transformers", "BertConig": "BertConfig",
         "Bertconfig()": "BertConfig()", '"bert-base-cased)': '"bert-base-cased")'}


def course(key: str, lib: str, subs: dict[str, str] | None = None) -> str:
    """The block's text for `lib` ("minformers" or "transformers"): typos fixed, `subs` applied
    (each must occur: the test says which part of the notes it adapts)."""
    text = BLOCKS[key].text
    for old, new in TYPOS.items():
        text = text.replace(old, new)
    for old, new in (subs or {}).items():
        assert old in text, f"block {key} no longer contains {old!r}"
        text = text.replace(old, new)
    if lib == "minformers":
        text = re.sub(r"^(\s*)from transformers import", r"\1from minformers import", text, flags=re.M)
    return text


def statements(code: str) -> list[ast.stmt]:
    return ast.parse("\n".join(re.sub(r"^(>>> |\.\.\.( |$))", "", line) for line in code.splitlines())).body


def statement_values(stmt: ast.stmt, ns: dict) -> dict[str, object]:
    """Run one statement in `ns`; return what it made: assigned names, printed values, a bare expression."""
    if isinstance(stmt, ast.Expr):
        call = stmt.value
        if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "print":
            values = {f"print[{i}]": eval(compile(ast.Expression(a), "<course>", "eval"), ns)
                      for i, a in enumerate(call.args)}
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(ast.Module([stmt], []), "<course>", "exec"), ns)
            return values
        ns["_"] = eval(compile(ast.Expression(call), "<course>", "eval"), ns)
        return {"_": ns["_"]}
    exec(compile(ast.Module([stmt], []), "<course>", "exec"), ns)
    names = [n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]
    names += [t.value.id for t in getattr(stmt, "targets", []) if isinstance(t, ast.Subscript)
              and isinstance(t.value, ast.Name)]
    return {n: ns[n] for n in names if n in ns}


def run(key: str, ns: dict, subs: dict[str, str] | None = None) -> dict:
    """Run a block in minformers only (where the reference cannot run it)."""
    for stmt in statements(course(key, "minformers", subs)):
        statement_values(stmt, ns)
    return ns


def run_both(key: str, ours: dict, theirs: dict, subs: dict[str, str] | None = None,
             ref_subs: dict[str, str] | None = None) -> None:
    """Run a block statement by statement in both libraries and compare what each statement makes."""
    mine = statements(course(key, "minformers", subs))
    ref = statements(course(key, "transformers", {**(subs or {}), **(ref_subs or {})}))
    assert len(mine) == len(ref)
    for a, b in zip(mine, ref):
        where = f"block {key}: {ast.unparse(a)[:80]}"
        try:
            expected = statement_values(b, theirs)
        except Exception as e:  # noqa: BLE001 - the reference refuses it: so must we, clearly
            with pytest.raises(Exception) as info:
                statement_values(a, ours)
            assert len(str(info.value)) > 20, f"{where}: unclear error {info.value!r} (reference: {e!r})"
            continue
        got = statement_values(a, ours)
        assert set(got) == set(expected), where
        for name in expected:
            assert_same(got[name], expected[name], f"{where} -> {name}")


def assert_same(a, b, where: str) -> None:
    """Same ids/strings/structure; floats and float tensors within TOL. Models, tokenizers, pipelines
    and other objects are not compared (their outputs are)."""
    if isinstance(b, torch.Tensor):
        assert isinstance(a, torch.Tensor) and a.shape == b.shape, f"{where}: {a!r} vs {b!r}"
        if b.is_floating_point():
            assert torch.allclose(a.detach().float(), b.detach().float(), atol=TOL), f"{where}: {a} vs {b}"
        else:
            assert torch.equal(a, b), f"{where}: {a} vs {b}"
    elif isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray) and a.shape == b.shape and a.dtype.kind == b.dtype.kind, where
        assert np.allclose(a, b, atol=TOL), where
    elif isinstance(b, (dict, transformers.BatchEncoding, transformers.utils.ModelOutput)):
        assert hasattr(a, "keys") and set(a.keys()) == set(b.keys()), f"{where}: {list(a.keys())} vs {list(b)}"
        for k in b.keys():
            assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(b, (list, tuple)):
        assert isinstance(a, (list, tuple)) and len(a) == len(b), f"{where}: {a!r} vs {b!r}"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(b, float):
        assert isinstance(a, (float, int)) and abs(a - b) <= TOL, f"{where}: {a} vs {b}"
    elif b is None or isinstance(b, (str, int, bool)):
        assert a == b, f"{where}: {a!r} vs {b!r}"
