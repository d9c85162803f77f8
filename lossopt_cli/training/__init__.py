"""Training: the runner (one run), its recorder, callbacks and data preparation. Imports Keras lazily.

Importing this package changes nothing in the process; the entry points (the ``lossopt``
command, a sweep worker) call ``quiet_tensorflow`` before TensorFlow loads.
"""

import logging
import os
import sys

_DEFAULT_MARKER = "LOSSOPT_TF_LOG_DEFAULT"


def verbose() -> bool:
    """``lossopt --verbose`` sets LOSSOPT_VERBOSE=1 (inherited by sweep workers): TensorFlow's own lines show."""
    return os.environ.get("LOSSOPT_VERBOSE") == "1"


def _user_log_level() -> bool:
    """True when the user set TF_CPP_MIN_LOG_LEVEL (not our own default, which sweep workers inherit)."""
    return "TF_CPP_MIN_LOG_LEVEL" in os.environ and _DEFAULT_MARKER not in os.environ


def quiet_tensorflow() -> None:
    """For entry points: keep TensorFlow's C++ start-up chatter (CUDA probes on CPU machines) and absl's
    warnings off the terminal unless the user set TF_CPP_MIN_LOG_LEVEL or asked for ``--verbose``, and
    keep tf.function's retracing warnings (expected when one process trains several models, as a
    sweep does) out of the logs."""
    if verbose():
        if os.environ.pop(_DEFAULT_MARKER, None):  # our own quiet default, inherited: verbose wins
            os.environ.pop("TF_CPP_MIN_LOG_LEVEL", None)
        logging.getLogger("tensorflow").setLevel(logging.NOTSET)
        logging.getLogger("absl").setLevel(logging.NOTSET)
        return
    if not _user_log_level():
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
        os.environ[_DEFAULT_MARKER] = "1"  # a marker tells our default from a user's setting
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    logging.getLogger("absl").setLevel(logging.ERROR)


def import_tensorflow():
    """Import TensorFlow (and Keras) once, with the C++ lines it writes straight to file
    descriptor 2 while loading ("Could not find cuda drivers...") kept off the terminal.
    Python errors still surface as exceptions. Set TF_CPP_MIN_LOG_LEVEL to see everything."""
    from .lean_import import without_optional_modules

    if "tensorflow" in sys.modules or _user_log_level():
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
