"""``LossoptCallback``: a lossopt run directory from a user's own ``model.fit``, without a YAML config.

    from lossopt_cli.keras import LossoptCallback

    model.fit(x, y, validation_split=0.2, epochs=30, callbacks=[LossoptCallback("my-model")])

Each ``fit`` writes a new ``outputs/<name>-<time>/`` through the run recorder, as ``lossopt train``
does: ``config.yaml`` (what the model tells of itself: layers, loss, optimizer, metrics, epochs;
marked ``recorded_from: user_script``), ``history.csv`` and ``summary.json`` after every epoch,
then the status, ``diagnosis.json``, ``curves.png`` and ``report.html``, so ``lossopt diagnose``,
``report``, ``compare`` and ``list`` work on it. The status says how ``fit`` ended: ``completed``;
``early_stopped`` when another callback (Keras' ``EarlyStopping``) stopped it; ``diverged`` when
the loss was no longer finite (training is then stopped); ``interrupted`` on Ctrl-C (the epochs that
finished stay); ``failed`` when an exception escaped ``fit``.

This module imports Keras; the ``lossopt`` command never imports it.
"""

from __future__ import annotations

import atexit
import math
import signal
import sys
import threading
import weakref
from pathlib import Path
from typing import Any, Mapping

import yaml

from . import rundir
from .training import lifecycle
from .training.callbacks import RecorderCallback
from .training.recorder import RunResult

__all__ = ["LossoptCallback"]

RECORDED_FROM = lifecycle.USER_SCRIPT  # config.yaml's recorded_from: the run was not trained by `lossopt train`


class LossoptCallback(RecorderCallback):
    """Records the ``model.fit`` it is given to as a lossopt run directory.

    ``name``: the run's name (default: the script's file name); ``output_dir``: where run directories
    are created; ``monitor``: the metric that picks the best epoch (``val_loss``, or ``loss`` without
    validation data); ``diagnostics``: thresholds of the reporter, as under a config's ``diagnostics:``
    (``lossopt diagnose`` uses them); ``save_model``: also write ``model.keras``; ``verbose``: print
    the run directory and the verdict when ``fit`` ends. After ``fit``: ``run_dir`` and ``result``
    (status and summary). One callback may serve several ``fit`` calls: each makes a new run.
    """

    def __init__(self, name: str | None = None, *, output_dir: str | Path = "outputs", monitor: str = "val_loss",
                 diagnostics: Mapping[str, Any] | None = None, save_model: bool = False, verbose: bool = True):
        from .analysis.thresholds import THRESHOLDS
        from .naming import safe_name
        from .schema import validate_table

        super().__init__(recorder=None)
        self.name = safe_name(name or default_name())
        self.output_dir = Path(output_dir)
        self.monitor = monitor
        self.diagnostics = validate_table(dict(diagnostics or {}), THRESHOLDS, "diagnostics", what="the reporter")
        self.save_model = bool(save_model)
        self.verbose = bool(verbose)
        self.result: RunResult | None = None
        self._previous_sigint = None

    @property
    def run_dir(self) -> Path | None:
        return self.recorder.run_dir if self.recorder is not None else None

    # --- Keras' hooks -------------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        if self.recorder is not None and self.recorder.status == "running":  # an earlier fit raised
            self._end("failed", error="model.fit stopped with an exception before it finished")
        self.result = None
        run_dir = rundir.create_run_dir(self.output_dir, self.name)
        described = describe_run(self.model, self.params, self.name, self.diagnostics)
        self.recorder = lifecycle.open_user_run(run_dir, config_text(described), name=self.name,
                                                epochs=self.params.get("epochs"), script=described.get("script"),
                                                data=data_info(self.model), monitor=self.monitor)
        _OPEN.add(self)
        _install_exit_hooks()
        self._catch_sigint()

    def on_train_end(self, logs=None):
        self._release_sigint()
        if self.recorder is None or self.recorder.status != "running":
            return
        recorder = self.recorder
        status, extra = lifecycle.ending(recorder, model=self.model)
        if self.save_model:
            try:
                recorder.save_model(self.model)
            except Exception as exc:  # noqa: BLE001 - the run is recorded even if the model cannot be saved
                print(f"lossopt: warning: could not save the model: {exc}", file=sys.stderr)
        self._end(status, **extra)

    # --- the end of a run, however fit ended ----------------------------------------------------

    def _end(self, status: str, exc: BaseException | None = None, **extra: Any) -> None:
        recorder = self.recorder
        _OPEN.discard(self)
        if recorder is None or recorder.status != "running":
            return
        self.result = lifecycle.close(recorder, status=status, failure=exc if status == "failed" else None, **extra)
        if self.verbose:
            verdict = self.result.summary.get("verdict")
            print(f"lossopt: {status} run in {recorder.run_dir} (verdict {verdict or '-'}; "
                  f"lossopt report {recorder.run_dir})", file=sys.stderr)

    def _catch_sigint(self) -> None:
        """Ctrl-C during fit: record the run as ``interrupted``, then let the interrupt go on as before."""
        if threading.current_thread() is not threading.main_thread():
            return
        previous = signal.getsignal(signal.SIGINT)
        if previous is not signal.default_int_handler:  # a handler of the script's own stays in charge
            return
        self._previous_sigint = previous

        def on_sigint(signum, frame):
            self._release_sigint()
            self._end("interrupted")
            raise KeyboardInterrupt

        signal.signal(signal.SIGINT, on_sigint)

    def _release_sigint(self) -> None:
        if self._previous_sigint is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, self._previous_sigint)
        self._previous_sigint = None


