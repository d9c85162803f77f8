"""The catalog: one registry per kind of thing a config can name. No TensorFlow at import."""

from .datasets import DATASETS
from .losses import LOSSES
from .metrics import METRICS
from .models import MODELS
from .optimizers import OPTIMIZERS

REGISTRIES = {
    "datasets": DATASETS,
    "models": MODELS,
    "losses": LOSSES,
    "optimizers": OPTIMIZERS,
    "metrics": METRICS,
}

__all__ = ["DATASETS", "LOSSES", "METRICS", "MODELS", "OPTIMIZERS", "REGISTRIES"]
