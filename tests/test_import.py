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


# --- TensorFlow names (issue 13, item 17): minformers is PyTorch-only, and says which class to use
def test_tf_names_raise_import_error_naming_the_pytorch_class():
    import importlib

    import pytest

    for tf_name, torch_name in [("TFAutoModel", "AutoModel"),
                                ("TFAutoModelForSequenceClassification", "AutoModelForSequenceClassification"),
                                ("TFBertModel", "BertModel"), ("TFGPT2LMHeadModel", "GPT2LMHeadModel"),
                                ("TFDistilBertForQuestionAnswering", "DistilBertForQuestionAnswering")]:
        with pytest.raises(ImportError) as err:
            exec(f"from minformers import {tf_name}", {})
        message = str(err.value)
        assert "PyTorch-only" in message and f"from minformers import {torch_name}" in message, message
        assert err.value.name == tf_name
        with pytest.raises(ImportError, match=f"use {torch_name} "):
            getattr(importlib.import_module("minformers"), tf_name)


def test_try_import_pattern_and_unknown_names():
    code = (
        "try:\n"
        "    from minformers import TFAutoModel\n"
        "except ImportError as e:\n"
        "    print('fallback')\n"
        "import sys, minformers\n"
        "print(hasattr(minformers, 'TFNoSuchModel'), hasattr(minformers, 'TF'))\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["fallback", "False", "False", "False"]  # unknown TF* names stay AttributeErrors; no torch import
