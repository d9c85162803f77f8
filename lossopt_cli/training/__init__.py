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


def _user_log_level() -> str | None:
    """The TF_CPP_MIN_LOG_LEVEL the user set (not our own default, which sweep workers inherit), or None."""
    return os.environ["TF_CPP_MIN_LOG_LEVEL"] if ("TF_CPP_MIN_LOG_LEVEL" in os.environ
                                                  and _DEFAULT_MARKER not in os.environ) else None


def show_tensorflow_lines() -> bool:
    """TensorFlow's own lines reach the terminal only with ``--verbose`` or TF_CPP_MIN_LOG_LEVEL=0: a user who
    set another level asked for less noise, not for the start-up lines lossopt otherwise hides."""
    return verbose() or (_user_log_level() or "").strip() == "0"


def quiet_tensorflow() -> None:
    """For entry points: keep TensorFlow's C++ start-up chatter (CUDA probes on CPU machines) and absl's
    warnings off the terminal unless the user asked for them (``--verbose``, or TF_CPP_MIN_LOG_LEVEL=0), and
    keep tf.function's retracing warnings (expected when one process trains several models, as a
    sweep does) out of the logs."""
    if verbose():
        if os.environ.pop(_DEFAULT_MARKER, None):  # our own quiet default, inherited: verbose wins
            os.environ.pop("TF_CPP_MIN_LOG_LEVEL", None)
        logging.getLogger("tensorflow").setLevel(logging.NOTSET)
        logging.getLogger("absl").setLevel(logging.NOTSET)
        return
    if show_tensorflow_lines():
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"  # also over a user's 1 or 2: C++ errors on a CPU machine are CUDA probes
    os.environ[_DEFAULT_MARKER] = "1"  # a marker tells our default from a user's setting
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    logging.getLogger("absl").setLevel(logging.ERROR)


def import_tensorflow():
    """Import TensorFlow (and Keras) once, with the C++ lines it writes straight to file
    descriptor 2 while loading ("Could not find cuda drivers...") kept off the terminal.
    Python errors still surface as exceptions. ``--verbose`` or TF_CPP_MIN_LOG_LEVEL=0 shows everything."""
    from .lean_import import without_optional_modules

    if "tensorflow" in sys.modules or show_tensorflow_lines():
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
