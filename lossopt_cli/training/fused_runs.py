"""A fused group of runs, from configs to run directories: each member is recorded exactly as a
normal run (its own ``RunRecorder``: ``config.yaml``, ``history.csv`` every epoch, ``summary.json``,
``model.keras``, diagnosis, curves and report), only its training is shared (``fused.fit_fused``).

``train_group(configs, run_dirs)`` is the one entry point, usable from any process that may
import TensorFlow (a sweep worker, a Ray task): it never raises for a run's own failure; every
member gets a ``RunResult`` (a member whose config fails its pre-flight gets none: its error is
in ``GroupResult.errors``). ``fusion_key`` (no TensorFlow) says which runs can share a group.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..config import RunConfig

# Keys of a config that fused runs must share: the data (and so its sizes), the network, the batch
# and the epochs. The optimizer (with its learning rate or schedule), the loss, the metrics, the seed,
# early stopping, reduce-on-plateau and the output may differ.
SHARED_KEYS = ("data", "model", "deterministic")
SHARED_TRAINING = ("epochs", "batch_size", "shuffle")


def fusion_key(config: RunConfig) -> str | None:
    """Runs with the same key can be trained together; None: this run is better trained alone
    (full-batch gradient descent takes one step per epoch: nothing to share; a replicated model,
    ``training.distribute``, trains with ``model.fit`` across its replicas)."""
    from ..catalog.optimizers import is_full_batch

    if config.training.batch_size == "full" or is_full_batch(config.optimizer_spec()):
        return None
    if config.training.distribute != "none":
        return None
    recorded = config.to_dict()  # the sections as config.yaml holds them: plain values, one JSON text
    shared = {k: recorded[k] for k in SHARED_KEYS}
    shared["training"] = {k: recorded["training"][k] for k in SHARED_TRAINING}
    return json.dumps(shared, sort_keys=True, default=str)


@dataclass
class GroupResult:
    results: list  # RunResult per member that trained, in the order of the configs given
    errors: dict = field(default_factory=dict)  # index of a config -> the error that kept it from training
    interrupted: bool = False


def train_group(configs: list, run_dirs: list, *, on_member_done=None) -> GroupResult:
    """Prepare every config (``RunConfig`` or a resolved config mapping), create each run directory
    (``run_dirs[i]``: a new, empty directory, or None for a new one under the config's output.dir),
    train all together, then finish each member as a normal run finishes. ``on_member_done(i, result)``
    is called as each member's files are complete. Ctrl-C: every member keeps its finished epochs
    (status ``interrupted``, or its own ending if it had already stopped), then ``interrupted`` is set."""
    from . import lifecycle
    from .callbacks import build_callbacks
    from .fused import FusedMember, fit_fused

    prepared, errors = prepare_members(configs)
    order = sorted(prepared)
    if not order:
        return GroupResult([], errors)
    batch_size = prepared[order[0]].batch_size
    epochs = prepared[order[0]].config.training.epochs
    recorders, callbacks, members = {}, {}, {}
    for i in order:
        p = prepared[i]
        recorders[i], _ = lifecycle.open_run(p, run_dir=run_dirs[i] if run_dirs else None,
                                             info={"fused": {"group_size": len(order)}})
        callbacks[i] = build_callbacks(p.config, recorders[i])
        d = p.data
        members[i] = FusedMember(p.model, d.x_train, d.y_train, d.x_val, d.y_val, d.sample_weight, seed=p.config.seed,
                                 shuffle=p.config.training.shuffle, callbacks=callbacks[i])
    interrupted, failure = False, None
    try:
        fit_fused([members[i] for i in order], batch_size=batch_size, epochs=epochs)
    except KeyboardInterrupt:
        interrupted = True
    except Exception as exc:  # noqa: BLE001 - every member keeps its finished epochs and says why
        failure = exc
    for i in order:  # every member's status and model first: its wall time is its training's
        left_early = members[i].stopped_epoch is not None  # early stopping or divergence: its ending is its own
        lifecycle.end_training(prepared[i], recorders[i], callbacks[i], interrupted=interrupted, failure=failure,
                               left_early=left_early)
    results = []
    for i in order:
        results.append(lifecycle.close(recorders[i], prepared[i].notes))
        if on_member_done is not None:
            on_member_done(i, results[-1])
    return GroupResult(results, errors, interrupted)


def prepare_members(configs: list) -> tuple[dict, dict]:
    """({index: PreparedRun}, {index: error}) for a group's configs. When every config can be stacked
    (``stacked.config_reason``), the members share what they read and the checked step
    (``runner.SharedPreparation``); otherwise each is prepared as a run alone."""
    from ..config import as_run_config
    from ..schema import ConfigError
    from .runner import SharedPreparation, prepare_run
    from .stacked import config_reason

    prepared, errors, configs = {}, {}, list(configs)
    converted = {}
    for i, config in enumerate(configs):
        try:
            converted[i] = as_run_config(config)
        except (ConfigError, ValueError, OSError) as exc:
            errors[i] = f"{type(exc).__name__}: {exc}"[:2000]
    stackable = len(converted) > 1 and all(config_reason(c) is None for c in converted.values())
    shared = SharedPreparation() if stackable else None
    for i, config in converted.items():
        try:
            prepared[i] = prepare_run(config, shared=shared)
        except (ConfigError, ValueError, OSError) as exc:
            errors[i] = f"{type(exc).__name__}: {exc}"[:2000]
    return prepared, errors


def run_dirs_for(names: list[str], runs_root: str | Path) -> list[Path]:
    """A new, empty run directory for each name under ``runs_root`` (``name-2`` where taken), as a sweep names them."""
    from .. import rundir

    return [rundir.create_run_dir(runs_root, name, stamp=False) for name in names]
