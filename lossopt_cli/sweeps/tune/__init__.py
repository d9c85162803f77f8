"""``mode: tune`` sweeps: every compared configuration tuned with the same Optuna budget, then re-run on seeds.

``sweeps/tune_space.py`` validates the ``search:`` space and plans the compared configurations (``plan``
uses it, so it sits beside it); ``study`` runs the
trials (one Optuna study per configuration, TPE seeded, ask-and-tell, stored in ``optuna.db``) and
plans the seed runs at each configuration's best values; ``plan_lines`` is its ``--dry-run``.
"""
