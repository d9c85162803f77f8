"""The Python API: the functions behind the ``lossopt`` commands, for notebooks and scripts.

    from lossopt_cli import api

    result = api.train("configs/quickstart.yaml", overrides={"optimizer.name": "sgd", "training.epochs": 3})
    result.status, result.run_dir, result.summary["best"]["val_loss"]

``overrides`` maps dotted config keys to values (what ``--set`` takes on the command line, but as
values: nothing is parsed). Bad input raises ``ConfigError`` (a ``ValueError``) before anything is
written. See ``lossopt_cli.commands`` for each function.
"""

from .commands import (
    catalog,
    compare,
    diagnose,
    dry_run,
    list_runs,
    lr_find,
    report,
    sweep,
    train,
    trajectories,
    validate,
)
from .schema import ConfigError

__all__ = ["ConfigError", "catalog", "compare", "diagnose", "dry_run", "list_runs", "lr_find", "report", "sweep",
           "train", "trajectories", "validate"]
