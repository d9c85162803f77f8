"""Suggest learning rates from a range test's curve of batch loss against learning rate (pure NumPy).

The raw batch losses are first smoothed without lag: a centred running median (a spike a few
batches wide disappears instead of being smeared over the next fifty batches, as the
exponential average of fastai and Lightning does) and then a centred moving average (batch
noise). Three named methods read the smoothed curve, after a burn-in of the first 10% of the
points (fastai and Lightning skip the start too):

- ``valley`` (after fastai's default): the stretch over which the loss falls to its lowest, and
  the point half-way along it (fastai's longest decreasing subsequence, with a flat start left out).
- ``steepest`` (Lightning's suggestion): where the loss falls fastest per decade of learning rate,
  searched only up to the lowest loss (the rising part after it is divergence, not learning).
- ``minimum/10``: a tenth of the rate at the lowest loss (Smith's and fastai's rule of thumb).

The recommended rate is the middle of the three in log scale, so one method fooled by an odd
curve cannot move it; with two methods left, the smaller (safer) one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

METHODS = ("valley", "steepest", "minimum/10")
DESCRIPTIONS = {
    "valley": "half-way along the descent of the loss to its lowest (after fastai's default)",
    "steepest": "where the loss falls fastest per decade of learning rate, before its minimum (Lightning's)",
    "minimum/10": "a tenth of the rate at the lowest loss",
}
BURN_IN = 0.10  # fraction of the points skipped at the start by valley and steepest
MIN_POINTS = 10
WEAK_SIGNAL = 0.2  # a test in which the loss fell less than 20% says little about a full training
VALLEY_START = 0.25  # the descent starts where the loss has fallen a quarter of the way to its lowest


@dataclass
class Suggestions:
    """The smoothed curve, each method's suggestion (None where the curve gives it nothing) and the pick."""

    smoothed: list[float]
    rates: dict[str, float | None]
    indices: dict[str, int | None]
    recommended: str | None
    notes: list[str] = field(default_factory=list)

    @property
    def learning_rate(self) -> float | None:
        return self.rates[self.recommended] if self.recommended else None


