"""Plots that compare configurations: mean ± std curves over seeds, learning-rate sensitivity, box plots.

Drawn only from saved runs (``analysis.runs.RunRecord``), with matplotlib's Agg backend.
"""

from __future__ import annotations

import math
from pathlib import Path

from .. import rundir
from ..analysis.runs import RunRecord
from ..analysis.stats import final_metric_name, finite, lower_is_better, mean_curve, mean_std, shared_loss_key
from .plots import PNG_OPTIONS


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def import_matplotlib() -> None:
    """What drawing the sweep's plots imports (``sweep_report.warm_up`` calls it ahead of time)."""
    _pyplot()
    import matplotlib.ticker  # noqa: F401


def _save(fig, path: str | Path, layout: bool = True) -> Path:
    plt = _pyplot()
    if layout:
        fig.tight_layout()
    try:
        return rundir.atomic_save(path, lambda tmp: fig.savefig(tmp, dpi=100, pil_kwargs=PNG_OPTIONS))
    finally:
        plt.close(fig)


def _groups(records: list[RunRecord], order: list[str] | None = None) -> dict[str, list[RunRecord]]:
    groups: dict[str, list[RunRecord]] = {}
    for record in records:
        groups.setdefault(record.group, []).append(record)
    if order:
        groups = {g: groups[g] for g in order if g in groups} | {g: v for g, v in groups.items() if g not in order}
    return groups


TOP = 3  # configurations drawn bold, with their spread band; the others thin, without a band
STYLES = ("-", "--", "-.", ":")


def line_style(i: int, plt) -> tuple:
    """A colour and dash pattern for the i-th configuration: 20 distinct colours (tab20's dark shades
    first, then its light ones), each dash pattern cycling, so 16 lines stay distinguishable."""
    cmap = plt.get_cmap("tab20")
    order = list(range(0, 20, 2)) + list(range(1, 20, 2))
    return cmap(order[i % 20]), STYLES[i % len(STYLES)]


def comparison_panels(records: list[RunRecord], rank_by: str | None) -> list[str]:
    """The ranking metric first, then the validation loss (or the final metric) beside it."""
    loss = shared_loss_key(records)
    rank_by = rank_by or loss
    other = loss if rank_by != loss else final_metric_name(records)
    has = lambda key: any(key in r.history for r in records)  # noqa: E731
    return [k for k in dict.fromkeys([rank_by, other]) if has(k)] or [loss]


def plot_comparison(records: list[RunRecord], path: str | Path, order: list[str] | None = None,
                    max_lines: int = 16, title: str = "", rank_by: str | None = None) -> Path:
    """The ranking metric (``rank_by``) and the validation loss per epoch: one line per configuration
    (mean over seeds) in ranking order, the best ``TOP`` bold with a band of ± one standard deviation,
    the legend outside the plot. ``order`` puts the best first; at most ``max_lines`` are drawn."""
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    groups = _groups(records, order)
    shown = dict(list(groups.items())[:max_lines])
    panels = comparison_panels(records, rank_by)
    fig, axes = plt.subplots(1, len(panels), figsize=(5.6 * len(panels) + 2.8, 4.6), squeeze=False)
    handles = {}
    single = all(len(runs) == 1 for runs in shown.values()) and len(shown) <= 10  # no seeds: one run each
    onsets = {group: overfitting_onset(runs[0]) for group, runs in shown.items()} if single else {}
    for p_i, (ax, key) in enumerate(zip(axes[0], panels)):
        all_values = []
        for i, (group, runs) in enumerate(shown.items()):
            epochs, means, stds = mean_curve(runs, key)
            if not epochs:
                continue
            color, style = line_style(i, plt)
            style = "-" if single else style  # single runs: validation solid, training dashed
            top = i < TOP
            label = f"#{i + 1} {group}" + (f" (n={len(runs)})" if len(runs) > 1 else "")
            if onsets.get(group) is not None:
                label += f", over-fits from {onsets[group]}"
            (line,) = ax.plot(epochs, means, color=color, label=label, linestyle=style,
                              linewidth=2.4 if top else 1.1, alpha=1.0 if top else 0.7, zorder=3 if top else 2)
            handles.setdefault(label, line)
            if top:
                ax.fill_between(epochs, [m - s for m, s in zip(means, stds)], [m + s for m, s in zip(means, stds)],
                                color=color, alpha=0.15, linewidth=0)
            all_values += means
            if single:  # single runs: their training curves too (dashed, thin) and the over-fitting onset
                train_key = key.removeprefix("val_")
                if train_key != key and train_key in runs[0].history:
                    train_epochs, train, _ = mean_curve(runs, train_key)
                    ax.plot(train_epochs, train, color=color, linewidth=1.0, linestyle="--", alpha=0.8)
                    all_values += train
                onset = onsets.get(group)
                if onset in epochs:
                    ax.plot([onset], [means[epochs.index(onset)]], marker="o", markersize=9, markerfacecolor="none",
                            markeredgecolor=color, markeredgewidth=1.8, linestyle="none")
        values = finite(all_values)
        # a log scale once the configurations span 1.5 decades: the good ones are not squashed flat
        if lower_is_better(key) and values and min(values) > 0 and max(values) / min(values) > 30:
            ax.set_yscale("log")
        ranked = " (ranking metric)" if p_i == 0 else ""
        ax.set_title(f"{key.replace('_', ' ')}{ranked}: validation solid, training dashed, o over-fitting onset"
                     if single else f"{key.replace('_', ' ')}{ranked}: mean over seeds", fontsize=10)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
    if handles:
        fig.legend(list(handles.values()), list(handles), loc="center left", bbox_to_anchor=(0.0, 0.5),
                   fontsize=9, frameon=False, title="best first", title_fontsize=10)
    note = f"best {len(shown)} of {len(groups)} configurations shown; " if len(groups) > len(shown) else ""
    fig.text(0.99, 0.01, f"{note}bold: top {min(TOP, len(shown))} (band: ± 1 std over seeds)", fontsize=7, ha="right")
    if title:
        fig.suptitle(title)
    width = fig.get_size_inches()[0]
    left = min(0.4, (0.8 + 0.075 * max(map(len, handles))) / width) if handles else 0.0  # room for the legend
    fig.tight_layout(rect=(left, 0.03, 1.0, 0.95 if title else 1.0))
    return _save(fig, path, layout=False)


def overfitting_onset(record: RunRecord) -> int | None:
    """The epoch a run starts to over-fit (the diagnosis' onset), or None."""
    from ..analysis.diagnose import diagnose_history

    try:
        result = diagnose_history(record.history, (record.config or {}).get("diagnostics"), record.summary)
    except Exception:  # noqa: BLE001 - a history the rules cannot read draws without the marker
        return None
    return next((f["epoch"] for f in result["findings"] if f["code"] == "overfitting"), None)


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
