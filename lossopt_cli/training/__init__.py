"""Training: the runner (one run), its callbacks and data preparation. Imports Keras lazily."""

import logging
import os
import sys

# TensorFlow's C++ start-up chatter (CUDA probes on CPU machines) is not for our users;
# set TF_CPP_MIN_LOG_LEVEL yourself to see it.
# (A marker tells our own default, inherited by sweep workers, from a user's setting.)
_USER_LOG_LEVEL = "TF_CPP_MIN_LOG_LEVEL" in os.environ and "LOSSOPT_TF_LOG_DEFAULT" not in os.environ
if not _USER_LOG_LEVEL:
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    os.environ["LOSSOPT_TF_LOG_DEFAULT"] = "1"

# Training several models in one process (sweeps) makes tf.function warn about retracing;
# that is expected there and says nothing about the user's model.
logging.getLogger("tensorflow").setLevel(logging.ERROR)


def import_tensorflow():
    """Import TensorFlow (and Keras) once, with the C++ lines it writes straight to file
    descriptor 2 while loading ("Could not find cuda drivers...") kept off the terminal.
    Python errors still surface as exceptions. Set TF_CPP_MIN_LOG_LEVEL to see everything."""
    from .lean_import import without_optional_modules

    if "tensorflow" in sys.modules or _USER_LOG_LEVEL:
        with without_optional_modules():
            import keras  # noqa: F401
            import tensorflow

        return tensorflow
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        with without_optional_modules():
            import keras  # noqa: F401
            import tensorflow
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    return tensorflow
