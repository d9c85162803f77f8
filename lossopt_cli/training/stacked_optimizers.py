"""The optimizers of a stacked group (``stacked_group``): members whose optimizers have the same configuration, the
learning rate apart, form a ``Stack``: their trainable variables with a leading member axis and ONE Keras optimizer
over them. The optimizers ``stacked`` accepts update element by element, so one update of a stacked variable is
exactly K updates of its slices (and K sets of moments); with each member's own rate broadcast over the member
axis (``_with_member_rates``) it is each member's update with its own rate, bit for bit
(tests/test_stacked_rates.py)."""

from __future__ import annotations

import numpy as np

from .stacked import RATE_DIVIDERS


def _rate(optimizer) -> float | None:
    """The optimizer's learning rate when it is a number (None for a schedule)."""
    rate = optimizer.get_config().get("learning_rate")
    return float(rate) if isinstance(rate, (int, float)) else None


_PER_MEMBER_RATES: dict = {}


def _with_member_rates(cls):
    """``cls`` whose update uses one learning rate per member (``member_rates``, (K,)) instead of its own: every
    update of an element-wise Keras optimizer multiplies or divides by the rate element by element
    (``update_step(gradient, variable, learning_rate)``), so the rate of shape (K, 1, ...) broadcast over a
    stacked variable gives member k exactly the update of its run alone with its own rate (the same float
    operations on each element). Weight decay (AdamW, ``weight_decay``) scales by the rate too: the same."""
    if cls not in _PER_MEMBER_RATES:
        class PerMemberRates(cls):
            def _member_rate(self, variable):
                import tensorflow as tf

                return tf.reshape(tf.cast(self.member_rates, variable.dtype), [-1] + [1] * (len(variable.shape) - 1))

            def update_step(self, gradient, variable, learning_rate):
                return super().update_step(gradient, variable, self._member_rate(variable))

            def _apply_weight_decay(self, variables):  # Keras' own, with each member's rate
                import tensorflow as tf

                if self.weight_decay is None:
                    return
                for variable in variables:
                    if self._use_weight_decay(variable):
                        decay = tf.cast(self.weight_decay, variable.dtype)
                        variable.assign_sub(variable * decay * self._member_rate(variable))

        PerMemberRates.__name__ = PerMemberRates.__qualname__ = cls.__name__
        _PER_MEMBER_RATES[cls] = PerMemberRates
    return _PER_MEMBER_RATES[cls]


def optimizer_key(optimizer) -> tuple:
    """Members whose optimizers have the same key share one Keras optimizer over their stacked variables: the
    same class and settings, the learning rate apart when it is a number (each member keeps its own,
    ``_with_member_rates``; not for ``RATE_DIVIDERS``)."""
    shared_rate = _rate(optimizer) is not None and type(optimizer).__name__ not in RATE_DIVIDERS
    config = {k: v for k, v in optimizer.get_config().items()
              if k != "name" and not (k == "learning_rate" and shared_rate)}
    return type(optimizer).__name__, repr(sorted(config.items(), key=str))


class Stack:
    """The members that share one optimizer configuration (their learning rates may differ): their stacked
    trainable variables and one Keras optimizer over them."""

    def __init__(self, indices, members):
        import tensorflow as tf

        self.indices = indices
        models = [members[i].model for i in indices]
        self.variables = [tf.Variable(np.stack([np.asarray(m.trainable_weights[j].numpy()) for m in models]),
                                      name=f"stacked_{j}") for j in range(len(models[0].trainable_weights))]
        source = models[0].optimizer
        rates = [_rate(m.optimizer) for m in models]
        self.rates = None if len(set(rates)) == 1 else np.asarray(rates, np.float32)
        cls = type(source) if self.rates is None else _with_member_rates(type(source))
        self.optimizer = cls.from_config(source.get_config())
        if self.rates is not None:
            self.optimizer.member_rates = tf.constant(self.rates)
        self.optimizer.build(self.variables)

    def slots(self, optimizer) -> list:
        """``optimizer``'s variables that the copy back carries (its own learning rate stays when rates differ)."""
        rate = getattr(optimizer, "_learning_rate", None)
        return [v for v in optimizer.variables if self.rates is None or v is not rate]
