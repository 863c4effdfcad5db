"""`import minformers` stays cheap: nothing heavy at module scope."""

from __future__ import annotations

import subprocess
import sys


def test_import_is_lazy():
    code = (
        "import sys, minformers\n"
        "heavy = [m for m in ('torch', 'numpy', 'transformers', 'minformers.models', 'minformers.pipelines')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"import minformers imported {out}"


def test_public_names_resolve():
    import minformers

    for name in minformers.__all__:
        assert getattr(minformers, name) is not None, name
    try:
        minformers.NoSuchThing
    except AttributeError as err:
        assert "NoSuchThing" in str(err)
    else:
        raise AssertionError("unknown attribute did not raise")
