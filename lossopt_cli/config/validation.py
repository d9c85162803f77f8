"""Validation: a raw config mapping becomes a ``RunConfig``, every problem reported at once.

Unknown keys are rejected with a did-you-mean, every value is checked against its constraint in
``tables.py``, every default is filled in, and the combinations that fail whatever the data are
refused. A config is validated once per run, here. Nothing here imports TensorFlow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from ..catalog import DATASETS, LOSSES, METRICS, MODELS, OPTIMIZERS
from ..catalog.optimizers import is_schedule
from ..catalog.tables import is_table_file
from ..naming import MAX_NAME_LENGTH, NAME_CHARACTERS, safe_name
from ..schema import FAILED, ConfigError, Problems, check_table, describe, validate_table
from .run_config import RunConfig
from .tables import CATALOG_PARAMS, SECTIONS, TOP_LEVEL, _diagnostics_table


def validate(raw: Any, source: str | None = None) -> RunConfig:
    """Validate a raw config mapping (as read from YAML) into a ``RunConfig``.

    Every problem is collected and reported at once (one message, one line each), not only the first."""
    problems = Problems()
    try:
        if not isinstance(raw, Mapping):
            raise ConfigError(f"the config must be a mapping (key: value). Got {describe(raw)}.")
        top, errors = check_table(raw, TOP_LEVEL, "", unknown_hint=_section_hint)
        for err in errors:
            problems.add(err)
        sections = {}
        for key, table in SECTIONS.items():
            if key in top:
                value, errors = check_table(top[key] or {}, table, key)
                sections[key] = value
                for err in errors:
                    problems.add(err)
        data = sections.get("data", {})
        if "dataset" in data and "params" in data:
            problems.attempt(_check_dataset, data)
        if "validation_split" in data and "test_split" in data and data["validation_split"] + data["test_split"] >= 1:
            problems.add(ConfigError("data.validation_split + data.test_split must be < 1 to leave training data. "
                                     f"Got {data['validation_split']} + {data['test_split']}.",
                                     key="data.validation_split"))
        metrics = top.get("metrics")
        if metrics is not None:
            metrics = [problems.attempt(METRICS.resolve, m, f"metrics[{i}]") for i, m in enumerate(metrics)]
        name = problems.attempt(run_name_of, top.get("name"), source)
        resolved = {
            "model": problems.attempt(MODELS.resolve, anchor_file_reference(top.get("model", "mlp"), "type", source),
                                      "model", default="mlp"),
            "loss": (problems.attempt(LOSSES.resolve, anchor_file_reference(top["loss"], "name", source), "loss")
                     if top.get("loss") is not None else FAILED),
            "optimizer": problems.attempt(OPTIMIZERS.resolve, top.get("optimizer", "adam"), "optimizer",
                                          default="adam"),
            "diagnostics": problems.attempt(validate_table, top.get("diagnostics", {}), _diagnostics_table(),
                                            "diagnostics", what="the reporter"),
        }
        problems.raise_if_any()
        config = RunConfig(
            name=name,
            seed=top["seed"],
            deterministic=top["deterministic"],
            data=data,
            metrics=metrics,
            training=sections["training"],
            output=sections["output"],
            tracking=sections["tracking"],
            source=str(source) if source else None,
            **resolved,
        )
        check_combinations(config)
        return config
    except ConfigError as err:
        raise err.in_file(source) from None


def as_run_config(value: Any) -> RunConfig:
    """A run's own ``RunConfig``: a copy of ``value`` when it is one already (validated once, where it was made;
    the copy keeps the run's pre-flight from changing the caller's), else a resolved config mapping validated."""
    if isinstance(value, RunConfig):
        import copy

        return copy.deepcopy(value)
    return validate(dict(value))


def _check_dataset(data: dict) -> None:
    dataset = data["dataset"]
    if dataset in DATASETS:
        spec = DATASETS.get({"name": dataset, **data["params"]}, "data.params")
        data["dataset"], data["params"] = spec.name, spec.params
    elif data["params"]:
        raise ConfigError(f"data.params applies to built-in datasets only; {dataset!r} is not one "
                          f"(see `lossopt catalog datasets`).", key="data.params")
    elif dataset.startswith("keras:") or not (is_table_file(dataset) or Path(dataset).suffix.lower() == ".npz"
                                              or Path(dataset).is_dir()):
        DATASETS.entry(dataset, "data.dataset")  # raises: unknown name, with a did-you-mean


def _section_hint(key: Any) -> str:
    """An unknown top-level key that is a key of a section: `` Did you mean 'training.epochs'?``"""
    homes = [f"{section}.{key}" for section, table in SECTIONS.items() if key in table]
    homes += [f"{section}.{key}" for section in ("model", "optimizer", "loss") if key in CATALOG_PARAMS.get(section, ())]
    return f" Did you mean '{homes[0]}'? (--set {homes[0]}=...)" if homes else ""



def run_name_of(name: Any, source: str | None) -> str:
    """The run's name: ``name`` as given, which must be a plain name (it names a directory under
    output.dir), or the config file's stem made safe."""
    if name is None:
        return safe_name(Path(source).stem if source else "run")[:MAX_NAME_LENGTH]
    check_plain_name(name, "name")
    return name


