"""Every catalog name trains: each loss, optimizer, schedule, metric, dataset source and model
compiles and runs one tiny epoch (full batch, small data). Also checks the param tables against
Keras' own signatures, the learning_rate column under schedules and reduce_lr_on_plateau, and
that history.csv has the plain metric names."""

from __future__ import annotations

import inspect
import math
from pathlib import Path

import numpy as np
import pytest

from lossopt_cli import config, rundir
from lossopt_cli.catalog import DATASETS, LOSSES, METRICS, MODELS, OPTIMIZERS
from lossopt_cli.catalog.losses import label_mode
from lossopt_cli.catalog.optimizers import SCHEDULES
from lossopt_cli.schema import ConfigError

from .fixtures.keras_cache import write_keras_cache

keras = pytest.importorskip("keras")

from lossopt_cli.training.runner import execute, prepare_run  # noqa: E402  (after the keras import check)

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def make(**changes) -> dict:
    raw = {"seed": 1, "data": {"dataset": "iris", "validation_split": 0.3}, "loss": "categorical_crossentropy",
           "model": {"type": "mlp", "hidden_units": [8]}, "optimizer": {"name": "adam", "learning_rate": 0.01},
           "training": {"epochs": 1, "batch_size": "full"}, "output": {"save_model": False}}
    for key, value in changes.items():
        section, _, sub = key.partition("__")
        if sub:
            raw[section] = {**raw.get(section, {}), sub: value}
        else:
            raw[section] = value
    return raw


def fit(raw: dict, epochs: int = 1, validate: bool = False) -> tuple[dict, object]:
    """prepare_run (pre-flight, build, compile, one checked step), then Keras' fit: (history, prepared).
    Without ``validate`` the validation split is held out but not evaluated (one traced function less)."""
    prepared = prepare_run(config.validate(raw))
    data = prepared.data
    history = prepared.model.fit(
        data.x_train, data.y_train, sample_weight=data.sample_weight, batch_size=prepared.batch_size,
        epochs=epochs, validation_data=(data.x_val, data.y_val) if validate and data.x_val is not None else None,
        verbose=0)
    assert all(math.isfinite(v) for v in history.history["loss"]), history.history
    return history.history, prepared


def train(raw: dict, epochs: int = 2) -> tuple[list[dict], object]:
    """prepare_run, then ``epochs`` full-batch steps (one epoch each) with the step the pre-flight
    already traced: the cheap way to train every catalog name. (logs per epoch, prepared)."""
    prepared = prepare_run(config.validate(raw))
    data = prepared.data
    assert prepared.batch_size == len(data.x_train)
    logs = [prepared.model.train_on_batch(data.x_train, data.y_train, sample_weight=data.sample_weight,
                                          return_dict=True) for _ in range(epochs)]
    assert all(math.isfinite(row["loss"]) for row in logs), logs
    return logs, prepared


@pytest.fixture(autouse=True)
def fresh_keras_session():
    yield
    keras.backend.clear_session()


def dataset_for(loss_name: str) -> dict:
    mode = label_mode(LOSSES.get(loss_name, "loss"))
    if mode in ("binary", "signed"):
        return {"dataset": "breast_cancer", "validation_split": 0.3}
    if mode == "regression":
        return {"dataset": "diabetes", "validation_split": 0.3}
    return {"dataset": "iris", "validation_split": 0.3}


# --- the parameter tables match Keras -----------------------------------------------------------


@pytest.mark.parametrize("registry,module", [(LOSSES, "losses"), (OPTIMIZERS, "optimizers"),
                                              (SCHEDULES, "optimizers.schedules"), (METRICS, "metrics")])
def test_every_registered_parameter_exists_in_the_keras_class(registry, module):
    namespace = keras
    for part in module.split("."):
        namespace = getattr(namespace, part)
    for entry in registry.entries():
        class_name = getattr(entry.build, "keras_class", None)
        if class_name is None:
            continue
        accepted = set(inspect.signature(getattr(namespace, class_name).__init__).parameters)
        for key in entry.params:
            keras_key = "initial_learning_rate" if key == "initial" else key
            assert keras_key in accepted, f"{entry.name}.{key} is not an argument of keras.{module}.{class_name}"


