"""Make the labelled diagnosis corpus: real Keras runs on public data, most of them trained by lossopt itself.

    nice -n 19 python benchmarks/diagnosis/make_corpus.py --shard 0/2 &   # train (two shards, one per core)
    nice -n 19 python benchmarks/diagnosis/make_corpus.py --shard 1/2 &
    python benchmarks/diagnosis/make_corpus.py --label                    # label every run by label_rule.py

Each recipe is a lossopt config (``lossopt_cli.api``-style: ``config.load`` then ``training.runner``), trained
into a real run directory whose ``history.csv``, ``summary.json`` and ``config.yaml`` are kept (no model,
checkpoint, plot or report; lossopt's diagnosis is switched off while the corpus is made, so ``summary.json``
has no verdict), or a plain Keras script logging with ``CSVLogger`` only (``<name>.csv``). Beside the
run, this script records what the labelling rule reads and the detector never sees (``.data/facts``, then
``corpus-facts*.json``): the test loss after every epoch (a callback), the delivered model's test loss and
per-class test recall, the constant model's training loss under the run's weights, and reference fits
(scikit-learn's logistic/ridge regression and gradient-boosted trees) on the same split.

A fixed third of the runs is held out by a hash of its name (``held_out``): ``corpus-holdout/``.
Seeded (the config's seed: split, initial weights, batch order); 35 min on 2 shared cores (two shards).
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from corpus_data import DATA, write_all  # noqa: E402

FACTS = DATA / "facts"
KEEP = ("history.csv", "summary.json", "config.yaml")


def held_out(name: str) -> bool:
    """The fixed held-out third: a run is held out when the SHA-1 of its name is 0 modulo 3."""
    return int(hashlib.sha1(name.encode()).hexdigest(), 16) % 3 == 0


# The fresh held-out sets (--fresh, --fresh2: every recipe on a seed no corpus run had, made after the rules
# were tuned; a set once scored becomes tuning material and the next measurement needs the next set):
# name -> seed. A run's name starts with "<set>-" and it lives in corpus-<set>/.
FRESH_SETS = {"fresh": 100, "fresh2": 101}


def fresh_set(name: str) -> str | None:
    """The fresh set a run belongs to (None: the corpus)."""
    head = name.split("-", 1)[0]
    return head if head in FRESH_SETS else None


def run_path(name: str, history_only: bool) -> Path:
    fresh = fresh_set(name)
    folder = HERE / (f"corpus-{fresh}" if fresh else "corpus-holdout" if held_out(name) else "corpus")
    return folder / (f"{name}.csv" if history_only else name)


# --- the data and the models --------------------------------------------------------------------------------

BIN = {"loss": "binary_crossentropy", "task": "classification"}
MULTI = {"loss": "categorical_crossentropy", "task": "classification"}
REG = {"loss": "mse", "task": "regression"}
# name -> (data section, what the loss and task are; the CSV's target column)
DATASETS = {
    "digits": ({"dataset": "digits"}, MULTI), "breast_cancer": ({"dataset": "breast_cancer"}, BIN),
    "wine": ({"dataset": "wine"}, MULTI), "iris": ({"dataset": "iris"}, MULTI), "diabetes": ({"dataset": "diabetes"}, REG),
    "digits_cache": ({"dataset": "keras:mnist"}, MULTI),
    "digits_tokens": ({"target": "digit", "normalize": "none"}, MULTI),
    "digits_parity": ({"target": "odd"}, BIN), "digits_lt5": ({"target": "below5"}, BIN),
    "digit0": ({"target": "is0"}, BIN), "digit8": ({"target": "is8"}, BIN),
    "fair_reg": ({"target": "affairs"}, REG), "fair_any": ({"target": "affair"}, BIN),
    "fair_gt2": ({"target": "affair"}, BIN), "fair_gt3": ({"target": "affair"}, BIN), "fair_gt5": ({"target": "affair"}, BIN),
    "randhie_reg": ({"target": "mdvis"}, REG), "randhie_top": ({"target": "many_visits"}, BIN),
    "star98": ({"target": "share_above"}, REG), "anes_vote": ({"target": "vote"}, BIN),
    "modechoice": ({"target": "choice"}, BIN), "sunspots": ({"target": "sunactivity"}, REG),
    "co2": ({"target": "change"}, REG),
    "digits_noisy": ({"target": "digit"}, MULTI), "breast_cancer_noisy": ({"target": "malignant"}, BIN),
}


def model_section(kind: str, **kw) -> dict:
    if kind == "mlp":
        return {"type": "mlp", "hidden_units": kw.get("hidden", [32]), "dropout": kw.get("dropout", 0.0),
                "l2": kw.get("l2", 0.0)}
    if kind == "linear":
        return {"type": "mlp", "hidden_units": []}
    if kind == "cnn":
        return {"type": "cnn", "filters": kw.get("filters", [16, 32]), "dense_units": kw.get("dense", [32]),
                "dropout": kw.get("dropout", 0.0)}
    if kind == "gru_rows":  # the 8x8 digit read row by row
        return {"type": "layers", "layers": [{"class_name": "Reshape", "target_shape": [8, 8]},
                                             {"class_name": "GRU", "units": kw.get("units", 32)}]}
    if kind == "lstm_rows":
        return {"type": "layers", "layers": [{"class_name": "Reshape", "target_shape": [8, 8]},
                                             {"class_name": "LSTM", "units": kw.get("units", 32)}]}
    if kind == "emb_gru":  # pixel intensities 0-16 as tokens of a 64-step sequence
        return {"type": "layers", "layers": [{"class_name": "Embedding", "input_dim": 17, "output_dim": 8},
                                             {"class_name": "GRU", "units": kw.get("units", 24)}]}
    if kind == "seq_gru":  # a window of lags as a sequence of one feature
        return {"type": "layers", "layers": [{"class_name": "Reshape", "target_shape": [kw["steps"], 1]},
                                             {"class_name": "GRU", "units": kw.get("units", 16)}]}
    raise ValueError(kind)


def recipes(fresh: str | None = None) -> list[dict]:
    """Every run of the corpus; ``fresh``: that fresh held-out set instead, each recipe once on its seed in
    ``FRESH_SETS`` (a split, initial weights and batch order no run of the corpus had)."""
    out: list[dict] = []
    prefix = f"{fresh}-" if fresh else ""

    def add(intent, data, kind, seeds=(0,), opt="adam", lr=1e-3, epochs=30, batch=32, val=0.2, test=0.2, es=None,
            restore=True, cw=None, metrics=None, history_only=False, **kw):
        for seed in ((FRESH_SETS[fresh],) if fresh else seeds):
            tag = kind + ("-w" if cw else "") + ("-es" if es else "")
            recipe = {"intent": intent, "data": data, "kind": kind, "seed": seed, "opt": opt, "lr": lr,
                      "epochs": epochs, "batch": batch, "val": val, "test": test, "es": es, "restore": restore,
                      "cw": cw, "metrics": metrics, "history_only": history_only, "model": kw}
            if fresh and any({k: r[k] for k in recipe} == recipe for r in out):
                continue  # a recipe added again for more seeds is one run on the fresh seed
            k = 1 + sum(1 for r in out if r["name"].startswith(f"{prefix}{intent}-{data}-{tag}-"))
            out.append({"name": f"{prefix}{intent}-{data}-{tag}-{k:02d}", **recipe})

    rec = ["accuracy", "precision", "recall", "auc"]
    # healthy: right-sized models, early stopping with restored weights or a modest number of epochs
    add("healthy", "digits", "mlp", (0, 1, 2), epochs=40, es=4, hidden=[64], dropout=0.2)
    add("healthy", "digits", "cnn", (0, 1), epochs=12)
    add("healthy", "digits_cache", "cnn", (0, 1), epochs=12, test=0.0)
    add("healthy", "digits", "gru_rows", (0, 1), lr=3e-3, epochs=15)
    add("healthy", "digits_tokens", "emb_gru", (0, 1), lr=5e-3, epochs=30, units=32)
    add("healthy", "breast_cancer", "mlp", (0, 1, 2), epochs=60, es=5, hidden=[16], l2=1e-3)
    add("healthy", "wine", "mlp", (0, 1), epochs=60, batch=16, hidden=[16])
    add("healthy", "iris", "mlp", (0, 1), lr=1e-2, epochs=60, batch=16, hidden=[16])
    add("healthy", "diabetes", "mlp", (0, 1, 2), lr=3e-3, epochs=100, es=8, hidden=[16], l2=1e-3)
    add("healthy", "diabetes", "linear", (0, 1), lr=1e-2, epochs=80, es=8)
    add("healthy", "fair_reg", "mlp", (0, 1), lr=1e-3, epochs=40, es=5, hidden=[16])
    add("healthy", "randhie_reg", "mlp", (0, 1), epochs=30, es=5, hidden=[16])
    add("healthy", "star98", "linear", (0, 1), lr=1e-2, epochs=100, es=10, batch=16)
    add("healthy", "fair_any", "mlp", (0, 1, 2), epochs=40, es=5, hidden=[16], metrics=rec)
    add("healthy", "anes_vote", "mlp", (0, 1), epochs=40, es=5, hidden=[16])
    add("healthy", "modechoice", "mlp", (0, 1), lr=3e-3, epochs=80, es=8, hidden=[32, 32])
    add("healthy", "sunspots", "seq_gru", (0, 1), lr=3e-3, epochs=100, es=10, batch=16, steps=10)
    add("healthy", "co2", "mlp", (0,), epochs=40, es=5, hidden=[16])
    add("healthy", "digit0", "mlp", (0, 1), epochs=20, hidden=[16], metrics=rec)
    add("healthy", "fair_gt3", "mlp", (0, 1, 2), epochs=20, cw="balanced", hidden=[16], metrics=rec)
    add("healthy", "fair_gt5", "linear", (0, 1), lr=3e-3, epochs=30, cw="balanced")
    add("healthy", "randhie_top", "mlp", (0, 1), epochs=20, cw="balanced", hidden=[16], metrics=rec)
    # early-stopped runs of an over-sized model with restored best weights: the delivered model is the best one
    for data in ("digits", "breast_cancer", "fair_any", "diabetes", "anes_vote"):
        add("healthy", data, "mlp", (3,), epochs=100, es=6, val=0.6, hidden=[256, 256])
    # over-fitting: an over-sized model on a small training split (60 % of the data kept for validation)
    for data, epochs in (("digits", 60), ("breast_cancer", 80), ("wine", 100), ("iris", 120), ("diabetes", 150),
                         ("fair_any", 60), ("anes_vote", 80), ("modechoice", 100), ("fair_reg", 60), ("star98", 150),
                         ("randhie_reg", 60), ("sunspots", 150)):
        add("overfitting", data, "mlp", (0, 1), epochs=epochs, batch=16, val=0.6, hidden=[256, 256])
    add("overfitting", "digits", "cnn", (0, 1), epochs=60, batch=16, val=0.7, filters=[32, 64], dense=[128])
    add("overfitting", "digits", "gru_rows", (0,), lr=3e-3, epochs=60, batch=16, val=0.7, units=64)
    add("overfitting", "fair_any", "mlp", (2,), epochs=80, es=15, restore=False, batch=16, val=0.6, hidden=[256, 256])
    add("overfitting", "diabetes", "mlp", (2,), epochs=150, es=30, restore=False, batch=16, val=0.6, hidden=[256, 256])
    # unstable: learning rates too high, without (or before) NaN
    for data, opt, lr, batch in (("digits", "adam", 0.05, 16), ("digits", "sgd", 1.0, 8), ("breast_cancer", "sgd", 2.0, 8),
                                 ("breast_cancer", "adam", 0.3, 8), ("wine", "sgd", 1.0, 8), ("iris", "adam", 0.5, 8),
                                 ("fair_any", "adam", 0.3, 16), ("anes_vote", "sgd", 1.5, 8), ("modechoice", "adam", 0.2, 8),
                                 ("diabetes", "sgd", 0.3, 8), ("star98", "adam", 0.3, 8), ("fair_reg", "sgd", 0.1, 16)):
        add("unstable", data, "mlp", (0, 1), opt=opt, lr=lr, epochs=25, batch=batch, hidden=[64])
    add("unstable", "digits", "cnn", (0, 1), lr=0.05, epochs=15, batch=16)
    add("unstable", "digits", "gru_rows", (0,), opt="sgd", lr=2.0, epochs=15, batch=16)
    # diverged: far too high a learning rate
    for data, opt, lr in (("diabetes", "sgd", 5.0), ("fair_reg", "sgd", 3.0), ("star98", "adam", 50.0),
                          ("randhie_reg", "sgd", 5.0), ("sunspots", "sgd", 10.0), ("digits", "sgd", 50.0),
                          ("breast_cancer", "adam", 100.0), ("fair_any", "sgd", 100.0), ("wine", "rmsprop", 100.0),
                          ("co2", "sgd", 5.0)):
        add("diverged", data, "mlp", (0, 1), opt=opt, lr=lr, epochs=20, batch=16, hidden=[64])
    add("diverged", "digits", "cnn", (0,), opt="sgd", lr=30.0, epochs=10, batch=16)
    # stalled: far too low a learning rate
    for data, opt, lr in (("digits", "sgd", 1e-5), ("digits", "adam", 1e-7), ("breast_cancer", "sgd", 1e-5),
                          ("wine", "adam", 1e-7), ("iris", "sgd", 1e-5), ("diabetes", "adam", 1e-7),
                          ("fair_any", "sgd", 1e-6), ("anes_vote", "adam", 1e-7), ("fair_reg", "sgd", 1e-6),
                          ("star98", "adam", 1e-7), ("modechoice", "sgd", 1e-6), ("fair_gt3", "adam", 1e-7)):
        add("stalled", data, "mlp", (0, 1), opt=opt, lr=lr, epochs=15, hidden=[32])
    add("stalled", "digits", "cnn", (0,), opt="adam", lr=1e-7, epochs=8)
    add("stalled", "digits_tokens", "emb_gru", (0,), opt="sgd", lr=1e-6, epochs=6)
    # under-fitting: a linear model on non-linear data, a bottleneck, a tiny network
    for data in ("digits_parity", "digits_lt5", "modechoice"):
        add("underfitting", data, "linear", (0, 1, 2), lr=1e-2, epochs=60)
    add("underfitting", "digits", "mlp", (0, 1, 2), lr=1e-2, epochs=50, hidden=[2])
    add("underfitting", "wine", "mlp", (0, 1), lr=1e-2, epochs=80, batch=16, hidden=[1])
    add("underfitting", "iris", "mlp", (0, 1), lr=1e-2, epochs=80, batch=16, hidden=[1])
    add("underfitting", "digits", "cnn", (0, 1), lr=1e-2, epochs=30, filters=[1], dense=[2])
    add("underfitting", "digits", "gru_rows", (0,), lr=1e-2, epochs=30, units=1)
    add("underfitting", "breast_cancer", "mlp", (0, 1), lr=1e-2, epochs=60, hidden=[1], l2=0.1)
    add("underfitting", "modechoice", "mlp", (3,), lr=1e-2, epochs=60, hidden=[1])
    # class imbalance without weights: the rarest class is rarely found
    for data in ("fair_gt2", "fair_gt3", "fair_gt5", "randhie_top"):
        add("imbalance", data, "mlp", (0, 1), epochs=30, hidden=[16], metrics=rec if data != "fair_gt2" else None)
        add("imbalance", data, "linear", (0,), lr=3e-3, epochs=30)
    add("imbalance", "fair_gt3", "mlp", (3,), epochs=40, es=5, hidden=[32])
    add("imbalance", "randhie_top", "mlp", (3,), epochs=40, es=5, hidden=[32], metrics=rec)
    # plain Keras scripts with CSVLogger only (no summary.json, no config.yaml)
    for data in ("fair_gt2", "fair_gt3", "fair_gt5", "randhie_top"):
        add("imbalance", data, "mlp", (0, 1, 2), epochs=25, hidden=[16], history_only=True)
        add("imbalance", data, "linear", (0,), lr=3e-3, epochs=25, history_only=True)
    for data in ("fair_gt3", "randhie_top"):
        add("healthy", data, "mlp", (0, 1), epochs=25, cw="balanced", hidden=[16], history_only=True)
    for data in ("digits", "breast_cancer", "fair_any", "digit0"):
        add("healthy", data, "mlp", (0,), epochs=25, hidden=[32], history_only=True)
        add("overfitting", data, "mlp", (5,), epochs=60, batch=16, val=0.6, hidden=[256, 256], history_only=True)
    # label noise (added after the first 220: clean digits and wine do not over-fit an over-sized model in loss)
    add("overfitting", "digits_noisy", "mlp", (0, 1, 2), epochs=50, batch=16, val=0.6, hidden=[256, 256])
    add("overfitting", "digits_noisy", "cnn", (0, 1), epochs=50, batch=16, val=0.6, filters=[32, 64], dense=[128])
    add("overfitting", "digits_noisy", "gru_rows", (0, 1), lr=3e-3, epochs=50, batch=16, val=0.6, units=64)
    add("overfitting", "breast_cancer_noisy", "mlp", (0, 1, 2), epochs=80, batch=16, val=0.6, hidden=[256, 256])
    add("healthy", "digits_noisy", "mlp", (0, 1), epochs=60, es=5, hidden=[64], dropout=0.2)
    add("healthy", "breast_cancer_noisy", "mlp", (0, 1), epochs=60, es=5, hidden=[16], l2=1e-3)
    add("overfitting", "digits_noisy", "mlp", (4,), epochs=40, batch=16, val=0.6, hidden=[256, 256],
        history_only=True)
    # more seeds of the recipes that make the rarer labels (added after the first 234 were labelled, before
    # the detector ran: the hash had put 3 stalled and 4 unstable runs in the held-out third)
    for data, opt, lr, batch in (("digits", "adam", 0.05, 16), ("breast_cancer", "sgd", 2.0, 8),
                                 ("breast_cancer", "adam", 0.3, 8), ("iris", "adam", 0.5, 8), ("star98", "adam", 0.3, 8),
                                 ("anes_vote", "sgd", 1.5, 8)):
        add("unstable", data, "mlp", (2, 3, 4), opt=opt, lr=lr, epochs=25, batch=batch, hidden=[64])
    for data, opt, lr in (("digits", "sgd", 1e-5), ("breast_cancer", "adam", 1e-7), ("wine", "sgd", 1e-5),
                          ("diabetes", "sgd", 1e-6), ("anes_vote", "sgd", 1e-6), ("star98", "sgd", 1e-6),
                          ("fair_reg", "adam", 1e-7), ("modechoice", "adam", 1e-7)):
        add("stalled", data, "mlp", (2, 3), opt=opt, lr=lr, epochs=10, hidden=[32])
    for data in ("fair_gt3", "fair_gt5", "randhie_top"):
        add("imbalance", data, "mlp", (4, 5), epochs=25, hidden=[16])
        add("imbalance", data, "mlp", (3, 4), epochs=25, hidden=[16], history_only=True)
    for data in ("digits_parity", "digits_lt5", "modechoice"):
        add("underfitting", data, "linear", (3, 4), lr=1e-2, epochs=60)
    add("underfitting", "digits", "mlp", (3, 4), lr=1e-2, epochs=50, hidden=[2])
    return out


# --- training through lossopt -----------------------------------------------------------------------------------


class TestCurve:
    """Factory of a Keras callback that evaluates the model on the test split after every epoch."""

    def __init__(self):
        self.curve: list[float] = []

    def callback(self, x, y, batch_size):
        import keras

        curve = self.curve

        class _Test(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                out = self.model.evaluate(x, y, batch_size=max(batch_size, 256), verbose=0, return_dict=True)
                curve.append(float(out["loss"]))

        return _Test()


def config_for(r: dict) -> dict:
    section, spec = DATASETS[r["data"]]
    data = dict(section)
    if "dataset" not in data:
        data["dataset"] = str(DATA / f"{r['data']}.csv")
        data["task"] = spec["task"]
    data.update({"validation_split": r["val"], "test_split": r["test"]})
    if r["cw"]:
        data["class_weight"] = r["cw"]
    training = {"epochs": r["epochs"], "batch_size": r["batch"], "checkpoint": "none"}
    if r["es"]:
        training["early_stopping"] = {"patience": r["es"], "restore_best_weights": r["restore"]}
    metrics = r["metrics"] or (["mae"] if spec["task"] == "regression" else ["accuracy"])
    return {"name": r["name"], "seed": r["seed"], "data": data, "model": model_section(r["kind"], **r["model"]),
            "loss": spec["loss"], "optimizer": {"name": r["opt"], "learning_rate": r["lr"]}, "metrics": metrics,
            "training": training, "output": {"dir": str(DATA / "staging"), "save_model": False}}


def train_lossopt(r: dict) -> dict:
    import shutil

    import yaml

    from lossopt_cli import config as config_module
    from lossopt_cli.training import callbacks as callbacks_module
    from lossopt_cli.training import recorder as recorder_module
    from lossopt_cli.training.runner import execute, prepare_run

    recorder_module.finalize = lambda run_dir, summary=None: None  # no diagnosis, plot or report while labelling
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        yaml.safe_dump(config_for(r), f)
    prepared = prepare_run(config_module.load(f.name))
    os.unlink(f.name)
    data = prepared.data
    tc = TestCurve()
    original = callbacks_module.build_callbacks
    callbacks_module.build_callbacks = lambda *a, **k: original(*a, **k) + (
        [tc.callback(data.x_test, data.y_test, prepared.batch_size)] if data.x_test is not None else [])
    try:
        result = execute(prepared, verbose=0)
    finally:
        callbacks_module.build_callbacks = original
    target = run_path(r["name"], False)
    target.mkdir(parents=True, exist_ok=True)
    for name in KEEP:
        if (Path(result.run_dir) / name).exists():
            shutil.copy(Path(result.run_dir) / name, target / name)
    shutil.rmtree(result.run_dir)
    strip_diagnostics(target / "config.yaml")
    summary = json.loads((target / "summary.json").read_text())
    config = yaml.safe_load((target / "config.yaml").read_text())
    es = (config.get("training") or {}).get("early_stopping") or {}
    facts = {"restored": summary.get("status") == "early_stopped" and bool(es.get("restore_best_weights")),
             "test_curve": tc.curve, "test_loss": (summary.get("test") or {}).get("loss"),
             "status": summary.get("status")}
    ytr, yte = _labels(data.y_train, data.task), _labels(data.y_test, data.task)
    facts.update(_scores(prepared.model, data.x_test, yte, data.task, prepared.batch_size,
                         summary.get("status") != "diverged"))
    facts.update(data_facts(r, data.x_train, ytr, data.x_test, yte, data.task))
    return facts


def strip_diagnostics(path: Path) -> None:
    """Drop the ``diagnostics:`` section (the thresholds of the lossopt that trained the run) from a stored
    config.yaml: the detector under test then uses its own defaults, and an older checkout can read it."""
    lines = path.read_text().splitlines(keepends=True)
    out, skipping = [], False
    for line in lines:
        if line.startswith("diagnostics:"):
            skipping = True
            continue
        if skipping and line[:1] not in (" ", "-", "\n", ""):
            skipping = False
        if not skipping:
            out.append(line)
    path.write_text("".join(out))


# --- plain Keras scripts with CSVLogger ----------------------------------------------------------------------------


def keras_split(r: dict):
    """The plain script's data: a stratified 60/20/20 split (``val`` of the whole for validation), standardized."""
    from sklearn.model_selection import train_test_split

    section, _ = DATASETS[r["data"]]
    if "dataset" in section:
        from sklearn import datasets

        x, y = getattr(datasets, f"load_{section['dataset']}")(return_X_y=True)
    else:
        table = np.loadtxt(DATA / f"{r['data']}.csv", delimiter=",", skiprows=1)
        x, y = table[:, :-1], table[:, -1].astype(int)
    x = x.astype("float32")
    xrest, xte, yrest, yte = train_test_split(x, y, test_size=0.2, random_state=r["seed"], stratify=y)
    xtr, xva, ytr, yva = train_test_split(xrest, yrest, test_size=r["val"] / 0.8, random_state=r["seed"] + 1,
                                          stratify=yrest)
    mean, std = xtr.mean(0), xtr.std(0)
    std[std < 1e-6] = 1.0
    return (xtr - mean) / std, ytr, (xva - mean) / std, yva, (xte - mean) / std, yte


