"""Metrics reported per epoch (and on the validation and test splits)."""

from __future__ import annotations

from .registry import Registry

METRICS = Registry("metric")


@METRICS.register("accuracy", "fraction of correct predictions (binary, categorical or sparse: chosen from the loss)",
                  aliases=("acc",), tags={"classification"})
def accuracy():
    return "accuracy"  # Keras picks the right accuracy for the loss and the labels


def default_metrics(task: str) -> list:
    return [{"name": "accuracy"}] if task == "classification" else []
