"""Over-fitting: Prechelt's criteria (GL, PQ, UP_s) and the memorization rule on the validation loss, what
EarlyStopping would have kept, and validation below training (val_better_than_train)."""

from __future__ import annotations

import math
from dataclasses import replace

from .common import Finding
from .common import argmin as _argmin
from .common import finding as _finding
from .common import fmt as _fmt
from .common import mean as _mean
from .common import ok as _ok
from .common import rel_drop as _rel_drop
from .context import Context, History

# --- Prechelt's criteria ---------------------------------------------------------------------------


def generalization_loss(val_loss: list[float], t: int) -> float | None:
    """GL(t) = 100 * (E_va(t) / E_opt(t) - 1), E_opt the lowest validation loss up to t (0-based)."""
    seen = [v for v in val_loss[: t + 1] if _ok(v)]
    if not seen or not _ok(val_loss[t]):
        return None
    best = min(seen)
    if best <= 0:
        return None
    return 100.0 * (val_loss[t] / best - 1.0)


def training_progress(loss: list[float], t: int, k: int) -> float | None:
    """P_k(t) = 1000 * (mean of the strip t-k+1..t / min of the strip - 1)."""
    strip = [v for v in loss[max(0, t - k + 1): t + 1] if _ok(v)]
    if len(strip) < 2 or min(strip) <= 0:
        return None
    return 1000.0 * (sum(strip) / (len(strip) * min(strip)) - 1.0)


def up_strips(val_loss: list[float], t: int, k: int) -> int:
    """How many successive strip ends, back from t, had a higher validation loss than k epochs before."""
    count = 0
    while t - k >= 0 and _ok(val_loss[t]) and _ok(val_loss[t - k]) and val_loss[t] > val_loss[t - k]:
        count += 1
        t -= k
    return count


def simulate_early_stopping(val_loss: list[float], patience: int, min_delta: float = 0.0) -> dict | None:
    """What ``keras.callbacks.EarlyStopping(monitor='val_loss', patience, min_delta,
    restore_best_weights=True)`` would have done: the (0-based) stop and restored epochs."""
    best, best_i, wait = math.inf, None, 0
    for i, v in enumerate(val_loss):
        wait += 1
        if _ok(v) and v < best - min_delta:
            best, best_i, wait = v, i, 0
            continue
        if wait >= patience and i > 0:
            return {"stopped": i, "restored": best_i, "val_loss": best}
    return None


def rules(h: History, th: dict, ctx: Context) -> list[Finding]:
    """Over-fitting, judged only on a run that trained; while the training loss itself is unstable it is a
    note (fix the learning rate first, then judge generalization)."""
    if not ctx.trained:
        ctx.skip("overfitting: judged only on a run that trained (its loss never beat a constant model or rose "
                 "from the start)")
        return []
    found = [replace(f) for f in ctx.overfit[0]]
    for f in found:
        if f.acts and ctx.unstable_training:
            f.severity = "info"
            f.message += " (A note while the training itself is unstable: fix the learning rate first.)"
    return found


