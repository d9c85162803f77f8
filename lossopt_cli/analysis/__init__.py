"""Analysis of saved histories: diagnosis findings and statistics. Pure Python, no TensorFlow."""