# Runs whose fit has not ended: an exception that escapes the script, or the script's end, closes them.
_OPEN: weakref.WeakSet[LossoptCallback] = weakref.WeakSet()
_HOOKS = {"installed": False, "excepthook": None}


def _close_open_runs(exc: BaseException | None = None) -> None:
    for callback in list(_OPEN):
        if isinstance(exc, KeyboardInterrupt):
            callback._end("interrupted")
        elif exc is not None:
            callback._end("failed", exc=exc)
        else:
            callback._end("failed", error="the program ended while model.fit was running")


def _excepthook(kind, value, tb):
    _close_open_runs(value)
    _HOOKS["excepthook"](kind, value, tb)


def _install_exit_hooks() -> None:
    """Once, at the first fit: the uncaught exception and the program's end close the runs still open."""
    if not _HOOKS["installed"]:
        _HOOKS.update(installed=True, excepthook=sys.excepthook)
        sys.excepthook = _excepthook
        atexit.register(_close_open_runs)


# --- what the model tells of the run --------------------------------------------------------------


def default_name() -> str:
    """The script's file name without ``.py``; ``keras`` in a notebook or ``python -c``."""
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if script is not None and script.suffix == ".py" and "ipykernel" not in script.name:
        return script.stem
    return "keras"


def describe_run(model, params: Mapping[str, Any], name: str, diagnostics: Mapping[str, Any]) -> dict:
    """``config.yaml`` of a run trained by a user's own script: what the model and ``fit`` tell of it."""
    script = sys.argv[0] if sys.argv and sys.argv[0].endswith(".py") else None
    compiled = getattr(getattr(model, "_compile_config", None), "config", None) or {}
    training = {"epochs": params.get("epochs"), "steps_per_epoch": params.get("steps")}
    return {
        "name": name,
        "recorded_from": RECORDED_FROM,
        "script": str(Path(script).resolve()) if script else None,
        "seed": None,
        "model": describe_model(model),
        "loss": describe_loss(getattr(model, "loss", None)),
        "optimizer": describe_optimizer(getattr(model, "optimizer", None)),
        "metrics": _plain(compiled.get("metrics")),
        "training": training,
        "diagnostics": dict(diagnostics),
    }


