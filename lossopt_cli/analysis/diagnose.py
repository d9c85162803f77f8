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
from .rules import accuracy, divergence, imbalance, learning_rate, overfitting, progress
from .rules.common import argmin, finding, ok
from .rules.context import Context, History
from .rules.overfitting import generalization_loss, simulate_early_stopping, up_strips  # noqa: F401 - public
from .thresholds import THRESHOLDS
from .verdict import CODES, VERDICT_ORDER, VERDICTS, result  # noqa: F401 - the contract's names, imported from here

# The rules after divergence, in the order their findings are listed; each is (history, thresholds, context)
# -> findings, with the severity decided where the finding is made (docs/diagnosis.md has the table).
RULES = (overfitting.rules, divergence.oscillation, progress.rules, accuracy.rules,
         imbalance.minority_rule, overfitting.val_better)


def resolve_thresholds(thresholds: dict | None) -> dict:
    """Defaults overridden by ``thresholds`` (validated: unknown keys raise ConfigError)."""
    return validate_table(thresholds or {}, THRESHOLDS, "diagnostics", what="the reporter")


def establish_facts(h: History, th: dict, ctx: Context) -> None:
    """The facts the curve rules share, each from the one function that owns it, before any of them runs (on a
    curve that did not diverge: where the training loss blew up is known before, ``divergence.blow_up``)."""
    ctx.overfit = overfitting.assess(h, th, ctx)
    ctx.set_up = learning_rate.set_up(h, th, ctx)


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
    h = History(history)
    ctx = Context(h, th, summary or {}, config or {}, reference or {})
    facts: dict[str, Any] = {"epochs": h.n, "loss_column": h.loss_key, "constant_model_loss": ctx.baseline,
                             "reference_val_loss": ctx.reference}
    if h.n == 0 or not h.loss:
        ctx.skip("all rules: no finished epoch")
        return result([finding("not_converged", "warning", None, "No finished epoch in the history.", {"epochs": h.n},
                               "Train for at least a few epochs; nothing can be judged yet.")], ctx.skipped, facts, th)
    ctx.blow_up = divergence.blow_up(h, th)
    findings = divergence.rules(h, th, ctx)
    diverged = any(f.code == "diverged" for f in findings)
    if h.n == 1:
        if not diverged:
            findings.append(finding("not_converged", "warning", h.epochs[0], "Only one epoch: too short to judge.",
                                    {"epochs": 1}, "Train for more epochs (with early stopping) and diagnose again."))
        ctx.skip("curve rules: one epoch only")
        return result(findings, ctx.skipped, facts, th)
    if not h.val_loss or not any(ok(v) for v in h.val_loss):
        ctx.skip("overfitting, overconfidence (validation loss), val_better_than_train: no validation loss")
    if ctx.baseline is None:
        ctx.skip("constant-model comparison (under-fitting, never learned): summary.json has no data.constant_model")
    if not diverged:  # a diverged run is judged on that alone: nothing else about its curve means anything
        establish_facts(h, th, ctx)
        findings += ctx.set_up  # the set-up rule's findings, judged first (and read by the progress rule)
        for rule in RULES:
            findings += rule(h, th, ctx)
    findings += divergence.lr_too_high(h, findings, ctx)
    facts["onset_epoch"] = h.epoch(ctx.overfit[1]) if not diverged and ctx.trained else None
    facts["best_epoch"] = h.epoch(argmin(h.val_loss) if h.val_loss else argmin(h.loss))
    return result(findings, ctx.skipped, facts, th)


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
