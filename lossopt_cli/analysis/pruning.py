"""The pruning decision of a tune sweep's trial: stop it now, and why, from its curve so far (pure Python, cheap).

``prune_reason(curve, epochs, reference)`` looks at the monitored metric after each epoch
(lower is better; negate a metric where higher is better) and returns a reason or ``None``:

- ``diverged``: the value is no longer finite;
- ``unstable``: the last ``patience`` values are all above the first epoch's *and* twice the best so
  far: worse than where it started, not an early-stopping shape (that keeps its best below its start);
- ``stalled`` / ``far behind``: behind the reference (the best finished trial's curve) at the same epoch
  by ``behind`` x, and even the optimistic straight-line projection of its recent improvement
  over the epochs left cannot reach the reference's best (``stalled`` when that improvement is < 1%);
- ``slowing``: behind as above, its gains shrinking (the last one smaller than the one before), and
  the projection that lets them shrink as a power of the epoch cannot reach the reference's best
  either. The power is measured from the last two gains and only ``deceleration`` (3/4) of it is
  used, so the projection stays optimistic: a curve whose gains barely shrink is projected almost
  as a straight line, one that flattens fast is not credited with gains it will not make.

Nothing is pruned before ``min_epochs`` (a quarter of the epochs, at least 2): a slow start is not a
reason, and a trial whose gains do not shrink is projected in a straight line, so a trial still
improving fast is kept. The projections start from the best value so far, so a curve rising after
its minimum (an early-stopping shape) is judged by its minimum.
"""

from __future__ import annotations

import math

DEFAULTS = {"min_fraction": 0.25, "min_epochs": 2, "patience": 2, "behind": 1.25, "stall": 0.01,
            "deceleration": 0.75, "max_power": 3.0}


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
    gains = [bests[i - 1] - bests[i] for i in range(1, e)]  # the improvement of each epoch after the first
    window = gains[-2:]
    pace = sum(window) / len(window) if window else 0.0
    projected = best - pace * (epochs - e)
    behind = f"best {best:.4g} at epoch {e} against {ref_now:.4g} for the best trial"
    if projected > ref_best:
        what = "stalled" if pace < r["stall"] * abs(best) else "far behind"
        return (f"{what}: {behind}; at its recent pace ({pace:.3g}/epoch) it would end at {projected:.4g} > "
                f"{ref_best:.4g}")
    power = _power(gains, e, r)
    if power is None:
        return None
    slowed = best - pace * sum(((e - 0.5) / t) ** power for t in range(e + 1, epochs + 1))
    if slowed <= ref_best:
        return None
    return (f"slowing: {behind}; its gains shrink ({gains[-2]:.3g} then {gains[-1]:.3g}/epoch), and even shrinking "
            f"as epoch^-{power:.2g} they would end it at {slowed:.4g} > {ref_best:.4g}")


def _power(gains: list[float], e: int, r: dict) -> float | None:
    """The exponent k of gains shrinking as epoch^-k, from the last two gains, times ``deceleration``; None when
    the gains do not shrink (a straight line is then the projection)."""
    if len(gains) < 2 or not gains[-1] > 0 or gains[-1] >= gains[-2]:
        return None
    measured = math.log(gains[-2] / gains[-1]) / math.log(e / (e - 1))
    return min(r["max_power"], r["deceleration"] * measured)