def train_keras(r: dict) -> dict:
    import keras

    xtr, ytr, xva, yva, xte, yte = keras_split(r)
    k = int(max(ytr.max(), yte.max())) + 1
    keras.utils.set_random_seed(r["seed"])
    layers = [keras.Input((xtr.shape[1],))] + [keras.layers.Dense(u, activation="relu")
                                            for u in (r["model"].get("hidden", []) if r["kind"] == "mlp" else [])]
    binary = k == 2
    layers.append(keras.layers.Dense(1 if binary else k, activation="sigmoid" if binary else "softmax"))
    model = keras.Sequential(layers)
    loss = "binary_crossentropy" if binary else "sparse_categorical_crossentropy"
    model.compile(optimizer=keras.optimizers.get({"class_name": r["opt"], "config": {"learning_rate": r["lr"]}}),
                  loss=loss, metrics=["accuracy"])
    path = run_path(r["name"], True)
    path.parent.mkdir(parents=True, exist_ok=True)
    tc = TestCurve()
    weights = None
    if r["cw"] == "balanced":
        counts = np.bincount(ytr, minlength=k)
        weights = {c: len(ytr) / (k * counts[c]) for c in range(k)}
    model.fit(xtr, ytr, validation_data=(xva, yva), epochs=r["epochs"], batch_size=r["batch"], verbose=0,
              class_weight=weights, callbacks=[keras.callbacks.CSVLogger(str(path)), tc.callback(xte, yte, r["batch"])])
    facts = {"restored": False, "test_curve": tc.curve, "status": "completed",
             "test_loss": float(model.evaluate(xte, yte, verbose=0, return_dict=True)["loss"])}
    facts.update(_scores(model, xte, yte, "classification", r["batch"], True))
    facts.update(data_facts(r, xtr, ytr, xte, yte, "classification"))
    return facts


