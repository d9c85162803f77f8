"""Configuration: the schema, YAML loading, ``--set`` overrides and the one ``RunConfig``.

A config is validated once, here, before anything is trained or written: unknown keys are
rejected with a did-you-mean, every value is checked against its constraint, and every
default is filled in, so ``RunConfig.to_dict()`` is the fully resolved config that a run
directory stores as ``config.yaml``. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from .catalog import DATASETS, LOSSES, METRICS, MODELS, OPTIMIZERS
from .catalog.optimizers import is_schedule
from .catalog.tables import is_table_file
from .schema import (
    Any_,
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
    Problems,
    Str,
    check_table,
    describe,
    must_be,
    validate_table,
)
from .schema import FAILED


def _table_or_flag(table: dict[str, Param], what: str) -> Custom:
    """``null``/``false`` (off), ``true`` (on with defaults), or a mapping of the table's keys."""

    def check(value):
        if value is None or value is False:
            return None
        if value is True:
            value = {}
        if not isinstance(value, Mapping):
            raise ValueError
        return validate_table(value, table, what)

    def json_schema():
        from .json_schema import table_schema

        return {"anyOf": [{"type": ["null", "boolean"]}, table_schema(table)]}

    return Custom(check, f"null, true, or a mapping with keys {', '.join(table)}", json_schema)


EARLY_STOPPING = {
    "monitor": Param("val_loss", Str(), "the metric to watch"),
    "patience": Param(3, Int(0), "epochs without improvement before stopping"),
    "min_delta": Param(0.0, Float(0), "smallest change that counts as an improvement"),
    "mode": Param("auto", Choice(("auto", "min", "max")), "whether the metric should fall or rise"),
    "restore_best_weights": Param(True, Bool(), "keep the weights of the best epoch"),
    "start_from_epoch": Param(0, Int(0), "epochs of warm-up before watching"),
}

REDUCE_LR_ON_PLATEAU = {
    "monitor": Param("val_loss", Str(), "the metric to watch"),
    "factor": Param(0.5, Float(0, 1, low_open=True, high_open=True), "new rate = rate * factor"),
    "patience": Param(3, Int(0), "epochs without improvement before lowering the rate"),
    "min_delta": Param(0.0001, Float(0), "smallest change that counts as an improvement"),
    "mode": Param("auto", Choice(("auto", "min", "max")), "whether the metric should fall or rise"),
    "cooldown": Param(0, Int(0), "epochs to wait after a reduction before watching again"),
    "min_lr": Param(0.0, Float(0), "the rate never goes below this"),
}


TENSORBOARD = {  # keras.callbacks.TensorBoard's arguments; log_dir is always <run directory>/tensorboard
    "histogram_freq": Param(0, Int(0), "epochs between weight histograms (0: none)"),
    "write_graph": Param(True, Bool(), "write the model's graph"),
    "write_images": Param(False, Bool(), "write the weights as images"),
    "write_steps_per_second": Param(False, Bool(), "log the training speed"),
    "update_freq": Param("epoch", OneOf((Choice(("epoch", "batch")), Int(1))), "epoch, batch, or every N batches"),
    "profile_batch": Param(0, OneOf((Int(0), ListOf(Int(0), min_length=2))),
                           "the batch (or [first, last] batches) to profile; 0: no profiling"),
    "embeddings_freq": Param(0, Int(0), "epochs between embedding-layer visualizations (0: none)"),
}


def _tensorboard(value):
    """``training.tensorboard``: off, ``true`` or the callback's arguments; the tensorboard package must be there."""
    options = _table_or_flag(TENSORBOARD, "training.tensorboard").check(value)
    if options is not None:
        import importlib.util

        if importlib.util.find_spec("tensorboard") is None:
            raise ConfigError("training.tensorboard needs the tensorboard package, which is not installed. Install it "
                              "(pip install tensorboard, or pip install 'lossopt[tensorboard]'), or set "
                              "training.tensorboard: false.", key="training.tensorboard")
    return options