# --- every name trains ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", LOSSES.names())
def test_every_loss_trains(name):
    logs, prepared = train(make(loss=name, data=dataset_for(name)))
    assert logs[-1]["loss"] != logs[0]["loss"]  # the weights moved
    if "signed" in LOSSES.get(name, "loss").entry.tags:
        assert set(np.unique(prepared.data.y_train)) == {-1.0, 1.0}


def test_loss_parameters_reach_keras():
    _, prepared = fit(make(loss={"name": "huber", "delta": 2.0}, data=dataset_for("huber")))
    error_of_3 = float(prepared.model.loss(np.array([[0.0]]), np.array([[3.0]])))
    assert error_of_3 == pytest.approx(0.5 * 2.0 ** 2 + 2.0 * (3 - 2.0))  # quadratic up to delta = 2, then linear


@pytest.mark.parametrize("name", OPTIMIZERS.names())
def test_every_optimizer_trains(name):
    logs, prepared = train(make(optimizer={"name": name}))
    assert int(prepared.model.optimizer.iterations) == 2 and logs[-1]["loss"] != logs[0]["loss"]


def test_teaching_optimizers_are_the_promised_sgd_variants():
    _, momentum = fit(make(optimizer="momentum"))
    _, nesterov = fit(make(optimizer="nesterov"))
    _, gd = fit(make(optimizer="gd", training={"epochs": 1, "batch_size": 8}), epochs=2)
    assert (momentum.model.optimizer.momentum, momentum.model.optimizer.nesterov) == (0.9, False)
    assert (nesterov.model.optimizer.momentum, nesterov.model.optimizer.nesterov) == (0.9, True)
    assert gd.batch_size == len(gd.data.x_train) and int(gd.model.optimizer.iterations) == 2  # one step per epoch


SCHEDULE_CASES = {
    "exponential_decay": {"initial": 0.1, "decay_steps": 1, "decay_rate": 0.5},
    "inverse_time_decay": {"initial": 0.1, "decay_steps": 1, "decay_rate": 1.0},
    "polynomial_decay": {"initial": 0.1, "decay_steps": 4, "end_learning_rate": 0.01},
    "piecewise_constant_decay": {"boundaries": [1, 2], "values": [0.1, 0.05, 0.01]},
    "cosine_decay": {"initial": 0.01, "decay_steps": 4, "warmup_steps": 2, "warmup_target": 0.1},
    "cosine_decay_restarts": {"initial": 0.1, "first_decay_steps": 2},
}


@pytest.mark.parametrize("name", SCHEDULES.names())
def test_every_schedule_trains_and_history_records_the_rate_in_force(name, tmp_path):
    raw = make(optimizer={"name": "sgd", "learning_rate": {"name": name, **SCHEDULE_CASES[name]}},
               training={"epochs": 3, "batch_size": "full"}, output={"dir": str(tmp_path), "save_model": False})
    result = execute(prepare_run(config.validate(raw)), verbose=0)
    assert result.status == "completed", result.summary.get("error")
    history = rundir.read_history(result.run_dir / rundir.HISTORY)
    schedule = SCHEDULES.get({"name": name, **SCHEDULE_CASES[name]}, "lr").build()
    expected = [float(schedule(step)) for step in range(3)]  # full batch: epoch e starts at step e - 1
    assert history["learning_rate"] == pytest.approx(expected, rel=1e-5)


def test_reduce_lr_on_plateau_shows_in_the_learning_rate_column(tmp_path):
    raw = make(optimizer={"name": "sgd", "learning_rate": 0.1}, output={"dir": str(tmp_path), "save_model": False},
               training={"epochs": 4, "batch_size": "full",
                         "reduce_lr_on_plateau": {"monitor": "loss", "patience": 0, "factor": 0.5, "min_delta": 100}})
    result = execute(prepare_run(config.validate(raw)), verbose=0)
    history = rundir.read_history(result.run_dir / rundir.HISTORY)
    # epoch 1 sets the best; each later epoch misses min_delta and halves the rate for the next one
    assert history["learning_rate"] == pytest.approx([0.1, 0.1, 0.05, 0.025])


