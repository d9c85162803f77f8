"""Small helpers the rules share: finite-number checks and means on columns with NaN, number
formatting, jumps of a curve, and one finding (``Finding``, a dataclass; ``as_dict`` is diagnosis.json's shape)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

REFERENCE_FIT = "the reference fit on the same split"  # Context.reference_run of summary.json's reference_fit


def ok(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def mean(values: list[float]) -> float | None:
    vals = [v for v in values if ok(v)]
    return sum(vals) / len(vals) if vals else None


def rounded(v: Any) -> Any:
    if isinstance(v, float) and math.isfinite(v) and v != 0:
        return float(f"{v:.4g}")
    return v


def fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def argmin(values: list[float]) -> int | None:
    finite = [(v, i) for i, v in enumerate(values) if ok(v)]
    return min(finite)[1] if finite else None


def balanced_accuracy(recall: list) -> float | None:
    """The mean of the per-class recalls (summary.json's ``per_class.recall``), None without any."""
    values = [r for r in recall if ok(r)]
    return sum(values) / len(values) if values else None


def rel_drop(first: float, last: float) -> float:
    """Relative fall from ``first`` to ``last`` (positive when the value went down)."""
    return (first - last) / abs(first) if first else 0.0


@dataclass
class Finding:
    """One finding of one rule: its code (``verdict.CODES``), the severity the rule decided (info is a note and
    never sets the verdict), the epoch it refers to, what was seen, the numbers behind it and the fix."""

    code: str
    severity: str
    epoch: int | None
    message: str
    evidence: dict = field(default_factory=dict)
    suggestion: str = ""

    def __post_init__(self):
        self.evidence = {k: rounded(v) for k, v in self.evidence.items()}

    @property
    def acts(self) -> bool:
        """A warning or an error: it can set the verdict."""
        return self.severity != "info"

    def as_dict(self) -> dict:
        """The shape diagnosis.json holds: ``{code, severity, epoch, message, evidence, suggestion}``."""
        return {"code": self.code, "severity": self.severity, "epoch": self.epoch, "message": self.message,
                "evidence": dict(self.evidence), "suggestion": self.suggestion}


def finding(code: str, severity: str, epoch: int | None, message: str, evidence: dict, suggestion: str) -> Finding:
    """A ``Finding`` from positional fields (the rules' shorthand)."""
    return Finding(code, severity, epoch, message, evidence, suggestion)

def rises(curve: list[float], th: dict) -> list[int]:
    """The epochs (0-based) at which ``curve`` jumped: up by ``oscillation_rise`` of the epoch before and by
    ``oscillation_tolerance`` of its first value (so late, tiny losses are judged against their own level)."""
    scale = abs(curve[0]) if curve and ok(curve[0]) and curve[0] else 1.0
    return [i for i in range(1, len(curve)) if ok(curve[i]) and ok(curve[i - 1])
            and curve[i] - curve[i - 1] > max(th["oscillation_tolerance"] * scale,
                                              th["oscillation_rise"] * abs(curve[i - 1]))]