COLUMN = OneOf((Str(), Int(0)))  # a CSV column: its name, or its number (from 0) in a file without a header


def _delimiter(value):
    if not isinstance(value, str) or len(value) != 1 or value in "\r\n\"":
        raise ValueError
    return value


CLASS_WEIGHT_SCHEMA = {"anyOf": [{"type": "null"}, {"const": "balanced"}, {
    "type": "object", "minProperties": 1, "additionalProperties": {"type": "number", "minimum": 0}}]}


def _class_weight(value):
    """null, ``balanced`` (inverse class frequency, as scikit-learn computes it) or {class id: weight}."""
    if value is None or value == "balanced":
        return value
    if not isinstance(value, Mapping) or not value:
        raise ValueError
    out = {}
    for key, weight in value.items():
        if isinstance(key, bool) or not isinstance(key, int) or key < 0:
            raise ValueError
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight >= 0:
            raise ValueError
        out[int(key)] = float(weight)
    return out


MAX_EPOCHS = 1_000_000  # more is a typo (10^12 epochs would run for ever), not a plan

SECTIONS: dict[str, dict[str, Param]] = {
    "data": {
        "dataset": Param(None, Str(), "a built-in name (lossopt catalog datasets), keras:<name>, a .csv/.npz path, "
                         "or a folder of images",
                         required=True),
        "params": Param({}, Mapping_(), "parameters of a built-in dataset, e.g. {n_samples: 500, noise: 0.3}"),
        "target": Param(None, Optional(COLUMN), "CSV only: the label column (a name, or a number from 0 with "
                        "header: false)"),
        "task": Param("auto", Choice(("auto", "classification", "regression")),
                      "auto infers it from the target (text or few integers: classification) and the loss"),
        "validation_split": Param(0.2, Float(0, 1, high_open=True), "fraction of the data held out for validation"),
        "test_split": Param(0.0, Float(0, 1, high_open=True), "fraction held out for a final test evaluation"),
        "normalize": Param("auto", Choice(("auto", "standard", "minmax", "none")), "feature scaling, fitted on the training split"),
        "scale_target": Param("auto", Choice(("auto", "none")),
                              "regression: auto ends the model with a fixed layer that maps standardized outputs "
                              "to the target's units (Keras' Normalization(invert=True), fitted on the training "
                              "split), so an unscaled target trains as fast as a scaled one while losses, metrics "
                              "and predictions stay in its units; none: a plain linear output"),
        "class_weight": Param(None, Custom(_class_weight, "null, 'balanced', or a mapping {class id: weight >= 0}",
                                                     CLASS_WEIGHT_SCHEMA),
                              "weight the training loss per class: balanced = inverse class frequency"),
        "features": Param(None, Optional(ListOf(COLUMN, min_length=1, allow_scalar=True)),
                          "CSV only: the feature columns (default: every column but the target)"),
        "categorical": Param([], ListOf(COLUMN, allow_scalar=True),
                             "CSV only: columns to one-hot encode (text columns are detected without it)"),
        "exclude": Param([], ListOf(COLUMN, allow_scalar=True), "CSV only: columns to leave out (ids, dates, ...)"),
        "include": Param([], ListOf(COLUMN, allow_scalar=True),
                         "CSV only: columns to keep as features where lossopt would leave them out (a row id, "
                         "a text column with too many values)"),
        "missing": Param("drop", Choice(("drop", "impute", "error")),
                         "CSV only: rows with missing cells (NA, NaN, empty, ?): drop them, impute (median / most "
                         "frequent, fitted on the training split), or stop with an error"),
        "header": Param(True, Bool(), "CSV only: the first row names the columns (false: columns are numbered from 0)"),
        "comment": Param("#", Optional(Str()), "CSV only: lines starting with this are skipped (null: none)"),
        "delimiter": Param(None, Optional(Custom(_delimiter, "one character, e.g. ';' or '\\t'",
                                                         {"type": "string", "minLength": 1, "maxLength": 1})),
                           "CSV only: the field separator (default: sniffed from the file)"),
        "max_categories": Param(50, Int(2), "CSV only: a text column with more distinct values is dropped "
                                "(an id, free text); list it in categorical to keep it"),
        "image_size": Param([64, 64], ListOf(Int(1), min_length=2), "image folders only: [height, width] to resize to"),
        "color_mode": Param("rgb", Choice(("rgb", "grayscale", "rgba")), "image folders only: channels to read"),
    },
    "training": {
        "epochs": Param(10, Int(1, MAX_EPOCHS), "passes over the training data"),
        "batch_size": Param(32, OneOf((Int(1), Choice(("full",)))), "samples per step; full = batch gradient descent, 1 = per-example SGD"),
        "shuffle": Param(True, Bool(), "shuffle the training data every epoch (an order fixed by seed and epoch)"),
        "checkpoint": Param("every_epoch", Choice(("every_epoch", "none")),
                            "checkpoint.npz after every epoch (weights, optimizer, callbacks): what --resume continues"),
        "distribute": Param("none", Choice(("none", "mirrored", "multi_worker")),
                            "replicate the model: mirrored = every GPU (else every CPU device) of this machine; "
                            "batch_size is the global batch (multi_worker: not with Keras 3)"),
        "gpus": Param(0, OneOf((Int(0), Float(0, 1, low_open=True, high_open=True))),
                      "GPUs the run needs on a Ray cluster (a fraction shares one GPU between runs)"),
        "early_stopping": Param(None, _table_or_flag(EARLY_STOPPING, "training.early_stopping"),
                                "stop when the monitored metric stops improving (Keras EarlyStopping)"),
        "reduce_lr_on_plateau": Param(None, _table_or_flag(REDUCE_LR_ON_PLATEAU, "training.reduce_lr_on_plateau"),
                                      "lower the learning rate when the monitored metric stalls (Keras "
                                      "ReduceLROnPlateau)"),
        "tensorboard": Param(None, Custom(_tensorboard, f"null, true, or a mapping with keys {', '.join(TENSORBOARD)}"),
                             "TensorBoard logs in <run directory>/tensorboard (Keras TensorBoard); a sweep adds "
                             "the HParams dashboard"),
    },
    "tracking": {
        "mlflow": Param(None, Optional(OneOf((Bool(), Str()))),
                        "log the run to MLflow as it trains: a tracking URI (sqlite:///mlflow.db, http://host:5000, "
                        "a folder), or true for MLFLOW_TRACKING_URI (else MLflow's default); needs lossopt[mlflow]"),
        "experiment": Param(None, Optional(Str()), "the MLflow experiment (default: the config's name; in a sweep, "
                                                   "the sweep's)"),
    },
    "output": {
        "dir": Param("outputs", Str(), "where run directories are created"),
        "save_model": Param(True, Bool(), "write model.keras"),
        "shared": Param(False, Bool(), "--executor ray: every node mounts dir at the same path, so Ray tasks write "
                        "there directly instead of sending run directories back"),
    },
}