CLASSIFICATION_METRICS = [n for n in METRICS.names() if "classification" in METRICS.get(n, "m").entry.tags]
REGRESSION_METRICS = [n for n in METRICS.names() if "regression" in METRICS.get(n, "m").entry.tags]


@pytest.mark.parametrize("loss,dataset,reload", [("categorical_crossentropy", "wine", True),
                                                 ("sparse_categorical_crossentropy", "wine", False),
                                                 ("binary_crossentropy", "breast_cancer", False),
                                                 ("hinge", "breast_cancer", True)])
def test_every_classification_metric_trains_under_each_label_encoding(loss, dataset, reload, tmp_path):
    metrics = [m if m != "top_k_accuracy" else {"name": m, "k": 2} for m in CLASSIFICATION_METRICS]
    if dataset == "breast_cancer":
        metrics = [m for m in metrics if m != {"name": "top_k_accuracy", "k": 2}]
    raw = make(loss=loss, data={"dataset": dataset, "validation_split": 0.3}, metrics=metrics,
               output={"dir": str(tmp_path), "save_model": reload}, training={"epochs": 2, "batch_size": "full"})
    prepared = prepare_run(config.validate(raw))
    result = execute(prepared, verbose=0)
    assert result.status == "completed", result.summary.get("error")
    columns = rundir.read_history(result.run_dir / rundir.HISTORY).keys()
    names = [m if isinstance(m, str) else m["name"] for m in metrics]
    assert set(columns) == {"epoch", "loss", "val_loss", "learning_rate", *names, *(f"val_{n}" for n in names)}
    if reload:  # model.keras loads compiled: lossopt's metric objects deserialize
        loaded = keras.saving.load_model(result.run_dir / rundir.MODEL)
        scores = loaded.evaluate(prepared.data.x_val, prepared.data.y_val, verbose=0, return_dict=True)
        assert set(scores) == {"loss", *names}


def test_precision_recall_f1_agree_with_scikit_learn():
    from sklearn.metrics import f1_score, precision_score, recall_score

    for loss, dataset in [("categorical_crossentropy", "wine"), ("binary_crossentropy", "breast_cancer")]:
        _, prepared = train(make(loss=loss, data={"dataset": dataset, "validation_split": 0.3},
                                 metrics=["precision", "recall", "f1"]), epochs=5)
        data = prepared.data
        scores = prepared.model.evaluate(data.x_val, data.y_val, verbose=0, return_dict=True)
        predicted = prepared.model.predict(data.x_val, verbose=0)
        if data.encoding == "binary":
            y_pred, y_true, average = (predicted[:, 0] > 0.5).astype(int), data.y_val[:, 0].astype(int), "binary"
        else:
            y_pred, y_true, average = predicted.argmax(1), data.y_val.argmax(1), "macro"
        for name, fn in [("precision", precision_score), ("recall", recall_score), ("f1", f1_score)]:
            assert scores[name] == pytest.approx(fn(y_true, y_pred, average=average, zero_division=0), abs=1e-4)


def test_every_regression_metric_trains():
    history, _ = fit(make(loss="mse", data={"dataset": "diabetes", "validation_split": 0.3},
                          metrics=REGRESSION_METRICS), validate=True)
    assert set(REGRESSION_METRICS) <= set(history) and "val_r2" in history


@pytest.fixture(scope="module")
def keras_home(tmp_path_factory):
    return write_keras_cache(tmp_path_factory.mktemp("keras_home"))


SMALL = {"n_samples": 60}


@pytest.mark.parametrize("name", DATASETS.names())
def test_every_dataset_trains(name, keras_home, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(keras_home.parent))
    entry = DATASETS.get(name, "data.dataset").entry
    params = {k: v for k, v in SMALL.items() if k in entry.params}
    task = "regression" if "regression" in entry.tags else "classification"
    loss = "mse" if task == "regression" else "sparse_categorical_crossentropy"
    val = 0.0 if name.startswith("keras:") else 0.3  # Keras sets come with a test set; the tiny copies stay whole
    logs, prepared = train(make(data={"dataset": name, "params": params, "validation_split": val}, loss=loss))
    assert prepared.data.task == task