def check_plain_name(name: str, key: str) -> None:
    """A name that becomes a directory: no path separators, no ``..``, not absolute, not too long."""
    import re

    suggestion = safe_name(str(name))[:MAX_NAME_LENGTH]
    fix = f" Use e.g. {suggestion!r}." if suggestion != "run" or str(name).strip() == "run" else ""
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", name):
        reason = ("is a path; it names a directory under output.dir, so it must not contain '/', '\\' or '..'"
                  if any(c in name for c in "/\\") or name.startswith(".") else f"may use only {NAME_CHARACTERS}")
        raise ConfigError(f"{key} {describe(name)} {reason} (output.dir says where runs go).{fix}", key=key)
    if len(name) > MAX_NAME_LENGTH:
        raise ConfigError(f"{key} is {len(name)} characters long; at most {MAX_NAME_LENGTH} (it names a directory, "
                          f"and file systems limit names to 255 bytes).{fix}", key=key)


def check_combinations(config: RunConfig) -> None:
    """Combinations of keys that fail whatever the data (the pre-flight checks what depends on it)."""
    if config.training.distribute == "multi_worker":
        raise ConfigError("training.distribute multi_worker is not available: Keras 3's model.fit does not run under "
                          "tf.distribute.MultiWorkerMirroredStrategy (keras-team/keras#20585). Use mirrored for "
                          "the GPUs of one machine, or `lossopt sweep --executor ray` to spread runs over machines.",
                          key="training.distribute")
    for key, unset in (("features", None), ("categorical", []), ("exclude", []), ("include", []), ("delimiter", None),
                       ("header", True)):
        if config.data[key] != unset and not is_table_file(config.data.dataset):
            raise ConfigError(f"data.{key} applies to CSV files only; {config.data.dataset!r} is not one. "
                              f"Remove data.{key}.", key=f"data.{key}")
    opt = config.optimizer
    clips = [k for k, v in (("clipnorm", opt.clipnorm), ("clipvalue", opt.clipvalue), ("global_clipnorm", opt.global_clipnorm))
             if v is not None]
    if len(clips) > 1:
        raise ConfigError(f"optimizer: set only one of clipnorm, clipvalue and global_clipnorm (Keras allows one). "
                          f"Got {', '.join(clips)}.", key=f"optimizer.{clips[1]}")
    if is_schedule(opt.learning_rate) and config.training.reduce_lr_on_plateau:
        raise ConfigError("training.reduce_lr_on_plateau cannot change a learning-rate schedule "
                          f"(optimizer.learning_rate is {opt.learning_rate['name']}). Use a number for "
                          "optimizer.learning_rate, or drop reduce_lr_on_plateau.", key="training.reduce_lr_on_plateau")
    names = [m["name"] for m in config.metrics or []]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(f"metrics lists {', '.join(twice)} more than once; each name is one history.csv column.",
                          key="metrics")


def anchor_file_reference(value: Any, selector: str, source: str | None) -> Any:
    """``iou_loss.py:iou_loss`` is looked up beside the config file first, then in the current
    directory, and stored as an absolute path, so the resolved config.yaml trains from anywhere."""
    name = value.get(selector) if isinstance(value, Mapping) else value
    if not isinstance(name, str) or ".py:" not in name:
        return value
    file, _, function = name.rpartition(":")
    if Path(file).is_absolute():
        return value
    candidates = ([Path(source).parent / file] if source else []) + [Path(file)]
    found = next((c for c in candidates if c.is_file()), None)
    if found is None:
        return value  # the registry reports the missing file
    anchored = f"{found.resolve()}:{function}"
    return {**value, selector: anchored} if isinstance(value, Mapping) else anchored
