"""Curves of a run: loss and each metric, train vs validation, with the best epoch marked.

Reads only ``history.csv`` (and ``summary.json`` when present), so it redraws old runs,
interrupted runs and plain Keras ``CSVLogger`` files alike. Uses matplotlib's Agg backend.
"""

from __future__ import annotations

import math
from pathlib import Path

from .. import rundir

TRAIN_COLOR, VAL_COLOR = "#1f77b4", "#d62728"


def metric_names(history: dict) -> list[str]:
    """Base metric names with a panel each: loss first, then the others (no val_, no learning_rate)."""
    names = [k for k in history if k not in ("epoch", "learning_rate", "lr") and not k.startswith("val_")]
    names += [k[4:] for k in history if k.startswith("val_") and k[4:] not in names]
    return sorted(names, key=lambda k: (k != "loss", list(history).index(k) if k in history else 0))


def _finite(values):
    return [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]


def plot_curves(history: dict, path: str | Path, *, best_epoch: int | None = None, title: str = "") -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = metric_names(history) or ["loss"]
    epochs = history.get("epoch") or list(range(1, len(next(iter(history.values()), [])) + 1))
    n = len(names)
    fig, axes = plt.subplots(1, n, figsize=(5.2 * n, 4.0), squeeze=False)
    for ax, name in zip(axes[0], names):
        for key, label, color in ((name, "train", TRAIN_COLOR), (f"val_{name}", "validation", VAL_COLOR)):
            if key in history:
                ax.plot(epochs, history[key], color=color, label=label, marker="o" if len(epochs) <= 30 else None,
                        markersize=3, linewidth=1.6)
        if best_epoch is not None:
            ax.axvline(best_epoch, color="0.35", linestyle="--", linewidth=1, label=f"best epoch ({best_epoch})")
        values = _finite(history.get(name, []) + history.get(f"val_{name}", []))
        if name == "loss" and values and min(values) > 0 and max(values) / min(values) > 100:
            ax.set_yscale("log")
        ax.set_title(name.replace("_", " "))
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(path)
    return path


def plot_run(run_dir: str | Path) -> Path:
    run_dir = Path(run_dir)
    history = rundir.read_history(run_dir / rundir.HISTORY)
    summary = rundir.read_json(run_dir / rundir.SUMMARY) if (run_dir / rundir.SUMMARY).exists() else {}
    title = f"{summary.get('name', run_dir.name)} ({summary.get('status', '?')})"
    return plot_curves(history, run_dir / rundir.CURVES, best_epoch=summary.get("best_epoch"), title=title)