def test_csv_npz_and_image_folder_train(tmp_path, monkeypatch):
    from PIL import Image

    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    rows = ["a,colour,label"] + [f"{rng.normal():.3f},{['red', 'blue'][i % 2]},{i % 2}" for i in range(40)]
    Path("t.csv").write_text("\n".join(rows) + "\n")
    fit(make(data={"dataset": "t.csv", "target": "label", "categorical": ["colour"], "validation_split": 0.25},
             loss="bce"))
    np.savez("t.npz", x=rng.normal(size=(40, 3)), y=np.arange(40) % 2)
    fit(make(data={"dataset": "t.npz", "validation_split": 0.25}, loss="bce"))
    for label in ("cats", "dogs"):
        Path("pics", label).mkdir(parents=True)
        for i in range(4):
            Image.fromarray(rng.integers(0, 255, (10, 10, 3)).astype("uint8")).save(f"pics/{label}/{i}.png")
    _, prepared = fit(make(data={"dataset": "pics", "image_size": [8, 8], "validation_split": 0.25},
                           loss="categorical_crossentropy", model={"type": "cnn", "filters": [4], "dense_units": []}))
    assert prepared.data.input_shape == (8, 8, 3) and prepared.data.class_names == ["cats", "dogs"]


MODEL_CASES = {
    "mlp": {"type": "mlp", "hidden_units": [8, 4], "batch_norm": True, "dropout": 0.1, "l1": 0.001, "l2": 0.001,
            "initializer": "he_normal", "activation": "tanh"},
    "cnn": {"type": "cnn", "filters": [4, 8], "dense_units": [8], "batch_norm": True, "pooling": "average"},
    "layers": {"type": "layers", "layers": [{"class_name": "Dense", "units": 8, "activation": "relu"},
                                            {"class_name": "Dropout", "rate": 0.1}]},
}


@pytest.mark.parametrize("name", MODELS.names())
def test_every_model_trains(name):
    data = {"dataset": "digits", "validation_split": 0.9} if name == "cnn" else {"dataset": "iris"}
    _, prepared = train(make(model=MODEL_CASES[name], data=data))
    assert prepared.model.name == name and prepared.model.output_shape[-1] == prepared.data.output_units


def test_custom_model_and_losses_from_files(monkeypatch, tmp_path):
    monkeypatch.chdir(REPO)
    (tmp_path / "net.py").write_text(
        "import keras\n\n"
        "def small(input_shape, output_units, output_activation, width=4):\n"
        "    inputs = keras.Input(shape=input_shape)\n"
        "    x = keras.layers.Dense(width, activation='relu')(inputs)\n"
        "    return keras.Model(inputs, keras.layers.Dense(output_units, activation=output_activation)(x), name='small')\n")
    _, prepared = train(make(model={"type": f"{tmp_path}/net.py:small", "args": {"width": 3}}))
    assert prepared.model.layers[1].units == 3
    for path in ("configs/custom/iou_loss.yaml", "configs/custom/feature_loss.yaml"):
        # load (not read_yaml): the custom file is found beside the config, as a user's run would
        resolved = config.load(path, {"data.validation_split": 0.5, "training.epochs": 1, "training.batch_size": "full"})
        train(resolved.to_dict())


def test_a_failing_first_step_is_a_config_error_and_writes_nothing(tmp_path):
    (tmp_path / "broken.py").write_text("def broken(y_true, y_pred):\n    raise ValueError('shapes do not match')\n")
    raw = make(loss=f"{tmp_path}/broken.py:broken", output={"dir": str(tmp_path / "out")})
    with pytest.raises(ConfigError, match="the first training step failed .* ValueError: shapes do not match"):
        prepare_run(config.validate(raw))
    assert not (tmp_path / "out").exists()


def test_class_weight_balanced_trains_with_sample_weights():
    _, prepared = train(make(data={"dataset": "imbalanced", "params": {"n_samples": 200}, "class_weight": "balanced"},
                             loss="bce", metrics=["recall", "pr_auc"]))
    weights = prepared.data.sample_weight
    y = prepared.data.y_train[:, 0]
    assert weights[y == 1].mean() > 5 * weights[y == 0].mean()
