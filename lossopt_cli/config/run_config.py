"""The one validated run configuration, ``RunConfig``: typed, read-only sections and their catalog choices."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from ..catalog import LOSSES, METRICS, MODELS, OPTIMIZERS
from .section import Section
from .sections import (
    SECTION_TYPES,
    DataSection,
    DiagnosticsSection,
    LossSection,
    ModelSection,
    OptimizerSection,
    OutputSection,
    TrackingSection,
    TrainingSection,
)

KEYS = ("name", "seed", "deterministic", "data", "model", "loss", "optimizer", "metrics", "training", "diagnostics",
        "output", "tracking")  # config.yaml's keys, in its order


@dataclass
class RunConfig:
    """One validated run configuration. Each section is a read-only ``Section`` of ``sections.py`` with every
    default filled in: ``config.optimizer.learning_rate``, ``config.training.early_stopping.patience``; a
    mapping given for a section (``config.output = {...}``) becomes its section."""

    name: str
    seed: int
    deterministic: bool
    data: DataSection
    model: ModelSection
    loss: LossSection
    optimizer: OptimizerSection
    metrics: list | None
    training: TrainingSection
    diagnostics: DiagnosticsSection
    output: OutputSection
    tracking: TrackingSection = field(default_factory=lambda: TrackingSection(mlflow=None, experiment=None))
    source: str | None = None

    def __setattr__(self, key: str, value: Any) -> None:
        kind = SECTION_TYPES.get(key)
        super().__setattr__(key, kind.of(value) if kind is not None else value)

    def to_dict(self) -> dict:
        """The plain dict that ``config.yaml`` holds (``config.dump``)."""
        return {key: value.to_dict() if isinstance(value := getattr(self, key), Section) else copy.deepcopy(value)
                for key in KEYS}

    # Resolved catalog choices (each a registry Spec with build()).
    def loss_spec(self):
        return LOSSES.get(self.loss, "loss")

    def optimizer_spec(self):
        return OPTIMIZERS.get(self.optimizer, "optimizer")

    def model_spec(self):
        return MODELS.get(self.model, "model")

    def metric_specs(self, task: str):
        from ..catalog.metrics import default_metrics

        metrics = self.metrics if self.metrics is not None else default_metrics(task)
        return [METRICS.get(m, f"metrics[{i}]") for i, m in enumerate(metrics)]
