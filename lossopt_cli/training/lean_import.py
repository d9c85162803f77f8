"""Import Keras without the optional libraries it loads only to offer wrappers lossopt never uses.

Keras imports scikit-learn (for ``keras.wrappers.SKLearnClassifier``) and pandas (to accept
DataFrames in ``fit``) when they are installed: about 1.5 s of every run's start-up, twice what
the quickstart's training takes; TensorFlow's legacy ``tf.compat.v1`` Keras imports ``scipy.sparse``
(0.1-0.15 s of the import, measured: benchmarks/README.md) to recognize sparse inputs. lossopt feeds
``fit`` NumPy arrays and tensors and never uses those wrappers, so while Keras loads they are made to
look absent (Keras and TensorFlow handle that case);
afterwards they import normally for any code that wants them. Set ``LOSSOPT_FULL_KERAS_IMPORT=1``
to import Keras as it is.
"""

from __future__ import annotations

import contextlib
import os
import sys

SKIPPED = ("sklearn", "pandas", "scipy")


@contextlib.contextmanager
def without_optional_modules(names=SKIPPED):
    """While the block runs, ``import NAME`` raises ImportError for each name not yet imported."""
    if os.environ.get("LOSSOPT_FULL_KERAS_IMPORT") or "keras" in sys.modules:
        yield
        return
    blocked = [name for name in names if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # the import system's "not importable" marker
    try:
        yield
    finally:
        for name in blocked:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]
