"""A sweep's plan: the sweep file, expanded into validated runs, recorded in and read back from the sweep directory.

A sweep file names a ``base`` config and the keys to ``vary`` (dotted paths, as ``--set``
takes them); ``mode`` is ``grid`` (every combination), ``zip`` (the lists side by side) or
``random`` (``samples`` draws with a ``seed``; a range ``{low, high, log}`` is sampled
uniformly, log-uniformly with ``log: true``). Every expanded config is validated before the
first run starts. ``create_sweep_dir`` records the plan (``sweep.yaml``, ``plan.json``,
``runs/``) and ``load_plan`` reads it back for ``--resume``. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from .. import config as config_module
from .. import rundir
from ..catalog.tables import is_table_file
from ..naming import MAX_NAME_LENGTH, safe_name
from ..rundir import PLAN, RUNS, SWEEP_FILE
from ..schema import (
    Bool,
    Choice,
    ConfigError,
    Custom,
    Float,
    Int,
    ListOf,
    Mapping_,
    OneOf,
    Optional,
    Param,
    Str,
    describe,
    must_be,
    validate_table,
)
from .checks import check_ranked_metrics, duplicate_notes

TARGET = {
    "metric": Param("val_loss", Str(), "the history column to watch"),
    "value": Param(None, Optional(Float()), "the value to reach (default: within 10% of the best configuration)"),
}


def _table_schema(table):
    from ..json_schema import table_schema

    return table_schema(table)


def _target(value):
    return validate_table(value, TARGET, "target") if value is not None else None


SWEEP_TABLE = {
    "name": Param(None, Optional(Str()), "the sweep's name (default: the sweep file's stem)"),
    "base": Param(None, OneOf((Str(), Mapping_())), "the base config: a path relative to the sweep file, or a mapping",
                  required=True),
    "set": Param({}, Mapping_(), "fixed changes to the base, as --set takes them, e.g. {training.epochs: 5}"),
    "mode": Param("grid", Choice(("grid", "zip", "random", "tune")),
                  "how the varied values combine (tune: each combination tuned over search:, see docs/tuning.md)"),
    "vary": Param(None, Mapping_(), "dotted config keys and their values, e.g. optimizer.name: [sgd, adam]",
                  required=True),
    "seeds": Param(None, Optional(ListOf(Int(0), min_length=1)), "run every configuration once per seed"),
    "samples": Param(None, Optional(Int(1)), "random mode: the number of configurations drawn"),
    "seed": Param(0, Int(0), "random mode: the seed of the draws; tune mode: of the TPE samplers"),
    "search": Param(None, Optional(Mapping_()), "tune mode: the keys tuned for every compared configuration, "
                    "as lists or ranges {low, high, log}"),
    "trials": Param(None, Optional(Int(1)), "tune mode: the trials each compared configuration gets"),
    "prune": Param("diagnosis", Choice(("diagnosis", "none")), "tune mode: stop hopeless trials by their curve"),
    "compare_fixed": Param(False, Bool(), "tune mode: also run every compared configuration at its config's own "
                           "values of the searched keys, on the same seeds, and rank them beside the tuned ones"),
    "rank_by": Param(None, Optional(Str()), "the history column that ranks configurations (default: val_loss)"),
    "target": Param(None, Custom(_target, "null or a mapping {metric: val_loss, value: 0.2}",
                                 lambda: {"anyOf": [{"type": "null"}, _table_schema(TARGET)]}),
                    "epochs-to-target: the metric and value a run must reach"),
}


@dataclass
class PlannedRun:
    """One run of a sweep: its unique name, the varied values, and the validated config."""

    name: str
    values: dict  # dotted key -> value, in the sweep file's order
    config: config_module.RunConfig
    compared: str = ""  # tune mode: the compared configuration this run belongs to (its vary: values' name)
    tag: str = ""  # tune mode: "fixed" for a run at the config's own values of the searched keys

    @property
    def group(self) -> str:
        """The configuration this run repeats over seeds: its name without the seed."""
        name = run_name({k: v for k, v in self.values.items() if k != "seed"}) or "base"
        return f"{name}-{self.tag}" if self.tag else name


@dataclass
class Sweep:
    name: str
    source: str | None
    spec: dict  # the sweep file as resolved: base inlined, overrides applied
    runs: list[PlannedRun] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # decisions and warnings, said once at the start

    @property
    def target(self) -> dict | None:
        return self.spec.get("target")


# --- loading and expansion -----------------------------------------------------------------


def load_sweep(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Sweep:
    """Read a sweep file, apply ``set:`` and then ``overrides`` (``--set``, ``{dotted key: value}``) to its base,
    expand and validate every run."""
    path = Path(path)
    raw = config_module.read_yaml(path)
    try:
        if not isinstance(raw, Mapping):
            raise must_be("a sweep file", "a mapping with base: and vary:", raw)
        spec = validate_table(raw, SWEEP_TABLE, "", what="a sweep file")
        base = spec["base"]
        base_source = None
        if isinstance(base, str):
            base_source = (path.parent / base) if not Path(base).is_absolute() else Path(base)
            if not base_source.is_file():
                raise ConfigError(f"base {base!r}: no such config file ({base_source}); the path is relative to "
                                  f"the sweep file.", key="base")
            if base_source.resolve() == path.resolve():
                raise ConfigError(f"base {base!r} is this sweep file itself; base must name a run config, e.g. "
                                  f"base: ../quickstart.yaml.", key="base")
            try:
                base = config_module.read_yaml(base_source)
            except ConfigError as err:
                raise ConfigError(f"base {spec['base']!r}: {err.render()}", key="base") from None
            if not isinstance(base, Mapping):
                raise ConfigError(f"base {spec['base']!r} must be a config mapping. Got {describe(base)}.", key="base")
            if "vary" in base or "base" in base:
                raise ConfigError(f"base {spec['base']!r} is a sweep file (it has base:/vary:); base must name a "
                                  f"run config. Sweeps do not nest: put its keys in this file's vary:.", key="base")
        base = config_module.apply_overrides(config_module.apply_overrides(base, by_depth(spec["set"])), overrides)
        if base.get("name") is None:
            base["name"] = Path(base_source).stem if base_source else path.stem
        spec["base"] = base
        if spec["name"] is not None:
            config_module.check_plain_name(spec["name"], "name")
        name = spec["name"] or path.stem
        values = expand(spec)
        runs = plan_runs(base, values)
        for run in runs:  # tracked runs of a sweep share the sweep's MLflow experiment
            if run.config.tracking.mlflow and not run.config.tracking.experiment:
                run.config.tracking = run.config.tracking.replace(experiment=spec["name"] or path.stem)
        if spec["mode"] == "tune":  # every end of the search space valid for every compared configuration
            from .tune_space import corners

            plan_runs(base, [{**v, **c} for v in values for c in corners(spec["search"])])
        from ..guards import check_output_dir

        output = base.get("output")
        check_output_dir(output.get("dir", "outputs") if isinstance(output, Mapping) else "outputs")
        check_ranked_metrics(spec, runs)
    except ConfigError as err:
        raise err.in_file(str(path)) from None
    spec["name"] = name
    return Sweep(safe_name(name), str(path), spec, runs, notes=duplicate_notes(runs))


# YAML 1.1 reads 1e-4 (no dot) as a string; a range bound is always a number, so accept it.
NUMBER = Custom(lambda v: float(v) if not isinstance(v, bool) and math.isfinite(float(v)) else float("x"),
                "a number, e.g. 1.0e-4")


def _check_values(key: str, values: Any, mode: str) -> Any:
    if mode == "random" and isinstance(values, Mapping) and "low" in values:
        table = {"low": Param(None, NUMBER, required=True), "high": Param(None, NUMBER, required=True),
                 "log": Param(False, Bool()), "integer": Param(False, Bool())}
        rng = validate_table(values, table, f"vary.{key}", what="a random range")
        if rng["high"] <= rng["low"]:
            raise ConfigError(f"vary.{key}: high must be > low. Got low {rng['low']}, high {rng['high']}.",
                              key=f"vary.{key}")
        if rng["log"] and rng["low"] <= 0:
            raise ConfigError(f"vary.{key}: a log range needs low > 0. Got {rng['low']}.", key=f"vary.{key}")
        return rng
    if not isinstance(values, list) or not values:
        ranges = " or a range {low: 1e-4, high: 1e-1, log: true}" if mode == "random" else ""
        raise must_be(f"vary.{key}", f"a non-empty list of values{ranges}", values)
    return values


def expand(spec: dict) -> list[dict]:
    """The varied values of each run, as ``{dotted key: value}`` dicts, seeds last."""
    mode, vary = spec["mode"], spec["vary"]
    if not vary:
        raise ConfigError("vary must name at least one key, e.g. vary: {optimizer.name: [sgd, adam]}.", key="vary")
    if mode == "tune":
        from .tune_space import budget, check_optuna, expand_tune

        check_optuna()
        combos = expand_tune(spec, _check_values)
        from ..guards import check_expansion_size

        check_expansion_size(sum(budget(spec, len(combos))))
        return combos
    checked = {str(k): _check_values(str(k), v, mode) for k, v in vary.items()}
    keys = list(checked)
    from ..guards import check_expansion_size

    check_expansion_size((math.prod(len(v) for v in checked.values()) if mode == "grid"
                          else len(next(iter(checked.values()))) if mode == "zip" else spec["samples"] or 0)
                         * len(spec.get("seeds") or [None]))
    if mode == "grid":
        combos = [dict(zip(keys, c)) for c in itertools.product(*checked.values())]
    elif mode == "zip":
        lengths = {k: len(v) for k, v in checked.items()}
        if len(set(lengths.values())) > 1:
            raise ConfigError("mode zip needs lists of the same length; got "
                              + ", ".join(f"vary.{k}: {n}" for k, n in lengths.items()) + ".", key="vary")
        combos = [dict(zip(keys, c)) for c in zip(*checked.values())]
    else:
        if spec["samples"] is None:
            raise ConfigError("mode random needs samples: N, the number of configurations to draw.", key="samples")
        rng = random.Random(spec["seed"])
        combos = [{k: _draw(rng, v) for k, v in checked.items()} for _ in range(spec["samples"])]
    if spec.get("seeds"):
        if "seed" in checked:
            raise ConfigError("give the seeds either as seeds: or as vary.seed, not both.", key="seeds")
        combos = [{**c, "seed": s} for c in combos for s in spec["seeds"]]
    return combos


def _draw(rng: random.Random, values: Any) -> Any:
    if isinstance(values, list):
        return values[rng.randrange(len(values))]
    low, high = values["low"], values["high"]
    x = math.exp(rng.uniform(math.log(low), math.log(high))) if values["log"] else rng.uniform(low, high)
    return int(round(x)) if values["integer"] else float(f"{x:.4g}")


def inline_yaml(value: Any) -> str:
    """A value as one line of YAML, for people to read (the dry run, ``plan.json``'s ``overrides``, messages)."""
    return yaml.safe_dump(value, default_flow_style=True, width=10_000, sort_keys=False).strip().removesuffix("...").strip()


def by_depth(values: Mapping[str, Any]) -> dict[str, Any]:
    """``{dotted key: value}`` with a whole sub-config before its own keys, for ``config.apply_overrides``."""
    return dict(sorted(values.items(), key=lambda kv: str(kv[0]).count(".")))


def as_overrides(values: Mapping[str, Any]) -> list[str]:
    """``{dotted key: value}`` -> ``["key=value", ...]`` as ``--set`` would take them (recorded in ``plan.json``)."""
    return [f"{k}={inline_yaml(v)}" for k, v in by_depth(values).items()]


def run_name(values: Mapping[str, Any]) -> str:
    """A readable name from the varied values: ``{optimizer.name: sgd, ..., seed: 0}`` -> ``sgd-lr0.1-seed0``."""
    from ..naming import part

    name = safe_name("-".join(part(k, v) for k, v in values.items())) if values else ""
    if len(name) > MAX_NAME_LENGTH:  # many or long values: keep it a valid directory name, unique
        import hashlib

        digest = hashlib.sha1(name.encode()).hexdigest()[:8]
        name = f"{name[:MAX_NAME_LENGTH - 9]}-{digest}"
    return name


def plan_runs(base: dict, combos: list[dict]) -> list[PlannedRun]:
    """Validate every run's config; a unique, deterministic name for each."""
    runs, seen = [], {}
    for values in combos:
        name = run_name(values) or "run"
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name}-{seen[name]}"
        raw = config_module.apply_overrides(base, {"name": name, **by_depth(values)})
        try:
            cfg = config_module.validate(raw)
        except ConfigError as err:
            varied = ", ".join(f"{k}={inline_yaml(v)}" for k, v in values.items())
            raise ConfigError(f"run {name} ({varied}): {err.message}", key=err.key) from None
        runs.append(PlannedRun(name, dict(values), cfg))
    _check_data_files(runs)
    return runs


