"""Ctrl-C and SIGTERM: recorded inside a deferred block (training stops at the end of a step), raised
outside it; a sweep worker ignores signals while idle and never breaks a run's saving on a second one."""

from __future__ import annotations

import signal

import pytest

from lossopt_cli import signals


@pytest.fixture
def state():
    saved = dict(signals._STATE)
    signals.reset()
    yield signals._STATE
    signals._STATE.clear()
    signals._STATE.update(saved)


def test_outside_training_a_signal_stops_at_once(state):
    with pytest.raises(KeyboardInterrupt):
        signals._handler(signal.SIGTERM, None)
    assert signals.exit_code() == 143 and signals.signal_name() == "SIGTERM"


def test_during_training_the_first_signal_is_recorded_and_a_second_insists(state):
    with signals.deferred():
        signals._handler(signal.SIGINT, None)  # recorded: the step finishes, the epoch is saved
        assert signals.pending() and signals.exit_code() == 130
        with pytest.raises(KeyboardInterrupt):
            signals.check()  # what the training callback does at the end of each step
        with pytest.raises(KeyboardInterrupt):
            signals._handler(signal.SIGINT, None)


def test_a_worker_ignores_signals_while_idle_and_saves_on_any_number_while_training(state):
    state.update(worker=True)
    signals._handler(signal.SIGINT, None)  # idle: ignored (the parent decides)
    with signals.busy():
        assert not signals.pending()  # a new run starts afresh
        with pytest.raises(KeyboardInterrupt):
            signals._handler(signal.SIGINT, None)  # preparing: stop now, nothing written yet
    with signals.busy(), signals.deferred():
        signals._handler(signal.SIGINT, None)
        signals._handler(signal.SIGTERM, None)  # the parent forwards it too: still no raise mid-step
        assert signals.pending()


def test_a_running_run_whose_process_is_gone_is_listed_as_interrupted(tmp_path):
    import json
    import socket
    import subprocess
    import sys

    from click.testing import CliRunner

    from lossopt_cli import liveness
    from lossopt_cli.cli import cli

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(gone.stdout)
    run = tmp_path / "outputs" / "r-20261123-000000"
    run.mkdir(parents=True)
    (run / "history.csv").write_text("epoch,loss,val_loss\n1,0.5,0.6\n")
    summary = {"name": "r", "status": "running", "epochs_run": 1, "pid": dead_pid, "host": socket.gethostname()}
    (run / "summary.json").write_text(json.dumps(summary))
    assert liveness.effective_status(summary) == "interrupted"
    assert liveness.effective_status({**summary, **liveness.owner()}) == "running"  # this process lives
    assert liveness.effective_status({**summary, "host": "elsewhere"}) == "running"  # cannot tell: as recorded
    listed = CliRunner().invoke(cli, ["list", str(tmp_path / "outputs")])
    assert "interrupted" in listed.output and "running" not in listed.output
