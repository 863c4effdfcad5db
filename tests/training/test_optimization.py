"""minformers.AdamW: old transformers.AdamW (removed from the reference), kept for the course's code."""

from __future__ import annotations

import warnings

import pytest
import torch


def _params(seed: int = 0) -> list[torch.nn.Parameter]:
    g = torch.Generator().manual_seed(seed)
    return [torch.nn.Parameter(torch.randn(5, 3, generator=g)), torch.nn.Parameter(torch.randn(4, generator=g))]


def _run(make, steps: int = 3) -> list[torch.Tensor]:
    params = _params()
    opt = make(params)
    g = torch.Generator().manual_seed(1)
    for _ in range(steps):
        for p in params:
            p.grad = torch.randn(p.shape, generator=g)
        opt.step()
    return [p.detach().clone() for p in params]


def test_course_import_runs_and_warns_naming_torch_adamw():
    import transformers

    with pytest.raises(ImportError):  # the reference removed it: the course's line breaks there
        from transformers import AdamW  # noqa: F401
    from minformers import AdamW

    with pytest.warns(FutureWarning, match=r"torch\.optim\.AdamW"):
        opt = AdamW(_params(), lr=5e-5)
    assert isinstance(opt, torch.optim.AdamW)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        AdamW(_params(), no_deprecation_warning=True)


def test_old_defaults():
    from minformers import AdamW

    opt = AdamW(_params(), no_deprecation_warning=True)
    d = opt.defaults
    assert (d["lr"], d["betas"], d["eps"], d["weight_decay"], d["correct_bias"]) == (1e-3, (0.9, 0.999), 1e-6, 0.0,
                                                                                     True)


@pytest.mark.parametrize("kw", [{}, {"lr": 5e-3, "weight_decay": 0.01, "betas": (0.8, 0.99), "eps": 1e-7}])
def test_steps_equal_torch_adamw(kw):
    """correct_bias=True: exactly torch.optim.AdamW with the same settings (the old defaults spelled out)."""
    from minformers import AdamW

    settings = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-6, "weight_decay": 0.0, **kw}
    ours = _run(lambda ps: AdamW(ps, no_deprecation_warning=True, **kw))
    ref = _run(lambda ps: torch.optim.AdamW(ps, **settings))
    for a, b in zip(ours, ref):
        torch.testing.assert_close(a, b, atol=0, rtol=0)


def test_without_bias_correction_follows_old_transformers():
    """correct_bias=False: m, v without bias correction, p -= lr m / (sqrt(v) + eps), then p -= lr wd p."""
    from minformers import AdamW

    lr, (b1, b2), eps, wd = 1e-2, (0.9, 0.999), 1e-6, 0.1
    ours = _run(lambda ps: AdamW(ps, lr=lr, weight_decay=wd, correct_bias=False, no_deprecation_warning=True))
    params = [p.detach().clone() for p in _params()]
    m = [torch.zeros_like(p) for p in params]
    v = [torch.zeros_like(p) for p in params]
    g = torch.Generator().manual_seed(1)
    for _ in range(3):
        for i, p in enumerate(params):
            grad = torch.randn(p.shape, generator=g)
            m[i] = b1 * m[i] + (1 - b1) * grad
            v[i] = b2 * v[i] + (1 - b2) * grad * grad
            p -= lr * m[i] / (v[i].sqrt() + eps)
            p -= lr * wd * p
    for a, b in zip(ours, params):
        torch.testing.assert_close(a, b, atol=1e-7, rtol=1e-6)
    bias_corrected = _run(lambda ps: AdamW(ps, lr=lr, weight_decay=wd, no_deprecation_warning=True))
    assert not torch.allclose(bias_corrected[0], ours[0])  # the flag matters


def test_mixed_groups_and_state_dict_round_trip():
    from minformers import AdamW

    a, b = _params()
    opt = AdamW([{"params": [a]}, {"params": [b], "correct_bias": False}], lr=1e-2, no_deprecation_warning=True)
    a.grad, b.grad = torch.ones_like(a), torch.ones_like(b)
    opt.step()
    assert opt.param_groups[0]["correct_bias"] and not opt.param_groups[1]["correct_bias"]
    state = opt.state_dict()
    c, d = _params()
    again = AdamW([{"params": [c]}, {"params": [d]}], no_deprecation_warning=True)
    again.load_state_dict(state)
    assert not again.param_groups[1]["correct_bias"] and float(again.state[again.param_groups[1]["params"][0]]["step"]) == 1
