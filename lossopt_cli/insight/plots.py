"""Figures of ``lossopt lr-find`` and ``lossopt trajectories`` (matplotlib's Agg backend, written atomically).

``lr_find.png``: the batch losses and their smoothed curve against the learning rate on a log
axis, with each suggestion marked. ``trajectories.png``: the function's contours at log-spaced
levels with one path per optimizer (start and end marked), beside the function value per step
on a log axis; the same paths animated as a GIF or an HTML page.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .. import rundir

METHOD_COLORS = {"valley": "#2ca02c", "steepest": "#ff7f0e", "minimum/10": "#9467bd"}
PATH_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
               "#7f7f7f"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path, dpi: int = 100) -> Path:
    plt = _pyplot()
    try:
        return rundir.atomic_save(path, lambda tmp: fig.savefig(tmp, dpi=dpi))
    finally:
        plt.close(fig)


def plot_lr_find(record: dict, path: str | Path, title: str = "") -> Path:
    """Loss against learning rate (log axis): raw batch losses faint, the smoothed curve, the suggestions."""
    plt = _pyplot()
    lrs = np.asarray(record["learning_rates"], dtype=float)
    losses = np.asarray(record["losses"], dtype=float)
    smoothed = np.asarray(record["smoothed"], dtype=float)
    fig, ax = plt.subplots(figsize=(7.5, 4.6), layout="constrained")
    finite = np.isfinite(losses)
    ax.plot(lrs[finite], losses[finite], color="#1f77b4", alpha=0.25, lw=0.8, label="batch loss")
    ax.plot(lrs[:len(smoothed)], smoothed, color="#1f77b4", lw=2, label="smoothed")
    for method, suggestion in record["suggestions"].items():
        lr = suggestion["learning_rate"]
        if lr is None:
            continue
        recommended = method == record.get("recommended")
        ax.axvline(lr, color=METHOD_COLORS.get(method, "gray"), ls="-" if recommended else "--",
                   lw=2 if recommended else 1.2,
                   label=f"{method} {lr:.3g}" + (" (recommended)" if recommended else ""))
    ax.set_xscale("log")
    if len(smoothed):  # keep the blow-up at the end from flattening the interesting part
        low, high = float(np.min(smoothed)), float(np.max(smoothed[:int(np.argmin(smoothed)) + 1]))
        pad = 0.08 * max(high - low, 1e-12)
        ax.set_ylim(low - pad, high + 3 * pad + 0.25 * (high - low))
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("training loss")
    stop = {"end": "", "diverged": ", stopped: loss diverged", "not_finite": ", stopped: loss not finite"}
    ax.set_title(f"{title}: learning-rate range test ({record.get('steps_run')} steps{stop.get(record.get('stop_reason'), '')})"
                 if title else "learning-rate range test", fontsize=11)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=8, loc="upper left")
    return _save(fig, Path(path))


def _grid(surface, params, n: int = 240):
    x_low, x_high, y_low, y_high = surface.view
    xs, ys = np.linspace(x_low, x_high, n), np.linspace(y_low, y_high, n)
    X, Y = np.meshgrid(xs, ys)
    return X, Y, surface.value(X, Y, np, **params)


def _contours(ax, surface, params, n: int = 240):
    X, Y, Z = _grid(surface, params, n)
    if surface.minimum_value is not None:
        floor = surface.minimum_value
        gap = Z - floor
        positive = gap[gap > 0]
        low = max(float(np.percentile(positive, 0.5)), 1e-3 * float(positive.max()) / 1e3)
        levels = floor + np.logspace(math.log10(low), math.log10(float(positive.max())), 24)
        ax.contour(X, Y, Z, levels=levels, cmap="viridis", linewidths=0.7, alpha=0.8)
        for mx, my in surface.minima:
            ax.plot(mx, my, marker="*", color="black", ms=13, ls="none", zorder=5)
    else:  # the saddle goes below zero: linear levels, symmetric about the saddle point
        bound = float(np.abs(Z).max())
        ax.contour(X, Y, Z, levels=np.linspace(-bound, bound, 25), cmap="coolwarm", linewidths=0.7, alpha=0.8)
        ax.plot(0, 0, marker="x", color="black", ms=9, ls="none", zorder=5)
    x_low, x_high, y_low, y_high = surface.view
    ax.set_xlim(x_low, x_high)
    ax.set_ylim(y_low, y_high)
    ax.set_xlabel("x")
    ax.set_ylabel("y")


def _gap(values, surface):
    """What the value panel shows: f - f(minimum) on a log axis (f itself on a symlog axis for the saddle)."""
    v = np.asarray(values, dtype=float)
    if surface.minimum_value is None:
        return v
    return np.maximum(v - surface.minimum_value, 1e-12)


def plot_trajectories(surface, params: dict, record: dict, path: str | Path) -> Path:
    plt = _pyplot()
    fig, (ax, ax_v) = plt.subplots(1, 2, figsize=(12.5, 5.2), gridspec_kw={"width_ratios": [1.25, 1]},
                                   layout="constrained")
    _contours(ax, surface, params)
    for i, t in enumerate(record["trajectories"]):
        color = PATH_COLORS[i % len(PATH_COLORS)]
        p = np.asarray(t["path"], dtype=float)
        label = f"{t['optimizer']} (lr {t['learning_rate']:g})"
        ax.plot(p[:, 0], p[:, 1], color=color, lw=1.4, marker=".", ms=2.5, label=label)
        ax.plot(p[-1, 0], p[-1, 1], marker="o", color=color, ms=8, mec="black", zorder=6)
        ax_v.plot(np.arange(len(t["values"])), _gap(t["values"], surface), color=color, lw=1.5, label=label)
    x0, y0 = record["start"]
    ax.plot(x0, y0, marker="s", color="white", mec="black", ms=9, zorder=7, ls="none", label="start")
    ax.set_title(f"{surface.name}: f = {surface.formula}"
                 + "".join(f", {k} = {v:g}" for k, v in params.items()), fontsize=10)
    ax.legend(fontsize=8, loc="best")
    if surface.minimum_value is None:
        ax_v.set_yscale("symlog", linthresh=1e-3)
        ax_v.set_ylabel("f(x, y)")
    else:
        ax_v.set_yscale("log")
        ax_v.set_ylabel("f(x, y) - f(minimum)" if surface.minimum_value else "f(x, y)")
    ax_v.set_xlabel("step")
    ax_v.set_title("function value per step (log scale)", fontsize=10)
    ax_v.grid(True, which="both", alpha=0.25)
    return _save(fig, Path(path))


def animate_trajectories(surface, params: dict, record: dict, path: str | Path, kind: str = "gif",
                         frames: int = 50) -> Path:
    """The paths drawn step by step: a GIF (Pillow, which matplotlib already needs), or an HTML page
    with that GIF embedded."""
    plt = _pyplot()
    from matplotlib import animation


    fig, ax = plt.subplots(figsize=(6.4, 5.0), layout="constrained")
    _contours(ax, surface, params, n=120)
    ax.set_title(f"{surface.name}", fontsize=10)
    paths = [np.asarray(t["path"], dtype=float) for t in record["trajectories"]]
    lines, heads = [], []
    for i, t in enumerate(record["trajectories"]):
        color = PATH_COLORS[i % len(PATH_COLORS)]
        lines.append(ax.plot([], [], color=color, lw=1.5, label=f"{t['optimizer']} (lr {t['learning_rate']:g})")[0])
        heads.append(ax.plot([], [], marker="o", color=color, mec="black", ms=7)[0])
    x0, y0 = record["start"]
    ax.plot(x0, y0, marker="s", color="white", mec="black", ms=8, ls="none")
    ax.legend(fontsize=7, loc="best")
    longest = max(len(p) for p in paths)
    stops = np.unique(np.linspace(1, longest, min(frames, longest)).astype(int))

    def draw(k):
        for p, line, head in zip(paths, lines, heads):
            shown = p[:min(stops[k], len(p))]
            line.set_data(shown[:, 0], shown[:, 1])
            head.set_data(shown[-1:, 0], shown[-1:, 1])
        return lines + heads

    anim = animation.FuncAnimation(fig, draw, frames=len(stops), interval=80, blit=True)
    path = Path(path)
    writer = animation.PillowWriter(fps=12)
    if kind == "html":  # the GIF embedded in one self-contained page (a few hundred KB, not 10 MB of PNG frames)
        import base64
        import tempfile

        with tempfile.TemporaryDirectory() as scratch:
            gif = Path(scratch) / "trajectories.gif"
            anim.save(gif, writer=writer, dpi=70)
            encoded = base64.b64encode(gif.read_bytes()).decode("ascii")
        rundir.atomic_write(path, f"<!doctype html><meta charset='utf-8'><title>{surface.name}: optimizer trajectories"
                                  f"</title>\n<h1>{surface.name}: f = {surface.formula}</h1>\n"
                                  f"<img alt='optimizer trajectories' src='data:image/gif;base64,{encoded}'>\n")
    else:
        rundir.atomic_save(path, lambda tmp: anim.save(tmp, writer=writer, dpi=70))
    plt.close(fig)
    return path
