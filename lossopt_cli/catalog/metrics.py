"""Metrics reported per epoch (and on the validation and test splits).

Each metric is built for the labels the loss implies (one-hot, integer, 0/1 or -1/+1), and
is given an explicit ``name`` so that ``history.csv`` has the plain names users asked for
(``precision``, ``val_f1``), never Keras' auto-suffixed ones (``precision_1``).
"""

from __future__ import annotations

from ..schema import Choice, Float, Int, Param
from .registry import Registry, keras_class

METRICS = Registry("metric")

AVERAGE = Param("macro", Choice(("macro", "micro", "weighted")),
                "how per-class scores combine with several classes (two classes: the positive class)")
THRESHOLD = Param(0.5, Float(0, 1), "probability above which a two-class prediction is positive")


def _scores():
    from . import metric_objects

    return metric_objects


@METRICS.register("accuracy", "fraction of correct predictions (binary, categorical or sparse: chosen from the loss "
                  "and labels)", aliases=("acc",), tags={"classification"})
def accuracy(**context):
    return _scores().accuracy(**context)


@METRICS.register("precision", "of the predicted positives, the fraction that are positive (macro-averaged over "
                  "several classes)", params={"average": AVERAGE, "threshold": THRESHOLD}, tags={"classification"})
def precision(average, threshold, **context):
    return _scores().ClassificationScore("precision", average=average, threshold=threshold, **context)


@METRICS.register("recall", "of the real positives, the fraction found (macro-averaged over several classes)",
                  params={"average": AVERAGE, "threshold": THRESHOLD}, aliases=("sensitivity",),
                  tags={"classification"})
def recall(average, threshold, **context):
    return _scores().ClassificationScore("recall", average=average, threshold=threshold, **context)


@METRICS.register("f1", "harmonic mean of precision and recall (macro-averaged over several classes)",
                  params={"average": AVERAGE, "threshold": THRESHOLD}, aliases=("f1_score",),
                  tags={"classification"})
def f1(average, threshold, **context):
    return _scores().ClassificationScore("f1", average=average, threshold=threshold, **context)


@METRICS.register("auc", "area under the ROC curve: the chance a positive is scored above a negative (several "
                  "classes: one-vs-rest, pooled)",
                  aliases=("roc_auc",), tags={"classification"})
def auc(**context):
    return _scores().auc("ROC", "auc", **context)


@METRICS.register("pr_auc", "area under the precision-recall curve; more telling than ROC AUC on rare positives",
                  aliases=("auc_pr",), tags={"classification"})
def pr_auc(**context):
    return _scores().auc("PR", "pr_auc", **context)


@METRICS.register("top_k_accuracy", "the true class is among the k highest-scored (several classes)",
                  params={"k": Param(5, Int(1), "how many top classes count")}, tags={"classification", "multiclass"})
def top_k_accuracy(k, **context):
    return _scores().top_k_accuracy(k, **context)


def _keras_metric(class_name: str, name: str):
    plain = keras_class("metrics", class_name, name=name)

    def build(**context):  # the label context does not change a regression metric
        return plain()

    build.keras_class = class_name
    return build


for _name, _class, _aliases, _text in [
    ("mae", "MeanAbsoluteError", ("mean_absolute_error",), "mean absolute error"),
    ("mse", "MeanSquaredError", ("mean_squared_error",), "mean squared error"),
    ("rmse", "RootMeanSquaredError", ("root_mean_squared_error",), "root mean squared error, in the target's units"),
    ("r2", "R2Score", ("r2_score", "r_squared"), "coefficient of determination: 1 - SSE / total variance "
     "(1 is perfect, 0 predicts the mean)"),
]:
    METRICS.register(_name, _text, aliases=_aliases, tags={"regression"})(_keras_metric(_class, _name))


def default_metrics(task: str) -> list:
    return [{"name": "accuracy"}] if task == "classification" else []
