"""The leaderboard of a sweep: configurations ranked by the mean final value of the ranking metric, one with a
diverged or unstable seed never above a healthy one with a similar score, whether each is behind the first
beyond seed noise (``analysis.noise``: paired seeds, sign-flip test, probability of improvement), the
epochs-to-target goal, and the notes printed under the table. Built on ``analysis.stats``; pure Python."""

from __future__ import annotations

from . import noise
from .runs import RunRecord
from .stats import SIMILAR, USABLE, GroupStats, final_metric_name, finite, group_runs, lower_is_better, mean_std, shared_loss_key


def resolve_target(records: list[RunRecord], target: dict | None, default_metric: str = "val_loss") -> dict:
    """The epochs-to-target goal: as given, or within 10% of the best configuration's mean best value
    of ``default_metric`` (the ranking metric); for a score bounded by 1 (accuracy, AUC), within 10% of
    its error 1 - score, so that a goal of AUC 0.89 is not reached by everyone at epoch 1."""
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
            if lower_is_better(metric):
                value = best + 0.1 * abs(best)
            elif noise.metric_range(metric)[1] == 1.0:  # a score up to 1: within 10% of the best one's error
                value = best - 0.1 * (1.0 - best)
            else:
                value = best - 0.1 * abs(best)
            target["value"] = float(f"{value:.4g}")
            target["default"] = True
    target["metric"] = metric
    return target


def rank_groups(groups: list[GroupStats], lower: bool) -> list[GroupStats]:
    """By the mean final value (configurations with no usable run last); then a configuration with a
    diverged or unstable seed moves below every healthy one whose score is similar (within seed noise
    or within ``SIMILAR`` of it), so that a lucky unstable configuration does not lead."""
    sign = 1 if lower else -1

    def key(g: GroupStats):
        mean = mean_std(g.values("final_rank"))[0]
        return (mean is None, sign * mean if mean is not None else 0.0)

    order = sorted(groups, key=key)
    for g in [g for g in order if g.flagged and mean_std(g.values("final_rank"))[0] is not None]:
        i = order.index(g)
        mean = mean_std(g.values("final_rank"))[0]
        last = i
        for j in range(i + 1, len(order)):
            h = order[j]
            other = mean_std(h.values("final_rank"))[0]
            if h.flagged or other is None:
                continue
            call = noise.compare(g.by_seed(), h.by_seed(), lower)["call"]
            close = abs(other - mean) <= SIMILAR * max(abs(mean), abs(other), 1e-12)
            if close or call in ("within noise", "unknown"):
                last = j
        if last > i:
            order.insert(last, order.pop(i))
    return order


