"""Is one configuration better than another, beyond seed noise? Methods that work with 3 seeds.

A Student-t interval from three values is wide and ignores the metric's range (a loss interval
below 0, an AUC above 1), so the leaderboard uses instead:

- a percentile bootstrap interval of the mean: it stays inside the observed values, hence inside
  the metric's range;
- paired differences over the seeds both configurations ran (the same split and initial weights
  per seed cancel out): how many seeds each won, the mean difference with a bootstrap interval,
  and the exact sign-flip test's p-value (with 3 seeds the smallest possible two-sided p is 0.25,
  so three wins out of three is a hint, not proof; 10 seeds can be conclusive);
- the probability of improvement P(X < Y) over all pairs of runs (as rliable reports it, Agarwal
  et al. 2021), when the seeds do not pair.

Pure Python and deterministic (a seeded generator), no NumPy.
"""

from __future__ import annotations

import itertools
import math
import random

RESAMPLES = 2000
ALPHA = 0.05


def _finite(values) -> list[float]:
    return [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)]


def metric_range(metric: str) -> tuple[float, float]:
    """The values a history column can take: scores in 0..1 (r2 up to 1), losses and errors >= 0."""
    name = metric.removeprefix("val_").lower()
    if name == "r2" or name.startswith("r2"):
        return -math.inf, 1.0
    if any(w in name for w in ("accuracy", "acc", "precision", "recall", "f1", "auc", "iou")):
        return 0.0, 1.0
    if "cosine" in name or "similarity" in name:
        return -1.0, 1.0
    return 0.0, math.inf


def bootstrap_interval(values, bounds: tuple[float, float] = (-math.inf, math.inf), level: float = 0.95,
                       seed: int = 0) -> tuple[float, float] | None:
    """Percentile bootstrap interval of the mean (None with fewer than two values), within ``bounds``."""
    xs = _finite(values)
    if len(xs) < 2:
        return None
    rng = random.Random(seed)
    n = len(xs)
    means = sorted(sum(rng.choice(xs) for _ in range(n)) / n for _ in range(RESAMPLES))
    low = means[int(math.floor((1 - level) / 2 * (RESAMPLES - 1)))]
    high = means[int(math.ceil((1 + level) / 2 * (RESAMPLES - 1)))]
    return max(bounds[0], low), min(bounds[1], high)


def sign_flip_p(diffs: list[float]) -> float:
    """Two-sided p-value of the paired sign-flip (permutation) test of a zero mean difference:
    exact for up to 16 pairs, else from 20000 random flips."""
    n = len(diffs)
    observed = abs(sum(diffs))
    if n <= 16:
        flips = itertools.product((1, -1), repeat=n)
        total = 2 ** n
    else:
        rng = random.Random(0)
        total = 20000
        flips = ([rng.choice((1, -1)) for _ in range(n)] for _ in range(total))
    hits = sum(1 for signs in flips if abs(sum(s * d for s, d in zip(signs, diffs))) >= observed - 1e-12)
    return hits / total


def probability_of_improvement(a: list[float], b: list[float], lower_better: bool) -> float | None:
    """P(a run of A beats a run of B), ties counting half, over all pairs of runs."""
    a, b = _finite(a), _finite(b)
    if not a or not b:
        return None
    wins = sum((x < y if lower_better else x > y) + 0.5 * (x == y) for x in a for y in b)
    return wins / (len(a) * len(b))


def compare(a: dict, b: dict, lower_better: bool) -> dict:
    """Whether configuration A (``{seed: value}``) is better than B, and how sure that is.

    ``call``: ``ahead`` (p <= 0.05 from paired seeds), ``hint`` (A won every paired seed, or has a
    probability of improvement >= 0.9, but too few seeds to be sure), or ``within noise``."""
    paired = sorted(s for s in a if s in b and _finite([a[s]]) and _finite([b[s]]))
    sign = 1.0 if lower_better else -1.0
    p_imp = probability_of_improvement(list(a.values()), list(b.values()), lower_better)
    out = {"pairs": len(paired), "wins": None, "mean_difference": None, "interval": None, "p_value": None,
           "probability_of_improvement": p_imp, "call": "within noise", "method": ""}
    if len(paired) >= 2:
        diffs = [sign * (b[s] - a[s]) for s in paired]  # > 0: A better on that seed
        out.update(wins=sum(d > 0 for d in diffs), mean_difference=sum(diffs) / len(diffs),
                   interval=bootstrap_interval(diffs), p_value=sign_flip_p(diffs), method="paired seeds")
        if out["p_value"] <= ALPHA and out["mean_difference"] > 0:
            out["call"] = "ahead"
        elif out["wins"] == len(paired) or (p_imp is not None and p_imp >= 0.9):
            out["call"] = "hint"
    elif p_imp is not None and len(_finite(a.values())) >= 2 and len(_finite(b.values())) >= 2:
        out["method"] = "probability of improvement"
        xs, ys = _finite(a.values()), _finite(b.values())
        out["mean_difference"] = sign * (sum(ys) / len(ys) - sum(xs) / len(xs))
        if p_imp >= 0.9:
            out["call"] = "hint"
    else:
        out["call"] = "unknown"
    return out


def sentence(name_a: str, name_b: str, result: dict, metric: str) -> str:
    """One sentence a user can act on: who is ahead, by how much, how sure."""
    if result["call"] == "unknown":
        return (f"{name_a} vs {name_b}: cannot tell whether they differ beyond seed noise (it takes at least two "
                f"finished seeds of each).")
    p_imp = result["probability_of_improvement"]
    pi = f"probability of improvement {p_imp:.2f}" if p_imp is not None else ""
    if result["method"] == "paired seeds" and result["mean_difference"] == 0 and result["wins"] == 0:
        return f"{name_a} and {name_b} score the same on all {result['pairs']} paired seeds: within seed noise."
    if result["method"] == "paired seeds":
        n, wins = result["pairs"], result["wins"]
        low, high = result["interval"]
        facts = (f"{name_a} beat {name_b} on {wins} of {n} paired seeds (mean {metric} difference "
                 f"{result['mean_difference']:.4g}, bootstrap 95% interval [{low:.4g}, {high:.4g}]; sign-flip "
                 f"p = {result['p_value']:.2g}; {pi})")
        smallest = 2 / 2 ** n
        if result["call"] == "ahead":
            return f"{facts}: ahead beyond seed noise."
        if result["call"] == "hint":
            return (f"{facts}: probably ahead, but {n} seeds cannot show it (the smallest p {n} seeds can give is "
                    f"{smallest:.2g}); run more seeds to be sure.")
        return f"{facts}: within seed noise."
    facts = f"{name_a} vs {name_b} (different seeds, {pi})"
    return f"{facts}: " + ("probably ahead; run the same seeds for both to be sure." if result["call"] == "hint"
                           else "within seed noise.")
