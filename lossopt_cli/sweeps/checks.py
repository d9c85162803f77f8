"""Checks of a planned sweep that need its expanded runs: the ranked metrics are columns the runs record,
and runs that duplicate each other are said once before anything trains."""

from __future__ import annotations

from ..schema import ConfigError


def check_ranked_metrics(spec: dict, runs: list) -> None:
    """``rank_by`` and ``target.metric`` must be history columns the runs will record."""
    recorded = {"loss", "learning_rate"}
    for run in runs:
        # no metrics: the task's default, accuracy for classification (none for regression)
        recorded.update([m["name"] for m in run.config.metrics] if run.config.metrics is not None else ["accuracy"])
    recorded |= {f"val_{n}" for n in recorded if n != "learning_rate"}
    for key, metric in (("rank_by", spec.get("rank_by")), ("target.metric", (spec.get("target") or {}).get("metric"))):
        if metric is not None and metric not in recorded:
            from ..schema import suggest

            raise ConfigError(f"{key} {metric!r} is not a column the runs record.{suggest(metric, sorted(recorded))} "
                              f"Recorded: {', '.join(sorted(recorded))}.", key=key)


def duplicate_notes(runs: list) -> list[str]:
    """Runs whose validated configs are identical (a varied value the rest of the config ignores, or the same
    value listed twice): they train the same model twice, which a user should hear about before they start."""
    import json

    seen: dict[str, list[str]] = {}
    for run in runs:
        config = {k: v for k, v in run.config.to_dict().items() if k != "name"}
        seen.setdefault(json.dumps(config, sort_keys=True, default=str), []).append(run.name)
    same = [names for names in seen.values() if len(names) > 1]
    if not same:
        return []
    shown = "; ".join(" = ".join(names) for names in same[:3]) + ("; ..." if len(same) > 3 else "")
    return [f"{sum(len(n) for n in same)} runs train a config another run already trains ({shown}): the values "
            f"varied for them change nothing in the resolved config. Remove them from vary: to save the time."]
