"""A tune sweep's plan: the compared configurations (``vary:``, every combination), the ``search:`` space
(the range and choice forms of ``mode: random``) and the budget. Nothing here imports Optuna or TensorFlow.
"""

from __future__ import annotations

import importlib.util
import itertools
from typing import Any

from ..schema import ConfigError

OPTUNA_MISSING = ("mode: tune needs Optuna, which is not installed. Install it with: pip install 'lossopt[tune]' "
                  "(or pip install optuna).")


def check_optuna() -> None:
    """A ConfigError (exit 2) naming the extra to install when Optuna is missing."""
    if importlib.util.find_spec("optuna") is None:
        raise ConfigError(OPTUNA_MISSING, key="mode")


def expand_tune(spec: dict, check_values) -> list[dict]:
    """The compared configurations as ``{dotted key: value}`` (no seeds: those are for the final runs), after
    checking ``search``, ``trials`` and ``prune``. ``check_values(key, values, mode)`` is ``plan._check_values``."""
    vary, search = spec["vary"], spec.get("search")
    if not search:
        raise ConfigError("mode tune needs search: the keys tuned for each configuration, e.g. "
                          "search: {optimizer.learning_rate: {low: 1.0e-5, high: 3.0, log: true}}.", key="search")
    if spec.get("trials") is None:
        raise ConfigError("mode tune needs trials: N, the trials each compared configuration gets.", key="trials")
    checked = {str(k): check_values(str(k), v, "grid") for k, v in vary.items()}
    spec["search"] = {str(k): check_values(str(k), v, "random") for k, v in search.items()}
    both = set(checked) & set(spec["search"])
    if both:
        raise ConfigError(f"{', '.join(sorted(both))}: a key is either compared (vary:) or tuned (search:), "
                          f"not both.", key="search")
    if "seed" in spec["search"] or "seed" in checked:
        raise ConfigError("seeds are not tuned: give them as seeds: [0, 1, 2].", key="search")
    return [dict(zip(checked, c)) for c in itertools.product(*checked.values())]


def corners(search: dict) -> list[dict]:
    """Values at both ends of every range (and every choice), to validate the space before anything runs."""
    ends = {k: (v if isinstance(v, list) else [_end(v, "low"), _end(v, "high")]) for k, v in search.items()}
    return [dict(zip(ends, c)) for c in zip(*(itertools.islice(itertools.cycle(v), max(map(len, ends.values())))
                                             for v in ends.values()))]


def _end(rng: dict, which: str) -> Any:
    return int(round(rng[which])) if rng["integer"] else rng[which]


def budget(spec: dict, configurations: int) -> tuple[int, int, int]:
    """(trials, seed runs at the best values, runs at the config's own values) the sweep trains at most."""
    seeds = configurations * len(spec.get("seeds") or [0])
    return configurations * spec["trials"], seeds, seeds if spec.get("compare_fixed") else 0

