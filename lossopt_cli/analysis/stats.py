"""Statistics over runs: group by configuration across seeds, mean ± std and 95% intervals, ranking.

Per run: the final value of the ranking metric (the mean of its last ``LAST_STRIP`` epochs, or the
restored epoch when early stopping restored the best weights: the model the user keeps; an
unstable seed is flagged by its verdict rather than averaged away), its best
value and epoch (picked on the validation data it is scored on, so optimistic), the test score
where there is a test split, epochs to reach a target (DeepOBS' speed), the area under the
validation-loss curve and wall time. Per configuration: mean, standard deviation and a bootstrap
95% interval of the mean (inside the metric's range). The ranking and the leaderboard's rows and notes
are ``analysis.leaderboard``'s. Pure Python: no NumPy, no TensorFlow.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from .. import rundir
from . import noise
from .runs import RunRecord

# Two-sided 95% critical values of Student's t for 1..30 degrees of freedom; 1.96 beyond.
T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
       2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)

USABLE = (*rundir.USABLE, "unknown")  # runs whose curves count in the statistics (unknown: a plain Keras history)
LAST_STRIP = 1  # epochs averaged into a run's final value (1: the last epoch, the model a run ends with)
SIMILAR = 0.1  # relative difference under which two configurations' scores are "similar"
TROUBLE = ("diverged", "unstable")  # verdicts that flag a configuration


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
    best_loss: float | None  # the best value of rank_by (lowest for losses and errors, highest otherwise)
    final_metric: float | None  # the last value of the final metric
    best_epoch: int | None
    to_target: int | None
    auc: float | None
    wall_time: float | None
    final_rank: float | None = None  # the final value of rank_by (what the ranking uses)
    test: float | None = None  # the test score of rank_by's metric, where the run has a test split

    @property
    def trouble(self) -> str | None:
        """``diverged`` or ``unstable`` when this seed went wrong (status or verdict)."""
        if self.record.status == "diverged" or self.record.verdict == "diverged":
            return "diverged"
        return "unstable" if self.record.verdict == "unstable" else None


def final_value(record: RunRecord, metric: str) -> float | None:
    """The value a run ends with: the restored epoch's when ``EarlyStopping(restore_best_weights=True)``
    ended it, else the mean of the last ``LAST_STRIP`` epochs (None if one of them is not finite)."""
    values = record.history.get(metric, [])
    if not values:
        return None
    es = ((record.config or {}).get("training") or {}).get("early_stopping")
    best_epoch = record.summary.get("best_epoch")
    if (record.status == "early_stopped" and es and (es is True or es.get("restore_best_weights"))
            and best_epoch in record.history.get("epoch", [])):
        value = values[record.history["epoch"].index(best_epoch)]
        return float(value) if finite([value]) else None
    went_wrong = record.status == "diverged" or record.verdict == "diverged"
    tail = values[-LAST_STRIP:] if went_wrong else [v for v in values if not math.isnan(v)][-LAST_STRIP:]
    return sum(tail) / len(tail) if tail and len(finite(tail)) == len(tail) else None


def test_value(record: RunRecord, metric: str) -> float | None:
    test = record.summary.get("test") or {}
    value = test.get(metric.removeprefix("val_"))
    return float(value) if finite([value]) else None


def run_stats(record: RunRecord, metric: str, target: dict | None, rank_by: str = "val_loss") -> RunStats:
    history = record.history
    key = loss_key(history)
    ranked = rank_by if rank_by in history or rank_by != "val_loss" else key
    values = finite(history.get(ranked, []))
    best_loss = (min(values) if lower_is_better(ranked) else max(values)) if values else None
    best_epoch = record.summary.get("best_epoch") if ranked == "val_loss" else None
    if best_epoch is None and values:
        best_epoch = history["epoch"][history[ranked].index(best_loss)]
    finals = history.get(metric, [])
    final = finals[-1] if finals and math.isfinite(finals[-1]) else None
    to_target = epochs_to_target(history, target["metric"], target["value"]) if target and target.get(
        "value") is not None else None
    return RunStats(record, best_loss, final, best_epoch, to_target, area_under(history, key),
                    record.summary.get("wall_time_seconds"), final_value(record, ranked), test_value(record, ranked))


@dataclass
class GroupStats:
    group: str
    runs: list[RunStats] = field(default_factory=list)
    metric: str = "val_loss"  # rank_by

    @property
    def usable(self) -> list[RunStats]:
        return [r for r in self.runs if r.record.status in USABLE]

    def values(self, attribute: str) -> list[float]:
        return finite(getattr(r, attribute) for r in self.usable)

    def by_seed(self) -> dict:
        """{seed: final value} of the usable runs (the run's name where the seed is unknown)."""
        return {(r.record.seed if r.record.seed is not None else r.record.name): r.final_rank
                for r in self.usable if r.final_rank is not None}

    def count(self, status: str) -> int:
        return sum(r.record.status == status for r in self.runs)

    def troubled(self, kind: str) -> int:
        return sum(r.trouble == kind for r in self.runs)

    @property
    def flagged(self) -> bool:
        return any(r.trouble for r in self.runs)

    @property
    def interval(self):
        return noise.bootstrap_interval(self.values("final_rank"), noise.metric_range(self.metric))

    @property
    def verdict(self) -> str:
        verdicts = Counter(r.record.verdict for r in self.runs if r.record.verdict)
        return verdicts.most_common(1)[0][0] if verdicts else ""


def group_runs(records: list[RunRecord], metric: str, target: dict | None, rank_by: str = "val_loss") -> list[GroupStats]:
    groups: dict[str, GroupStats] = {}
    for record in records:
        groups.setdefault(record.group, GroupStats(record.group, metric=rank_by)).runs.append(
            run_stats(record, metric, target, rank_by))
    return list(groups.values())


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
