"""Divergence and instability: a loss that is NaN or exploded (diverged, exploding_loss), oscillation, and a
learning rate too high (lr_too_high), judged first: fix the rate before judging generalization."""

from __future__ import annotations

import math

from .common import Finding
from .common import argmin as _argmin
from .common import finding as _finding
from .common import fmt as _fmt
from .common import ok as _ok
from .common import rises as _rises
from .context import Context, History


def rules(h: History, th: dict, ctx: Context) -> list[Finding]:
    """Divergence, judged first: a non-finite loss, a validation loss that blew up, a training loss that
    exploded (``exploding_loss``; ``diverged`` too when it never recovered) or gave back what it learned."""
    out = _divergence_rules(h, th, ctx)
    hint = ctx.setup_hint()
    for f in out:
        if hint and f.code == "diverged":
            f.suggestion = hint
    return out


def blow_up(h: History, th: dict) -> dict | None:
    """Where a finite training loss blew up: reached ``explode_loss`` (for a loss that starts below it, or
    any classification loss) or rose ``blowup_factor`` x above its lowest earlier value and above its first;
    its peak, and whether it came back down and learned again from there. None when it did not blow up."""
    if not h.loss or not all(_ok(v) for v in h.loss):
        return None
    level = th["explode_loss"]
    blew_up_in_epoch_one = max(h.loss) >= th["explode_span"] * max(min(h.loss), 1e-12)
    explode_i = (next((i for i, v in enumerate(h.loss) if v >= level), None)
                 if h.acc_key or h.loss[0] < level or blew_up_in_epoch_one else None)
    blow_i, lowest = None, h.loss[0]
    for i in range(1, h.n):  # up by blowup_factor, and above where training started
        if lowest > 0 and h.loss[i] >= th["blowup_factor"] * lowest and h.loss[i] > h.loss[0]:
            blow_i = i
            break
        lowest = min(lowest, h.loss[i])
    hits = [i for i in (explode_i, blow_i) if i is not None]
    if not hits:
        return None
    at = min(hits)
    peak_i = max(range(at, h.n), key=lambda i: h.loss[i])
    peak = h.loss[peak_i]
    recovered = h.loss[-1] < min(h.loss[0], peak / th["blowup_factor"]) and h.loss[-1] < level
    k = th["strip_length"]
    after = h.loss[peak_i + 1:]
    if recovered and len(after) >= 2 * k:  # landed lower, but did it learn again from where it landed?
        landing, end = min(after[:k]), min(after[-k:])
        recovered = end < (1 - th["slow_progress"]) * landing
    return {"at": at, "by_level": at == explode_i, "peak": peak, "recovered": recovered}