def leaderboard(records: list[RunRecord], target: dict | None = None, rank_by: str | None = None) -> tuple[list[dict], dict]:
    """Rows ranked by the mean final ``rank_by`` (default: validation loss), and notes: the final metric's
    name, the target, how sure the first place is, and the optimism of best-epoch values."""
    metric = final_metric_name(records)
    rank_by = rank_by or shared_loss_key(records)
    target = resolve_target(records, target, rank_by)
    lower = lower_is_better(rank_by)
    groups = rank_groups(group_runs(records, metric, target, rank_by), lower)
    rows, comparisons = [], {}
    for rank, g in enumerate(groups, 1):
        final_mean, final_std = mean_std(g.values("final_rank"))
        best_mean, best_std = mean_std(g.values("best_loss"))
        ci = g.interval
        reached = g.values("to_target")
        cmp = noise.compare(groups[0].by_seed(), g.by_seed(), lower) if rank > 1 else None
        comparisons[g.group] = cmp
        row = {
            "rank": rank, "config": g.group, "runs": len(g.runs), "diverged": g.troubled("diverged"),
            "unstable": g.troubled("unstable"), "failed": g.count("failed"), "interrupted": g.count("interrupted"),
            f"final_{rank_by}_mean": final_mean, f"final_{rank_by}_std": final_std,
            f"final_{rank_by}_ci95_low": ci[0] if ci else None, f"final_{rank_by}_ci95_high": ci[1] if ci else None,
            f"best_{rank_by}_mean": best_mean, f"best_{rank_by}_std": best_std,
            "best_epoch_mean": mean_std(g.values("best_epoch"))[0],
            f"test_{rank_by.removeprefix('val_')}_mean": mean_std(g.values("test"))[0],
        }
        if metric != rank_by:
            row[f"final_{metric}_mean"], row[f"final_{metric}_std"] = mean_std(g.values("final_metric"))
        row.update({
            "epochs_to_target_mean": mean_std(reached)[0], "reached_target": f"{len(reached)}/{len(g.usable)}",
            "val_loss_auc_mean": mean_std(g.values("auc"))[0],
            "wall_time_mean": mean_std(g.values("wall_time"))[0],
            "verdict": g.verdict,
            "within_noise_of_best": _call_word(cmp),
            "p_improvement_by_best": cmp["probability_of_improvement"] if cmp else None,
            "p_value_vs_best": cmp["p_value"] if cmp else None,
            "seeds_won_by_best": f"{cmp['wins']}/{cmp['pairs']}" if cmp and cmp["wins"] is not None else "",
        })
        rows.append(row)
    has_test = any(r[f"test_{rank_by.removeprefix('val_')}_mean"] is not None for r in rows)
    return rows, {"final_metric": metric, "target": target, "rank_by": rank_by,
                  "noise": noise_note(rows, rank_by, comparisons), "warning": mixed_losses_warning(records, rank_by),
                  "has_test": has_test, "optimism": optimism_note(rank_by, has_test),
                  "flagged": flagged_note(rows)}


def _call_word(cmp: dict | None) -> str:
    if cmp is None:
        return ""
    return {"ahead": "no", "hint": "probably not", "within noise": "yes", "unknown": ""}[cmp["call"]]


def optimism_note(rank_by: str, has_test: bool) -> str:
    return (f"Ranked by the final {rank_by} (the last epoch, or the restored epoch after early stopping): the "
            f"model a run ends with. The best {rank_by} picks its epoch on the same validation data "
            f"it is scored on, so it is optimistic" + ("; the test column is the unbiased score." if has_test else
                                                       "; set data.test_split for an unbiased score."))


def flagged_note(rows: list[dict]) -> str:
    bad = [f"{r['config']} ({', '.join(f'{r[k]} {k}' for k in ('diverged', 'unstable') if r[k])} of {r['runs']} seeds)"
           for r in rows if r["diverged"] or r["unstable"]]
    if not bad:
        return ""
    return ("flagged: " + "; ".join(bad) + ". A flagged configuration is ranked below every healthy one with a "
            "similar score.")


def mixed_losses_warning(records: list[RunRecord], rank_by: str) -> str:
    """Losses of different kinds are not on one scale: ranking them by their own loss would mislead."""
    losses = {str(((r.config or {}).get("loss") or {}).get("name")) if isinstance((r.config or {}).get("loss"), dict)
              else str((r.config or {}).get("loss")) for r in records if r.config}
    if "loss" in rank_by and len(losses) > 1:
        return (f"the configurations use different losses ({', '.join(sorted(losses))}): their {rank_by} values "
                f"are not on one scale; rank by a shared metric instead (rank_by: in the sweep file).")
    return ""


def noise_note(rows: list[dict], rank_by: str = "val_loss", comparisons: dict | None = None) -> str:
    """Whether the best configuration is ahead of the second beyond seed noise, and how sure that is."""
    if len(rows) < 2:
        return "only one configuration: nothing to rank."
    first, second = rows[0], rows[1]
    cmp = (comparisons or {}).get(second["config"])
    if cmp is None:
        return ""
    return noise.sentence(first["config"], second["config"], cmp, f"final {rank_by}")
