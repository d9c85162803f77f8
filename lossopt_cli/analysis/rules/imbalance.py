"""Imbalanced classes: a minority class the model mostly misses (judged on its own recall where
summary.json has per-class scores) and, for a plain history, the signature of a model that
predicts the majority class (accuracy pinned at a plateau while the loss falls toward the
prior's entropy).

Both set the verdict ``imbalanced``: high accuracy on a 94 % majority says nothing, and a run
whose minority class is missed is not healthy whatever its loss curve looks like.
"""

from __future__ import annotations

import math

from .common import Finding, balanced_accuracy, finding, fmt, mean, ok, rel_drop

MINORITY_METRICS = ("recall", "pr_auc", "auc", "precision", "f1")
MAJORITY_LEVEL = 0.75  # a pinned accuracy below this is no majority-class signature (no class is rare enough)


def minority_rule(h, th: dict, ctx) -> list[Finding]:
    """``minority_missed`` for each minority class whose validation recall is below ``minority_recall``."""
    summary = ctx.summary
    per_class = summary.get("per_class") or {}
    support, recall = per_class.get("support") or [], per_class.get("recall") or []
    if len(support) < 2 or len(recall) != len(support):
        return []
    data = summary.get("data") or {}
    counts = data.get("class_counts") or support
    if len(counts) != len(support) or not sum(counts):
        return []
    names = per_class.get("classes") or [str(i) for i in range(len(support))]
    precision = per_class.get("precision") or [None] * len(support)
    shares = [c / sum(counts) for c in counts]
    limit = min(th["minority_share"], 0.5 / len(counts))
    balanced = balanced_accuracy(recall)
    out = []
    for i, share in enumerate(shares):
        r = recall[i]
        if share >= limit or support[i] < th["minority_min_support"] or not ok(r) or r >= th["minority_recall"]:
            continue
        found = round(r * support[i])
        evidence = {"class": names[i], "recall": r, "precision": precision[i], "support": support[i],
                    "found": found, "share_of_training_samples": share, "balanced_accuracy": balanced,
                    "split": per_class.get("split"), "class_weight": _weight_setting(ctx)}
        pr_auc = _last(h, "val_pr_auc") if len(support) == 2 and i == 1 else None  # the metric scores class 1
        pr_note = ""
        if pr_auc is not None:
            evidence["val_pr_auc"], evidence["prevalence"] = pr_auc, share
            pr_note = f"; PR-AUC {fmt(pr_auc)} against a prevalence of {fmt(share)}"
        message = (f"The model finds {r:.0%} of the minority class {names[i]!r} ({found} of {support[i]} on the "
                   f"{per_class.get('split') or 'validation'} split; {share:.1%} of the training samples){pr_note}: "
                   f"accuracy and the loss curve hide it.")
        out.append(finding("minority_missed", "warning", h.epochs[-1] if h.n else None, message, evidence,
                           _minority_advice(ctx, pr_auc, share)))
    return out


def _minority_advice(ctx, pr_auc, prevalence) -> str:
    if _weight_setting(ctx) is None:
        return ("Weight the classes (data.class_weight: balanced) or resample, then judge the run by the minority "
                "class' recall and precision (val_recall, val_pr_auc), not accuracy.")
    ranks = pr_auc is not None and pr_auc > 2 * prevalence
    return ("The classes are already weighted and this class is still mostly missed. "
            + ("Its PR-AUC shows the model ranks it above chance: lower the decision threshold (predict it above a "
               "probability under 0.5) or weight it more. " if ranks else
               "The inputs may not separate it: better features or a bigger model, then weight it more. ")
            + "Judge the run by the minority class' recall and precision, not accuracy.")


