"""Statistics over runs: group by configuration across seeds, mean ± std and 95% intervals, ranking.

Per run: best validation loss, final validation metric, best epoch, epochs to reach a target
(DeepOBS' speed), area under the validation-loss curve and wall time. Per configuration:
their mean, standard deviation and a Student-t 95% interval of the mean; two configurations
are "within seed noise" when those intervals overlap. Pure Python: no NumPy, no TensorFlow.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from .runs import RunRecord

# Two-sided 95% critical values of Student's t for 1..30 degrees of freedom; 1.96 beyond.
T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
       2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)

USABLE = ("completed", "early_stopped", "interrupted", "unknown")  # runs whose curves count in the statistics


def finite(values) -> list[float]:
    return [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)]


# Scores where more is better; everything else (loss, mae, mse, rmse, *_error, hinge, ...) is an error.
HIGHER_IS_BETTER = ("accuracy", "acc", "precision", "recall", "f1", "auc", "r2", "iou", "top_k", "similarity")


def lower_is_better(metric: str) -> bool:
    """Whether a smaller value of a history column is better (``val_`` prefix ignored)."""
    name = metric.removeprefix("val_").lower()
    if "loss" in name or "error" in name:
        return True
    return not any(word in name.split("_") or name.startswith(word) or name.endswith(word)
                   for word in HIGHER_IS_BETTER)


def mean_std(values) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation (0 for one value) of the finite values."""
    xs = finite(values)
    if not xs:
        return None, None
    mean = sum(xs) / len(xs)
    std = math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0
    return mean, std


def interval95(values) -> tuple[float, float] | None:
    """Student-t 95% confidence interval of the mean; None with fewer than two values."""
    xs = finite(values)
    if len(xs) < 2:
        return None
    mean, std = mean_std(xs)
    t = T95[len(xs) - 2] if len(xs) - 1 <= len(T95) else 1.96
    half = t * std / math.sqrt(len(xs))
    return mean - half, mean + half


def overlap(a: tuple[float, float] | None, b: tuple[float, float] | None) -> bool | None:
    if a is None or b is None:
        return None
    return a[0] <= b[1] and b[0] <= a[1]


def epochs_to_target(history: dict, metric: str, target: float) -> int | None:
    """The first epoch at which ``metric`` reaches ``target`` (falls to it for losses, rises for others)."""
    lower = lower_is_better(metric)
    for epoch, value in zip(history.get("epoch", []), history.get(metric, [])):
        if isinstance(value, float) and math.isfinite(value) and (value <= target if lower else value >= target):
            return int(epoch)
    return None


def area_under(history: dict, metric: str = "val_loss") -> float | None:
    """Trapezoidal area under a curve, in metric x epochs; None if a value is not finite or it has < 2 points."""
    values = history.get(metric, [])
    if len(values) < 2 or len(finite(values)) != len(values):
        return None
    return sum((a + b) / 2 for a, b in zip(values, values[1:]))


def loss_key(history: dict) -> str:
    return "val_loss" if "val_loss" in history else "loss"


def shared_loss_key(records: list[RunRecord]) -> str:
    """``val_loss`` when any run has a validation split, else ``loss``."""
    return "val_loss" if any("val_loss" in r.history for r in records) or not records else "loss"


def final_metric_name(records: list[RunRecord]) -> str:
    """The validation metric reported as "final": the first val_ column besides val_loss, else val_loss."""
    for record in records:
        for key in record.history:
            if key.startswith("val_") and key != "val_loss":
                return key
    return shared_loss_key(records)


@dataclass
class RunStats:
    record: RunRecord
    best_loss: float | None
    final_metric: float | None
    best_epoch: int | None
    to_target: int | None
    auc: float | None
    wall_time: float | None


def run_stats(record: RunRecord, metric: str, target: dict | None, rank_by: str = "val_loss") -> RunStats:
    """``best_loss`` is the best value of ``rank_by`` (lowest for losses and errors, highest otherwise)."""
    history = record.history
    key = loss_key(history)
    ranked = rank_by if rank_by in history or rank_by != "val_loss" else key
    values = finite(history.get(ranked, []))
    best_loss = (min(values) if lower_is_better(ranked) else max(values)) if values else None
    best_epoch = record.summary.get("best_epoch")
    if best_epoch is None and values:
        best_epoch = history["epoch"][history[ranked].index(best_loss)]
    finals = history.get(metric, [])
    final = finals[-1] if finals and math.isfinite(finals[-1]) else None
    to_target = epochs_to_target(history, target["metric"], target["value"]) if target and target.get(
        "value") is not None else None
    return RunStats(record, best_loss, final, best_epoch, to_target, area_under(history, key),
                    record.summary.get("wall_time_seconds"))


@dataclass
class GroupStats:
    group: str
    runs: list[RunStats] = field(default_factory=list)

    @property
    def usable(self) -> list[RunStats]:
        return [r for r in self.runs if r.record.status in USABLE]

    def values(self, attribute: str) -> list[float]:
        return finite(getattr(r, attribute) for r in self.usable)

    def count(self, status: str) -> int:
        return sum(r.record.status == status for r in self.runs)

    @property
    def interval(self):
        return interval95(self.values("best_loss"))

    @property
    def verdict(self) -> str:
        verdicts = Counter(r.record.verdict for r in self.runs if r.record.verdict)
        return verdicts.most_common(1)[0][0] if verdicts else ""


def group_runs(records: list[RunRecord], metric: str, target: dict | None, rank_by: str = "val_loss") -> list[GroupStats]:
    groups: dict[str, GroupStats] = {}
    for record in records:
        groups.setdefault(record.group, GroupStats(record.group)).runs.append(
            run_stats(record, metric, target, rank_by))
    return list(groups.values())