def running_median(values: np.ndarray, window: int) -> np.ndarray:
    """Running median over ``window`` points, centred where it can be; at the ends the window keeps its
    width and slides inwards, so a spike in the first few batches is still outvoted."""
    n = len(values)
    window = min(window, n)
    out = np.empty(n)
    for i in range(n):
        lo = min(max(0, i - window // 2), n - window)
        out[i] = np.median(values[lo:lo + window])
    return out


def running_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average; the window shrinks symmetrically at the ends (no lag, ends kept)."""
    half = window // 2
    n = len(values)
    csum = np.concatenate([[0.0], np.cumsum(values)])
    out = np.empty(n)
    for i in range(n):
        h = min(half, i, n - 1 - i)
        out[i] = (csum[i + h + 1] - csum[i - h]) / (2 * h + 1)
    return out


def _odd(k: int) -> int:
    return k if k % 2 else k + 1


def smooth(losses) -> np.ndarray:
    """Spike-proof, lag-free smoothing of batch losses: running median, then moving average."""
    values = np.asarray(losses, dtype=float)
    n = len(values)
    median_window = _odd(max(5, n // 10))  # removes spikes up to half this wide
    mean_window = _odd(max(3, n // 8))
    return running_mean(running_median(values, median_window), mean_window)


def ema(losses, beta: float = 0.98) -> np.ndarray:
    """fastai's and Lightning's bias-corrected exponential average (causal: it lags the curve). The
    range test stops on it while running, when only the past is known."""
    out, avg = [], 0.0
    for i, value in enumerate(losses, start=1):
        avg = beta * avg + (1 - beta) * value
        out.append(avg / (1 - beta ** i))
    return np.asarray(out)


def valley_index(smoothed: np.ndarray, begin: int, lowest: int) -> int | None:
    """Half-way along the descent: from the last point before the lowest loss that is still within
    ``VALLEY_START`` of the total drop from the highest loss, to the lowest loss. fastai takes the
    longest decreasing subsequence instead, which also counts the tiny, noisy decreases of a flat
    start and then moves with the noise; a quarter of the way down is clear of that noise."""
    if lowest - begin < 2:
        return None
    top = float(np.max(smoothed[begin:lowest + 1]))
    drop = top - float(smoothed[lowest])
    if drop <= 0:
        return None
    still_high = np.flatnonzero(smoothed[begin:lowest + 1] >= top - VALLEY_START * drop)
    start = begin + int(still_high[-1])
    return start + (lowest - start) // 2


def steepest_index(smoothed: np.ndarray, log_rates: np.ndarray, begin: int, end: int) -> int | None:
    """The most negative slope per decade between ``begin`` and ``end`` (the lowest loss)."""
    if end - begin < 2:
        return None
    slope = np.gradient(smoothed, log_rates)
    i = begin + int(np.argmin(slope[begin:end + 1]))
    return i if slope[i] < 0 else None


def suggest(rates, losses) -> Suggestions:
    """Each method's suggestion on the curve of ``losses`` (one per batch) against ``rates``. Points
    from the first non-finite loss on are dropped (the test diverged there)."""
    rates = np.asarray(rates, dtype=float)
    losses = np.asarray(losses, dtype=float)
    bad = np.flatnonzero(~np.isfinite(losses))
    cut = int(bad[0]) if len(bad) else len(losses)
    rates, losses = rates[:cut], losses[:cut]
    notes = []
    if len(losses) < MIN_POINTS:
        notes.append(f"only {len(losses)} finite losses (at least {MIN_POINTS} needed): no suggestion; "
                     f"start lower (--start) or take more steps (--steps)")
        return Suggestions([float(v) for v in losses], {m: None for m in METHODS}, {m: None for m in METHODS},
                           None, notes)
    smoothed = smooth(losses)
    log_rates = np.log10(rates)
    begin = int(math.ceil(BURN_IN * len(smoothed)))
    lowest = begin + int(np.argmin(smoothed[begin:]))
    indices: dict[str, int | None] = {
        "valley": valley_index(smoothed, begin, lowest),
        "steepest": steepest_index(smoothed, log_rates, begin, lowest),
        "minimum/10": lowest if lowest > begin else None,
    }
    found: dict[str, float | None] = {}
    for method, i in indices.items():
        if i is None:
            found[method] = None
            continue
        rate = float(rates[i]) / (10.0 if method == "minimum/10" else 1.0)
        found[method] = float(f"{rate:.3g}")
    if indices["minimum/10"] is None:
        notes.append("the loss did not fall after the burn-in: no suggestion from this range; start lower "
                     "(--start) or check the model and data")
    top = float(np.max(smoothed[begin:lowest + 1]))
    fell = (top - float(smoothed[lowest])) / abs(top) if top else 0.0
    if indices["minimum/10"] is not None and fell < WEAK_SIGNAL:
        notes.append(f"the smoothed loss fell only {100 * fell:.0f}% during the test: a weak signal (the task needs "
                     f"more than {len(smoothed)} batches to learn much), and the best rate for a full training may "
                     f"be well above the suggestion; compare a few rates with a sweep (lr_find beside a grid)")
    if lowest >= len(smoothed) - 2:
        notes.append("the loss was still falling at the last step: the best rate may be above --end")
    return Suggestions([float(v) for v in smoothed], found, indices, recommend(found), notes)


def recommend(rates: dict[str, float | None]) -> str | None:
    """The method whose rate is the median of those found (in log scale); of two, the smaller."""
    found = sorted((r, m) for m, r in rates.items() if r is not None and r > 0)
    if not found:
        return None
    if len(found) == 2:
        return found[0][1]
    return found[len(found) // 2][1]
