"""Seeing how optimizers behave: the learning-rate range test (``lossopt lr-find``) and optimizer
trajectories on 2-D test functions (``lossopt trajectories``). Only the parts that train import Keras."""
