"""lossopt: train Keras models from YAML, draw honest curves, and diagnose what went wrong."""

__version__ = "0.1.0"
