"""A trained model's outputs on its validation and test splits, computed once after training, and
the scores drawn from them: the test loss and metrics (what ``model.evaluate`` reports) and the
per-class scores (``training.per_class``).

``model.predict`` and ``model.evaluate`` each trace a graph of their own for every new model before
they compute anything, which costs more than the forward pass of a small model; a sweep paid it
twice per run. Here each split goes once through the model in eager mode (in chunks of
``CHUNK_ROWS``), and the outputs are shared: with no validation split, the per-class scores use the
test outputs that the test scores were computed from. A model replicated by a ``tf.distribute``
strategy keeps Keras' own ``evaluate`` and ``predict``, which split the work across the replicas.
"""

from __future__ import annotations

import numpy as np

CHUNK_ROWS = 4096  # rows per eager call: bounds the activations held at once on a large split


def outputs(model, x: np.ndarray) -> np.ndarray:
    """The model's outputs on ``x`` (inference mode: no dropout), as ``model.predict`` gives them."""
    import keras

    parts = [keras.ops.convert_to_numpy(model(x[start:start + CHUNK_ROWS], training=False))
             for start in range(0, len(x), CHUNK_ROWS)]
    return np.concatenate(parts) if parts else np.zeros((0,))


def test_scores(model, x: np.ndarray, y: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """The loss (with the model's regularization losses) and the compiled metrics on ``(x, y)`` from the
    outputs already computed, as ``model.evaluate(x, y, return_dict=True)`` reports them."""
    model.reset_metrics()
    total, n, metrics = 0.0, len(x), {}
    for start in range(0, n, CHUNK_ROWS):
        rows = slice(start, start + CHUNK_ROWS)
        loss = model.compute_loss(x=x[rows], y=y[rows], y_pred=predicted[rows], training=False)
        total += float(loss) * len(x[rows])
        metrics = model.compute_metrics(x[rows], y[rows], predicted[rows])
    scores = {k: float(v) for k, v in metrics.items()}
    scores["loss"] = total / n if n else float("nan")
    return {"loss": scores.pop("loss"), **scores}


class Predictions:
    """A trained run's outputs on its splits, each split run through the model on first use and kept."""

    def __init__(self, prepared):
        self.data, self.model = prepared.data, prepared.model
        self.batch_size = max(prepared.batch_size, 256)  # Keras' own predict/evaluate, for a replicated model
        strategy = getattr(self.model, "distribute_strategy", None)
        self.replicated = strategy is not None and strategy.num_replicas_in_sync > 1
        self._outputs: dict[str, np.ndarray] = {}

    def of(self, split: str) -> np.ndarray:
        """The outputs on ``split`` ("validation" or "test")."""
        if split not in self._outputs:
            x = self.data.x_val if split == "validation" else self.data.x_test
            self._outputs[split] = (self.model.predict(x, batch_size=self.batch_size, verbose=0) if self.replicated
                                    else outputs(self.model, x))
        return self._outputs[split]

    def test_scores(self) -> dict[str, float]:
        """The loss and metrics on the test split (the run must have one)."""
        data = self.data
        if self.replicated:
            scores = self.model.evaluate(data.x_test, data.y_test, batch_size=self.batch_size, verbose=0, return_dict=True)
            return {k: float(v) for k, v in scores.items()}
        return test_scores(self.model, data.x_test, data.y_test, self.of("test"))

    def per_class(self) -> dict | None:
        """Per-class precision, recall, support and confusion on the validation split (else the test split);
        None for a regression."""
        from .per_class import per_class_scores, per_class_split

        split = per_class_split(self.data)
        if split is None:
            return None
        name, _, y = split
        return per_class_scores(self.data, name, y, self.of(name))
