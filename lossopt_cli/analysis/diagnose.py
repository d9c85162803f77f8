"""Diagnose a training history: findings with evidence and a suggestion, and one verdict.

Pure Python on the columns ``rundir.read_history`` returns (a lossopt ``history.csv`` or any
Keras ``CSVLogger`` file), so it works on old, interrupted and foreign runs and never imports
TensorFlow. The rules and their thresholds (``analysis.thresholds``) are documented in the
README section "Diagnosis and reports".
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from .. import rundir
from ..schema import ConfigError, validate_table
from .thresholds import THRESHOLDS

CODES = ("overfitting", "generalization_gap", "overconfidence", "diverged", "exploding_loss", "underfitting",
         "stalled", "plateau", "oscillation", "lr_too_high", "lr_too_low", "not_converged",
         "val_better_than_train", "at_ceiling", "minority_missed", "class_imbalance", "healthy")
REFERENCE_FIT = "gradient-boosted trees on the same split"  # ctx.reference_run of summary.json's reference_fit
VERDICTS = ("healthy", "overfitting", "underfitting", "diverged", "unstable", "stalled", "imbalanced", "not_converged")
SEVERITIES = ("info", "warning", "error")
LOSS_LIKE = ("loss", "error", "mse", "mae", "crossentropy")  # names a history's loss column may have

# The verdict is the first of these whose codes were found as a warning or an error (top to bottom),
# else healthy: an info finding is a note. Instability comes before over-fitting: with a training loss
# that jumps, fix the learning rate first (but a validation zig-zag on a clearly over-fitted run is a note).
VERDICT_ORDER = (
    ("diverged", ("diverged",)),
    ("unstable", ("exploding_loss", "oscillation", "lr_too_high")),
    ("overfitting", ("overfitting",)),
    ("stalled", ("stalled", "lr_too_low")),
    ("imbalanced", ("minority_missed", "class_imbalance")),
    ("underfitting", ("underfitting",)),
    ("not_converged", ("not_converged",)),
)


from .rules.common import argmin as _argmin  # noqa: E402,F401 - the rules' shared helpers
from .rules.common import finding as _finding  # noqa: E402
from .rules.common import fmt as _fmt  # noqa: E402
from .rules.common import mean as _mean  # noqa: E402
from .rules.common import ok as _ok  # noqa: E402
from .rules.common import rel_drop as _rel_drop  # noqa: E402
from .rules.imbalance import imbalance_signature, minority_rule  # noqa: E402


def resolve_thresholds(thresholds: dict | None) -> dict:
    """Defaults overridden by ``thresholds`` (validated: unknown keys raise ConfigError)."""
    return validate_table(thresholds or {}, THRESHOLDS, "diagnostics", what="the reporter")


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


# --- the diagnosis -----------------------------------------------------------------------------------


class _History:
    """The columns the rules use, with the epoch numbers, and what each rule may rely on."""

    def __init__(self, history: dict[str, list[float]]):
        columns = {k: list(v) for k, v in history.items()}
        n = max((len(v) for v in columns.values()), default=0)
        self.epochs = [int(e) for e in columns.pop("epoch", list(range(1, n + 1)))]
        self.n = len(self.epochs)
        self.columns = columns
        loss_key = "loss" if "loss" in columns else next(
            (k for k in columns if not k.startswith("val_") and any(w in k for w in LOSS_LIKE)), None)
        if columns and loss_key is None:
            raise ConfigError(f"The history has no loss column (columns: {', '.join(columns)}); expected 'loss' "
                              f"or a column named like a loss ({', '.join(LOSS_LIKE)}).", key="loss")
        self.loss_key = loss_key
        self.loss = [float(v) for v in columns.get(loss_key, [])] if loss_key else []
        self.val_loss = [float(v) for v in columns.get(f"val_{loss_key}", [])] if loss_key else []
        acc = next((k for k in ("accuracy", "acc", "categorical_accuracy", "sparse_categorical_accuracy",
                                "binary_accuracy") if k in columns), None)
        self.acc_key = acc
        self.acc = columns.get(acc, []) if acc else []
        self.val_acc = columns.get(f"val_{acc}", []) if acc else []
        self.lr = columns.get("learning_rate") or columns.get("lr") or []

    def epoch(self, i: int | None) -> int | None:
        return self.epochs[i] if i is not None and 0 <= i < self.n else None


def diagnose_history(history: dict[str, list[float]], thresholds: dict | None = None,
                     summary: dict | None = None, config: dict | None = None, reference: dict | None = None) -> dict:
    """Findings and a verdict for one history (columns as ``rundir.read_history`` returns them).

    ``thresholds`` overrides the defaults of ``analysis.thresholds``; ``summary`` (a run's
    ``summary.json``) adds what the history cannot say: the number of classes (chance level), the
    majority-class rate and the loss of a constant model (``data.constant_model``); ``config`` (the
    run's ``config.yaml``) says whether early stopping ended the run, whether dropout or L2 act in
    training and which output layer feeds the loss; ``reference`` (``{"val_loss": x, "run": name}``)
    is the best validation loss reached on the same data by other runs (a sweep).
    """
    th = resolve_thresholds(thresholds)
    h = _History(history)
    summary = summary or {}
    ctx = _Context(h, summary, config or {}, reference or {})
    findings: list[dict] = []
    skipped: list[str] = []
    facts: dict[str, Any] = {"epochs": h.n, "loss_column": h.loss_key, "constant_model_loss": ctx.baseline,
                             "reference_val_loss": ctx.reference}

    if h.n == 0 or not h.loss:
        findings.append(_finding("not_converged", "warning", None, "No finished epoch in the history.", {"epochs": h.n},
                                 "Train for at least a few epochs; nothing can be judged yet."))
        return _result(findings, skipped + ["all rules: no finished epoch"], facts, th)

    k = th["strip_length"]
    findings += _divergence(h, th, ctx)
    diverged = any(f["code"] == "diverged" for f in findings)
    if h.n == 1:
        if not diverged:
            findings.append(_finding("not_converged", "warning", h.epochs[0], "Only one epoch: too short to judge.",
                                     {"epochs": 1}, "Train for more epochs (with early stopping) and diagnose again."))
        return _result(findings, skipped + ["curve rules: one epoch only"], facts, th)

    if not h.val_loss or not any(_ok(v) for v in h.val_loss):
        skipped.append("overfitting, overconfidence (validation loss), val_better_than_train: no validation loss")
    if ctx.baseline is None:
        skipped.append("constant-model comparison (under-fitting, never learned): summary.json has no "
                       "data.constant_model")
    onset = None
    if not diverged:
        lr_findings, untrained = _learning_rate(h, th, k, ctx)
        findings += lr_findings
        over = []
        if untrained:
            skipped.append("overfitting: judged only on a run that trained (its loss never beat a constant model "
                           "or rose from the start)")
        else:
            over, onset = _overfitting(h, th, k, ctx)
        findings += over
        findings += _oscillation(h, th, over)
        unstable = [f for f in findings if f["code"] in ("oscillation", "lr_too_high", "exploding_loss")
                    and f["severity"] != "info"]
        for f in over if unstable else []:  # fix the learning rate first; then judge generalization
            if f["severity"] != "info":
                f["severity"] = "info"
                f["message"] += " (A note while the training itself is unstable: fix the learning rate first.)"
        overfitted = any(f["code"] == "overfitting" and f["severity"] != "info" for f in over)
        findings += _progress(h, th, k, summary, overfitted or untrained, ctx,
                              skip_stall=any(f["code"] == "stalled" for f in lr_findings))
        findings += _accuracy_rules(h, th, k, summary, skipped, ctx)
        findings += minority_rule(h, th, summary, ctx)
        findings += _val_better(h, th, k, ctx)
    causes = [f for f in findings if f["code"] in ("diverged", "exploding_loss", "oscillation")
              and f["severity"] != "info"]
    if causes and not any(f["code"] == "lr_too_high" for f in findings):
        findings.append(_lr_too_high(h, causes, ctx))
    facts["onset_epoch"] = h.epoch(onset)
    best = _argmin(h.val_loss) if h.val_loss else _argmin(h.loss)
    facts["best_epoch"] = h.epoch(best)
    return _result(findings, skipped, facts, th)


class _Context:
    """What a run directory knows beside its history: the constant-model loss, early stopping,
    regularization, the output layer, and the best loss of other runs on the same data."""

    def __init__(self, h: _History, summary: dict, config: dict, reference: dict):
        data = summary.get("data") or {}
        constant = data.get("constant_model") or summary.get("constant_model") or {}
        self.baseline = constant.get("loss") if _ok(constant.get("loss")) else None
        self.baseline_what = constant.get("prediction") or "a constant prediction"
        loss = config.get("loss")
        self.loss_name = (loss.get("name") if isinstance(loss, dict) else loss) or ""
        self.from_logits = bool(isinstance(loss, dict) and loss.get("from_logits"))
        n_classes = data.get("n_classes")
        if self.baseline is None and n_classes and h.acc_key and "crossentropy" in str(self.loss_name):
            self.baseline, self.baseline_what = math.log(n_classes), "uniform class probabilities (ln classes)"
        # what the *training* loss must beat: under class weights (which Keras applies to the training loss
        # only) the weighted constant model's loss, else the same constant model
        weighted = constant.get("train_loss")
        self.train_baseline = weighted if _ok(weighted) else self.baseline
        self.train_baseline_what = (constant.get("train_prediction") or self.baseline_what) if _ok(weighted) \
            else self.baseline_what
        training = config.get("training") or {}
        es = training.get("early_stopping")
        self.early_stopping = es if isinstance(es, dict) else ({"patience": 3, "restore_best_weights": True,
                                                                "monitor": "val_loss"} if es is True else None)
        model = config.get("model") or {}
        self.regularized = bool(model.get("dropout") or model.get("l2") or model.get("l1")
                                or (isinstance(loss, dict) and loss.get("label_smoothing")))
        self.config_known = bool(config)
        self.output_activation = model.get("output_activation")
        ref = reference.get("val_loss")
        self.reference = ref if _ok(ref) and ref > 0 else None  # a zero loss gives no scale to compare with
        self.reference_run = reference.get("run")
        fit = (data.get("reference_fit") or {}).get("loss")  # gradient-boosted trees on the same split
        weighted = (config.get("data") or {}).get("class_weight") is not None
        # (a weighted run's validation loss is unweighted and pays for the weights: no unweighted fit compares)
        if _ok(fit) and fit > 0 and not weighted and (self.reference is None or fit < self.reference):
            self.reference, self.reference_run = fit, REFERENCE_FIT
        self.status = summary.get("status")
        self.class_weight = (config.get("data") or {}).get("class_weight")
        self.regression = not h.acc_key and not (data.get("n_classes") or "crossentropy" in str(self.loss_name)
                                                 or "hinge" in str(self.loss_name))

    def setup_check(self) -> str:
        """What to check when nothing was learned, in the task's own terms."""
        if self.regression:
            return ("Check that the inputs are normalized and the target is on a sensible scale (a target in the "
                    "hundreds takes many epochs at the default rate: standardize it)")
        return ("Check that the labels match the loss and the output layer (softmax for categorical "
                "cross-entropy, sigmoid for binary) and that the inputs are normalized")

    def setup_hint(self) -> str | None:
        """Why the output layer cannot feed the loss (a config written before the pre-flight check knew)."""
        act = self.output_activation
        if act and "crossentropy" in str(self.loss_name) and not self.from_logits and act not in ("softmax", "sigmoid"):
            return (f"The output layer ({act}) does not produce probabilities for {self.loss_name}: set "
                    f"model.output_activation: softmax (sigmoid for one unit), or keep a linear output with "
                    f"loss.from_logits: true. The learning rate is not the problem.")
        return None


def _result(findings: list[dict], skipped: list[str], facts: dict, th: dict) -> dict:
    codes = {f["code"] for f in findings if f["severity"] != "info"}
    verdict = next((v for v, needs in VERDICT_ORDER if codes & set(needs)), "healthy")
    if verdict == "healthy":
        notes = sorted({f["code"] for f in findings})
        message = ("No problem found: the loss fell and settled, and validation followed training." if not notes else
                   f"Training went well; the other findings ({', '.join(notes)}) are notes, not faults.")
        findings.append(_finding("healthy", "info", None, message, {}, "Nothing to change."))
    order = {s: i for i, s in enumerate(reversed(SEVERITIES))}
    findings.sort(key=lambda f: (order[f["severity"]], CODES.index(f["code"])))
    return {"verdict": verdict, "findings": findings, **facts, "skipped": skipped, "thresholds": th}


def _divergence(h: _History, th: dict, ctx: _Context) -> list[dict]:
    out = _divergence_rules(h, th)
    hint = ctx.setup_hint()
    for f in out:
        if hint and f["code"] == "diverged":
            f["suggestion"] = hint
    return out


def _divergence_rules(h: _History, th: dict) -> list[dict]:
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
    val_off_scale = train_end is not None and val_end is not None and val_end >= th["blowup_factor"] * max(train_end, 1e-12)
    if val_end is not None and val_end >= level and (h.acc_key or val_first < level or val_off_scale):
        at = next(i for i, v in enumerate(h.val_loss) if _ok(v) and v >= th["explode_loss"])
        out.append(_finding(
            "diverged", "error", h.epoch(at), f"The validation loss reached {_fmt(h.val_loss[at])} at epoch "
            f"{h.epoch(at)} and ended at {_fmt(val_end)} (>= {_fmt(th['explode_loss'])}).",
            {"val_loss_at_epoch": h.val_loss[at], "final_val_loss": val_end, "final_loss": h.loss[-1]},
            "Divide the learning rate by 10 (or clip gradients: clipnorm: 1.0); the weights have blown up even if "
            "the training loss looks finite."))
    # exploding: an absolute level, or a blow-up against the lowest earlier loss
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
        return out  # (a validation-only blow-up above is already reported)
    at = min(hits)
    peak_i = max(range(at, h.n), key=lambda i: h.loss[i])
    peak = h.loss[peak_i]
    recovered = h.loss[-1] < min(h.loss[0], peak / th["blowup_factor"]) and h.loss[-1] < th["explode_loss"]
    k = th["strip_length"]
    after = h.loss[peak_i + 1:]
    if recovered and len(after) >= 2 * k:  # landed lower, but did it learn again from where it landed?
        landing, end = min(after[:k]), min(after[-k:])
        recovered = end < (1 - th["slow_progress"]) * landing
    evidence = {"loss_at_epoch": h.loss[at], "first_loss": h.loss[0], "lowest_before": min(h.loss[: at + 1]),
                "peak_loss": peak, "final_loss": h.loss[-1]}
    why = (f"reached {_fmt(h.loss[at])} (>= {_fmt(th['explode_loss'])})" if at == explode_i
           else f"rose to {_fmt(h.loss[at])}, {_fmt(h.loss[at] / min(h.loss[: at]))}x its lowest earlier value")
    evidence["recovered"] = int(recovered)
    out.append(_finding("exploding_loss", "error" if not recovered else "warning", h.epoch(at),
                        f"The training loss {why} at epoch {h.epoch(at)}.", evidence,
                        "Divide the learning rate by 10, or clip gradients (clipnorm: 1.0); standardize the "
                        "inputs and, for regression, the target."))
    if not recovered and not any(f["code"] == "diverged" for f in out):
        out.append(_finding("diverged", "error", h.epoch(at),
                            f"The loss blew up at epoch {h.epoch(at)} and training never recovered "
                            f"(final {_fmt(h.loss[-1])}, first {_fmt(h.loss[0])}, peak {_fmt(peak)}).", evidence,
                            "Divide the learning rate by 10 and train again."))
    return out


def _overfitting(h: _History, th: dict, k: int, ctx: _Context) -> tuple[list[dict], int | None]:
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
    if es and str(es.get("monitor", "val_loss")) in ("val_loss", f"val_{h.loss_key}") and after <= int(es.get("patience", 3)):
        restored = es.get("restore_best_weights", True)
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
    criteria = [name for name, hit in (("GL", by_gl), (f"UP_{th['up_strips']}", by_up), ("gap ratio", by_gap)) if hit]
    message = (f"Over-fitting from epoch {h.epoch(onset)}: validation loss rose from {_fmt(h.val_loss[onset])} to "
               f"{_fmt(h.val_loss[last])} (GL {gl:.0f}%) while training loss kept falling "
               f"({_fmt(h.loss[onset])} -> {_fmt(h.loss[last])}; validation/training {_fmt(ratio)}x) "
               f"[{', '.join(criteria)}].")
    severity = "warning" if gl < 5 * th["overfitting_gl"] else "error"
    return [_finding("overfitting", severity, h.epoch(onset), message, evidence, suggestion)], onset


def _oscillation(h: _History, th: dict, over: list[dict]) -> list[dict]:
    """Oscillation (below); on a run that clearly over-fitted (validation-only zig-zags, or GL at least
    twice ``overfitting_gl`` while the training loss kept falling by ``overfitting_train_fall`` and never
    jumped by a quarter of its first value) it is a note: the over-fitting is what to act on."""
    found = _oscillation_rule(h, th)
    clear = next((f for f in over if f["code"] == "overfitting" and f["severity"] != "info"), None)
    if found and clear:
        ev = found[0]["evidence"]
        val_only = ev["training_rises"] < th["oscillation_min_rises"]
        mild = ev["largest_rise"] < 0.25 * abs(h.loss[0] or 1.0)  # the training loss itself never jumps far
        learning = (clear["evidence"]["train_loss_fall_after_onset"] or 0) >= th["overfitting_train_fall"]
        if val_only or ((clear["evidence"]["gl_percent"] or 0) >= 2 * th["overfitting_gl"] and mild and learning):
            found[0]["severity"] = "info"
            found[0]["message"] += (" The validation loss climbs far above its minimum at the same time: over-fitting "
                                    "is the problem to fix first; a small validation set or label noise makes it "
                                    "zig-zag.")
    return found


def _oscillation_rule(h: _History, th: dict) -> list[dict]:
    """Repeated rises of the training loss, or repeated peaks (a rise then a fall) of the validation
    loss, each beyond ``oscillation_tolerance`` of the curve's first value."""
    tol, need = th["oscillation_tolerance"], th["oscillation_min_rises"]
    scale = abs(h.loss[0]) or 1.0
    rises = [i for i in range(1, h.n) if h.loss[i] - h.loss[i - 1] > tol * scale]
    val = h.val_loss if h.val_loss and all(_ok(v) for v in h.val_loss) else []
    v_scale = abs(val[0]) if val and val[0] else 1.0
    peaks = [i for i in range(1, len(val) - 1)
             if val[i] - val[i - 1] > tol * v_scale and val[i] - val[i + 1] > tol * v_scale]
    if len(rises) < need and len(peaks) < need:
        return []
    if len(rises) >= need:
        curve, at, count, what = h.loss, rises, len(rises), f"The training loss rose {len(rises)} times"
    else:
        curve, at, count, what = val, peaks, len(peaks), f"The validation loss went up and down {len(peaks)} times"
    biggest = max(at, key=lambda i: curve[i] - curve[i - 1])
    return [_finding(
        "oscillation", "warning", h.epoch(at[0]),
        f"{what} by more than {tol:.0%} of its first value (largest at epoch {h.epoch(biggest)}: "
        f"{_fmt(curve[biggest - 1])} -> {_fmt(curve[biggest])}).",
        {"training_rises": len(rises), "validation_peaks": len(peaks), "largest_rise": curve[biggest] - curve[biggest - 1],
         "first_loss": curve[0], "share_of_epochs": count / (h.n - 1)},
        "Divide the learning rate by about 3, or use a larger batch size; a learning-rate schedule "
        "(cosine or exponential decay) calms the later epochs.")]


def _lr_too_high(h: _History, findings: list[dict], ctx: _Context | None = None) -> dict:
    causes = sorted({f["code"] for f in findings if f["code"] in ("diverged", "exploding_loss", "oscillation")})
    hint = ctx.setup_hint() if ctx else None
    if hint:
        return _finding("lr_too_high", "info", next((f["epoch"] for f in findings if f["code"] in causes), None),
                        f"The loss went wrong ({', '.join(causes)}), but the output layer does not fit the loss.",
                        {}, hint)
    lr = next((v for v in reversed(h.lr) if _ok(v)), None)
    factor = 10 if ("diverged" in causes or "exploding_loss" in causes) else 3
    target = f" (to about {_fmt(lr / factor)})" if lr else ""
    return _finding("lr_too_high", "warning", next((f["epoch"] for f in findings if f["code"] in causes), None),
                    f"The learning rate is too high: {', '.join(causes)}.",
                    {"learning_rate": lr, "divide_by": factor},
                    f"Divide the learning rate by about {factor}{target}.")


def _learning_rate(h: _History, th: dict, k: int, ctx: _Context) -> tuple[list[dict], bool]:
    """Learning-rate and set-up pathologies, judged before over-fitting: a training loss that rises in
    the first epochs, or one that never gets below the loss of a constant model. Returns the findings
    and whether the run failed to train (then over-fitting is not judged)."""
    loss = h.loss
    early = [i for i in range(1, min(4, h.n)) if _ok(loss[i]) and _ok(loss[i - 1]) and loss[i - 1] > 0
             and loss[i] > (1 + th["early_rise"]) * loss[i - 1]]
    end = _mean(loss[-k:])
    tol = th["oscillation_tolerance"] * abs(loss[0] or 1.0)
    rises = sum(1 for a, b in zip(loss, loss[1:]) if b - a > tol)
    above = ctx.train_baseline is not None and end is not None and end >= 0.98 * ctx.train_baseline
    lr = next((v for v in reversed(h.lr) if _ok(v)), None)
    target = f" (to about {_fmt(lr / 10)})" if lr else ""
    hint = ctx.setup_hint()
    ev = {"first_loss": loss[0], "final_loss_mean": end, "constant_model_loss": ctx.train_baseline,
          "early_rises": len(early), "rises": rises, "learning_rate": lr}
    if early and rises >= th["oscillation_min_rises"] and not above:
        return [], False  # the oscillation rule reports it, with its own advice
    if early:
        i = early[0]
        rise = f"the training loss rose from {_fmt(loss[i - 1])} to {_fmt(loss[i])} at epoch {h.epoch(i)}"
        if above or rises >= 2:
            why = (f"and ended at {_fmt(end)}, no better than {ctx.train_baseline_what} "
                   f"({_fmt(ctx.train_baseline)})" if above
                   else f"and rose {rises} times in all")
            return [_finding("lr_too_high", "warning", h.epoch(i),
                             f"Unstable: {rise} {why}: the learning rate is too high.", ev,
                             hint or f"Divide the learning rate by {'10' if above else '3 to 10'}{target}; a warm-up (a schedule) or gradient "
                                     f"clipping (clipnorm: 1.0) also tames the first epochs.")], above
        return [_finding("lr_too_high", "info", h.epoch(i), f"Early on {rise}, then the run learned.", ev,
                         "A slightly lower learning rate (or a warm-up) may train more smoothly.")], False
    fell = _rel_drop(loss[0], min(v for v in loss if _ok(v)))
    finite = [v for v in loss if _ok(v)]
    creeping = len(finite) > 2 and sum(b < a for a, b in zip(finite, finite[1:])) >= 0.8 * (len(finite) - 1)
    # it fell to the constant model's loss and bounces there (a tiny rate would creep down epoch after epoch)
    came_down = ctx.train_baseline is not None and loss[0] > 1.05 * ctx.train_baseline
    settled = fell >= th["slow_progress"] or (fell >= th["stall_progress"] and not creeping and came_down)
    if above and settled and end <= 1.05 * ctx.train_baseline:
        # it learned down to the constant model's loss and settled there: too small or too regularized
        return [_finding("underfitting", "warning", h.epochs[-1],
                         f"Under-fitting: the training loss fell ({_fmt(loss[0])} -> {_fmt(end)}) and settled at the "
                         f"loss of a model that ignores its input ({ctx.train_baseline_what}: "
                         f"{_fmt(ctx.train_baseline)}): "
                         f"the model predicts a constant.", ev,
                         "Use a bigger model (more units or layers) or much less regularization (dropout, L2); "
                         "check the inputs carry signal.")], True
    if above and fell >= th["stall_progress"]:
        return [_finding("stalled", "error", h.epochs[0],
                         f"The training loss moved ({_fmt(loss[0])} -> {_fmt(end)}) but never got below the loss of "
                         f"a model that ignores its input ({ctx.train_baseline_what}: "
                         f"{_fmt(ctx.train_baseline)}): nothing "
                         f"was learned.", ev,
                         hint or ctx.setup_check() + "; then try a learning rate 10x higher.")], True
    return [], above


def _progress(h: _History, th: dict, k: int, summary: dict, skip_judgement: bool, ctx: _Context,
              skip_stall: bool = False) -> list[dict]:
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
    # stalled: the loss barely moved, or only wobbled around where it started (dropout noise at a tiny rate)
    stalled = h.n >= 3 and not skip_stall and not learned and (
        total < th["stall_progress"] or (net < th["slow_progress"] and net < max(th["stall_progress"], 2 * noise)))
    if stalled:
        out.append(_finding("stalled", "error", h.epochs[0],
                            f"The training loss barely moved: {_fmt(loss[0])} -> {_fmt(end)} (mean of the last "
                            f"{min(k, len(loss))} epochs, {net:.2%}) in {h.n} epochs.", ev,
                            ctx.setup_hint() or
                            f"Multiply the learning rate by 10-100{lr_hint}; "
                            + ctx.setup_check()[0].lower() + ctx.setup_check()[1:] + "."))
    if h.n >= 3 and total < th["slow_progress"] and falls >= 0.8 and not learned and not skip_stall:
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
    behind = (ctx.reference is not None and val_end is not None
              and val_end > (1 + th["underfit_reference_margin"]) * ctx.reference and small_gap
              and (ctx.baseline is None or ctx.baseline <= ctx.reference or (val_end - ctx.reference)
                   >= th["underfit_reference_share"] * (ctx.baseline - ctx.reference)))
    at_ceiling = (ctx.reference is not None and val_end is not None
                  and val_end <= (1 + th["underfit_reference_margin"]) * ctx.reference)
    fit_reference = ctx.reference_run == REFERENCE_FIT
    where = ("what gradient-boosted trees reach on the same split" if fit_reference else
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


def _accuracy_rules(h: _History, th: dict, k: int, summary: dict, skipped: list[str], ctx: _Context) -> list[dict]:
    out = []
    if not h.acc:
        skipped.append("generalization_gap, overconfidence (accuracy), class_imbalance: no accuracy column")
        return out
    acc_end, val_end = _mean(h.acc[-k:]), _mean(h.val_acc[-k:]) if h.val_acc else None
    if acc_end is not None and val_end is not None and acc_end - val_end > th["gap_accuracy"]:
        out.append(_finding("generalization_gap", "warning", h.epochs[-1],
                            f"Training accuracy {_fmt(acc_end)} is {acc_end - val_end:.1%} above validation "
                            f"accuracy {_fmt(val_end)} (mean of the last {min(k, h.n)} epochs).",
                            {"train_accuracy": acc_end, "val_accuracy": val_end, "gap": acc_end - val_end},
                            "Regularize (dropout, L2, data augmentation), use a smaller model, or get more data."))
    # over-confidence (a): validation loss rising while validation accuracy holds
    if h.val_loss and h.val_acc and any(_ok(v) for v in h.val_loss):
        onset = _argmin(h.val_loss)
        gl = generalization_loss(h.val_loss, h.n - 1)
        if (gl is not None and gl >= th["overfitting_gl"] and h.n - 1 - onset >= th["overfitting_min_epochs"]
                and _ok(h.val_acc[onset]) and _ok(h.val_acc[-1])
                and h.val_acc[-1] >= h.val_acc[onset] - th["overconfidence_accuracy_tolerance"]):
            out.append(_finding("overconfidence", "warning", h.epoch(onset),
                                f"Validation loss rose {gl:.0f}% after epoch {h.epoch(onset)} while validation "
                                f"accuracy held ({_fmt(h.val_acc[onset])} -> {_fmt(h.val_acc[-1])}): the model is "
                                f"more confident on its mistakes, not less accurate.",
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
                and not any(f["code"] == "overconfidence" for f in out)):
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
    out += imbalance_signature(h, th, k, summary, ctx)
    return out


def _flat_accuracy_run(h: _History, th: dict) -> bool:
    """Accuracy identical (within accuracy_flat) over the run after its first epoch (Keras' epoch-1
    accuracy is a mean taken while the first steps move the weights): a constant prediction."""
    acc = [v for v in h.acc if _ok(v)]
    acc = acc[1:] if len(acc) > 3 else acc
    return len(acc) >= 3 and max(acc) - min(acc) < th["accuracy_flat"]


def _val_better(h: _History, th: dict, k: int, ctx: _Context) -> list[dict]:
    """Validation loss below the training loss even against the next epoch's training mean.

    Keras' training loss is the mean over an epoch while the weights improve, so the validation loss
    measured after the epoch is normally a little lower; compared with the next epoch's training loss
    (measured with weights at least as good), a persistent margin is what needs explaining. Dropout
    and L2 (known from config.yaml) explain it, so they silence the note."""
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


# --- run directories -----------------------------------------------------------------------------------


def run_config(run_dir: Path) -> dict:
    """A run's ``config.yaml`` as a mapping ({} when absent or unreadable)."""
    path = Path(run_dir) / rundir.CONFIG
    if not path.exists():
        return {}
    import yaml

    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def run_thresholds(run_dir: Path) -> dict:
    """The ``diagnostics:`` section of a run's ``config.yaml`` ({} when absent)."""
    return dict(run_config(run_dir).get("diagnostics") or {})


def diagnose_path(target: str | Path, thresholds: dict | None = None, reference: dict | None = None) -> dict:
    """Diagnose a run directory (its history, summary and config thresholds) or a CSV history file."""
    target = Path(target)
    history_path = rundir.find_history(target)
    if not history_path.exists():
        raise ConfigError(f"No history at {history_path}: give a run directory (with {rundir.HISTORY}) or a Keras "
                          f"CSVLogger file.", key=str(target))
    summary, th, config = {}, {}, {}
    if target.is_dir():
        if (target / rundir.SUMMARY).exists():
            summary = rundir.read_json(target / rundir.SUMMARY)
        config = run_config(target)
        th = dict(config.get("diagnostics") or {})
    th.update(thresholds or {})
    result = diagnose_history(rundir.read_history(history_path), th, summary, config, reference)
    if target.is_file():  # a CSVLogger file: say how its epochs are numbered here
        from .history_files import epoch_note

        note = epoch_note(target)
        if note:
            result["epoch_note"] = note
    return result


def write_diagnosis(run_dir: str | Path, reference: dict | None = None) -> dict:
    """Write ``diagnosis.json`` and add ``verdict`` and ``findings`` (codes) to ``summary.json``."""
    run_dir = Path(run_dir)
    result = diagnose_path(run_dir, reference=reference)
    rundir.write_json(run_dir / rundir.DIAGNOSIS, result)
    summary_path = run_dir / rundir.SUMMARY
    if summary_path.exists():
        summary = rundir.read_json(summary_path)
        summary["verdict"] = result["verdict"]
        summary["findings"] = [f["code"] for f in result["findings"]]
        rundir.write_json(summary_path, summary)
    return result


def parse_codes(text: str | None) -> list[str]:
    """``overfitting,diverged`` -> codes; an unknown one raises ConfigError listing the valid codes."""
    codes = [c.strip() for c in (text or "").split(",") if c.strip()]
    for c in codes:
        if c not in CODES:
            from ..schema import suggest

            raise ConfigError(f"Unknown diagnosis code '{c}' in --fail-on.{suggest(c, CODES)} "
                              f"Valid codes: {', '.join(CODES)}.", key="--fail-on")
    return codes
