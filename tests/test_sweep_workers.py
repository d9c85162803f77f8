"""A sweep's worker processes: started by ``lossopt sweep`` before the sweep is planned, adopted by the executor
when it needs that many, ended at once otherwise; kept from ``start`` to ``close`` to draw the sweep's plots."""

from __future__ import annotations

import time

import pytest

from lossopt_cli.sweeps import workers


@pytest.fixture(autouse=True)
def no_early_pool():
    workers.discard()
    yield
    workers.discard()


def test_the_early_pool_has_the_shape_the_sweep_command_will_ask_for():
    cores = workers.cores()
    assert workers.early_shape(["sweep", "s.yaml"]) == (cores, 1)
    assert workers.early_shape(["sweep", "s.yaml", "--workers", "2", "--executor", "processes"]) == (2, max(1, cores // 2))
    assert workers.early_shape(["sweep", "s.yaml", "--set", "training.epochs=3", "--workers=1", "-q"]) == (1, cores)
    for argv in (["train", "c.yaml"], ["sweep", "s.yaml", "--dry-run"], ["sweep", "--resume", "outputs/s"],
                 ["sweep", "s.yaml", "--executor", "serial"], ["sweep", "s.yaml", "--executor=ray"],
                 ["--verbose", "sweep", "s.yaml"], ["sweep", "s.yaml", "--workers", "two"], ["sweep", "--help"], []):
        assert workers.early_shape(argv) is None, argv


def test_auto_the_default_executor_is_one_the_early_pool_is_for():
    from lossopt_cli.sweeps.executors import DEFAULT_EXECUTOR, EXECUTORS

    assert workers.EARLY_EXECUTORS[0] == DEFAULT_EXECUTOR
    assert all(EXECUTORS[name].calls_in_workers for name in workers.EARLY_EXECUTORS)


class FakePool:
    def __init__(self):
        self.shut = False
        self._processes = {}

    def shutdown(self, wait=True, cancel_futures=False):
        self.shut = True


def test_an_executor_adopts_the_early_pool_of_its_shape_and_ends_one_of_another():
    pool = FakePool()
    workers._EARLY.update(pool=pool, shape=(2, 1), stop="stop")
    assert workers.adopt(2, 1) == (pool, "stop") and not pool.shut and not workers._EARLY  # now the caller's
    workers._EARLY.update(pool=pool, shape=(2, 1), stop="stop")
    assert workers.adopt(1, 2) is None and pool.shut and not workers._EARLY  # a sweep of one group: ended


def test_an_early_pool_nobody_adopts_ends_without_waiting_for_its_imports():
    workers.start_early(["sweep", "s.yaml", "--workers", "1"])
    processes = list(workers._EARLY["pool"]._processes.values())
    assert len(processes) == 1 and processes[0].is_alive()
    time.sleep(1.0)  # into its TensorFlow import, where it ignores SIGTERM (an idle worker's handler)
    workers.discard()
    deadline = time.monotonic() + 30  # the pool's own thread may reap it first: poll until someone has
    while processes[0].is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not processes[0].is_alive() and not workers._EARLY


def test_the_processes_executor_draws_in_its_kept_workers_until_closed():
    from lossopt_cli.sweeps.executors.processes import ProcessExecutor

    executor = ProcessExecutor(workers=1)
    assert executor.call(abs, [-1, -2]) == [1, 2]  # no workers kept: here
    executor.start()
    executor._kept = (FakePool(), (1, 1), None)
    executor._kept[0].submit = lambda function, argument: _Done(function(argument) * 10)
    assert executor.call(abs, [-1, -2]) == [10, 20]  # in the kept pool
    pool = executor._kept[0]
    executor.close()
    assert pool.shut and executor._kept is None and executor.call(abs, [-3]) == [3]


class _Done:
    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value
