"""Training: the runner (one run), its callbacks and data preparation. Imports Keras lazily."""
