"""Training: the runner (one run), its callbacks and data preparation. Imports Keras lazily."""

import os

# TensorFlow's C++ start-up chatter (CUDA probes on CPU machines) is not for our users;
# set TF_CPP_MIN_LOG_LEVEL yourself to see it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# Training several models in one process (sweeps) makes tf.function warn about retracing;
# that is expected there and says nothing about the user's model.
import logging  # noqa: E402

logging.getLogger("tensorflow").setLevel(logging.ERROR)
