"""The verdict policy, in one place: the finding codes, the verdicts, and which codes set which verdict
in which order (a table, read top to bottom); an info finding is a note and never sets the verdict."""

from __future__ import annotations

from .rules.common import Finding, finding

CODES = ("overfitting", "generalization_gap", "overconfidence", "diverged", "exploding_loss", "underfitting",
         "stalled", "plateau", "oscillation", "lr_too_high", "lr_too_low", "not_converged",
         "val_better_than_train", "at_ceiling", "minority_missed", "class_imbalance", "healthy")
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


def result(findings: list[Finding], skipped: list[str], facts: dict, th: dict) -> dict:
    """diagnosis.json's content: the verdict by ``VERDICT_ORDER``, the findings (most severe first, then in the
    order of ``CODES``) as dicts, the facts, what was skipped and the thresholds used."""
    codes = {f.code for f in findings if f.acts}
    verdict = next((v for v, needs in VERDICT_ORDER if codes & set(needs)), "healthy")
    if verdict == "healthy":
        notes = sorted({f.code for f in findings})
        message = ("No problem found: the loss fell and settled, and validation followed training." if not notes else
                   f"Training went well; the other findings ({', '.join(notes)}) are notes, not faults.")
        findings = [*findings, finding("healthy", "info", None, message, {}, "Nothing to change.")]
    order = {s: i for i, s in enumerate(reversed(SEVERITIES))}
    ordered = sorted(findings, key=lambda f: (order[f.severity], CODES.index(f.code)))
    return {"verdict": verdict, "findings": [f.as_dict() for f in ordered], **facts, "skipped": skipped,
            "thresholds": th}
