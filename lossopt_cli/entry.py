"""The ``lossopt`` command's entry point (and ``python -m lossopt_cli``'s), light on purpose: a sweep's worker
processes start (``sweeps.workers.start_early``) before the command line (click, the config tables, NumPy:
0.2-0.3 s) is imported, so their TensorFlow imports overlap it. Then ``cli.main``."""

import sys


def main():
    from .training import quiet_tensorflow

    quiet_tensorflow()  # before the workers start: they inherit the quiet default
    from .sweeps import workers

    workers.start_early(sys.argv[1:])
    try:
        from .cli import main as command_line

        return command_line()
    finally:
        workers.discard()  # never adopted (the command failed before its sweep asked for them): end them now
