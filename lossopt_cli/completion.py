"""Shell completion of config keys after ``--set`` (click's completion does commands, options,
``lossopt catalog`` kinds and file paths).

``--set optim<TAB>`` offers ``optimizer.name``, ``optimizer.learning_rate``, ... (every key the
validator knows, from the same tables); where the shell keeps ``key=value`` as one word (zsh,
fish), ``--set optimizer.name=<TAB>`` offers the catalog's names and a key's choices. Enable it
with ``eval "$(_LOSSOPT_COMPLETE=bash_source lossopt)"`` (zsh_source, fish_source). No TensorFlow.
"""

from __future__ import annotations

from .schema import Bool, Choice, OneOf, Param


def _params(registry) -> dict[str, Param]:
    """Every parameter of every entry of a registry (one key may appear in several)."""
    out: dict[str, Param] = {}
    for entry in registry.entries():
        for key, param in entry.params.items():
            out.setdefault(key, param)
    return out


def key_table() -> dict[str, Param | None]:
    """Every dotted key ``--set`` accepts -> its parameter (None where a registry checks the value)."""
    from .analysis.thresholds import THRESHOLDS
    from .catalog import DATASETS, LOSSES, MODELS, OPTIMIZERS
    from .config import EARLY_STOPPING, REDUCE_LR_ON_PLATEAU, SECTIONS, TOP_LEVEL

    keys: dict[str, Param | None] = {k: TOP_LEVEL[k] for k in ("name", "seed", "deterministic", "metrics")}
    keys.update({"loss": None, "optimizer": None, "model": None})
    for section, table in SECTIONS.items():
        keys.update({f"{section}.{k}": p for k, p in table.items()})
    keys.update({f"training.early_stopping.{k}": p for k, p in EARLY_STOPPING.items()})
    keys.update({f"training.reduce_lr_on_plateau.{k}": p for k, p in REDUCE_LR_ON_PLATEAU.items()})
    keys.update({f"diagnostics.{k}": p for k, p in THRESHOLDS.items()})
    keys.update({f"data.params.{k}": p for k, p in _params(DATASETS).items()})
    for prefix, registry in (("model", MODELS), ("optimizer", OPTIMIZERS), ("loss", LOSSES)):
        keys[f"{prefix}.{registry.selector}"] = None
        keys.update({f"{prefix}.{k}": p for k, p in _params(registry).items()})
    return keys


def value_choices(key: str, param: Param | None) -> list[str]:
    """The values worth offering for a key: catalog names, a choice's options, true/false."""
    from .catalog import DATASETS, LOSSES, METRICS, MODELS, OPTIMIZERS

    by_key = {"loss": LOSSES, "loss.name": LOSSES, "optimizer": OPTIMIZERS, "optimizer.name": OPTIMIZERS,
              "model": MODELS, "model.type": MODELS, "data.dataset": DATASETS, "metrics": METRICS}
    if key in by_key:
        registry = by_key[key]
        return sorted({n for e in registry.entries() for n in (e.name, *e.aliases)})
    constraint = param.constraint if param else None
    options = constraint.options if isinstance(constraint, OneOf) else (constraint,)
    values: list[str] = []
    for option in options:
        if isinstance(option, Choice):
            values += [str(c) for c in option.choices]
        elif isinstance(option, Bool):
            values += ["true", "false"]
    return values


def complete_set(incomplete: str) -> list[tuple[str, str]]:
    """(completion, help) pairs for the word after ``--set``."""
    keys = key_table()
    if "=" in incomplete:
        key, _, start = incomplete.partition("=")
        return [(f"{key}={v}", "") for v in value_choices(key, keys.get(key)) if v.startswith(start)]
    return [(k, (p.doc if p else "")[:80]) for k, p in keys.items() if k.startswith(incomplete)]
