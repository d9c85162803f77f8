"""The constraint tables of a run config: every section's keys, their defaults, constraints and help.

The tables are data: validation (``validation.py``), the JSON Schema (``json_schema.py``), shell
completion and the docs all read them, so a key is declared once, here. Nothing here imports TensorFlow.
"""

from __future__ import annotations

from typing import Mapping

from ..schema import (
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
    Str,
    validate_table,
)


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
        from ..json_schema import table_schema

        return {"anyOf": [{"type": ["null", "boolean"]}, table_schema(table)]}

    return Custom(check, f"null, true, or a mapping with keys {', '.join(table)}", json_schema, table=table)


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
                                                     CLASS_WEIGHT_SCHEMA,
                                                     python_type="Literal['balanced'] | dict[int, float] | None"),
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
                                                         {"type": "string", "minLength": 1, "maxLength": 1}, python_type="str")),
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
        "tensorboard": Param(None, Custom(_tensorboard, f"null, true, or a mapping with keys {', '.join(TENSORBOARD)}",
                                                table=TENSORBOARD),
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
    from ..analysis.thresholds import THRESHOLDS

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


# The well-known parameters of the catalog sections (the rest differ from one entry to the next): where an
# unknown top-level key is suggested to go, and the typed properties of config/sections.py (generated).
CATALOG_PARAMS = {"model": ("hidden_units", "activation", "dropout", "output_activation", "batch_norm"),
                  "optimizer": ("learning_rate", "momentum", "clipnorm", "clipvalue", "global_clipnorm", "weight_decay"),
                  "loss": ("from_logits", "label_smoothing")}

SELECTORS = {"loss": "name", "optimizer": "name", "model": "type"}  # the key naming a catalog choice
