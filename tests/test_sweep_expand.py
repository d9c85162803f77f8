"""A sweep file becomes a list of validated runs: grid, zip, random, nested keys, sub-configs, bad input."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from lossopt_cli.cli import cli
from lossopt_cli.schema import ConfigError
from lossopt_cli.sweeps import plan as sweeps

BASE = {"data": {"dataset": "iris"}, "loss": "categorical_crossentropy",
        "optimizer": {"name": "adam", "learning_rate": 0.001}, "training": {"epochs": 2}}


def write_sweep(tmp_path: Path, spec: dict, base: dict | None = BASE, name: str = "s.yaml") -> Path:
    (tmp_path / "configs").mkdir(exist_ok=True)
    if base is not None:
        (tmp_path / "configs" / "base.yaml").write_text(yaml.safe_dump(base))
    path = tmp_path / "configs" / "sweeps" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump({"base": "../base.yaml", **spec}, sort_keys=False))
    return path


def test_grid_crosses_every_value_and_names_runs_from_them(tmp_path):
    path = write_sweep(tmp_path, {"vary": {"optimizer.name": ["sgd", "adam"],
                                           "optimizer.learning_rate": [0.1, 0.01]}, "seeds": [0, 1]})
    sweep = sweeps.load_sweep(path)
    assert [r.name for r in sweep.runs] == [
        "sgd-lr0.1-seed0", "sgd-lr0.1-seed1", "sgd-lr0.01-seed0", "sgd-lr0.01-seed1",
        "adam-lr0.1-seed0", "adam-lr0.1-seed1", "adam-lr0.01-seed0", "adam-lr0.01-seed1"]
    run = sweep.runs[2]
    assert run.config.optimizer["name"] == "sgd" and run.config.optimizer["learning_rate"] == 0.01
    assert run.config.seed == 0 and run.config.name == "sgd-lr0.01-seed0"
    assert run.group == "sgd-lr0.01"
    assert run.config.training["epochs"] == 2  # the rest comes from the base, found relative to the sweep file


def test_zip_pairs_values_and_rejects_unequal_lengths(tmp_path):
    path = write_sweep(tmp_path, {"mode": "zip", "vary": {"optimizer.name": ["sgd", "rmsprop"],
                                                          "optimizer.learning_rate": [0.1, 0.001]}})
    runs = sweeps.load_sweep(path).runs
    assert [(r.config.optimizer["name"], r.config.optimizer["learning_rate"]) for r in runs] == [
        ("sgd", 0.1), ("rmsprop", 0.001)]
    bad = write_sweep(tmp_path, {"mode": "zip", "vary": {"optimizer.name": ["sgd", "rmsprop"], "seed": [1]}},
                      name="bad.yaml")
    with pytest.raises(ConfigError, match="same length"):
        sweeps.load_sweep(bad)


def test_random_draws_log_uniform_ranges_reproducibly(tmp_path):
    spec = {"mode": "random", "samples": 20, "seed": 7,
            "vary": {"optimizer.learning_rate": {"low": 1e-4, "high": 1e-1, "log": True},
                     "optimizer.name": ["sgd", "adam"], "training.epochs": {"low": 1, "high": 4, "integer": True}}}
    runs = sweeps.load_sweep(write_sweep(tmp_path, spec)).runs
    again = sweeps.load_sweep(write_sweep(tmp_path, spec, name="again.yaml")).runs
    assert [r.values for r in runs] == [r.values for r in again]
    lrs = [r.config.optimizer["learning_rate"] for r in runs]
    assert all(1e-4 <= lr <= 1e-1 for lr in lrs)
    # log-uniform: about as many draws below 1e-2.5 (the geometric middle) as above
    below = sum(math.log10(lr) < -2.5 for lr in lrs)
    assert 4 <= below <= 16
    assert {r.config.training["epochs"] for r in runs} <= {1, 2, 3, 4}
    assert len({r.name for r in runs}) == 20
    other = sweeps.load_sweep(write_sweep(tmp_path, {**spec, "seed": 8}, name="other.yaml")).runs
    assert [r.values for r in other] != [r.values for r in runs]


def test_random_needs_samples(tmp_path):
    path = write_sweep(tmp_path, {"mode": "random", "vary": {"optimizer.name": ["sgd", "adam"]}})
    with pytest.raises(ConfigError, match="samples"):
        sweeps.load_sweep(path)


def test_a_varied_value_may_be_a_whole_sub_config(tmp_path):
    path = write_sweep(tmp_path, {"vary": {"optimizer": [{"name": "sgd", "learning_rate": 0.1},
                                                         {"name": "rmsprop", "learning_rate": 0.001, "rho": 0.8}],
                                           "model.hidden_units": [[8], [16, 8]]}})
    runs = sweeps.load_sweep(path).runs
    assert [r.name for r in runs] == ["sgd-lr0.1-units8", "sgd-lr0.1-units16x8", "rmsprop-lr0.001-rho0.8-units8",
                                      "rmsprop-lr0.001-rho0.8-units16x8"]
    assert runs[2].config.optimizer["rho"] == 0.8 and runs[2].config.optimizer["name"] == "rmsprop"
    assert runs[3].config.model["hidden_units"] == [16, 8]


def test_set_overrides_the_base(tmp_path):
    path = write_sweep(tmp_path, {"vary": {"seed": [1, 2]}})
    runs = sweeps.load_sweep(path, {"training.epochs": 5, "optimizer.name": "sgd"}).runs
    assert {(r.config.training["epochs"], r.config.optimizer["name"]) for r in runs} == {(5, "sgd")}


def test_duplicate_names_get_a_suffix(tmp_path):
    path = write_sweep(tmp_path, {"vary": {"seed": [1, 1]}})
    assert [r.name for r in sweeps.load_sweep(path).runs] == ["seed1", "seed1-2"]


@pytest.mark.parametrize("spec, message", [
    ({"vary": {"optimizer.name": ["sgd", "adamm"]}}, "run adamm (optimizer.name=adamm): Unknown optimizer 'adamm'"),
    ({"vary": {"training.epoch": [1, 2]}}, "Unknown key training.epoch"),
    ({"vary": {"optimizer.learning_rate": [0.1, -1]}}, "optimizer.learning_rate must be a number > 0. Got -1"),
    ({"vary": {"seed": []}}, "vary.seed must be a non-empty list"),
    ({"vary": {"data.dataset": ["iris", "nothere.csv"]}}, "run nothere: data.dataset 'nothere.csv' does not exist"),
    ({"vary": {"seed": [1]}, "modes": "grid"}, "Unknown key modes for a sweep file. Did you mean 'mode'?"),
    ({"vary": {"seed": [1]}, "mode": "grids"}, "mode must be one of 'grid', 'zip', 'random'"),
    ({"mode": "random", "samples": 2, "vary": {"optimizer.learning_rate": {"low": 0, "high": 1, "log": True}}},
     "a log range needs low > 0"),
])
def test_invalid_sweeps_are_rejected_with_exit_2_before_any_run(tmp_path, spec, message, monkeypatch):
    path = write_sweep(tmp_path, spec)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["sweep", str(path), "--set", f"output.dir={tmp_path / 'out'}"])
    assert result.exit_code == 2, result.output
    assert f"Error: {path}: " in result.output and message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists() and not (tmp_path / "outputs").exists()  # nothing written


def test_a_missing_base_is_named_with_where_it_was_looked_for(tmp_path):
    path = write_sweep(tmp_path, {"vary": {"seed": [1]}}, base=None)
    result = CliRunner().invoke(cli, ["sweep", str(path), "--dry-run"])
    assert result.exit_code == 2
    assert "base '../base.yaml': no such config file" in result.output


def test_dry_run_lists_runs_and_says_how_time_is_estimated(tmp_path):
    path = write_sweep(tmp_path, {"vary": {"optimizer.name": ["sgd", "adam"]}, "seeds": [0, 1]})
    result = CliRunner().invoke(cli, ["sweep", str(path), "--dry-run", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "4 runs" in result.output and "adam-seed1: optimizer.name=adam seed=1" in result.output
    assert "estimated time: about" in result.output and "per step" in result.output
    assert not (tmp_path / "outputs").exists()


def test_the_example_sweeps_expand_and_validate():
    root = Path(__file__).resolve().parent.parent / "configs" / "sweeps"
    sizes = {p.stem: len(sweeps.load_sweep(p).runs) for p in sorted(root.glob("*.yaml"))}
    assert sizes["optimizers"] == 36
    assert {"losses", "batch"} <= set(sizes)


def test_dry_run_uses_the_wall_time_of_an_earlier_sweep_of_the_same_name(tmp_path, monkeypatch):
    from lossopt_cli import rundir

    monkeypatch.setattr("os.getloadavg", lambda: (0.0, 0.0, 0.0))  # an idle machine

    path = write_sweep(tmp_path, {"name": "opt", "vary": {"optimizer.name": ["sgd", "adam"]}})
    out = tmp_path / "out"
    earlier = out / "opt-20261123-100000" / "runs" / "sgd"
    earlier.mkdir(parents=True)
    rundir.write_json(earlier / "summary.json", {"name": "sgd", "status": "completed", "wall_time_seconds": 500.0})
    result = CliRunner().invoke(cli, ["sweep", str(path), "--dry-run", "--workers", "1", "--executor", "processes",
                                      "--set", f"output.dir={out}"])
    assert result.exit_code == 0, result.output
    assert "1 run(s) from the wall time of an earlier opt sweep" in result.output
    assert "about 8m" in result.output  # 500 s + the model's estimate of the other run


def test_the_estimate_follows_the_executor_and_the_load(tmp_path):
    """Fused members share each step's call: the same runs cost less fused than one after another; a
    machine with other work is slower by the share of the CPU it leaves."""
    from lossopt_cli.sweeps import estimate

    path = write_sweep(tmp_path, {"vary": {"optimizer.name": ["sgd", "adam", "rmsprop", "momentum"]},
                                  "seeds": [0, 1]})
    runs = sweeps.load_sweep(path).runs
    seconds = {e: estimate.estimate_seconds(runs, 2 if e in ("auto", "processes") else 1, executor=e, load=0.0)
               for e in ("serial", "processes", "fused", "auto")}
    assert seconds["auto"] < seconds["processes"] < seconds["serial"]
    assert seconds["fused"] < seconds["serial"]
    idle = estimate.estimate_seconds(runs, 1, executor="serial", load=0.0)
    busy = estimate.estimate_seconds(runs, 1, executor="serial", load=3.0)
    assert busy > idle and estimate.load_factor(1, load=3.0, cores=2) == 2.0


def test_random_draws_are_crossed_with_seeds_and_set_applies_before_the_command_line(tmp_path):
    spec = {"mode": "random", "samples": 2, "seed": 1, "seeds": [0, 1],
            "set": {"training.epochs": 7, "training.batch_size": 8},
            "vary": {"optimizer.learning_rate": {"low": 1.0e-3, "high": 1.0e-1, "log": True}}}
    runs = sweeps.load_sweep(write_sweep(tmp_path, spec), {"training.epochs": 3}).runs
    assert len(runs) == 4 and [r.config.seed for r in runs] == [0, 1, 0, 1]
    assert runs[0].values["optimizer.learning_rate"] == runs[1].values["optimizer.learning_rate"]
    assert runs[0].group == runs[1].group != runs[2].group
    assert {(r.config.training["epochs"], r.config.training["batch_size"]) for r in runs} == {(3, 8)}


def test_a_sweep_file_reads_1e_3_as_a_number_in_lists_and_ranges(tmp_path):
    path = write_sweep(tmp_path, {})
    text = ("base: {data: {dataset: iris}, loss: categorical_crossentropy, training: {epochs: 1}}\n"
            "mode: random\nsamples: 3\nseed: 0\n"
            "vary: {optimizer.learning_rate: {low: 1e-4, high: 1e-1, log: true}, training.batch_size: [16, 32]}\n")
    path.write_text(text)
    rates = [run.config.to_dict()["optimizer"]["learning_rate"] for run in sweeps.load_sweep(path).runs]
    assert len(rates) == 3 and all(1e-4 <= r <= 0.1 for r in rates)
    path.write_text("base: {data: {dataset: iris}, loss: categorical_crossentropy}\n"
                    "vary: {optimizer.learning_rate: [1e-3, 1e-2]}\n")
    assert [run.config.to_dict()["optimizer"]["learning_rate"] for run in sweeps.load_sweep(path).runs] == [0.001, 0.01]
