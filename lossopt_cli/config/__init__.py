"""Configuration of a run, one module per job: the constraint tables (``tables``), the validated
``RunConfig`` (``run_config``), validation (``validation``) and reading YAML with ``--set``
overrides (``loading``). The public names are re-exported here: ``from lossopt_cli.config import load``.
Nothing here imports TensorFlow.
"""

from __future__ import annotations

from ..naming import MAX_NAME_LENGTH, NAME_CHARACTERS, safe_name
from .loading import apply_overrides, dump, load, parse_override, parse_overrides, read_yaml
from .run_config import RunConfig
from .tables import (
    CLASS_WEIGHT_SCHEMA,
    COLUMN,
    EARLY_STOPPING,
    MAX_EPOCHS,
    REDUCE_LR_ON_PLATEAU,
    SECTIONS,
    SELECTORS,
    TENSORBOARD,
    TOP_LEVEL,
)
from .validation import anchor_file_reference, as_run_config, check_combinations, check_plain_name, run_name_of, validate

__all__ = [
    "CLASS_WEIGHT_SCHEMA", "COLUMN", "EARLY_STOPPING", "MAX_EPOCHS", "MAX_NAME_LENGTH", "NAME_CHARACTERS",
    "REDUCE_LR_ON_PLATEAU", "SECTIONS", "SELECTORS", "TENSORBOARD", "TOP_LEVEL", "RunConfig",
    "anchor_file_reference", "apply_overrides", "as_run_config", "check_combinations", "check_plain_name", "dump", "load",
    "parse_override", "parse_overrides", "read_yaml", "run_name_of", "safe_name", "validate",
]
