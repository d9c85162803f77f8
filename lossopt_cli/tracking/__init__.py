"""Experiment tracking: runs and sweeps sent to MLflow, live (``tracking.mlflow``) or after the fact
(``lossopt export mlflow``). MLflow is imported only when tracking is asked for."""