# --- what the labelling rule reads -------------------------------------------------------------------------------


def _labels(y, task):
    y = np.asarray(y)
    if task != "classification":
        return y.reshape(len(y), -1)[:, 0].astype(float)
    return y.argmax(1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1).astype(int)


def _scores(model, x, y, task, batch, usable) -> dict:
    """The delivered model on the test split: the rarest training class's recall, accuracy / R²."""
    if x is None or not usable:
        return {}
    out = np.asarray(model.predict(x, batch_size=max(batch, 256), verbose=0))
    if not np.all(np.isfinite(out)):
        return {"test_nonfinite": True}
    if task != "classification":
        pred = out.reshape(len(out), -1)[:, 0]
        return {"test_r2": float(1 - ((y - pred) ** 2).sum() / ((y - y.mean()) ** 2).sum())}
    pred = (out.reshape(-1) > 0.5).astype(int) if out.ndim == 1 or out.shape[1] == 1 else out.argmax(1)
    recalls = {int(c): float((pred[y == c] == c).mean()) for c in np.unique(y)}
    return {"test_accuracy": float((pred == y).mean()), "test_recall": recalls}


def data_facts(r, xtr, ytr, xte, yte, task) -> dict:
    """What the data says, whatever the model: the constant model's losses and the reference fits."""
    return {**_baseline(ytr, yte, task, r["cw"]), "references": _references(r, xtr, ytr, xte, yte, task)}