def _diagnostics_table() -> dict[str, Param]:
    from .analysis.thresholds import THRESHOLDS

    return THRESHOLDS


TOP_LEVEL = {
    "name": Param(None, Optional(Str()), "the run's name (default: the config file's stem)"),
    "seed": Param(42, Int(0), "seed for the split, the initial weights and the shuffling"),
    "deterministic": Param(False, Bool(), "turn on TensorFlow's op determinism (slower, bit-identical)"),
    "data": Param({}, Mapping_()),
    # model, loss and optimizer are checked by their registries (a name or {name: ..., params})
    "model": Param("mlp", Any_(), "a model type or {type: ..., params}"),
    "loss": Param(None, Any_(), "a loss name (lossopt catalog losses) or {name: ..., params}", required=True),
    "optimizer": Param("adam", Any_(), "an optimizer name or {name: ..., params}"),
    "metrics": Param(None, Optional(ListOf(OneOf((Str(), Mapping_())), allow_scalar=True)),
                     "metrics to track (default: accuracy for classification)"),
    "training": Param({}, Mapping_()),
    "diagnostics": Param({}, Mapping_(), "thresholds of the reporter"),
    "output": Param({}, Mapping_()),
    "tracking": Param({}, Mapping_(), "experiment tracking (MLflow)"),
}