def _check_data_files(runs: list[PlannedRun]) -> None:
    """A data file that does not exist would fail every run that uses it: say so before the first one starts."""
    for run in runs:
        dataset = run.config.data.dataset
        if (is_table_file(dataset) or Path(dataset).suffix.lower() == ".npz") and not Path(dataset).is_file():
            raise ConfigError(f"run {run.name}: data.dataset {dataset!r} does not exist (paths are relative to the "
                              f"directory lossopt runs in, {Path.cwd()}).", key="data.dataset")


# --- the sweep directory ----------------------------------------------------------------------


def output_root(sweep: Sweep) -> str:
    """The base config's output.dir (after --set): where the sweep directory goes."""
    output = sweep.spec["base"].get("output")
    return output.get("dir", "outputs") if isinstance(output, Mapping) else "outputs"


def create_sweep_dir(sweep: Sweep) -> Path:
    """Make ``outputs/<sweep>-<time>/`` holding ``sweep.yaml`` and ``plan.json``."""
    sweep_dir = rundir.create_run_dir(output_root(sweep), sweep.name)
    rundir.atomic_write(sweep_dir / SWEEP_FILE, yaml.safe_dump(sweep.spec, sort_keys=False))
    (sweep_dir / RUNS).mkdir()
    write_plan(sweep_dir, sweep)
    return sweep_dir


