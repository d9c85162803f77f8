"""One run: data -> split -> model -> compile -> fit -> evaluate, written to a run directory.

``prepare_run`` does everything that can fail because of the config (loading the data,
encoding labels, building the model) before anything is written; ``execute`` reads in four
steps: prepare (done), open (``lifecycle.open_run`` creates the run directory), fit (with the
callbacks ``build_callbacks`` makes; ``history.csv`` and ``summary.json`` stay current after
every epoch, so a crash or Ctrl-C loses nothing that finished), finish (``lifecycle.end_training``
and ``lifecycle.close``: status, model, report).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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


class SharedPreparation:
    """What the members of one stacked group share while each is prepared (``prepare_run(config, shared=...)``):
    the datasets they read (``catalog.datasets.LoadedDatasets``: each member still makes its own split), and the
    checked training step, taken once per configuration that differs only in the seed. The step proves that the
    model, loss, metrics and optimizer run together and log the monitored names, which a seed cannot change; the
    other members get the same things built without a step (``preflight.ready_without_step``)."""

    IGNORED = ("name", "seed", "output", "tracking")  # what a member's step does not depend on

    def __init__(self) -> None:
        from ..catalog.datasets import LoadedDatasets

        self.datasets = LoadedDatasets()
        self.checked: set[str] = set()

    def _key(self, config: RunConfig) -> str:
        import json

        return json.dumps({k: v for k, v in config.to_dict().items() if k not in self.IGNORED}, sort_keys=True,
                          default=str)

    def stepped(self, config: RunConfig) -> bool:
        """Whether a member of this configuration (but for the seed and the output) passed the checked step."""
        return self._key(config) in self.checked

    def passed(self, config: RunConfig) -> None:
        self.checked.add(self._key(config))


def prepare_run(config: RunConfig, shared: SharedPreparation | None = None) -> PreparedRun:
    """Pre-flight, load data, build + compile the model, one checked step. Raises ConfigError; writes nothing.
    ``shared``: a stacked group's members, prepared one after another, share the data read and the checked step."""
    from . import distribute, import_tensorflow, preflight

    # data-level errors come before TensorFlow's import
    checked = preflight.check_data(config, datasets=shared.datasets if shared is not None else None)
    import_tensorflow()
    strategy = distribute.make_strategy(config)
    data, batch_size, notes = checked.data, checked.batch_size, list(checked.notes)
    context = {"task": data.task, "encoding": data.encoding, "n_classes": data.n_classes,
               "from_logits": bool(config.loss.from_logits)}
    seed_everything(config.seed, config.deterministic)
    with distribute.scope(strategy):  # training.distribute: variables made here are replicated
        model = config.model_spec().build(input_shape=data.input_shape, output_units=data.output_units,
                                          default_activation=data.output_activation)
        if data.target_scale:  # data.scale_target: outputs in standardized units, mapped to the target's
            model = _with_target_scale(model, data)
        model.compile(optimizer=config.optimizer_spec().build(), loss=config.loss_spec().build(),
                      metrics=[m.build(**context) for m in config.metric_specs(data.task)])
        if shared is not None and shared.stepped(config):
            preflight.ready_without_step(model, data)
        else:
            preflight.check_training_step(model, config, data, batch_size)
            if shared is not None:
                shared.passed(config)
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


def execute(prepared: PreparedRun, verbose="auto", on_epoch=None, run_dir: Path | None = None,
            resume: bool = False) -> RunResult:
    """Train a prepared run into a new run directory (or the empty ``run_dir`` given); with ``resume``,
    continue the run in ``run_dir`` from its checkpoint (see ``training.resume``)."""
    from .. import signals
    from . import lifecycle
    from .callbacks import build_callbacks
    from .fused import fit_in_order

    signals.check()  # Ctrl-C/SIGTERM during start-up (some imports swallow the first KeyboardInterrupt): no run dir

    config, data = prepared.config, prepared.data
    recorder, saved = lifecycle.open_run(prepared, run_dir=run_dir, on_epoch=on_epoch, resume=resume)
    callbacks = build_callbacks(config, recorder, resume=saved)
    first_epoch, epochs = recorder.epochs_recorded, config.training.epochs
    interrupted, failure = False, None
    try:
        if first_epoch < epochs:  # lossopt's own batch order, a function of (seed, epoch): resumes exactly
            fit_in_order(prepared.model, data, batch_size=prepared.batch_size, epochs=epochs, seed=config.seed,
                         shuffle=config.training.shuffle, callbacks=callbacks, verbose=verbose,
                         initial_epoch=first_epoch)
    except KeyboardInterrupt:
        interrupted = True
    except Exception as exc:  # noqa: BLE001 - a crash keeps the finished epochs and says why
        failure = exc
    lifecycle.end_training(prepared, recorder, callbacks, interrupted=interrupted, failure=failure)
    return lifecycle.close(recorder, prepared.notes)


def run(config: RunConfig, verbose="auto", on_epoch=None) -> RunResult:
    return execute(prepare_run(config), verbose=verbose, on_epoch=on_epoch)