def imbalance_signature(h, th: dict, ctx) -> list[Finding]:
    """``class_imbalance`` from a history alone: accuracy at the majority-class rate (known from summary.json),
    or pinned at a plateau after the first epoch while the loss falls toward the entropy of a prior with that
    majority, as when the model predicts the majority class whatever its input."""
    k, summary = ctx.k, ctx.summary
    acc = [v for v in h.acc if ok(v)]
    loss = [v for v in h.loss if ok(v)]
    if len(acc) < 3 or len(loss) < 3:
        return []
    data = summary.get("data") or {}
    majority = data.get("majority_class_rate", summary.get("majority_class_rate"))
    n_classes = data.get("n_classes")
    last = mean(acc[-k:])
    near = majority is not None and abs(acc[-1] - majority) < th["chance_margin"]
    # (a model that predicts the majority reaches it late; one that ignores its input is flat from epoch 2)
    pinned = _pinned(acc, th, late=last >= MAJORITY_LEVEL)
    above_chance = not n_classes or last > 1.0 / n_classes + th["chance_margin"]
    loss_falls = rel_drop(loss[0], mean(loss[-k:])) >= th["slow_progress"]
    # a model that predicts the prior: its loss cannot go below the entropy of a two-way split at that rate
    floor = _binary_entropy(last) if last is not None and 0 < last < 1 else None
    at_prior = floor is not None and mean(loss[-k:]) >= 0.8 * floor  # (a little signal: 80-85 %)
    signature = majority is None and pinned and above_chance and last < 0.99 and loss_falls and at_prior
    ignores_input = floor is not None and mean(loss[-k:]) >= 0.95 * floor  # at the prior's entropy itself
    if signature and last < MAJORITY_LEVEL:  # no class is rare enough to call it imbalance: a constant prediction
        if not ignores_input:  # a few % below it: a little signal learned, on data that may hold little more
            return []
        return [finding("underfitting", "warning", h.epochs[-1],
                        f"Under-fitting: accuracy stays at {fmt(last)} while the loss settles at {fmt(mean(loss[-k:]))},"
                        f" the {fmt(floor)} of a model that predicts the class prior: the model ignores its input.",
                        {"accuracy": last, "prior_entropy_floor": floor, "final_loss": loss[-1]},
                        "Check the inputs carry signal (and are normalized), then use a bigger model or less "
                        "regularization.")]
    if not (near or signature):
        return []
    start = 1 if len(acc) > 3 else 0
    where = (f"at the majority-class rate ({fmt(majority)})" if near else
             f"between {fmt(min(acc[start:]))} and {fmt(max(acc[start:]))} from epoch {h.epochs[start]} on while the "
             f"loss fell from {fmt(loss[0])} to {fmt(loss[-1])}, close to the {fmt(floor)} of a model that predicts "
             f"the class prior")
    tracked = [m for m in MINORITY_METRICS if f"val_{m}" in h.columns or m in h.columns]
    advice = ("Weight the classes (data.class_weight: balanced) or resample"
              + (f", and read {', '.join(tracked)} rather than accuracy." if tracked else
                 "; track the minority class with metrics: [accuracy, precision, recall, auc, pr_auc]."))
    return [finding("class_imbalance", "warning", h.epochs[-1],
                    f"Accuracy sits {where}: the signature of a model that predicts the majority class, so "
                    f"accuracy says little here.",
                    {"accuracy": acc[-1], "majority_class_rate": majority, "prior_entropy_floor": floor,
                     "final_loss": loss[-1]}, advice)]


def _pinned(acc: list[float], th: dict, late: bool = False) -> bool:
    """Accuracy within a narrow band after the first epoch (Keras' epoch-1 accuracy is a mean taken while the
    first steps move the weights) or, ``late``, over the second half of the run (a model can take a few epochs
    to settle on the prior): within accuracy_flat. (A band of a tenth of the error rate, allowed before, let a
    balanced two-moons run whose accuracy crept 0.840 -> 0.847 pass for a model predicting the majority.)"""
    if len(acc) > 3:
        acc = acc[min(len(acc) // 2, len(acc) - 3):] if late else acc[1:]
    return max(acc) - min(acc) < th["accuracy_flat"]


def _binary_entropy(p: float) -> float:
    return -(p * math.log(p) + (1 - p) * math.log(1 - p))


def _last(h, column: str):
    values = [v for v in h.columns.get(column, []) if ok(v)]
    return values[-1] if values else None


def _weight_setting(ctx):
    return getattr(ctx, "class_weight", None)