def resolve_target(records: list[RunRecord], target: dict | None, default_metric: str = "val_loss") -> dict:
    """The epochs-to-target goal: as given, or within 10% of the best configuration's mean best value
    of ``default_metric`` (the ranking metric)."""
    target = dict(target or {})
    metric = target.get("metric") or default_metric
    if target.get("value") is None:
        best_per_run: dict[str, list[float]] = {}
        for r in records:
            if r.status in USABLE:
                values = finite(r.history.get(metric, []))
                if values:
                    pick = min(values) if lower_is_better(metric) else max(values)
                    best_per_run.setdefault(r.group, []).append(pick)
        means = [mean_std(v)[0] for v in best_per_run.values()]
        if means:
            best = min(means) if lower_is_better(metric) else max(means)
            value = best + 0.1 * abs(best) if lower_is_better(metric) else best - 0.1 * abs(best)
            target["value"] = float(f"{value:.4g}")
            target["default"] = True
    target["metric"] = metric
    return target


def leaderboard(records: list[RunRecord], target: dict | None = None, rank_by: str | None = None) -> tuple[list[dict], dict]:
    """Rows ranked by the mean best ``rank_by`` (default: validation loss; configurations with no usable run
    last), and notes: the final metric's name, the target, whether the top two are within seed noise."""
    metric = final_metric_name(records)
    rank_by = rank_by or shared_loss_key(records)
    target = resolve_target(records, target, rank_by)
    groups = group_runs(records, metric, target, rank_by)
    sign = 1 if lower_is_better(rank_by) else -1

    def rank_key(g: GroupStats):
        mean = mean_std(g.values("best_loss"))[0]
        return (mean is None, sign * mean if mean is not None else 0.0)

    groups.sort(key=rank_key)
    best_interval = groups[0].interval if groups else None
    rows = []
    for rank, g in enumerate(groups, 1):
        loss_mean, loss_std = mean_std(g.values("best_loss"))
        ci = g.interval
        final_mean, final_std = mean_std(g.values("final_metric"))
        reached = g.values("to_target")
        rows.append({
            "rank": rank, "config": g.group, "runs": len(g.runs), "diverged": g.count("diverged"),
            "failed": g.count("failed"),
            f"best_{rank_by}_mean": loss_mean, f"best_{rank_by}_std": loss_std,
            f"best_{rank_by}_ci95_low": ci[0] if ci else None, f"best_{rank_by}_ci95_high": ci[1] if ci else None,
            f"final_{metric}_mean": final_mean, f"final_{metric}_std": final_std,
            "best_epoch_mean": mean_std(g.values("best_epoch"))[0],
            "epochs_to_target_mean": mean_std(reached)[0], "reached_target": f"{len(reached)}/{len(g.usable)}",
            "val_loss_auc_mean": mean_std(g.values("auc"))[0],
            "wall_time_mean": mean_std(g.values("wall_time"))[0],
            "verdict": g.verdict,
            "within_noise_of_best": _yes_no(overlap(best_interval, ci)) if rank > 1 else "",
        })
    return rows, {"final_metric": metric, "target": target, "rank_by": rank_by, "noise": noise_note(rows, rank_by),
                  "warning": mixed_losses_warning(records, rank_by)}


def mixed_losses_warning(records: list[RunRecord], rank_by: str) -> str:
    """Losses of different kinds are not on one scale: ranking them by their own loss would mislead."""
    losses = {str(((r.config or {}).get("loss") or {}).get("name")) if isinstance((r.config or {}).get("loss"), dict)
              else str((r.config or {}).get("loss")) for r in records if r.config}
    if "loss" in rank_by and len(losses) > 1:
        return (f"the configurations use different losses ({', '.join(sorted(losses))}): their {rank_by} values "
                f"are not on one scale; rank by a shared metric instead (rank_by: in the sweep file).")
    return ""


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def noise_note(rows: list[dict], rank_by: str = "val_loss") -> str:
    """Whether the two best configurations can be told apart from the spread over seeds."""
    if len(rows) < 2:
        return "only one configuration: nothing to rank."
    first, second = rows[0], rows[1]

    def interval(row):
        low, high = row[f"best_{rank_by}_ci95_low"], row[f"best_{rank_by}_ci95_high"]
        return None if low is None else (low, high)

    a, b = interval(first), interval(second)
    if a is None or b is None:
        return (f"{first['config']} and {second['config']}: cannot tell whether they differ beyond seed noise "
                f"(a 95% interval needs at least two finished seeds per configuration).")
    span = f"[{a[0]:.4g}, {a[1]:.4g}] vs [{b[0]:.4g}, {b[1]:.4g}]"
    if overlap(a, b):
        return (f"{first['config']} and {second['config']} are within seed noise: their 95% intervals of the mean "
                f"best {rank_by} overlap ({span}).")
    return (f"{first['config']} is ahead of {second['config']} beyond seed noise: their 95% intervals of the mean "
            f"best {rank_by} do not overlap ({span}).")


def mean_curve(records: list[RunRecord], metric: str) -> tuple[list[int], list[float], list[float]]:
    """Epochs, mean and std of ``metric`` over the runs at each epoch (runs of different lengths: those that
    reached the epoch; non-finite values skipped)."""
    by_epoch: dict[int, list[float]] = {}
    for record in records:
        for epoch, value in zip(record.history.get("epoch", []), record.history.get(metric, [])):
            by_epoch.setdefault(int(epoch), []).append(value)
    epochs, means, stds = [], [], []
    for epoch in sorted(by_epoch):
        mean, std = mean_std(by_epoch[epoch])
        if mean is not None:
            epochs.append(epoch)
            means.append(mean)
            stds.append(std)
    return epochs, means, stds