def config_text(described: dict) -> str:
    script = described.get("script") or "a user's own script"
    return (f"# Recorded by lossopt_cli.keras.LossoptCallback from model.fit in {script}:\n"
            "# it describes the run; it is not a config that `lossopt train` can run.\n"
            + yaml.safe_dump(described, sort_keys=False))


def describe_model(model) -> dict:
    layers = []
    for layer in getattr(model, "layers", []):
        entry = {"name": layer.name, "class": type(layer).__name__}
        try:
            entry["output_shape"] = _plain(list(layer.output.shape))
        except Exception:  # noqa: BLE001 - a layer not yet called has no output shape
            pass
        try:
            entry["parameters"] = int(layer.count_params())
        except Exception:  # noqa: BLE001 - nor a parameter count
            pass
        units = getattr(layer, "units", None)
        activation = getattr(layer, "activation", None)
        if units is not None:
            entry["units"] = int(units)
        if activation is not None and getattr(activation, "__name__", None):
            entry["activation"] = activation.__name__
        layers.append(entry)
    out = {"class": type(model).__name__, "name": getattr(model, "name", None)}
    try:
        out["parameters"] = int(model.count_params())
        out["trainable_parameters"] = int(sum(math.prod(w.shape) for w in model.trainable_weights))
    except Exception:  # noqa: BLE001 - a model not built yet
        pass
    out["layers"] = layers
    return out


def describe_loss(loss) -> dict | None:
    if loss is None:
        return None
    if isinstance(loss, str):
        return {"name": loss}
    if callable(loss) and hasattr(loss, "get_config"):  # a keras.losses.Loss
        config = {k: v for k, v in loss.get_config().items() if k not in ("name", "reduction", "dtype")}
        return {"name": getattr(loss, "name", type(loss).__name__), "class": type(loss).__name__, **_plain(config)}
    if callable(loss):
        return {"name": getattr(loss, "__name__", type(loss).__name__)}
    return {"name": str(_plain(loss))}


def describe_optimizer(optimizer) -> dict | None:
    if optimizer is None:
        return None
    try:
        config = optimizer.get_config()
    except Exception:  # noqa: BLE001 - a custom optimizer without a config
        return {"name": type(optimizer).__name__}
    described = {k: v for k, v in _plain(config).items() if v is not None and v is not False}
    # Keras makes an optimizer's ``name`` unique per process (adam, adam_1, ...): name its class, as
    # lossopt's catalog does (Adam -> adam, AdamW -> adamw, RMSprop -> rmsprop)
    described["name"] = type(optimizer).__name__.lower()
    return described


def data_info(model) -> dict:
    """What the diagnosis can use of the data: the number of classes, where the loss and output tell it."""
    compiled = getattr(getattr(model, "_compile_config", None), "config", None) or {}
    loss = compiled.get("loss", getattr(model, "loss", None))
    name = loss if isinstance(loss, str) else getattr(loss, "name", getattr(loss, "__name__", ""))
    name = str(name or "")
    info: dict = {"dataset": "user script"}
    try:
        units = int(model.outputs[0].shape[-1])
    except Exception:  # noqa: BLE001 - a subclassed model may have no symbolic output
        units = None
    if name.startswith("binary_crossentropy") or name in ("binary_focal_crossentropy",):
        info.update(task="classification", n_classes=2)
    elif "categorical" in name and units:
        info.update(task="classification", n_classes=units)
    return info


def _plain(value: Any) -> Any:
    """YAML- and JSON-friendly: numbers rounded off float32 noise, unknown objects as their name."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return float(f"{value:.7g}") if math.isfinite(value) else str(value)
    if hasattr(value, "item") and getattr(value, "shape", None) == ():
        return _plain(value.item())
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return getattr(value, "name", None) or getattr(value, "__name__", None) or type(value).__name__