def _divergence_rules(h: History, th: dict, ctx: Context) -> list[Finding]:
    out = []
    bad = next((i for i, v in enumerate(h.loss) if not _ok(v)), None)
    # a validation loss that turns infinite, or NaN for good (empty cells between validations, as
    # with fit(validation_freq=2), are not divergence)
    bad_val = next((i for i, v in enumerate(h.val_loss)
                    if (math.isinf(v) or not any(_ok(u) for u in h.val_loss[i:])) and i < len(h.loss)
                    and _ok(h.loss[i])), None) if h.val_loss and any(_ok(v) for v in h.val_loss) else None
    first = next((v for v in h.loss if _ok(v)), None)
    if bad is not None:
        out.append(_finding(
            "diverged", "error", h.epoch(bad), f"The training loss became {h.loss[bad]} at epoch {h.epoch(bad)}.",
            {"first_loss": first, "last_finite_loss": next((v for v in reversed(h.loss[:bad]) if _ok(v)), None)},
            "Divide the learning rate by 10 (or clip gradients: optimizer clipnorm: 1.0) and check the inputs "
            "are normalized."))
        return out
    if bad_val is not None:
        out.append(_finding(
            "diverged", "error", h.epoch(bad_val), f"The validation loss became {h.val_loss[bad_val]} at epoch "
            f"{h.epoch(bad_val)} while the training loss was finite.", {"loss": h.loss[bad_val]},
            "Divide the learning rate by 10; look for validation inputs outside the training range."))
        return out
    # The absolute level: for classification (an accuracy column) a loss starts near ln(classes), so
    # any value above it is a blow-up; otherwise a loss that rose to it counts, or one that starts
    # above it and spans explode_span (blew up inside epoch 1); one that merely starts above it is the
    # scale of the target (MSE on values in the hundreds), not a blow-up, unless validation is far off
    # the training loss' scale.
    level = th["explode_loss"]
    val_end = next((v for v in reversed(h.val_loss) if _ok(v)), None)
    val_first = next((v for v in h.val_loss if _ok(v)), None)
    train_end = next((v for v in reversed(h.loss) if _ok(v)), None)
    val_low = min((v for v in h.val_loss if _ok(v)), default=None)
    train_high = max((v for v in h.loss if _ok(v)), default=None)
    # off the training loss' scale, and either risen from its own lowest value or far above anything the
    # training loss ever was (a regression's MSE in the thousands that an over-fitted model holds while its
    # training loss falls from the same thousands is a large gap, not a blow-up)
    bf = th["blowup_factor"]
    val_off_scale = (train_end is not None and val_end is not None and val_end >= bf * max(train_end, 1e-12)
                     and (val_end >= bf * max(val_low, 1e-12) or val_end >= bf * max(train_high, 1e-12)))
    if val_end is not None and val_end >= level and (h.acc_key or val_first < level or val_off_scale):
        at = next(i for i, v in enumerate(h.val_loss) if _ok(v) and v >= th["explode_loss"])
        out.append(_finding(
            "diverged", "error", h.epoch(at), f"The validation loss reached {_fmt(h.val_loss[at])} at epoch "
            f"{h.epoch(at)} and ended at {_fmt(val_end)} (>= {_fmt(th['explode_loss'])}).",
            {"val_loss_at_epoch": h.val_loss[at], "final_val_loss": val_end, "final_loss": h.loss[-1]},
            "Divide the learning rate by 10 (or clip gradients: clipnorm: 1.0); the weights have blown up even if "
            "the training loss looks finite."))
    # exploding: an absolute level, or a blow-up against the lowest earlier loss
    blown = ctx.blow_up
    if blown is None:
        return out + _unlearned(h, th)  # (a validation-only blow-up above is already reported)
    at, peak, recovered = blown["at"], blown["peak"], blown["recovered"]
    evidence = {"loss_at_epoch": h.loss[at], "first_loss": h.loss[0], "lowest_before": min(h.loss[: at + 1]),
                "peak_loss": peak, "final_loss": h.loss[-1]}
    why = (f"reached {_fmt(h.loss[at])} (>= {_fmt(th['explode_loss'])})" if blown["by_level"]
           else f"rose to {_fmt(h.loss[at])}, {_fmt(h.loss[at] / min(h.loss[: at]))}x its lowest earlier value")
    evidence["recovered"] = int(recovered)
    out.append(_finding("exploding_loss", "error" if not recovered else "warning", h.epoch(at),
                        f"The training loss {why} at epoch {h.epoch(at)}.", evidence,
                        "Divide the learning rate by 10, or clip gradients (clipnorm: 1.0); standardize the "
                        "inputs and, for regression, the target."))
    if not recovered and not any(f.code == "diverged" for f in out):
        out.append(_finding("diverged", "error", h.epoch(at),
                            f"The loss blew up at epoch {h.epoch(at)} and training never recovered "
                            f"(final {_fmt(h.loss[-1])}, first {_fmt(h.loss[0])}, peak {_fmt(peak)}).", evidence,
                            "Divide the learning rate by 10 and train again."))
    return out


def _unlearned(h: History, th: dict) -> list[Finding]:
    """A training loss that ends ``blowup_factor`` times above its lowest value, having given back most of what
    it learned (a late blow-up that stays below where training started)."""
    low_i = _argmin(h.loss)
    low, first, last = h.loss[low_i], h.loss[0], h.loss[-1]
    if low <= 0 or last < th["blowup_factor"] * low or last - low < 0.5 * (first - low):
        return []
    evidence = {"first_loss": first, "lowest_loss": low, "final_loss": last, "lowest_epoch": h.epoch(low_i)}
    return [_finding("diverged", "error", h.epoch(low_i),
                     f"The training loss climbed from its lowest {_fmt(low)} (epoch {h.epoch(low_i)}) back to "
                     f"{_fmt(last)} ({last / low:.0f}x), giving back most of what it had learned "
                     f"(first {_fmt(first)}).", evidence,
                     "Divide the learning rate by 10 (or decay it: a schedule), and keep the best epoch's weights "
                     "(training.early_stopping with restore_best_weights).")]


