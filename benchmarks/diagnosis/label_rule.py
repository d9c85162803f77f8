"""The written labelling rule of the corpus (benchmarks/diagnosis/README.md, "The labelling rule"): a run's
label from what an expert reads off the run, never from lossopt's detector.

It reads the training curves (train and validation loss per epoch), the held-out **test** loss after every
epoch and of the delivered model (after ``restore_best_weights``), the delivered model's per-class recall on
the test split, the constant model's training loss under the run's class weights, and the best test loss
reached on the same data and split (scikit-learn reference fits and every corpus run on that split).
``label(facts)`` returns ``(label, why)``; ``"unclear"`` runs are not scored.
"""

from __future__ import annotations

import math

RULE_VERSION = "corpus-2c (2026-12-04)"
MINORITY_PREVALENCE = 0.4  # a task with k classes is "imbalanced" when its rarest class is below 0.4 / k of the data


def _finite(xs) -> bool:
    return all(isinstance(x, (int, float)) and math.isfinite(x) for x in xs)


def rises(loss: list[float]) -> int:
    """Epochs whose training loss rose by more than 10 % over the previous epoch (and by more than 2 % of
    the first epoch's loss, so that noise on a loss near 0 is not counted)."""
    return sum(1 for a, b in zip(loss, loss[1:]) if b > 1.1 * a and b - a > 0.02 * loss[0])


