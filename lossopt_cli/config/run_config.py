"""The one validated run configuration, ``RunConfig``: resolved sections and their catalog choices."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from ..catalog import LOSSES, METRICS, MODELS, OPTIMIZERS


@dataclass
class RunConfig:
    """One validated run configuration. Sections are plain dicts with every default filled in."""

    name: str
    seed: int
    deterministic: bool
    data: dict
    model: dict
    loss: dict
    optimizer: dict
    metrics: list | None
    training: dict
    diagnostics: dict
    output: dict
    tracking: dict = field(default_factory=lambda: {"mlflow": None, "experiment": None})
    source: str | None = None

    def to_dict(self) -> dict:
        keys = ("name", "seed", "deterministic", "data", "model", "loss", "optimizer", "metrics",
                "training", "diagnostics", "output", "tracking")
        return copy.deepcopy({k: getattr(self, k) for k in keys})

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