def _baseline(ytr, yte, task, cw) -> dict:
    """The constant model's training loss (under balanced class weights: ln k) and its test loss (the training
    prior or mean, unweighted), and the rarest class's share."""
    if task != "classification":
        test = float(((yte - ytr.mean()) ** 2).mean()) if yte is not None else None
        return {"train_baseline": float(((ytr - ytr.mean()) ** 2).mean()), "test_baseline": test,
                "minority_prevalence": None}
    counts = np.bincount(ytr)
    prior = counts[counts > 0] / counts.sum()
    base = math.log(len(prior)) if cw == "balanced" else float(-(prior * np.log(prior)).sum())
    rare = int(np.argmin(np.where(counts > 0, counts, counts.max() + 1)))
    full = np.clip(counts / counts.sum(), 1e-7, 1)
    test = float(-np.log(full[yte]).mean()) if yte is not None else None
    return {"train_baseline": base, "test_baseline": test, "minority_prevalence": float(counts[rare] / counts.sum()),
            "minority_class": rare}


_REFS: dict = {}


def _references(r, xtr, ytr, xte, yte, task) -> dict:
    """Test losses of scikit-learn reference fits on the same split (cached per data set and split)."""
    if xte is None or len(xte) == 0:
        return {}
    key = (r["data"], r["seed"], r["val"], r["test"], r["history_only"], r["cw"])
    if key in _REFS:
        return _REFS[key]
    import warnings

    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.metrics import balanced_accuracy_score, log_loss, mean_squared_error

    warnings.filterwarnings("ignore")
    a, b = np.asarray(xtr, float).reshape(len(xtr), -1), np.asarray(xte, float).reshape(len(xte), -1)
    mean, std = a.mean(0), a.std(0)
    std[std < 1e-9] = 1.0
    a, b = (a - mean) / std, (b - mean) / std
    out = {}
    if task == "classification":  # under class weights, fits with the same weights (their test loss pays for them)
        labels = np.arange(int(max(ytr.max(), yte.max())) + 1)
        cw = r["cw"]
        for name, m in (("logistic", LogisticRegression(max_iter=3000, class_weight=cw)),
                        ("boosted_trees", HistGradientBoostingClassifier(max_iter=150, random_state=0,
                                                                         class_weight=cw))):
            proba = m.fit(a, ytr).predict_proba(b)
            out[name] = float(log_loss(yte, proba, labels=labels))
            out[f"{name}_balanced_accuracy"] = float(balanced_accuracy_score(yte, proba.argmax(1)))
    else:
        for name, m in (("ridge", Ridge(1.0)), ("boosted_trees", HistGradientBoostingRegressor(max_iter=150,
                                                                                              random_state=0))):
            out[name] = float(mean_squared_error(yte, m.fit(a, ytr).predict(b)))
    _REFS[key] = out
    return out


