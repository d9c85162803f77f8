"""Progress: a set-up that cannot learn or a rate too low (stalled, lr_too_low, under-fitting at the constant
model), the plateau, a run not converged, and under-fitting judged against what is achievable (at_ceiling)."""

from __future__ import annotations

from .common import REFERENCE_FIT, Finding, balanced_accuracy
from .common import argmin as _argmin
from .common import finding as _finding
from .common import fmt as _fmt
from .common import mean as _mean
from .common import ok as _ok
from .common import rel_drop as _rel_drop
from .context import Context, History


def rules(h: History, th: dict, ctx: Context) -> list[Finding]:
    """Stalled and a rate too low (unless the set-up rule already called the run stalled); then, on a run that
    trained and did not clearly over-fit, the plateau, not converged, under-fitting and the noise ceiling."""
    k, summary = ctx.k, ctx.summary
    skip_stall = ctx.set_up_stalled
    overfitted = any(f.code == "overfitting" and f.acts for f in ctx.overfit[0]) and not ctx.unstable_training
    skip_judgement = overfitted or not ctx.trained
    out = []
    loss = [v for v in h.loss if _ok(v)]
    total = _rel_drop(loss[0], min(loss))
    w = min(th["plateau_window"], h.n - 1)
    recent = _rel_drop(min(loss[: -w]), min(loss[-w:])) if w >= 1 and len(loss) > w else 0.0
    falls = sum(1 for a, b in zip(loss, loss[1:]) if b < a) / (len(loss) - 1)
    head, end = _mean(loss[: max(1, min(k, len(loss) // 3))]), _mean(loss[-k:])
    net = _rel_drop(head, end)
    steps = sorted(abs(b - a) for a, b in zip(loss, loss[1:]))
    noise = steps[len(steps) // 2] / abs(loss[0]) if steps and loss[0] else 0.0
    lr = next((v for v in reversed(h.lr) if _ok(v)), None)
    lr_hint = f" (from {_fmt(lr)} to about {_fmt(lr * 10)})" if lr else ""
    learned = (ctx.train_baseline is not None and end is not None
               and end < th["underfit_baseline_ratio"] * ctx.train_baseline)
    ev = {"first_loss": loss[0], "lowest_loss": min(loss), "total_fall": total, "net_fall": net,
          "fall_last_window": recent, "epochs_falling": falls, "constant_model_loss": ctx.train_baseline}
    # stalled: the loss barely moved, or only wobbled around where it started (dropout noise at a tiny rate);
    # a loss below the constant model's from the first epoch on that then never moves (a tiny rate: the
    # initial weights happened to beat the prior) is stalled too: it was not training that got it there
    never_moved = h.n >= 5 and total < th["stall_progress"]
    stalled = h.n >= 3 and not skip_stall and (never_moved or not learned and (
        total < th["stall_progress"] or (net < th["slow_progress"] and net < max(th["stall_progress"], 2 * noise))))
    if stalled:
        out.append(_finding("stalled", "error", h.epochs[0],
                            f"The training loss barely moved: {_fmt(loss[0])} -> {_fmt(end)} (mean of the last "
                            f"{min(k, len(loss))} epochs, {net:.2%}) in {h.n} epochs.", ev,
                            ctx.setup_hint() or
                            f"Multiply the learning rate by 10-100{lr_hint}; "
                            + ctx.setup_check()[0].lower() + ctx.setup_check()[1:] + "."))
    # a rate too low creeps down at a steady pace to the end; a curve whose fall has died away (its last
    # epochs fall at under a quarter of the run's average pace) has converged, however little it fell
    pace = (loss[0] - loss[-1]) / (len(loss) - 1)
    tail = loss[-min(len(loss), k + 1):]
    steady = pace > 0 and (tail[0] - tail[-1]) / max(len(tail) - 1, 1) >= 0.25 * pace
    if h.n >= 3 and total < th["slow_progress"] and falls >= 0.8 and steady and not learned and not skip_stall:
        out.append(_finding("lr_too_low", "warning", h.epochs[0],
                            f"The loss falls on {falls:.0%} of the epochs but only by {total:.2%} in total: the "
                            f"learning rate is too low.", ev, f"Multiply the learning rate by 10{lr_hint}."))
    if stalled or skip_judgement or skip_stall:
        return out
    # (plateau, not converged, under-fitting) the monitored loss: validation when there is one, else training
    mon = h.val_loss if h.val_loss and all(_ok(v) for v in h.val_loss) else h.loss
    mon_name = "val_loss" if mon is h.val_loss else h.loss_key
    flat = h.n > th["plateau_window"] and recent < th["plateau_min_delta"]
    if flat:
        out.append(_finding("plateau", "info", h.epochs[-w],
                            f"The training loss improved by less than {th['plateau_min_delta']:.1%} over the last "
                            f"{w} epochs.", ev, "The run has converged at this learning rate; if the loss is still "
                                                "too high, reduce the learning rate on plateau "
                                                "(keras.callbacks.ReduceLROnPlateau) or use a larger model."))
    m = min(k, h.n - 1)
    mon_recent = _rel_drop(min(mon[: -m]), min(mon[-m:])) if m >= 1 else 0.0
    best_i = _argmin(mon)
    if mon_recent > th["not_converged_improvement"] and best_i is not None and best_i >= h.n - 2:
        # large when the last strip brought a big share of all the run learned (from the constant model's loss)
        start = max(v for v in (mon[0], ctx.baseline if mon_name == "val_loss" else None) if _ok(v))
        fall_strip = min(mon[: -m]) - min(mon[-m:])
        share = fall_strip / (start - mon[best_i]) if start > mon[best_i] else 1.0
        large = share > th["not_converged_share"]
        out.append(_finding("not_converged", "warning" if large else "info", h.epochs[-1],
                            f"{mon_name} was still falling at the last epoch ({mon_recent:.1%} over the last {m} "
                            f"epochs, {share:.0%} of its whole fall)" + ("." if large else
                                                                         ": more epochs would add a little."),
                            {"improvement_last_strip": mon_recent, "share_of_fall": share,
                             "best_epoch": h.epoch(best_i), "final": mon[-1]},
                            "Train longer, with early stopping (training.early_stopping: {patience: 3}) to stop "
                            "at the right time."))
    # under-fitting: the run has flattened but stayed poor against what is achievable
    acc_end = _mean(h.acc[-k:]) if h.acc else None
    n_classes = (summary.get("data") or {}).get("n_classes") or summary.get("n_classes")
    chance = 1.0 / n_classes if n_classes else None
    at_chance = acc_end is not None and chance is not None and acc_end < chance + th["chance_margin"]
    val_end = _mean(h.val_loss[-k:]) if h.val_loss else None
    gap = (val_end or 0) - (end or 0) if h.val_loss else 0.0
    small_gap = not h.val_loss or gap < 0.25 * abs(end or 1.0)
    slowing = h.n > th["plateau_window"] and recent < th["underfit_window_fall"]
    near_constant = (ctx.train_baseline is not None and end is not None
                     and end >= th["underfit_baseline_ratio"] * ctx.train_baseline)
    if near_constant and ctx.class_weight is not None and _separates(summary, th):
        # under class weights a noisy task keeps the weighted loss near the weighted constant model's even when
        # the model separates the classes well: judged by the per-class scores, it is not stuck at the prior
        near_constant = False
    behind = (ctx.reference is not None and val_end is not None
              and val_end > (1 + th["underfit_reference_margin"]) * ctx.reference
              # training and validation agree, or the model fits its own training data no better than the
              # reference predicts unseen data: capacity, not generalization, is the limit
              and (small_gap or (end is not None and end >= ctx.reference))
              and (ctx.baseline is None or ctx.baseline <= ctx.reference or (val_end - ctx.reference)
                   >= th["underfit_reference_share"] * (ctx.baseline - ctx.reference)))
    at_ceiling = (ctx.reference is not None and val_end is not None
                  and val_end <= (1 + th["underfit_reference_margin"]) * ctx.reference)
    fit_reference = ctx.reference_run == REFERENCE_FIT
    where = (f"what {ctx.reference_model} reach on the same split" if fit_reference else
             "the best run on the same data")
    why = None
    if at_chance:
        why = f"accuracy {_fmt(acc_end)} is at chance ({_fmt(chance)})"
    elif slowing and near_constant and small_gap and not at_ceiling:
        why = (f"the training loss {_fmt(end)} is still {end / ctx.train_baseline:.0%} of what "
               f"{ctx.train_baseline_what} gets ({_fmt(ctx.train_baseline)})")
    elif slowing and behind:
        run = f", {ctx.reference_run}" if ctx.reference_run and not fit_reference else ""
        why = (f"validation loss {_fmt(val_end)} is {val_end / ctx.reference - 1:.0%} above {where} "
               f"({_fmt(ctx.reference)}{run}) while training and validation agree")
    if why:
        out.append(_finding("underfitting", "warning", h.epochs[-1],
                            (f"Under-fitting: the training loss has nearly stopped falling ({recent:.1%} over the "
                             f"last {w} epochs) and {why}." if slowing else f"Under-fitting: {why}."),
                            {**ev, "final_accuracy": acc_end, "chance": chance, "train_val_gap": gap,
                             "reference_val_loss": ctx.reference},
                            "Use a bigger model (more units or layers), less regularization (dropout, L2), or "
                            "better features; then train longer."))
    elif slowing and at_ceiling and (near_constant or flat) and small_gap:
        out.append(_finding("at_ceiling", "info", h.epochs[-1],
                            f"The loss has settled at {_fmt(val_end)} (validation), within "
                            f"{th['underfit_reference_margin']:.0%} of {where} ({_fmt(ctx.reference)}): the data "
                            f"allow little better, so a bigger model or more epochs would change little.",
                            {**ev, "reference_val_loss": ctx.reference, "train_val_gap": gap},
                            "Better features or more (or cleaner) data are what would help; the model and the "
                            "training are not the limit."))
    return out


def _separates(summary: dict, th: dict) -> bool:
    """The per-class recalls of summary.json put the balanced accuracy clearly above chance (1/classes)."""
    recall = [r for r in ((summary.get("per_class") or {}).get("recall") or []) if _ok(r)]
    return len(recall) >= 2 and balanced_accuracy(recall) >= 1 / len(recall) + 2 * th["chance_margin"]
