"""Pre-flight: an output activation that cannot produce what the loss expects.

Cross-entropies read probabilities (softmax over classes, one sigmoid unit) unless
``from_logits: true``; a linear output gives them scores (the loss clips them and stalls far
above the class prior's loss), a relu output gives zeros (log 0: NaN). A sigmoid cannot reach
regression targets outside 0..1, nor a relu/softplus negative ones. Such a run cannot train, so
the error comes before anything is written, with the fix.
"""

from __future__ import annotations

import numpy as np

from ..schema import ConfigError

PROBABILITY_LOSSES = ("categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy",
                      "categorical_focal_crossentropy", "binary_focal_crossentropy", "kl_divergence")
NON_NEGATIVE = ("relu", "softplus", "relu6", "exponential")


def check_output_activation(config, data) -> list[str]:
    """Raise ConfigError for an output layer the loss cannot use; return notes for doubtful ones."""
    override = config.model.output_activation
    loss = config.loss.name
    if override is None or data is None:
        return []
    if loss in PROBABILITY_LOSSES and not config.loss.from_logits:
        wanted = "sigmoid" if data.output_units == 1 else "softmax"
        if override != wanted and override not in ("softmax", "sigmoid"):
            logits = ("" if loss == "kl_divergence" else
                      f" To keep a {override} output as raw scores, set loss: {{name: {loss}, from_logits: true}} "
                      f"(only with a linear output).")
            what = ("raw scores, not probabilities: the loss clips them and stalls far above what predicting the "
                    "class prior gives" if override == "linear" else
                    "values that are not probabilities (zeros give log 0 = NaN)" if override in NON_NEGATIVE else
                    "values that are not probabilities")
            raise ConfigError(f"model.output_activation {override} with loss {loss}: the loss expects probabilities "
                              f"({wanted} on the output) but {override} gives {what}; no learning rate fixes that. "
                              f"Use output_activation: {wanted} (or leave it unset).{logits}",
                              key="model.output_activation")
    if data.task != "regression" or data.y_train is None or len(data.y_train) == 0:
        return []
    y = np.asarray(data.y_train, dtype="float64")
    low, high = float(y.min()), float(y.max())
    if override in ("sigmoid", "softmax") and (low < 0 or high > 1):
        raise ConfigError(f"model.output_activation {override} gives values in 0..1, but the regression targets "
                          f"range from {low:.4g} to {high:.4g}: most of them can never be reached. Use linear (or "
                          f"leave it unset), or rescale the targets into 0..1.", key="model.output_activation")
    if override == "tanh" and (low < -1 or high > 1):
        raise ConfigError(f"model.output_activation tanh gives values in -1..1, but the regression targets range "
                          f"from {low:.4g} to {high:.4g}. Use linear (or leave it unset).",
                          key="model.output_activation")
    if override in NON_NEGATIVE and low < 0:
        share = float((y < 0).mean())
        return [f"model.output_activation {override} cannot go below 0, but {share:.0%} of the regression targets "
                f"are negative: those are never predicted. Use linear unless the targets are counts or rates."]
    return []
