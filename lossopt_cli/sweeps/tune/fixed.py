"""The fixed side of a tune sweep (``compare_fixed: true``): every compared configuration also run at its own
config's values of the searched keys (what the user would have trained without tuning), on the same seeds.

These runs are planned with the seed runs (``runs/<configuration>-<values>-fixed-seedN/``, tagged ``fixed``),
so ``--dry-run`` counts them and ``--resume`` finds them finished; ``reporting.fixed_vs_tuned`` ranks them
beside the tuned runs. Nothing here imports Optuna or TensorFlow.
"""

from __future__ import annotations

from typing import Any, Mapping

from ... import config as config_module
from ...naming import part
from ..plan import PlannedRun, by_depth, inline_yaml, run_name

FIXED = "fixed"  # the tag of these runs, and their names' marker


def dotted(mapping: Any, key: str) -> Any:
    """``mapping``'s value at a dotted key (``optimizer.learning_rate``), None where the path is absent."""
    for step in key.split("."):
        if not isinstance(mapping, Mapping) or step not in mapping:
            return None
        mapping = mapping[step]
    return mapping


def fixed_values(config: config_module.RunConfig, search: Mapping) -> dict:
    """The config's values of the searched keys (a key left to the optimizer's own default is not named)."""
    values = config.to_dict()
    return {key: value for key in search if (value := dotted(values, key)) is not None}


def fixed_runs(base: dict, compared: list[dict], search: Mapping, seeds: list | None) -> list[PlannedRun]:
    """Each compared configuration at its config's values of the searched keys, once per seed."""
    runs = []
    for values in compared:
        label = run_name(values) or "base"
        own = config_module.validate(config_module.apply_overrides(base, {"name": label, **by_depth(values)}))
        fixed = {**values, **fixed_values(own, search)}
        for seed in seeds or [None]:
            run_values = {**fixed, "seed": seed} if seed is not None else dict(fixed)
            name = "-".join([run_name(fixed) or label, FIXED] + ([part("seed", seed)] if seed is not None else []))
            config = config_module.validate(config_module.apply_overrides(base, {"name": name, **by_depth(run_values)}))
            runs.append(PlannedRun(name, run_values, config, compared=label, tag=FIXED))
    return runs


def set_in_base(spec: dict) -> dict:
    """The searched keys the sweep's base config sets itself (after ``set:``): the user's fixed settings."""
    return {key: value for key in spec.get("search") or {} if (value := dotted(spec["base"], key)) is not None}


def dry_run_line(spec: dict, configurations: list[PlannedRun]) -> str | None:
    """What ``--dry-run`` says about the fixed runs (``configurations``: the compared ones, as planned): their
    values and names, or (not asked for) that the base config's own values could be compared."""
    seeds = spec.get("seeds")
    count = len(configurations) * len(seeds or [0])
    if spec.get("compare_fixed"):
        own = {run.name: fixed_values(run.config, spec["search"]) for run in configurations}
        texts = {name: ", ".join(f"{k}={inline_yaml(v)}" for k, v in values.items()) for name, values in own.items()}
        shared = len(set(texts.values())) == 1
        values = next(iter(texts.values())) if shared else "; ".join(f"{n}: {t}" for n, t in texts.items())
        first = fixed_runs(spec["base"], [configurations[0].values], spec["search"], seeds[:1] if seeds else None)
        return (f"compare_fixed: {count} run(s) at the configurations' own {values} (seeds {seeds or 'none'}), "
                f"ranked beside the tuned ones: runs/{first[0].name}/ ...")
    own = set_in_base(spec)
    if not own:
        return None
    return (f"note: the base config sets {', '.join(f'{k}={inline_yaml(v)}' for k, v in own.items())}; "
            f"compare_fixed: true also ranks every configuration at it ({count} more run(s)) "
            f"and says whether tuning changed the order")
