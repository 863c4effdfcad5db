"""Loss and metric history on disk: trainer_state.json, log_history.json and loss_curve.png.

The PNG needs matplotlib, imported here only when a plot is written (never at import time);
without it the JSON files are still written.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = ["plot_history", "write_history"]


def write_history(state: Any, output_dir: str | os.PathLike, plot: bool = True) -> Path | None:
    """Write the state and its log history; returns the PNG path when one was drawn."""
    folder = Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    state.save_to_json(str(folder / "trainer_state.json"))
    (folder / "log_history.json").write_text(json.dumps(state.log_history, indent=2) + "\n", encoding="utf-8")
    return plot_history(state.log_history, folder / "loss_curve.png") if plot else None


def plot_history(log_history: list[dict[str, Any]], path: str | os.PathLike) -> Path | None:
    """Training loss (and evaluation loss / metrics) against the step; None without matplotlib, or with
    nothing to plot (then matplotlib, ~0.5 s to import, is not even imported)."""
    train = [(e["step"], e["loss"]) for e in log_history if "loss" in e]
    evals = [(e["step"], e["eval_loss"]) for e in log_history if "eval_loss" in e]
    metric_names = sorted({k for e in log_history for k in e if k.startswith("eval_") and k not in (
        "eval_loss", "eval_runtime", "eval_samples_per_second", "eval_steps_per_second")})
    if not train and not evals:
        return None
    try:
        import matplotlib  # lazy: optional, only for a plot

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(7, 4))
    if train:
        ax.plot(*zip(*train), label="train loss")
    if evals:
        ax.plot(*zip(*evals), marker="o", label="eval loss")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    if metric_names:
        ax2 = ax.twinx()
        for name in metric_names:
            points = [(e["step"], e[name]) for e in log_history if name in e]
            ax2.plot(*zip(*points), linestyle="--", marker="s", label=name)
        ax2.set_ylabel("metric")
        ax2.legend(loc="center right")
    ax.legend(loc="upper right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)
