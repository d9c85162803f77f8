"""The pre-flight check: catches a config that would train badly or crash, before anything runs.

``check_data`` loads and prepares the data with NumPy/scikit-learn only (``lossopt validate``
runs it too) and checks the loss against the labels, the output layer, the metrics, the batch
size, class weights and the monitored names; ``check_training_step`` (in ``prepare_run``
only) takes one real training step to confirm that every monitored name exists, then puts
the weights back. Problems that would fail are ``ConfigError`` (exit 2, nothing written);
problems that would mislead are notes, each with its fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..catalog.datasets import DATASETS, keras_dataset_cached, load_dataset
from ..catalog.models import image_shape
from ..catalog.optimizers import is_full_batch
from ..schema import ConfigError
from .data import Prepared, prepare

CLASSIFICATION_ONLY = "classification"
IMBALANCE_RATIO = 0.2  # smallest class / largest class below this: accuracy can mislead
RARE_CLASS_SHARE = 0.10  # the rarest class below this share of the training samples: track more than accuracy
IMBALANCE_METRICS = ("accuracy", "precision", "recall", "auc", "pr_auc")


@dataclass
class Preflight:
    data: Prepared | None  # None when the data could not be checked without TensorFlow
    batch_size: int | None
    notes: list[str] = field(default_factory=list)
    inference: dict | None = None  # a CSV file: its columns, types, classes and dropped rows


def data_checkable(config) -> str | None:
    """Why the data cannot be loaded without TensorFlow (None when it can)."""
    name = config.data.dataset
    if name.startswith("keras:") and name in DATASETS and not keras_dataset_cached(name.split(":", 1)[1]):
        return f"{name} is not in Keras' cache, so its data was not checked (training downloads it)"
    if (not name.startswith("keras:") and name not in DATASETS and Path(name).is_dir()
            and sum(d.is_dir() for d in Path(name).iterdir()) >= 2):  # fewer class folders: the loader says so
        return f"{name} is a folder of images, read with TensorFlow, so its data was not checked"
    return None


def check_data(config, offline: bool = False, datasets=None) -> Preflight:
    """Load and prepare the data, then check the config against it. ``offline``: never import
    TensorFlow (skip what needs it, with a note). ``datasets``: a ``catalog.datasets.LoadedDatasets`` shared by
    several runs (a fused group), so the same data are read once."""
    from ..guards import check_output_dir

    notes: list[str] = []
    check_output_dir(config.output.dir)
    if offline:
        reason = data_checkable(config)
        if reason:
            return Preflight(None, None, [reason])
    d = config.data
    from ..catalog.losses import label_mode

    load = datasets.load if datasets is not None else load_dataset
    dataset = load(d.dataset, d.params, d.target, config.seed, task=d.task, features=d.features,
                   categorical=d.categorical, image_size=d.image_size, color_mode=d.color_mode,
                   exclude=d.exclude, include=d.include, missing=d.missing, header=d.header,
                   comment=d.comment, delimiter=d.delimiter, max_categories=d.max_categories,
                   regression_loss=label_mode(config.loss_spec()) == "regression")
    if dataset.inference:  # config.yaml records what was inferred, so the run repeats exactly
        config.data = d.replace(**dataset.inference["resolved"])
    elif d.task == "auto":
        config.data = d.replace(task=dataset.task)
    data = prepare(dataset, config.data, config.loss_spec(), config.seed)
    notes += data.notes
    if data.x_val is None or len(data.x_val) == 0:
        notes.append("no validation data (data.validation_split is 0): the diagnosis cannot judge over-fitting, "
                     "and the best epoch is the one of the lowest training loss. Set data.validation_split: 0.2 "
                     "to hold some data out.")
    if config.metrics is None:  # resolve the task's default so config.yaml shows what ran
        rare = _rare_class_share(data)
        if rare is not None and rare < RARE_CLASS_SHARE:
            config.metrics = [{"name": name} for name in IMBALANCE_METRICS]
            notes.append(f"the rarest class is {rare:.1%} of the training samples, so precision, recall, AUC and "
                         f"PR-AUC are tracked besides accuracy (set metrics: to choose them yourself).")
        config.metrics = config.metrics or [{"name": s.name, **s.params} for s in config.metric_specs(data.task)]
    _check_output(config, data)
    from .output_layer import check_output_activation

    notes += check_output_activation(config, data)
    notes += _check_metrics(config, data)
    notes += _check_class_weight(config, data)
    batch_size, batch_notes = _batch_size(config, len(data.x_train))
    notes += batch_notes
    _check_monitors(config, data)
    return Preflight(data, batch_size, notes, dataset.inference)


def _check_output(config, data: Prepared) -> None:
    override = config.model.output_activation
    units = data.output_units
    if override == "softmax" and units == 1:
        raise ConfigError("model.output_activation is softmax on a single output unit: softmax over one value is "
                          "always 1.0, so nothing can be learned. Use sigmoid for one unit (or leave "
                          "output_activation unset to follow the loss).", key="model.output_activation")
    if config.loss.from_logits and override not in (None, "linear"):
        raise ConfigError(f"loss.from_logits is true but model.output_activation is {override}: the loss would "
                          f"apply its own sigmoid/softmax on top of an activated output. Set "
                          f"model.output_activation: linear (or leave it unset), or from_logits: false.",
                          key="model.output_activation")
    if data.encoding == "signed" and override in ("sigmoid", "softmax"):
        raise ConfigError(f"loss {config.loss.name} compares -1/+1 labels with the output, but "
                          f"model.output_activation {override} cannot go below 0. Use linear or tanh.",
                          key="model.output_activation")
    if override == "sigmoid" and data.encoding == "one_hot" and data.label_mode == "categorical":
        raise ConfigError(f"model.output_activation sigmoid with {config.loss.name}: the outputs do not sum to "
                          f"one over the {data.n_classes} classes. Use softmax (or leave it unset).",
                          key="model.output_activation")
    if config.model.type == "cnn" and image_shape(data.input_shape) is None:
        raise ConfigError(f"model.type cnn needs image-shaped data (height, width[, channels]) or a flat square "
                          f"vector; {config.data.dataset} has samples of shape {data.input_shape}. Use model.type "
                          f"mlp.", key="model.type")


def _rare_class_share(data: Prepared) -> float | None:
    counts = data.class_counts or []
    return min(counts) / sum(counts) if data.task == "classification" and counts and sum(counts) else None


def _check_metrics(config, data: Prepared) -> list[str]:
    notes = []
    names = []
    for i, spec in enumerate(config.metric_specs(data.task)):
        names.append(spec.name)
        tags = spec.entry.tags
        if data.task == "regression" and CLASSIFICATION_ONLY in tags:
            raise ConfigError(f"metrics[{i}] {spec.name} is a classification metric but "
                              f"{config.data.dataset} is a regression task. Use mae, mse, rmse or r2.",
                              key=f"metrics[{i}]")
        if data.task == "classification" and "regression" in tags:
            notes.append(f"metrics[{i}] {spec.name} measures regression error on encoded class labels; "
                         f"accuracy, precision, recall, f1 or auc say more about a classifier.")
        if spec.name == "top_k_accuracy" and spec.params["k"] >= (data.n_classes or 0):
            raise ConfigError(f"metrics[{i}].k is {spec.params['k']} but there are only {data.n_classes} classes, so "
                              f"top-k accuracy is always 1. Use a smaller k.", key=f"metrics[{i}].k")
    counts = data.class_counts or []
    if counts and min(counts) < IMBALANCE_RATIO * max(counts) and set(names) <= {"accuracy"}:
        share = min(counts) / sum(counts)
        notes.append(f"the rarest class is {share:.1%} of the training samples: accuracy can look high while that "
                     f"class is never found. Add metrics: [accuracy, precision, recall, f1, auc], and consider "
                     f"data.class_weight: balanced.")
    return notes


def _check_class_weight(config, data: Prepared) -> list[str]:
    setting = config.data.class_weight
    if setting is None:
        return []
    if data.task != "classification":
        raise ConfigError("data.class_weight applies to classification; this dataset is a regression task. "
                          "Remove data.class_weight.", key="data.class_weight")
    if isinstance(setting, dict):
        extra = sorted(k for k in setting if k >= data.n_classes)
        if extra:
            raise ConfigError(f"data.class_weight names class {extra[0]}, but the classes are 0..{data.n_classes - 1}.",
                              key="data.class_weight")
    return []


def _batch_size(config, n_train: int) -> tuple[int, list[str]]:
    batch = config.training.batch_size
    notes = []
    if is_full_batch(config.optimizer_spec()):
        if batch != "full":
            notes.append(f"optimizer gd is full-batch gradient descent: training.batch_size {batch} is replaced by "
                         f"the {n_train} training samples (one step per epoch).")
        return n_train, notes
    size = n_train if batch == "full" else int(batch)
    if size > n_train:
        notes.append(f"training.batch_size {size} is larger than the {n_train} training samples: "
                     f"every step is full-batch gradient descent.")
        size = n_train
    return size, notes


def expected_names(config, data: Prepared) -> list[str]:
    """The history columns a run will have: loss, each metric, and their val_ versions."""
    train = ["loss"] + [m["name"] for m in config.metrics or []]
    return train + ([f"val_{n}" for n in train] if data.x_val is not None else [])


def monitors(config) -> dict[str, str]:
    """Every monitored name in the config: {config key: name}."""
    out = {}
    for key in ("early_stopping", "reduce_lr_on_plateau"):
        setting = getattr(config.training, key)
        if setting:
            out[f"training.{key}.monitor"] = setting.monitor
    return out


def _check_monitors(config, data: Prepared) -> None:
    known = expected_names(config, data)
    for key, name in monitors(config).items():
        if name not in known:
            from ..schema import suggest

            hint = (" There is no validation split: set data.validation_split > 0 or monitor 'loss'."
                    if name.startswith("val_") and data.x_val is None else suggest(name, known))
            raise ConfigError(f"{key} is {name!r}, which this run will not record.{hint} "
                              f"Recorded: {', '.join(known)}.", key=key)


def ready_without_step(model, data: Prepared) -> None:
    """What ``check_training_step`` leaves built, without taking the step: the optimizer's variables, the compiled
    loss and metrics (built from one label row and the output's shape, as Keras builds them on the first step).
    For a member of a stacked group whose twin (the same config but for the seed) took the checked step."""
    import numpy as np

    model.optimizer.build(model.trainable_variables)
    y_true = data.y_train[:1]
    y_pred = np.zeros((1, *tuple(model.output_shape)[1:]), dtype="float32")
    if model._compile_metrics is not None and not model._compile_metrics.built:
        model._compile_metrics.build(y_true, y_pred)
    if model._compile_loss is not None and not model._compile_loss.built:
        model._compile_loss.build(y_true, y_pred)


def check_training_step(model, config, data: Prepared, batch_size: int) -> None:
    """One real training step on a small batch, then every model variable (the weights, and the dropout seed
    generators' states) and the optimizer state put back: confirms the model, loss and metrics run together and
    that every monitored name is logged, and leaves no trace in the run (a member of a stacked group that skips
    the step, ``ready_without_step``, starts from the same state)."""
    import numpy as np

    n = min(batch_size, len(data.x_train))  # the run's own batch shape: fit reuses the traced step
    weights = [np.array(v.numpy()) for v in model.variables]  # the weights and the dropout seed generators' states
    optimizer = model.optimizer
    optimizer.build(model.trainable_variables)
    saved = [np.array(v.numpy()) for v in optimizer.variables]
    run_eagerly = model.run_eagerly
    model.run_eagerly = True  # one step needs no compiled graph: tracing one would cost more than the step
    try:
        sample_weight = None if data.sample_weight is None else data.sample_weight[:n]
        logs = model.train_on_batch(data.x_train[:n], data.y_train[:n], sample_weight=sample_weight, return_dict=True)
    except ConfigError:
        raise
    except Exception as exc:
        message = str(exc).strip().splitlines()
        raise ConfigError(f"the first training step failed with model.type {config.model.type}, loss "
                          f"{config.loss.name} and metrics {[m['name'] for m in config.metrics or []]}: "
                          f"{type(exc).__name__}: {message[0] if message else ''}"[:1200], key="model") from None
    finally:
        model.run_eagerly = run_eagerly
        model.train_function = None  # fit and the fused engine make their own compiled step
        for var, value in zip(model.variables, weights):  # the run starts as if the step had not been taken
            var.assign(value)
        for var, value in zip(optimizer.variables, saved):
            var.assign(value)
        model.reset_metrics()
    logged = list(logs) + ([f"val_{k}" for k in logs] if data.x_val is not None else [])
    missing = [name for name in expected_names(config, data) if name not in logged]
    for key, name in monitors(config).items():
        if name not in logged:
            raise ConfigError(f"{key} is {name!r}, but the first training step logged only {', '.join(logged)}.",
                              key=key)
    if missing:
        raise ConfigError(f"metrics: the first training step logged {', '.join(logged)} but not "
                          f"{', '.join(missing)}; a custom metric or loss must keep its name.", key="metrics")