def write_plan(sweep_dir: Path, sweep: Sweep) -> None:
    runs_root = str(sweep_dir / RUNS)
    rundir.write_json(sweep_dir / PLAN, {
        "name": sweep.name, "source": sweep.source, "target": sweep.target, "rank_by": sweep.spec.get("rank_by"),
        "runs": [{"name": r.name, "group": r.group, "values": r.values, **({"compared": r.compared} if r.compared else {}),
                  **({"tag": r.tag} if r.tag else {}),
                  "overrides": as_overrides(r.values), "config": _with_output(r.config, runs_root).to_dict()}
                 for r in sweep.runs],
    })


def _with_output(cfg: config_module.RunConfig, runs_root: str) -> config_module.RunConfig:
    cfg.output = cfg.output.replace(dir=runs_root)
    return cfg


def load_plan(sweep_dir: str | Path) -> Sweep:
    """The sweep recorded in a sweep directory, for ``--resume``; configs validated again."""
    sweep_dir = Path(sweep_dir)
    plan_path = sweep_dir / PLAN
    if not plan_path.is_file():
        raise ConfigError(f"--resume {sweep_dir}: not a sweep directory (no {PLAN}). Give a directory that "
                          f"`lossopt sweep` made, e.g. outputs/optimizers-20261123-150000.", key="--resume")
    plan = rundir.read_json(plan_path)
    runs = []
    for entry in plan["runs"]:
        cfg = config_module.validate(entry["config"], source=str(plan_path))
        cfg.output = cfg.output.replace(dir=str(sweep_dir / RUNS))
        runs.append(PlannedRun(entry["name"], entry["values"], cfg, entry.get("compared", ""), entry.get("tag", "")))
    spec = config_module.read_yaml(sweep_dir / SWEEP_FILE) if (sweep_dir / SWEEP_FILE).exists() else {}
    return Sweep(plan["name"], plan.get("source"), {**spec, "target": plan.get("target"),
                                                    "rank_by": plan.get("rank_by")}, runs)


