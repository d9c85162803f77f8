"""The auto executor (the default): fused groups and single runs, spread over worker processes.

The sweep's runs are cut into fused groups (``fused.group_jobs``: runs sharing data, network,
batch size and epochs; at least one group per worker where there are enough runs, each bounded by
memory) and the runs that share nothing; the worker processes (one per core, as ``processes``)
take the groups first, largest first, then the single runs. A sweep with nothing to fuse runs
exactly as ``processes`` does.
"""

from __future__ import annotations

from . import base
from .fused import group_jobs, run_group
from .processes import ProcessExecutor, Unit


class AutoExecutor(ProcessExecutor):
    """Fuses where it applies, in parallel worker processes; runs the rest as the processes executor does."""

    name = "auto"

    def run(self, jobs, on_result):
        groups, alone = group_jobs(jobs, workers=self.workers, split_for_workers=True)
        units = [Unit(run_group, group, tuple(job.name for job in group))
                 for group in sorted(groups, key=len, reverse=True)]
        units += [Unit(base.run_job, job, (job.name,)) for job in alone]
        self.run_units(units, on_result)
