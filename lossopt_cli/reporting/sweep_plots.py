"""Plots that compare configurations: mean ± std curves over seeds, learning-rate sensitivity, box plots.

Drawn only from saved runs (``analysis.runs.RunRecord``), with matplotlib's Agg backend.
"""

from __future__ import annotations

import math
from pathlib import Path

from .. import rundir
from ..analysis.runs import RunRecord
from ..analysis.stats import final_metric_name, finite, mean_curve, mean_std, shared_loss_key


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str | Path) -> Path:
    plt = _pyplot()
    fig.tight_layout()
    try:
        return rundir.atomic_save(path, lambda tmp: fig.savefig(tmp, dpi=100))
    finally:
        plt.close(fig)


def _groups(records: list[RunRecord], order: list[str] | None = None) -> dict[str, list[RunRecord]]:
    groups: dict[str, list[RunRecord]] = {}
    for record in records:
        groups.setdefault(record.group, []).append(record)
    if order:
        groups = {g: groups[g] for g in order if g in groups} | {g: v for g, v in groups.items() if g not in order}
    return groups


def plot_comparison(records: list[RunRecord], path: str | Path, order: list[str] | None = None,
                    max_lines: int = 12, title: str = "") -> Path:
    """Validation loss and the validation metric per epoch: one line per configuration (mean over seeds),
    a band of ± one standard deviation. ``order`` puts the best first; at most ``max_lines`` are drawn."""
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    groups = _groups(records, order)
    shown = dict(list(groups.items())[:max_lines])
    loss = shared_loss_key(records)
    metric = final_metric_name(records)
    panels = [loss] + ([metric] if metric != loss else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(6.2 * len(panels), 4.4), squeeze=False)
    colors = plt.get_cmap("tab10")  # ten distinct colours, then the same colours dashed, then dotted
    for ax, key in zip(axes[0], panels):
        all_values = []
        for i, (group, runs) in enumerate(shown.items()):
            epochs, means, stds = mean_curve(runs, key)
            if not epochs:
                continue
            color = colors(i % 10)
            label = f"{group} (n={len(runs)})" if len(runs) > 1 else group
            ax.plot(epochs, means, color=color, label=label, linewidth=1.6, linestyle=("-", "--", ":")[i // 10 % 3])
            ax.fill_between(epochs, [m - s for m, s in zip(means, stds)], [m + s for m, s in zip(means, stds)],
                            color=color, alpha=0.18, linewidth=0)
            all_values += means
        values = finite(all_values)
        # a log scale once the configurations span 1.5 decades: the good ones are not squashed flat
        if "loss" in key and values and min(values) > 0 and max(values) / min(values) > 30:
            ax.set_yscale("log")
        ax.set_title(f"{key.replace('_', ' ')} (mean ± std over seeds)")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
    if axes[0][-1].get_legend_handles_labels()[0]:
        axes[0][-1].legend(loc="best", fontsize=7)
    if len(groups) > len(shown):
        fig.text(0.01, 0.01, f"best {len(shown)} of {len(groups)} configurations shown", fontsize=8)
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def plot_lr_sensitivity(records: list[RunRecord], path: str | Path) -> Path | None:
    """Final validation metric against the learning rate (log axis), one line per optimizer, mean ± std over
    seeds (DeepOBS' tuneability view). None when fewer than two learning rates were tried."""
    metric = final_metric_name(records)
    points: dict[str, dict[float, list[float]]] = {}
    for record in records:
        name, lr = record.optimizer()
        finals = record.history.get(metric, [])
        if name is None or lr is None or not finals:
            continue
        value = finals[-1] if record.status != "diverged" else math.nan
        points.setdefault(name, {}).setdefault(lr, []).append(value)
    if not any(len(by_lr) > 1 for by_lr in points.values()):
        return None  # no optimizer was tried at two learning rates
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    any_failed = False
    for name, by_lr in sorted(points.items()):
        lrs = sorted(by_lr)
        stats = [mean_std(by_lr[lr]) for lr in lrs]
        xs = [lr for lr, (m, _) in zip(lrs, stats) if m is not None]
        ms = [m for m, _ in stats if m is not None]
        ss = [s for m, s in stats if m is not None]
        ax.errorbar(xs, ms, yerr=ss, marker="o", capsize=3, label=name)
        failed = [lr for lr, (m, _) in zip(lrs, stats) if m is None]
        if failed:
            any_failed = True
            ax.scatter(failed, [min(ms) if ms else 0] * len(failed), marker="x", color="k")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel(f"final {metric}")
    ax.set_title(f"learning-rate sensitivity: final {metric}" + (" (x: every seed diverged)" if any_failed else ""))
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="best", fontsize=8)
    return _save(fig, path)


def plot_final_boxes(records: list[RunRecord], path: str | Path, order: list[str] | None = None) -> Path | None:
    """The final validation metric of each configuration's runs as box plots (best configuration first)."""
    metric = final_metric_name(records)
    data = {}
    for group, runs in _groups(records, order).items():
        values = finite(r.history.get(metric, [math.nan])[-1] for r in runs if r.history.get(metric)
                        and r.status != "diverged")
        if values:
            data[group] = values
    if not data:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(6.0, 0.55 * len(data) + 2), 4.6))
    ax.boxplot(list(data.values()), showmeans=True)
    ax.set_xticks(range(1, len(data) + 1), list(data), rotation=60, ha="right", fontsize=7)
    ax.set_ylabel(f"final {metric}")
    ax.set_title(f"final {metric} per configuration (over seeds)")
    ax.grid(alpha=0.3, axis="y")
    return _save(fig, path)
