"""One run: data -> split -> model -> compile -> fit -> evaluate, written to a run directory.

``prepare_run`` does everything that can fail because of the config (loading the data,
encoding labels, building the model) before anything is written; ``execute`` reads in four
steps: prepare (done), record (a ``RunRecorder`` creates the run directory), fit (with the
callbacks ``build_callbacks`` makes; ``history.csv`` and ``summary.json`` stay current after
every epoch, so a crash or Ctrl-C loses nothing that finished), finish (status, model, report).
"""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..config import RunConfig
from .data import Prepared
from .recorder import RunRecorder, RunResult, finalize, summarize  # noqa: F401 - RunResult, finalize: public here too


@dataclass
class PreparedRun:
    config: RunConfig
    data: Prepared
    model: object
    batch_size: int
    monitor: str
    notes: list[str]
    replicas: int = 1  # training.distribute: the model's replicas


def seed_everything(seed: int, deterministic: bool) -> None:
    import keras

    keras.utils.set_random_seed(seed)
    if deterministic:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def prepare_run(config: RunConfig) -> PreparedRun:
    """Pre-flight, load data, build + compile the model, one checked step. Raises ConfigError; writes nothing."""
    from . import distribute, import_tensorflow, preflight

    checked = preflight.check_data(config)  # data-level errors come before TensorFlow's import
    import_tensorflow()
    strategy = distribute.make_strategy(config)
    data, batch_size, notes = checked.data, checked.batch_size, list(checked.notes)
    context = {"task": data.task, "encoding": data.encoding, "n_classes": data.n_classes,
               "from_logits": bool(config.loss.get("from_logits"))}
    seed_everything(config.seed, config.deterministic)
    with distribute.scope(strategy):  # training.distribute: variables made here are replicated
        model = config.model_spec().build(input_shape=data.input_shape, output_units=data.output_units,
                                          default_activation=data.output_activation)
        if data.target_scale:  # data.scale_target: outputs in standardized units, mapped to the target's
            model = _with_target_scale(model, data)
        model.compile(optimizer=config.optimizer_spec().build(), loss=config.loss_spec().build(),
                      metrics=[m.build(**context) for m in config.metric_specs(data.task)])
        preflight.check_training_step(model, config, data, batch_size)
    monitor = "val_loss" if data.x_val is not None else "loss"
    return PreparedRun(config, data, model, batch_size, monitor, notes, replicas=distribute.replicas(strategy))


def _with_target_scale(model, data):
    """The model followed by a fixed ``Normalization(invert=True)``: it learns standardized outputs and predicts in
    the target's units (saved with the model, so ``keras.saving.load_model`` predicts the same)."""
    import keras

    inputs = keras.Input(shape=data.input_shape)
    scale = keras.layers.Normalization(mean=data.target_scale["mean"], variance=data.target_scale["variance"],
                                       invert=True, name="target_scale")
    return keras.Model(inputs, scale(model(inputs)), name=model.name)


def library_versions() -> dict:
    import keras
    import numpy
    import tensorflow as tf

    return {"lossopt": __version__, "python": platform.python_version(), "tensorflow": tf.__version__,
            "keras": keras.__version__, "numpy": numpy.__version__}


def run_info(prepared: PreparedRun) -> dict:
    """What ``summary.json`` says about a run besides its progress: the data, the batch size, versions, notes."""
    config, data = prepared.config, prepared.data
    return {"data": {"dataset": config.data["dataset"], "task": data.task, "n_classes": data.n_classes,
                     "input_shape": list(data.input_shape), **data.sizes(),
                     "majority_class_rate": data.majority_class_rate(), "constant_model": data.constant_model,
                     "class_names": data.class_names, "class_counts": data.class_counts,
                     "reference_fit": _reference_fit(prepared)},
            "batch_size": prepared.batch_size, "replicas": prepared.replicas, "versions": library_versions(),
            "notes": prepared.notes}