def group(r: dict) -> str:
    """Runs on the same data and split (their test losses compare)."""
    return (f"{'keras' if r['history_only'] else 'lossopt'}-{r['data']}-seed{r['seed']}-val{r['val']}-test{r['test']}"
            + ("-weighted" if r["cw"] else ""))


def train_all(shard: int, shards: int, only: set[str], fresh: str | None = None) -> None:
    import keras

    paths = write_all()
    os.environ["KERAS_HOME"] = str(paths["keras_home"])
    FACTS.mkdir(parents=True, exist_ok=True)
    todo = [r for i, r in enumerate(recipes(fresh)) if i % shards == shard and (not only or r["name"] in only)]
    started = time.time()
    for i, r in enumerate(todo):
        fact_file = FACTS / f"{r['name']}.json"
        if fact_file.exists() and not only:
            continue
        t = time.time()
        try:
            facts = train_keras(r) if r["history_only"] else train_lossopt(r)
        except Exception as exc:  # noqa: BLE001 - say which recipe failed and go on
            print(f"[{i + 1}/{len(todo)}] {r['name']}: FAILED {type(exc).__name__}: {exc}", flush=True)
            continue
        keras.backend.clear_session()
        facts.update({"name": r["name"], "group": group(r), "recipe": r})
        fact_file.write_text(json.dumps(facts))
        print(f"[{i + 1}/{len(todo)}] {r['name']}: {time.time() - t:.1f} s (total {time.time() - started:.0f} s)",
              flush=True)


