"""Sweeps: many runs of one base config, ranked over seeds.

``plan`` (the sweep file, its expansion into validated runs, the sweep directory's record of
them), ``run`` (orchestration: create or resume the directory, hand the missing runs to an
executor, write the results), ``progress`` (the lines on stderr), ``estimate`` (the dry run),
``executors/`` (serial, processes: one file each, one registry). Importing this package
imports none of them; nothing here imports TensorFlow except a job, in its worker.
"""