@dataclass
class RunConfig:
    """One validated run configuration. Sections are plain dicts with every default filled in."""

    name: str
    seed: int
    deterministic: bool
    data: dict
    model: dict
    loss: dict
    optimizer: dict
    metrics: list | None
    training: dict
    diagnostics: dict
    output: dict
    tracking: dict = field(default_factory=lambda: {"mlflow": None, "experiment": None})
    source: str | None = None

    def to_dict(self) -> dict:
        keys = ("name", "seed", "deterministic", "data", "model", "loss", "optimizer", "metrics",
                "training", "diagnostics", "output", "tracking")
        return copy.deepcopy({k: getattr(self, k) for k in keys})

    # Resolved catalog choices (each a registry Spec with build()).
    def loss_spec(self):
        return LOSSES.get(self.loss, "loss")

    def optimizer_spec(self):
        return OPTIMIZERS.get(self.optimizer, "optimizer")

    def model_spec(self):
        return MODELS.get(self.model, "model")

    def metric_specs(self, task: str):
        from .catalog.metrics import default_metrics

        metrics = self.metrics if self.metrics is not None else default_metrics(task)
        return [METRICS.get(m, f"metrics[{i}]") for i, m in enumerate(metrics)]


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
    homes += [f"{section}.{key}" for section in ("model", "optimizer", "loss") if key in _SECTION_PARAMS.get(section, ())]
    return f" Did you mean '{homes[0]}'? (--set {homes[0]}=...)" if homes else ""


_SECTION_PARAMS = {"model": ("hidden_units", "activation", "dropout", "output_activation", "batch_norm"),
                   "optimizer": ("learning_rate", "momentum", "clipnorm", "weight_decay")}

MAX_NAME_LENGTH = 120  # a run directory adds -YYYYmmdd-HHMMSS-N; file systems allow 255 bytes
NAME_CHARACTERS = "letters, digits, '_', '.' and '-'"


def run_name_of(name: Any, source: str | None) -> str:
    """The run's name: ``name`` as given, which must be a plain name (it names a directory under
    output.dir), or the config file's stem made safe."""
    if name is None:
        return _safe_name(Path(source).stem if source else "run")[:MAX_NAME_LENGTH]
    check_plain_name(name, "name")
    return name


def check_plain_name(name: str, key: str) -> None:
    """A name that becomes a directory: no path separators, no ``..``, not absolute, not too long."""
    import re

    suggestion = _safe_name(str(name))[:MAX_NAME_LENGTH]
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
    if config.training["distribute"] == "multi_worker":
        raise ConfigError("training.distribute multi_worker is not available: Keras 3's model.fit does not run under "
                          "tf.distribute.MultiWorkerMirroredStrategy (keras-team/keras#20585). Use mirrored for "
                          "the GPUs of one machine, or `lossopt sweep --executor ray` to spread runs over machines.",
                          key="training.distribute")
    for key, unset in (("features", None), ("categorical", []), ("exclude", []), ("include", []), ("delimiter", None),
                       ("header", True)):
        if config.data[key] != unset and not is_table_file(config.data["dataset"]):
            raise ConfigError(f"data.{key} applies to CSV files only; {config.data['dataset']!r} is not one. "
                              f"Remove data.{key}.", key=f"data.{key}")
    opt = config.optimizer
    clips = [k for k in ("clipnorm", "clipvalue", "global_clipnorm") if opt.get(k) is not None]
    if len(clips) > 1:
        raise ConfigError(f"optimizer: set only one of clipnorm, clipvalue and global_clipnorm (Keras allows one). "
                          f"Got {', '.join(clips)}.", key=f"optimizer.{clips[1]}")
    if is_schedule(opt.get("learning_rate")) and config.training["reduce_lr_on_plateau"]:
        raise ConfigError("training.reduce_lr_on_plateau cannot change a learning-rate schedule "
                          f"(optimizer.learning_rate is {opt['learning_rate']['name']}). Use a number for "
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


def _safe_name(name: str) -> str:
    import re

    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(name)).strip("-.")
    return cleaned or "run"