def refresh_facts() -> None:
    """Recompute the data facts (constant-model losses, reference fits) of every trained run, no training:
    the split is rebuilt by lossopt's own data preparation (no TensorFlow) or the plain script's."""
    import yaml

    from lossopt_cli import config as config_module
    from lossopt_cli.training.preflight import check_data

    os.environ["KERAS_HOME"] = str(write_all()["keras_home"])
    for path in sorted(FACTS.glob("*.json")):
        f = json.loads(path.read_text())
        r = f["recipe"]
        if r["history_only"]:
            xtr, ytr, _, _, xte, yte = keras_split(r)
            task = "classification"
        else:
            with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as fh:
                yaml.safe_dump(config_for(r), fh)
            data = check_data(config_module.load(fh.name)).data
            os.unlink(fh.name)
            xtr, ytr, xte, yte, task = data.x_train, _labels(data.y_train, data.task), data.x_test, \
                _labels(data.y_test, data.task), data.task
        f.update(data_facts(r, xtr, ytr, xte, yte, task))
        path.write_text(json.dumps(f))
    print(f"refreshed {len(list(FACTS.glob('*.json')))} runs' data facts")


def refit_references() -> None:
    """Rewrite every corpus run's ``data.reference_fit`` in its summary.json with what lossopt's current reference
    fits reach on the run's split (``training.reference_fit``, the code ``lossopt train`` runs), no training: the
    split is rebuilt by lossopt's own data preparation from the recipe kept in corpus-facts*.json."""
    import yaml

    from lossopt_cli import config as config_module
    from lossopt_cli.training.preflight import check_data
    from lossopt_cli.training.reference_fit import reference_fit, settle

    os.environ["KERAS_HOME"] = str(write_all()["keras_home"])
    done = 0
    for facts_file in sorted(HERE.glob("corpus-facts*.json")):
        for name, f in json.loads(facts_file.read_text())["runs"].items():
            r = f["recipe"]
            summary_file = run_path(name, r["history_only"]) / "summary.json"
            if r["history_only"] or not summary_file.exists():
                continue
            with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as fh:
                yaml.safe_dump(config_for(r), fh)
            config = config_module.load(fh.name)
            os.unlink(fh.name)
            data = check_data(config).data
            summary = json.loads(summary_file.read_text())
            fit = settle(reference_fit(data.x_train, data.y_train, data.x_val, data.y_val, data.encoding,
                                       config.loss_spec().name, seed=config.seed))
            fit.pop("seconds", None)  # (timings would make every refit a change in git)
            summary.setdefault("data", {})["reference_fit"] = fit
            summary_file.write_text(json.dumps(summary, indent=2) + "\n")
            done += 1
    print(f"rewrote the reference fit of {done} runs")


