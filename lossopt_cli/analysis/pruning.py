"""The pruning decision of a tune sweep's trial: stop it now, and why, from its curve so far (pure Python, cheap).

``prune_reason(curve, epochs, reference)`` looks at the monitored metric after each epoch
(lower is better; negate a metric where higher is better) and returns a reason or ``None``:

- ``diverged``: the value is no longer finite;
- ``unstable``: the last ``patience`` values are all above the first epoch's *and* twice the best so
  far: worse than where it started, not an early-stopping shape (that keeps its best below its start);
- ``stalled`` / ``far behind``: behind the reference (the best finished trial's curve) at the same epoch
  by ``behind`` x, and even the optimistic straight-line projection of its recent improvement
  over the epochs left cannot reach the reference's best (``stalled`` when that improvement is < 1%).

Nothing is pruned before ``min_epochs`` (a quarter of the epochs, at least 2): a slow start is not a
reason, and the straight-line projection overstates what a decelerating curve still gains, so a
trial still improving fast is kept.
"""

from __future__ import annotations

import math

DEFAULTS = {"min_fraction": 0.25, "min_epochs": 2, "patience": 2, "behind": 1.25, "stall": 0.01}


def min_epochs(epochs: int, rules: dict | None = None) -> int:
    r = {**DEFAULTS, **(rules or {})}
    return max(int(r["min_epochs"]), math.ceil(r["min_fraction"] * epochs))


def prune_reason(curve: list[float], epochs: int, reference: list[float] | None = None,
                 rules: dict | None = None) -> str | None:
    """Why to stop a trial after ``len(curve)`` of its ``epochs`` epochs, or None to go on."""
    r = {**DEFAULTS, **(rules or {})}
    if not curve:
        return None
    e = len(curve)
    last = curve[-1]
    if not math.isfinite(last):
        return f"diverged: the monitored value is {last} at epoch {e}"
    if e < min_epochs(epochs, r) or e >= epochs:
        return None
    best = min(curve)
    recent = curve[-int(r["patience"]):]
    if len(recent) == r["patience"] and all(v > curve[0] and v > 2 * abs(best) for v in recent):
        return (f"unstable: {last:.4g} at epoch {e}, above its first epoch ({curve[0]:.4g}) and over twice its "
                f"best ({best:.4g}) for {int(r['patience'])} epochs")
    finite_ref = [v for v in (reference or []) if math.isfinite(v)]
    if len(finite_ref) < e:
        return None
    ref_now, ref_best = min(finite_ref[:e]), min(finite_ref)
    if best <= ref_now * r["behind"] if ref_now > 0 else best <= ref_now + abs(ref_now) * (r["behind"] - 1):
        return None
    bests = [min(curve[:i + 1]) for i in range(e)]
    window = bests[-3:]
    gain = max((window[0] - window[-1]) / (len(window) - 1), 0.0) if len(window) > 1 else 0.0
    projected = best - gain * (epochs - e)
    if projected <= ref_best:
        return None
    slow = gain < r["stall"] * abs(best)
    what = "stalled" if slow else "far behind"
    return (f"{what}: best {best:.4g} at epoch {e} against {ref_now:.4g} for the best trial; at its recent pace "
            f"({gain:.3g}/epoch) it would end at {projected:.4g} > {ref_best:.4g}")
