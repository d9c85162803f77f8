"""Curves of a run: loss and each metric, train vs validation, with the best epoch and the
over-fitting onset marked, the over-fitted epochs shaded and the learning rate when it changes.

Reads only ``history.csv`` (and ``summary.json`` / ``diagnosis.json`` when present), so it
redraws old runs, interrupted runs and plain Keras ``CSVLogger`` files alike. Uses matplotlib's
Agg canvas (no pyplot), one figure per grid of panels kept for the process.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path

from .. import rundir
from ..analysis.stats import finite

TRAIN_COLOR, VAL_COLOR, LR_COLOR = "#1f77b4", "#d62728", "#2ca02c"
ONSET_COLOR, SHADE_COLOR = "#ff7f0e", "#ff7f0e"
PANELS_PER_ROW = 3
LOG_SCALE_RATIO = 100.0  # a loss whose largest value is 100x its smallest (two decades) gets a log axis


def metric_names(history: dict) -> list[str]:
    """Base metric names with a panel each: loss first, then the others (no val_, no learning_rate)."""
    names = [k for k in history if k not in ("epoch", "learning_rate", "lr") and not k.startswith("val_")]
    names += [k[4:] for k in history if k.startswith("val_") and k[4:] not in names]
    return sorted(names, key=lambda k: (k != "loss", list(history).index(k) if k in history else 0))


def learning_rate_changes(history: dict) -> bool:
    lr = finite(history.get("learning_rate") or history.get("lr") or [])
    return len(lr) > 1 and max(lr) - min(lr) > 1e-12 * max(abs(v) for v in lr)


def spans_decades(values: list[float]) -> bool:
    values = finite(values)
    return bool(values) and min(values) > 0 and max(values) / min(values) >= LOG_SCALE_RATIO


class CurveFigures:
    """The figures ``plot_curves`` draws into: one matplotlib ``Figure`` per grid of panels, made once per
    process and cleared and redrawn for each run (a sweep draws a dozen runs' curves in one process). The
    layout is fixed margins in inches, not a layout engine, which would draw every figure twice to
    measure its labels before drawing it."""

    LEFT, RIGHT, BOTTOM, TOP, TOP_WITH_TITLE = 0.8, 0.25, 0.55, 0.35, 0.7  # margins, inches
    GAP_WIDE, GAP_HIGH = 0.95, 0.85  # between panels: the next one's tick labels and y label; a title and x label

    def __init__(self):
        self._figures: dict[tuple[int, int], tuple] = {}
        self.lock = threading.Lock()  # one drawing at a time into a shared figure

    def blank(self, rows: int, cols: int, heading: str):
        """The figure and its axes for ``rows`` x ``cols`` panels, cleared, laid out for ``heading``."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        if (rows, cols) not in self._figures:
            fig = Figure(figsize=(5.0 * cols, 3.8 * rows + 0.4))
            FigureCanvasAgg(fig)
            self._figures[rows, cols] = (fig, fig.subplots(rows, cols, squeeze=False))
        fig, axes = self._figures[rows, cols]
        for ax in axes.flat:
            _empty(ax)
        fig.suptitle("")
        width, height = fig.get_size_inches()
        top = self.TOP_WITH_TITLE if heading else self.TOP
        panel_width = (width - self.LEFT - self.RIGHT - (cols - 1) * self.GAP_WIDE) / cols
        panel_height = (height - self.BOTTOM - top - (rows - 1) * self.GAP_HIGH) / rows
        fig.subplots_adjust(left=self.LEFT / width, right=1 - self.RIGHT / width, bottom=self.BOTTOM / height,
                            top=1 - top / height, wspace=self.GAP_WIDE / panel_width,
                            hspace=self.GAP_HIGH / panel_height)
        return fig, axes


def _empty(ax) -> None:
    """An axes back to blank, keeping its axis and tick objects (``Axes.clear`` makes them anew, which costs
    more than drawing): the lines, shading, texts and legend removed, linear axes scaled to what comes next."""
    for artist in [*ax.lines, *ax.patches, *ax.texts, *ax.collections]:
        artist.remove()
    if ax.get_legend() is not None:
        ax.get_legend().remove()
    if ax.get_yscale() != "linear":
        ax.set_yscale("linear")
    ax.relim()
    ax.set_autoscale_on(True)
    ax.set_visible(True)


FIGURES = CurveFigures()
PNG_OPTIONS = {"compress_level": 1}  # zlib's fastest level: a larger file, written several times faster


def plot_curves(history: dict, path: str | Path, *, best_epoch: int | None = None, title: str = "",
                onset_epoch: int | None = None, verdict: str | None = None) -> Path:
    """Draw the panels into ``path`` (PNG, written atomically). ``onset_epoch`` marks the start of
    over-fitting and shades the epochs after it; ``verdict`` goes into the title."""
    from matplotlib.ticker import MaxNLocator

    names = metric_names(history) or ["loss"]
    epochs = history.get("epoch") or list(range(1, len(next(iter(history.values()), [])) + 1))
    lr_key = next((k for k in ("learning_rate", "lr") if k in history), None)
    panels = names + (["learning_rate"] if lr_key and learning_rate_changes(history) else [])
    cols = 2 if len(panels) == 4 else min(len(panels), PANELS_PER_ROW)
    rows = math.ceil(len(panels) / cols)
    heading = " - ".join(part for part in (title, f"verdict: {verdict}" if verdict else "") if part)
    with FIGURES.lock:
        fig, axes = FIGURES.blank(rows, cols, heading)
        marker = "o" if len(epochs) <= 30 else None
        last_epoch = epochs[-1] if epochs else None
        for ax, name in zip(axes.flat, panels):
            if name == "learning_rate":
                ax.plot(epochs, history[lr_key], color=LR_COLOR, marker=marker, markersize=3, linewidth=1.6,
                        label="learning rate")
                if spans_decades(history[lr_key]):
                    ax.set_yscale("log")
            else:
                for key, label, color in ((name, "train", TRAIN_COLOR), (f"val_{name}", "validation", VAL_COLOR)):
                    if key in history:
                        ax.plot(epochs, history[key], color=color, label=label, marker=marker, markersize=3,
                                linewidth=1.6)
                if name == "loss" and spans_decades(history.get("loss", []) + history.get("val_loss", [])):
                    ax.set_yscale("log")
            if onset_epoch is not None and last_epoch is not None and onset_epoch < last_epoch:
                ax.axvspan(onset_epoch, last_epoch, color=SHADE_COLOR, alpha=0.10, linewidth=0,
                           label="over-fitted" if name == panels[0] else None)
                ax.axvline(onset_epoch, color=ONSET_COLOR, linestyle=":", linewidth=1.4,
                           label=f"over-fitting onset ({onset_epoch})" if name == panels[0] else None)
            if best_epoch is not None:
                ax.axvline(best_epoch, color="0.35", linestyle="--", linewidth=1,
                           label=f"best epoch ({best_epoch})" if name == panels[0] else None)
            shown = [history.get(k, []) for k in ((lr_key,) if name == "learning_rate" else (name, f"val_{name}"))]
            if not finite([v for values in shown for v in values]):
                ax.text(0.5, 0.5, "no finite values\n(the run diverged)", transform=ax.transAxes, ha="center",
                        va="center", color="#b00020")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            if epochs:
                pad = 1.0 if len(epochs) < 3 else max(0.5, 0.02 * (epochs[-1] - epochs[0]))
                ax.set_xlim(epochs[0] - pad, epochs[-1] + pad)
            ax.set_title(name.replace("_", " "), fontsize=10, y=1.0)  # y: no search for a place
            ax.set_xlabel("epoch")
            ax.set_ylabel(name.replace("_", " "))
            ax.grid(alpha=0.3)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(loc="best", fontsize=7, framealpha=0.8)
        for ax in list(axes.flat)[len(panels):]:
            ax.set_visible(False)
        if heading:
            fig.suptitle(heading, fontsize=11)
        return rundir.atomic_save(path, lambda tmp: fig.savefig(tmp, dpi=100, pil_kwargs=PNG_OPTIONS))


def plot_run(run_dir: str | Path, diagnosis: dict | None = None) -> Path:
    """Redraw ``curves.png`` of a run directory from its saved files."""
    run_dir = Path(run_dir)
    history = rundir.read_history(run_dir / rundir.HISTORY)
    summary = rundir.read_json(run_dir / rundir.SUMMARY) if (run_dir / rundir.SUMMARY).exists() else {}
    if diagnosis is None and (run_dir / rundir.DIAGNOSIS).exists():
        diagnosis = rundir.read_json(run_dir / rundir.DIAGNOSIS)
    diagnosis = diagnosis or {}
    onset = next((f["epoch"] for f in diagnosis.get("findings", []) if f["code"] == "overfitting"), None)
    title = f"{summary.get('name', run_dir.name)} ({summary.get('status', '?')})"
    return plot_curves(history, run_dir / rundir.CURVES, best_epoch=summary.get("best_epoch"), title=title,
                       onset_epoch=onset, verdict=diagnosis.get("verdict"))