def resumable_runs(sweep_dir: Path) -> dict[str, Path]:
    """Run name -> its latest attempt that was interrupted (its process gone) and can continue in place from its
    checkpoint, for the runs without a finished attempt."""
    from ..liveness import effective_status

    done, latest = finished_runs(sweep_dir), {}
    for summary_path in sorted((sweep_dir / RUNS).glob(f"*/{rundir.SUMMARY}"), key=lambda p: p.stat().st_mtime):
        summary = rundir.read_json_or_empty(summary_path)
        name = summary.get("name")
        if name and name not in done and (summary_path.parent / rundir.CONFIG).is_file():
            latest[name] = (summary_path.parent, effective_status(summary))
    return {name: path for name, (path, status) in latest.items() if status == "interrupted"}


def finished_runs(sweep_dir: Path) -> dict[str, Path]:
    """Run name -> the run directory where it finished (status completed, early_stopped or diverged)."""
    done = {}
    for summary_path in sorted((sweep_dir / RUNS).glob(f"*/{rundir.SUMMARY}")):
        try:
            summary = rundir.read_json(summary_path)
        except (OSError, ValueError):
            continue
        if summary.get("status") in rundir.FINISHED and summary.get("name"):
            done.setdefault(summary["name"], summary_path.parent)
    return done