def label(f: dict) -> tuple[str, str]:
    """The label of one run from its facts (see ``make_corpus.facts``), by the rules in this order."""
    loss, val, test = f["loss"], f["val_loss"], f.get("test_curve") or []
    n = len(loss)
    if n == 0:
        return "unclear", "no epoch"
    # 1. diverged: a non-finite loss, or a training loss that ended 10x above its minimum or 3x above its start
    if not _finite(loss) or not _finite(val):
        return "diverged", "non-finite loss"
    if loss[-1] >= 10 * min(loss) or loss[-1] >= 3 * loss[0]:
        return "diverged", f"train loss {loss[0]:.3g} -> min {min(loss):.3g} -> last {loss[-1]:.3g}"
    r = rises(loss)
    blowup = n > 1 and max(loss[1:]) >= 3 * loss[0]
    # 2. unstable: the training loss jumps up 3 times or more (each > 10 %), or blows up (3x its start) and comes back
    if r >= 3 or blowup:
        return "unstable", f"{r} rises of the training loss > 10 %, blow-up {blowup}"
    end = sum(loss[-3:]) / len(loss[-3:])
    best = min(range(n), key=val.__getitem__)
    gl = val[-1] / val[best] - 1 if val[best] > 0 else 0.0
    delivered = f.get("test_loss")
    test_min = min(test) if test and _finite(test) else None
    test_rise = delivered / test_min - 1 if delivered is not None and test_min else None
    restored = bool(f.get("restored"))  # EarlyStopping(restore_best_weights=True) stopped the run: the best model is delivered
    # 3. over-fitting: the delivered model is the last epoch's, validation ended >= 15 % above its minimum (reached
    #    >= 3 epochs before the end) while the training loss kept falling, AND the held-out test loss rose >= 10 %
    if not restored and gl >= 0.15 and n - 1 - best >= 3 and loss[-1] < loss[best] and test_rise is not None \
            and test_rise >= 0.10:
        return "overfitting", f"val GL {gl:.0%} (best epoch {best + 1}/{n}), test loss {test_rise:+.0%} above its minimum"
    k = len(f.get("test_recall") or {}) or 2
    imbalanced_task = f.get("minority_prevalence") is not None and f["minority_prevalence"] < MINORITY_PREVALENCE / k
    base = f.get("train_baseline")
    # 4. stalled: the training loss did not move (last 3 epochs >= 95 % of the first), or (balanced task) it did not
    #    get below 97 % of the constant model's training loss under the run's weights
    if end >= 0.95 * loss[0] or (not imbalanced_task and base is not None and end >= 0.97 * base):
        return "stalled", f"train loss {loss[0]:.3g} -> {end:.3g}, constant model {base if base is None else round(base, 4)}"
    recall = f.get("minority_recall")
    # 5. imbalance: an imbalanced task (rarest class < 0.4 / k of the training data: 20 % for two classes) whose
    #    delivered model finds < 40 % of the rarest class on the test split
    if imbalanced_task and recall is not None and recall < 0.4:
        return "imbalance", f"rarest class {f['minority_prevalence']:.1%} of the training data, test recall {recall:.2f}"
    ref, base_test = f.get("reference_test_loss"), f.get("test_baseline")
    ratio = delivered / ref if delivered is not None and ref else None
    # the share of the achievable gain over the constant model that the run missed (0: the best on this split)
    excess = ((delivered - ref) / (base_test - ref) if delivered is not None and ref is not None
              and base_test is not None and base_test > ref else None)
    ba, best_ba = f.get("balanced_accuracy"), f.get("reference_balanced_accuracy")
    weighted = bool(f.get("weighted"))  # under class weights the test log-loss pays for the weights: judge recall
    v_end = sum(val[-3:]) / len(val[-3:])
    levelled = n >= 6 and val[-1] >= 0.9 * val[(2 * n) // 3]
    # 6. under-fitting: far from the best on this data and split (test loss >= 1.3x the best and >= 20 % of the
    #    achievable gain over the constant model missed; under class weights: balanced accuracy >= 0.1 below the
    #    best), a training loss that is itself no lower than the best test loss on the split (the model fits
    #    its own training data worse than a better model predicts unseen data), and a validation loss that
    #    levelled off (< 10 % better over the last third of the epochs)
    far = (ba is not None and best_ba is not None and ba <= best_ba - 0.1) if weighted else \
        (ratio is not None and ratio >= 1.3 and excess is not None and excess >= 0.2)
    if far and ref is not None and end >= ref and levelled:
        return "underfitting", (f"test loss {ratio:.2f}x the best on this split ({excess:.0%} of the gain missed), "
                                f"train {end:.3g} vs val {v_end:.3g}" if not weighted else
                                f"balanced accuracy {ba:.2f} vs {best_ba:.2f}, train {end:.3g} vs val {v_end:.3g}")
    # 7. healthy: none of the above, at most one rise, near the best on this split (test loss within 15 % of the
    #    best, or <= 10 % of the achievable gain missed; under class weights: balanced accuracy within 0.05 of the
    #    best), the delivered model not over-fitted (test <= 5 % above its minimum, or validation < 10 % above its
    #    minimum, or restored weights), and on an imbalanced task the rarest class found (test recall >= 0.6)
    near = (ba is not None and best_ba is not None and ba >= best_ba - 0.05) if weighted else \
        ((ratio is not None and ratio <= 1.15) or (excess is not None and excess <= 0.1))
    overfit_mild = test_rise is not None and test_rise > 0.05 and gl >= 0.10 and not restored
    minority_ok = not imbalanced_task or (recall is not None and recall >= 0.6)
    if r <= 1 and near and not overfit_mild and minority_ok:
        return "healthy", (f"test loss {'-' if ratio is None else f'{ratio:.2f}'}x the best on this split "
                           f"({'-' if excess is None else f'{excess:.0%}'} of the gain missed), {r} rises"
                           + (f", balanced accuracy {ba:.2f} vs best {best_ba:.2f}" if weighted else "")
                           + (f", rarest class recall {recall:.2f}" if imbalanced_task else ""))
    return "unclear", (f"{r} rises, val GL {gl:.0%}, test {'-' if ratio is None else f'{ratio:.2f}'}x best "
                       f"({'-' if excess is None else f'{excess:.0%}'} of the gain missed), "
                       f"test rise {'-' if test_rise is None else f'{test_rise:+.0%}'}, "
                       f"rarest recall {recall if recall is None else round(recall, 2)}")
