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
