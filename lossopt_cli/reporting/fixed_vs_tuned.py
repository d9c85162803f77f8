"""A tune sweep's fixed-vs-tuned comparison (``compare_fixed: true``): the compared configurations ranked at
their config's own values of the searched keys, beside their tuned ranking, and one sentence saying whether
tuning changed the order, and which configuration the fixed values held back.

The runs come tagged by the plan (``PlannedRun.tag == "fixed"``, ``PlannedRun.compared``); both rankings are
``analysis.leaderboard.leaderboard`` over seeds, and two neighbours in an order are joined by ``≈`` when
``analysis.noise.compare`` finds them within seed noise. No TensorFlow.
"""

from __future__ import annotations

from ..analysis import leaderboard, noise, stats
from ..analysis.runs import RunRecord
from .text import fmt

FIXED = "fixed"


def split(records: list[RunRecord], sweep) -> tuple[list[RunRecord], list[RunRecord]]:
    """(the tuned runs, the runs at the fixed values); no fixed run: every record is on the tuned side."""
    fixed = {run.group for run in sweep.runs if run.tag == FIXED}
    return [r for r in records if r.group not in fixed], [r for r in records if r.group in fixed]


def compare(rows: list[dict], fixed_records: list[RunRecord], tuned_records: list[RunRecord], sweep,
            rank_by: str) -> dict | None:
    """Adds ``fixed_rank``, ``fixed_config`` and the fixed final mean/std to each tuned row (in place); returns
    ``{"sentence", "fixed_leaderboard"}``, or None when the sweep has no fixed run."""
    if not fixed_records or not rows:
        return None
    compared = {run.group: run.compared for run in sweep.runs if run.compared}
    own = {run.compared: _searched(run.values, sweep) for run in sweep.runs if run.tag == FIXED}
    tuned = {run.compared: _searched(run.values, sweep) for run in sweep.runs if run.compared and run.tag != FIXED}
    fixed_rows, _ = leaderboard.leaderboard(fixed_records, None, rank_by)
    by_label = {compared.get(r["config"], r["config"]): r for r in fixed_rows}
    for row in rows:
        fixed = by_label.get(compared.get(row["config"], row["config"]), {})
        row.update({"fixed_rank": fixed.get("rank"), "fixed_config": fixed.get("config"),
                    f"fixed_final_{rank_by}_mean": fixed.get(f"final_{rank_by}_mean"),
                    f"fixed_final_{rank_by}_std": fixed.get(f"final_{rank_by}_std")})
    lower = stats.lower_is_better(rank_by)
    fixed_order = _order(fixed_rows, fixed_records, compared, lower, rank_by)
    tuned_order = _order(rows, tuned_records, compared, lower, rank_by)
    values = _values_text(own)
    head = (f"At your fixed settings ({values}) the order was {fixed_order}; tuned it is {tuned_order} "
            f"(best first by the final {rank_by}; ≈: within seed noise)")
    after = [compared.get(r["config"], r["config"]) for r in rows]
    before = [label for label in (compared.get(r["config"], r["config"]) for r in fixed_rows) if label in after]
    if before == after:
        sentence = f"{head}: the same ranking; tuning changed the scores, not the order."
    else:
        moved = [f"{label} was held back by {_pairs(own.get(label, {}))} (tuned {_pairs(tuned.get(label, {}))}) and "
                 f"moves from #{before.index(label) + 1} to #{after.index(label) + 1}"
                 for label in after if label in before and after.index(label) < before.index(label)]
        sentence = f"{head}: the ranking changed" + (f": {'; '.join(moved)}." if moved else ".")
    missed = [_missed(row, rank_by, lower, compared, sweep) for row in rows]
    return {"sentence": " ".join([sentence] + [m for m in missed if m]), "fixed_leaderboard": fixed_rows}


def _missed(row: dict, rank_by: str, lower: bool, compared: dict, sweep) -> str:
    """A configuration that did better at the fixed values than tuned: the budget did not find them."""
    fixed, tuned = row.get(f"fixed_final_{rank_by}_mean"), row.get(f"final_{rank_by}_mean")
    if fixed is None or tuned is None or (fixed >= tuned if lower else fixed <= tuned):
        return ""
    label = compared.get(row["config"], row["config"])
    return (f"{label} did better at the fixed values ({fmt(fixed)}) than tuned ({fmt(tuned)}): "
            f"{sweep.spec.get('trials')} trials did not find them; give it more trials, or a search: that holds them.")


def _searched(values: dict, sweep) -> dict:
    search = sweep.spec.get("search") or {}
    return {k: v for k, v in values.items() if k in search}


def _pairs(values: dict) -> str:
    return ", ".join(f"{k}={fmt(v) if isinstance(v, float) else v}" for k, v in values.items()) or "its defaults"


def _values_text(own: dict) -> str:
    """The fixed values once when every configuration shares them, else per configuration."""
    texts = {label: _pairs(values) for label, values in own.items()}
    if len(set(texts.values())) == 1:
        return next(iter(texts.values()))
    return "; ".join(f"{label}: {text}" for label, text in texts.items())


def _order(rows: list[dict], records: list[RunRecord], compared: dict, lower: bool, rank_by: str) -> str:
    """``adam > sgd ≈ momentum``: the rows' order, neighbours within seed noise joined by ``≈``."""
    groups = {g.group: g for g in stats.group_runs(records, stats.final_metric_name(records), None, rank_by)}
    text = ""
    for i, row in enumerate(rows):
        label = compared.get(row["config"], row["config"])
        if i:
            a, b = groups.get(rows[i - 1]["config"]), groups.get(row["config"])
            call = noise.compare(a.by_seed(), b.by_seed(), lower)["call"] if a and b else "unknown"
            text += " ≈ " if call == "within noise" else " > "
        text += label
    return text