def assess(h: History, th: dict, ctx: Context) -> tuple[list[Finding], int | None]:
    """Prechelt's criteria on the validation curve: the over-fitting finding (or an early-stopping or
    memorization note) and the epoch of the lowest validation loss."""
    k = ctx.k
    if not h.val_loss or not any(_ok(v) for v in h.val_loss):
        return [], None
    onset = _argmin(h.val_loss)
    last = max(i for i, v in enumerate(h.val_loss) if _ok(v))  # validation may skip epochs (validation_freq)
    gl = generalization_loss(h.val_loss, last)
    after = last - onset
    if gl is None:
        return [], onset
    up = up_strips(h.val_loss, last, k)
    train_drop = _rel_drop(h.loss[onset], h.loss[last]) if _ok(h.loss[onset]) and _ok(h.loss[last]) else 0.0
    ratio = h.val_loss[last] / h.loss[last] if _ok(h.loss[last]) and h.loss[last] > 0 else math.inf
    by_gl = gl >= th["overfitting_gl"]
    by_up = up >= th["up_strips"] and gl >= th["overfitting_gl"] / 2
    by_gap = (after >= k and gl > 0 and ratio >= th["overfitting_gap_ratio"]
              and train_drop >= th["overfitting_train_fall"])
    called = after >= th["overfitting_min_epochs"] and train_drop > 0 and (by_gl or by_up or by_gap)
    if not called:
        return [], onset
    es = ctx.early_stopping
    patience_tail = (es and str(es.get("monitor", "val_loss")) in ("val_loss", f"val_{h.loss_key}")
                     and after <= int(es.get("patience", 3)))
    # without restore_best_weights the saved model is the last epoch's: the tail is what the user gets
    restored = bool(patience_tail and es.get("restore_best_weights", True))
    if patience_tail and (restored or not by_gl):
        return [_finding(
            "overfitting", "info", h.epoch(onset),
            f"EarlyStopping(patience={es.get('patience', 3)}) ended the run {after} epochs after the lowest validation "
            f"loss (epoch {h.epoch(onset)}); the rising tail of the history is its patience"
            + (", and the saved model has the weights of that best epoch." if restored else "."),
            {"onset_epoch": h.epoch(onset), "best_val_loss": h.val_loss[onset], "final_val_loss": h.val_loss[last],
             "gl_percent": gl, "epochs_after_onset": after, "patience": es.get("patience", 3)},
            "Nothing to change: early stopping did its job." if restored else
            "Set training.early_stopping.restore_best_weights: true to keep the best epoch's weights.")], onset
    progress = training_progress(h.loss, last, k)
    gap_onset = h.val_loss[onset] - h.loss[onset]
    gap_end = h.val_loss[last] - h.loss[last]
    evidence = {"gl_percent": gl, "onset_epoch": h.epoch(onset), "best_val_loss": h.val_loss[onset],
                "final_val_loss": h.val_loss[last], "train_loss_at_onset": h.loss[onset], "final_train_loss": h.loss[last],
                "train_loss_fall_after_onset": train_drop, "gap_at_onset": gap_onset, "final_gap": gap_end,
                "up_strips": up, "val_to_train_ratio": ratio if math.isfinite(ratio) else None,
                "progress_pk": progress,
                "pq": gl / progress if progress else None, "epochs_after_onset": after}
    es = simulate_early_stopping(h.val_loss, th["early_stopping_patience"], th["early_stopping_min_delta"])
    p = th["early_stopping_patience"]
    if es:
        evidence.update({"early_stopping_epoch": h.epoch(es["stopped"]), "early_stopping_restored_epoch":
                         h.epoch(es["restored"]), "early_stopping_val_loss": es["val_loss"]})
        suggestion = (f"Early stopping with patience {p} (keras.callbacks.EarlyStopping(patience={p}, "
                      f"restore_best_weights=True); in the config training.early_stopping: {{patience: {p}}}) would "
                      f"have stopped at epoch {h.epoch(es['stopped'])} and kept val_loss {_fmt(es['val_loss'])} "
                      f"(epoch {h.epoch(es['restored'])}) instead of {_fmt(h.val_loss[last])}. Also: more data, "
                      f"a smaller model, dropout or L2.")
    else:
        suggestion = "Stop earlier (early stopping), or regularize: more data, a smaller model, dropout or L2."
    if patience_tail:  # early stopping without restored weights, GL past the threshold: the saved model over-fits
        suggestion = (f"Set training.early_stopping.restore_best_weights: true (EarlyStopping(restore_best_weights="
                      f"True)): early stopping ended the run {after} epochs after the best epoch but kept the last "
                      f"weights, val_loss {_fmt(h.val_loss[last])} instead of {_fmt(h.val_loss[onset])}.")
    criteria = [name for name, hit in (("GL", by_gl), (f"UP_{th['up_strips']}", by_up), ("gap ratio", by_gap)) if hit]
    message = (f"Over-fitting from epoch {h.epoch(onset)}: validation loss rose from {_fmt(h.val_loss[onset])} to "
               f"{_fmt(h.val_loss[last])} (GL {gl:.0f}%) while training loss kept falling "
               f"({_fmt(h.loss[onset])} -> {_fmt(h.loss[last])}; validation/training {_fmt(ratio)}x) "
               f"[{', '.join(criteria)}].")
    severity = "info" if not by_gl else "warning" if gl < 5 * th["overfitting_gl"] else "error"
    if severity == "info":  # memorizing, but the validation loss has not (yet) paid for it
        message += (f" Validation is still within {th['overfitting_gl']:.0f}% of its best: the model is memorizing "
                    f"the training set, but it has not yet cost anything on unseen data.")
    return [_finding("overfitting", severity, h.epoch(onset), message, evidence, suggestion)], onset


def val_better(h: History, th: dict, ctx: Context) -> list[Finding]:
    """Validation loss below the training loss even against the next epoch's training mean.

    Keras' training loss is the mean over an epoch while the weights improve, so the validation loss
    measured after the epoch is normally a little lower; compared with the next epoch's training loss
    (measured with weights at least as good), a persistent margin is what needs explaining. Dropout
    and L2 (known from config.yaml) explain it, so they silence the note."""
    k = ctx.k
    if not h.val_loss or not any(_ok(v) for v in h.val_loss) or ctx.regularized or h.n < k + 2:
        return []
    pairs = [(h.val_loss[i], h.loss[i + 1]) for i in range(max(0, h.n - 1 - k), h.n - 1)
             if _ok(h.val_loss[i]) and _ok(h.loss[i + 1])]
    if not pairs:
        return []
    va, tr = _mean([p[0] for p in pairs]), _mean([p[1] for p in pairs])
    if tr <= 0 or va >= (1 - th["val_better_margin"]) * tr:
        return []
    return [_finding("val_better_than_train", "info", h.epochs[-1],
                     f"Validation loss {_fmt(va)} is {1 - va / tr:.0%} below training loss {_fmt(tr)} (the last "
                     f"{len(pairs)} epochs, each against the next epoch's training loss).",
                     {"train_loss": tr, "val_loss": va},
                     "Expected with dropout, L2 or data augmentation (they act only in training); otherwise check "
                     "that validation samples are not in training and that the validation set is not easier.")]
