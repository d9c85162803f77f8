"""Small helpers the rules share: finite-number checks and means on columns with NaN, number
formatting, and the shape of one finding (a dict as diagnosis.json holds it)."""

from __future__ import annotations

import math
from typing import Any


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


def rel_drop(first: float, last: float) -> float:
    """Relative fall from ``first`` to ``last`` (positive when the value went down)."""
    return (first - last) / abs(first) if first else 0.0


def finding(code: str, severity: str, epoch: int | None, message: str, evidence: dict, suggestion: str) -> dict:
    """One finding: ``{code, severity, epoch, message, evidence, suggestion}`` (diagnosis.json's shape)."""
    return {"code": code, "severity": severity, "epoch": epoch, "message": message,
            "evidence": {k: rounded(v) for k, v in evidence.items()}, "suggestion": suggestion}


def rises(curve: list[float], th: dict) -> list[int]:
    """The epochs (0-based) at which ``curve`` jumped: up by ``oscillation_rise`` of the epoch before and by
    ``oscillation_tolerance`` of its first value (so late, tiny losses are judged against their own level)."""
    scale = abs(curve[0]) if curve and ok(curve[0]) and curve[0] else 1.0
    return [i for i in range(1, len(curve)) if ok(curve[i]) and ok(curve[i - 1])
            and curve[i] - curve[i - 1] > max(th["oscillation_tolerance"] * scale,
                                              th["oscillation_rise"] * abs(curve[i - 1]))]