# --- labelling -------------------------------------------------------------------------------------------------


def _rounded(x):
    """Floats to 5 significant digits (the facts file stays small)."""
    if isinstance(x, float):
        return float(f"{x:.5g}") if math.isfinite(x) else str(x)
    if isinstance(x, dict):
        return {k: _rounded(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_rounded(v) for v in x]
    return x


def label_all(fresh: str | None = None) -> None:
    """Label every trained run (``fresh``: that fresh held-out set's, into corpus-labels-<set>.csv)."""
    from label_rule import RULE_VERSION, label

    rows = []
    all_facts = [json.loads(p.read_text()) for p in sorted(FACTS.glob("*.json"))]
    all_facts = [f for f in all_facts if fresh_set(f["name"]) == fresh]
    best: dict[str, float] = {}
    for f in all_facts:  # the best test loss on each split: the reference fits and every run's delivered model
        losses = [v for k, v in f.get("references", {}).items() if not k.endswith("balanced_accuracy")]
        for v in losses + [f.get("test_loss")]:
            if isinstance(v, float) and math.isfinite(v) and not f.get("test_nonfinite"):
                best[f["group"]] = min(best.get(f["group"], math.inf), v)
    best_ba: dict[str, float] = {}
    for f in all_facts:  # and the best balanced accuracy (mean recall over the classes) on each split
        recalls = f.get("test_recall") or {}
        f["balanced_accuracy"] = sum(recalls.values()) / len(recalls) if recalls else None
        scores = [v for k, v in f.get("references", {}).items() if k.endswith("balanced_accuracy")]
        for v in scores + [f["balanced_accuracy"]]:
            if v is not None:
                best_ba[f["group"]] = max(best_ba.get(f["group"], 0.0), v)
    for f in all_facts:
        r = f["recipe"]
        f["weighted"] = bool(r["cw"])
        f["reference_balanced_accuracy"] = best_ba.get(f["group"])
        path = run_path(r["name"], r["history_only"])
        history = path / "history.csv" if path.is_dir() else path
        columns = list(csv.DictReader(open(history)))
        f["loss"] = [float(c["loss"]) for c in columns]
        f["val_loss"] = [float(c["val_loss"]) for c in columns]
        f["reference_test_loss"] = best.get(f["group"])
        recalls = f.get("test_recall") or {}
        f["minority_recall"] = recalls.get(str(f.get("minority_class")), recalls.get(f.get("minority_class")))
        lbl, why = label(f)
        rows.append({"file": str(path.relative_to(HERE)), "label": lbl, "intent": r["intent"], "rule": why,
                     "history_only": int(r["history_only"]), "kind": r["kind"], "data": r["data"],
                     "held_out": int(held_out(r["name"]))})
        f["label"], f["why"] = lbl, why
    fields = ["file", "label", "intent", "rule", "history_only", "kind", "data"]
    for part, suffix in (((None, f"-{fresh}"),) if fresh else ((0, ""), (1, "-holdout"))):
        chosen = sorted((r for r in rows if part is None or r["held_out"] == part), key=lambda r: r["file"])
        with open(HERE / f"corpus-labels{suffix}.csv", "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n", extrasaction="ignore")
            writer.writeheader()
            writer.writerows(chosen)
        names = {Path(r["file"]).stem if r["history_only"] else Path(r["file"]).name for r in chosen}
        kept = {f["name"]: {k: v for k, v in f.items() if k not in ("loss", "val_loss")}
                for f in all_facts if f["name"] in names}
        (HERE / f"corpus-facts{suffix}.json").write_text(json.dumps({"rule": RULE_VERSION, "runs": _rounded(kept)},
                                                                    separators=(",", ":")))
        counts = {}
        for r in chosen:
            counts[r["label"]] = counts.get(r["label"], 0) + 1
        print(f"corpus{suffix}: {len(chosen)} runs, {dict(sorted(counts.items()))}")


if __name__ == "__main__":
    argv = sys.argv[1:]
    fresh = next((a[2:] for a in argv if a[2:] in FRESH_SETS), None)  # --fresh, --fresh2
    if "--refresh" in argv:
        refresh_facts()
    elif "--refit" in argv:
        refit_references()
    elif "--label" in argv:
        label_all(fresh)
    elif "--list" in argv:
        for r in recipes(fresh):
            print(r["name"], "fresh" if fresh else "held out" if held_out(r["name"]) else "")
    else:
        shard_arg = next((a for a in argv if "/" in a), "0/1")
        s, n = (int(v) for v in shard_arg.split("/"))
        train_all(s, n, {a for a in argv if not a.startswith("--") and "/" not in a}, fresh)