def oscillation(h: History, th: dict, ctx: Context) -> list[Finding]:
    """Oscillation (below); a zig-zag of the validation loss alone on a run that clearly over-fitted is a note:
    the over-fitting is what to act on. Repeated jumps of the training loss are not: with them, fix the
    learning rate first, then judge generalization."""
    found = _oscillation_rule(h, th)
    clear = ctx.trained and any(f.code == "overfitting" and f.acts for f in ctx.overfit[0])
    if found and clear and found[0].evidence["training_rises"] < th["oscillation_min_rises"]:
        found[0].severity = "info"
        found[0].message += (" The validation loss climbs far above its minimum at the same time: over-fitting "
                             "is the problem to fix first; a small validation set or label noise makes it "
                             "zig-zag.")
    return found


def _oscillation_rule(h: History, th: dict) -> list[Finding]:
    """Repeated rises of the training loss, or repeated peaks (a rise then a fall) of the validation
    loss, each beyond ``oscillation_tolerance`` of the curve's first value and ``oscillation_rise`` of
    its neighbours (``common.rises``)."""
    tol, need = th["oscillation_tolerance"], th["oscillation_min_rises"]
    rises = _rises(h.loss, th)
    val = h.val_loss if h.val_loss and all(_ok(v) for v in h.val_loss) else []
    v_scale = abs(val[0]) if val and val[0] else 1.0
    up = set(_rises(val, th))
    peaks = [i for i in range(1, len(val) - 1)
             if i in up and val[i] - val[i + 1] > max(tol * v_scale, th["oscillation_rise"] * val[i + 1])]
    if len(rises) < need and len(peaks) < need:
        return []
    if len(rises) >= need:
        curve, at, count, what = h.loss, rises, len(rises), f"The training loss rose {len(rises)} times"
    else:
        curve, at, count, what = val, peaks, len(peaks), f"The validation loss went up and down {len(peaks)} times"
    biggest = max(at, key=lambda i: curve[i] - curve[i - 1])
    return [_finding(
        "oscillation", "warning", h.epoch(at[0]),
        f"{what} by more than {th['oscillation_rise']:.0%} of the epoch before (and {tol:.0%} of its first value; "
        f"largest at epoch {h.epoch(biggest)}: "
        f"{_fmt(curve[biggest - 1])} -> {_fmt(curve[biggest])}).",
        {"training_rises": len(rises), "validation_peaks": len(peaks), "largest_rise": curve[biggest] - curve[biggest - 1],
         "first_loss": curve[0], "share_of_epochs": count / (h.n - 1)},
        "Divide the learning rate by about 3, or use a larger batch size; a learning-rate schedule "
        "(cosine or exponential decay) calms the later epochs.")]


def lr_too_high(h: History, findings: list[Finding], ctx: Context) -> list[Finding]:
    """The consequence of a loss that diverged, exploded or oscillated: the learning rate is too high (unless
    the set-up rule already said so, or the output layer cannot feed the loss)."""
    causes = sorted({f.code for f in findings if f.code in ("diverged", "exploding_loss", "oscillation") and f.acts})
    if not causes or any(f.code == "lr_too_high" for f in findings):
        return []
    epoch = next((f.epoch for f in findings if f.code in causes), None)
    hint = ctx.setup_hint()
    if hint:
        return [_finding("lr_too_high", "info", epoch,
                         f"The loss went wrong ({', '.join(causes)}), but the output layer does not fit the loss.",
                         {}, hint)]
    lr = next((v for v in reversed(h.lr) if _ok(v)), None)
    factor = 10 if ("diverged" in causes or "exploding_loss" in causes) else 3
    target = f" (to about {_fmt(lr / factor)})" if lr else ""
    return [_finding("lr_too_high", "warning", epoch, f"The learning rate is too high: {', '.join(causes)}.",
                     {"learning_rate": lr, "divide_by": factor}, f"Divide the learning rate by about {factor}{target}.")]
