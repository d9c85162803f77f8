"""The learning rate and the set-up, judged on the first epochs: a rate too high (lr_too_high), a loss that never
beat a model ignoring its input (stalled: the set-up or the rate), or one that came down to it and settled there
(stalled at the constant model: it learned the prior only). Judged before over-fitting: fix these first."""


from __future__ import annotations

from .common import REFERENCE_FIT, Finding
from .common import finding as _finding
from .common import fmt as _fmt
from .common import mean as _mean
from .common import ok as _ok
from .common import rel_drop as _rel_drop
from .context import Context, History


def set_up(h: History, th: dict, ctx: Context) -> list[Finding]:
    """Learning-rate and set-up pathologies, judged before over-fitting: a training loss that rises in
    the first epochs, or one that never gets below the loss of a constant model (``Context.trained``)."""
    loss = h.loss
    early = ctx.early_rises
    end = _mean(loss[-ctx.k:])
    rises = len(ctx.training_jumps)
    above = not ctx.trained
    lr = next((v for v in reversed(h.lr) if _ok(v)), None)
    target = f" (to about {_fmt(lr / 10)})" if lr else ""
    hint = ctx.setup_hint()
    ev = {"first_loss": loss[0], "final_loss_mean": end, "constant_model_loss": ctx.train_baseline,
          "early_rises": len(early), "rises": rises, "learning_rate": lr}
    if early and rises >= th["oscillation_min_rises"] and not above:
        return []  # the oscillation rule reports it, with its own advice
    if early:
        i = early[0]
        rise = f"the training loss rose from {_fmt(loss[i - 1])} to {_fmt(loss[i])} at epoch {h.epoch(i)}"
        if above or rises >= 2:
            why = (f"and ended at {_fmt(end)}, no better than {ctx.train_baseline_what} "
                   f"({_fmt(ctx.train_baseline)})" if above
                   else f"and rose {rises} times in all")
            return [_finding("lr_too_high", "warning", h.epoch(i),
                             f"Unstable: {rise} {why}: the learning rate is too high.", ev,
                             hint or f"Divide the learning rate by {'10' if above else '3 to 10'}{target}; a warm-up "
                                     f"(a schedule) or gradient clipping (clipnorm: 1.0) also tames the first "
                                     f"epochs.")]
        return [_finding("lr_too_high", "info", h.epoch(i), f"Early on {rise}, then the run learned.", ev,
                         "A slightly lower learning rate (or a warm-up) may train more smoothly.")]
    fell = _rel_drop(loss[0], min(v for v in loss if _ok(v)))
    finite = [v for v in loss if _ok(v)]
    creeping = len(finite) > 2 and sum(b < a for a, b in zip(finite, finite[1:])) >= 0.8 * (len(finite) - 1)
    # it fell to the constant model's loss and bounces there (a tiny rate would creep down epoch after epoch)
    came_down = ctx.train_baseline is not None and loss[0] > 1.05 * ctx.train_baseline
    settled = fell >= th["slow_progress"] or (fell >= th["stall_progress"] and not creeping and came_down)
    if above and settled and end <= 1.05 * ctx.train_baseline:
        # it came down to the constant model's loss and settled there: where a reference shows the inputs carry
        # little signal, it learned the prior and there was nothing else to learn (stalled); otherwise (the
        # reference beats the constant model, or there is no reference to say) the model is too small or too
        # regularized to use what the inputs hold
        no_signal = (ctx.reference is not None and ctx.baseline is not None
                     and ctx.reference >= (1 - th["signal_gain"]) * ctx.baseline)
        if not no_signal:
            where = (f"{ctx.reference_model} reach" if ctx.reference_run == REFERENCE_FIT else
                     f"the best run on the same data ({ctx.reference_run}) reaches" if ctx.reference_run else
                     "the best run on the same data reaches")
            signal = (f", while {where} {_fmt(ctx.reference)} on validation data: the inputs carry signal this model "
                      f"cannot use" if ctx.reference is not None else ": the model predicts a constant")
            return [_finding("underfitting", "warning", h.epochs[-1],
                             f"Under-fitting: the training loss fell ({_fmt(loss[0])} -> {_fmt(end)}) and settled at "
                             f"the loss of a model that ignores its input ({ctx.train_baseline_what}: "
                             f"{_fmt(ctx.train_baseline)}){signal}.", {**ev, "reference_val_loss": ctx.reference},
                             "Use a bigger model (more units or layers) or much less regularization (dropout, L2)"
                             + ("." if ctx.reference is not None else "; check the inputs carry signal."))]
        return [_finding("stalled", "error", h.epochs[-1],
                         f"The training loss fell ({_fmt(loss[0])} -> {_fmt(end)}) to the loss of a model that "
                         f"ignores its input ({ctx.train_baseline_what}: {_fmt(ctx.train_baseline)}) and stayed "
                         f"there: the model predicts a constant, so nothing beyond it was learned.", ev,
                         hint or "Check the inputs carry signal and are normalized; then use a bigger model (more "
                                 "units or layers) or much less regularization (dropout, L2), and a learning rate "
                                 "3-10x lower if the loss jumps from epoch to epoch.")]
    if above and fell >= th["stall_progress"]:
        return [_finding("stalled", "error", h.epochs[0],
                         f"The training loss moved ({_fmt(loss[0])} -> {_fmt(end)}) but never got below the loss of "
                         f"a model that ignores its input ({ctx.train_baseline_what}: "
                         f"{_fmt(ctx.train_baseline)}): nothing "
                         f"was learned.", ev,
                         hint or ctx.setup_check() + "; then try a learning rate 10x higher.")]
    return []
