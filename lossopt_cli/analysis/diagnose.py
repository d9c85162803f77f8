"""Diagnose a training history: the orchestration of the rules (``analysis.rules``: one module per family,
each returning findings with the severity it decided) and the verdict policy (``analysis.verdict``), plus
reading a run directory (history, summary, config thresholds) and writing ``diagnosis.json``.

Pure Python on the columns ``rundir.read_history`` returns (a lossopt ``history.csv`` or any Keras
``CSVLogger`` file), so it works on old, interrupted and foreign runs and never imports TensorFlow. The
rules and their thresholds (``analysis.thresholds``) are documented in docs/diagnosis.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import rundir
from ..schema import ConfigError, validate_table
from .rules.accuracy import _accuracy_rules
from .rules.common import argmin as _argmin
from .rules.common import finding as _finding
from .rules.common import ok as _ok
from .rules.context import Context as _Context
from .rules.context import History as _History
from .rules.divergence import _divergence, _lr_too_high, _oscillation
from .rules.imbalance import minority_rule
from .rules.learning_rate import _learning_rate
from .rules.overfitting import _overfitting, _val_better, generalization_loss, simulate_early_stopping, up_strips  # noqa: F401 - public
from .rules.progress import _progress
from .thresholds import THRESHOLDS
from .verdict import CODES, VERDICT_ORDER, VERDICTS  # noqa: F401 - the contract's names, imported from here
from .verdict import result as _result


def resolve_thresholds(thresholds: dict | None) -> dict:
    """Defaults overridden by ``thresholds`` (validated: unknown keys raise ConfigError)."""
    return validate_table(thresholds or {}, THRESHOLDS, "diagnostics", what="the reporter")


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


# --- run directories -----------------------------------------------------------------------------------


def run_config(run_dir: Path) -> dict:
    """A run's ``config.yaml`` as a mapping ({} when absent or unreadable), read through ``rundir``."""
    return rundir.read_config(run_dir) or {}


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