def _reference_fit(prepared: PreparedRun) -> dict:
    """What gradient-boosted trees reach on the run's split (``training.reference_fit``): the diagnosis' evidence
    that a bigger model would help, or that the data are at their ceiling."""
    from .reference_fit import reference_fit

    data = prepared.data
    return reference_fit(data.x_train, data.y_train, data.x_val, data.y_val, data.encoding,
                         prepared.config.loss_spec().name, seed=prepared.config.seed)


def execute(prepared: PreparedRun, verbose="auto", on_epoch=None, run_dir: Path | None = None,
            resume: bool = False) -> RunResult:
    """Train a prepared run into a new run directory (or the empty ``run_dir`` given); with ``resume``,
    continue the run in ``run_dir`` from its checkpoint (see ``training.resume``)."""
    from .. import signals
    from . import checkpoint
    from .callbacks import build_callbacks
    from .fused import fit_in_order

    signals.check()  # Ctrl-C/SIGTERM during start-up (some imports swallow the first KeyboardInterrupt): no run dir

    config, data = prepared.config, prepared.data
    saved = None
    if resume:
        saved = checkpoint.read(run_dir)
        if saved is not None:
            checkpoint.restore(prepared.model, *saved)
        recorder = RunRecorder.reopen(run_dir, monitor=prepared.monitor, on_epoch=on_epoch,
                                      keep_epochs=saved[0]["epoch"] if saved else 0)
        recorder.write_summary()  # status running again, with this process as its owner
    else:
        recorder = RunRecorder.create(config, monitor=prepared.monitor, info=run_info(prepared), run_dir=run_dir,
                                      on_epoch=on_epoch)
    callbacks = build_callbacks(config, recorder, resume=saved)
    first_epoch, epochs = recorder.epochs_recorded, config.training["epochs"]
    try:
        if first_epoch < epochs:  # lossopt's own batch order, a function of (seed, epoch): resumes exactly
            fit_in_order(prepared.model, data, batch_size=prepared.batch_size, epochs=epochs, seed=config.seed,
                         shuffle=config.training["shuffle"], callbacks=callbacks, verbose=verbose,
                         initial_epoch=first_epoch)
        finish_trained(prepared, recorder, callbacks)
    except KeyboardInterrupt:
        recorder.finish("interrupted")
    except Exception as exc:  # a crash keeps the finished epochs and says why
        recorder.fail(exc)
    recorder.finalize()
    return recorder.result(prepared.notes)


def finish_trained(prepared: PreparedRun, recorder: RunRecorder, callbacks: list) -> None:
    """After training (alone or fused): the status from the callbacks, test and per-class scores, the
    model, the final ``summary.json``."""
    from .callbacks import outcome

    status, extra = outcome(recorder, callbacks)
    if prepared.data.x_test is not None and status != "diverged":
        extra["test"] = evaluate_test(prepared)
    if status != "diverged":
        extra["per_class"] = _per_class(prepared)
    if prepared.config.output["save_model"]:
        recorder.save_model(prepared.model)
    recorder.finish(status, **extra)


def evaluate_test(prepared: PreparedRun) -> dict:
    data = prepared.data
    scores = prepared.model.evaluate(data.x_test, data.y_test, batch_size=max(prepared.batch_size, 256), verbose=0,
                                     return_dict=True)
    return {k: float(v) for k, v in scores.items()}


def _per_class(prepared: PreparedRun) -> dict | None:
    """Per-class precision, recall and confusion (``training.per_class``); a failure only warns."""
    try:
        from .per_class import per_class_scores

        return per_class_scores(prepared.model, prepared.data, prepared.batch_size)
    except Exception as exc:  # noqa: BLE001 - extra detail must never lose the run
        print(f"warning: could not compute per-class scores: {exc}", file=sys.stderr)
        return None


def run(config: RunConfig, verbose="auto", on_epoch=None) -> RunResult:
    return execute(prepare_run(config), verbose=verbose, on_epoch=on_epoch)
