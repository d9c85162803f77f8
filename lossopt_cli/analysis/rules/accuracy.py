"""Accuracy: the generalization gap, over-confidence, and (with imbalance) a model that predicts the majority."""

from __future__ import annotations

from .common import Finding
from .common import argmin as _argmin
from .common import finding as _finding
from .common import fmt as _fmt
from .common import mean as _mean
from .common import ok as _ok
from .common import rel_drop as _rel_drop
from .context import Context, History
from .imbalance import imbalance_signature
from .overfitting import generalization_loss


def rules(h: History, th: dict, ctx: Context) -> list[Finding]:
    """The generalization gap in accuracy, over-confidence, and (without per-class scores) the imbalance
    signature of a plain history."""
    k, summary = ctx.k, ctx.summary
    out: list[Finding] = []
    if not h.acc:
        ctx.skip("generalization_gap, overconfidence (accuracy), class_imbalance: no accuracy column")
        return out
    acc_end, val_end = _mean(h.acc[-k:]), _mean(h.val_acc[-k:]) if h.val_acc else None
    gl_end = generalization_loss(h.val_loss, h.n - 1) if h.val_loss and _ok(h.val_loss[-1]) else None
    if acc_end is not None and val_end is not None and acc_end - val_end > th["gap_accuracy"]:
        # a gap that has cost nothing yet (validation loss within overfitting_gl of its best: noisy data a model
        # memorizes at its ceiling) is a note; one the validation loss pays for is a warning
        paid = gl_end is None or gl_end >= th["overfitting_gl"]
        out.append(_finding("generalization_gap", "warning" if paid else "info", h.epochs[-1],
                            f"Training accuracy {_fmt(acc_end)} is {acc_end - val_end:.1%} above validation "
                            f"accuracy {_fmt(val_end)} (mean of the last {min(k, h.n)} epochs)."
                            + ("" if paid else f" The validation loss is still within {th['overfitting_gl']:.0f}% "
                               f"of its best ({gl_end:.0f}%): the model memorizes training samples, at no cost "
                               f"on unseen data so far."),
                            {"train_accuracy": acc_end, "val_accuracy": val_end, "gap": acc_end - val_end,
                             "gl_percent": gl_end},
                            "Regularize (dropout, L2, data augmentation), use a smaller model, or get more data."))
    # over-confidence (a): validation loss rising while validation accuracy holds
    if h.val_loss and h.val_acc and any(_ok(v) for v in h.val_loss):
        onset = _argmin(h.val_loss)
        gl = generalization_loss(h.val_loss, h.n - 1)
        if (gl is not None and gl >= th["overfitting_gl"] and h.n - 1 - onset >= th["overfitting_min_epochs"]
                and _ok(h.val_acc[onset]) and _ok(h.val_acc[-1])
                and h.val_acc[-1] >= h.val_acc[onset] - th["overconfidence_accuracy_tolerance"]):
            es = ctx.early_stopping  # early stopping restored the best epoch: the saved model is not the one that rose
            restored = bool(es and es.get("restore_best_weights", True) and h.n - 1 - onset <= int(es.get("patience", 3))
                            and str(es.get("monitor", "val_loss")) in ("val_loss", f"val_{h.loss_key}"))
            out.append(_finding("overconfidence", "info" if restored else "warning", h.epoch(onset),
                                f"Validation loss rose {gl:.0f}% after epoch {h.epoch(onset)} while validation "
                                f"accuracy held ({_fmt(h.val_acc[onset])} -> {_fmt(h.val_acc[-1])}): the model is "
                                f"more confident on its mistakes, not less accurate."
                                + (f" Early stopping restored epoch {h.epoch(onset)}'s weights: the saved model is "
                                   f"not over-confident." if restored else ""),
                                {"gl_percent": gl, "val_accuracy_at_onset": h.val_acc[onset],
                                 "final_val_accuracy": h.val_acc[-1]},
                                "Early stopping on val_loss, label smoothing (loss: {name: "
                                "categorical_crossentropy, label_smoothing: 0.1}) or L2 keep the probabilities "
                                "calibrated."))
    # over-confidence (b): training loss still falling while training accuracy is flat
    if h.n > k:
        strip = slice(h.n - k - 1, h.n)
        acc_strip = [v for v in h.acc[strip] if _ok(v)]
        loss_strip = [v for v in h.loss[strip] if _ok(v)]
        if (acc_strip and loss_strip and max(acc_strip) - min(acc_strip) < th["accuracy_flat"]
                and _rel_drop(loss_strip[0], loss_strip[-1]) > th["overconfidence_loss_drop"]
                and not any(f.code == "overconfidence" for f in out)):
            out.append(_finding("overconfidence", "info", h.epochs[-k],
                                f"Training loss fell {_rel_drop(loss_strip[0], loss_strip[-1]):.0%} over the last "
                                f"{k} epochs while training accuracy stayed at {_fmt(acc_strip[-1])}: the model "
                                f"grows more confident on the samples it already gets right.",
                                {"train_loss_fall": _rel_drop(loss_strip[0], loss_strip[-1]),
                                 "train_accuracy": acc_strip[-1]},
                                "Further epochs only sharpen the probabilities; stop here (early stopping) or add "
                                "label smoothing."))
    if summary.get("per_class"):  # per-class scores say more than accuracy: minority_rule judges them
        return out
    out += imbalance_signature(h, th, ctx)
    return out