# --- loading and overrides ----------------------------------------------------------------


def read_yaml(path: str | Path) -> Any:
    """A YAML file read safely (UTF-8, size and alias limits, duplicate keys refused; see ``yaml_reader``)."""
    from .yaml_reader import read_yaml_file

    return read_yaml_file(path)


def parse_override(text: str) -> tuple[str, Any]:
    """``optimizer.learning_rate=0.1`` -> ("optimizer.learning_rate", 0.1): the value read as YAML.
    The command line's edge calls this, once; everything after it works on values."""
    if "=" not in text:
        raise ConfigError(f"--set {text!r} must look like key.path=value, e.g. --set optimizer.name=sgd.", key=text)
    key, _, value_text = text.partition("=")
    key = key.strip()
    if not all(key.split(".")):
        raise ConfigError(f"--set {text!r}: the key {key!r} is not a dotted path like training.epochs.", key=key)
    try:
        from .yaml_reader import StrictSafeLoader

        value = yaml.load(value_text, Loader=StrictSafeLoader) if value_text.strip() else None  # noqa: S506
    except yaml.YAMLError:
        value = value_text
    return key, value


def parse_overrides(texts: Iterable[str]) -> dict[str, Any]:
    """``--set`` options -> ``{dotted key: value}``, in the order given (a later one for the same key wins)."""
    overrides: dict[str, Any] = {}
    for text in texts:
        key, value = parse_override(text)
        overrides.pop(key, None)
        overrides[key] = value
    return overrides


SELECTORS = {"loss": "name", "optimizer": "name", "model": "type"}


def apply_overrides(raw: Any, overrides: Mapping[str, Any] | None) -> dict:
    """A copy of a raw config with ``{dotted key: value}`` set, in order; a string ``loss: huber``
    becomes ``{name: huber}`` when one of its keys is set."""
    out = copy.deepcopy(raw) if isinstance(raw, Mapping) else {}
    for key, value in (overrides or {}).items():
        parts = str(key).split(".")
        if not all(parts):
            raise ConfigError(f"override {key!r}: not a dotted path like training.epochs.", key=str(key))
        node = out
        for depth, part in enumerate(parts[:-1]):
            child = node.get(part)
            if isinstance(child, str) and depth == 0 and part in SELECTORS:
                child = {SELECTORS[part]: child}
            elif child is None:
                child = {}
            elif not isinstance(child, Mapping):
                raise ConfigError(f"--set {key}: {'.'.join(parts[:depth + 1])} is {describe(child)}, not a mapping.",
                                  key=".".join(parts[:depth + 1]))
            node[part] = dict(child)
            node = node[part]
        node[parts[-1]] = copy.deepcopy(value)
    return out


def load(path: str | Path, overrides: Mapping[str, Any] | None = None) -> RunConfig:
    """Read, override (``{dotted key: value}``) and validate one config file."""
    try:
        raw = read_yaml(path)
        if not isinstance(raw, Mapping):
            raise must_be("the config", "a mapping of keys (data, loss, optimizer, ...)", raw)
        if "vary" in raw or "base" in raw:
            raise ConfigError("this is a sweep file (it has base: and vary:), not a run config. Run it with "
                              f"`lossopt sweep {path}` (or check it with `lossopt validate {path}`).")
        config = validate(apply_overrides(raw, overrides), source=str(path))
        if overrides:  # five --set variants of one config are five names (outputs/, list, compare)
            from .naming import name_with_overrides

            config.name = name_with_overrides(config.name, overrides)
        return config
    except ConfigError as err:
        raise err.in_file(str(path)) from None


def dump(config: RunConfig) -> str:
    return yaml.safe_dump(config.to_dict(), sort_keys=False)
