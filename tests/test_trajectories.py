"""lossopt trajectories: real Keras optimizers on 2-D test functions end nearer a minimum than they started
(at each function's default rates), escape the saddle, and the command writes its files."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from lossopt_cli.cli import cli
from lossopt_cli.insight.surfaces import SURFACES

OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam")


def test_each_function_has_its_minima_where_it_says():
    for surface in SURFACES.values():
        for mx, my in surface.minima:
            value = surface.value(np.float64(mx), np.float64(my), np, condition=20.0)
            assert value == pytest.approx(surface.minimum_value, abs=1e-6), surface.name
            for dx, dy in ((1e-3, 0), (0, 1e-3), (-1e-3, 0), (0, -1e-3)):  # a minimum: higher all around
                assert surface.value(np.float64(mx + dx), np.float64(my + dy), np, condition=20.0) > value


@pytest.mark.slow
@pytest.mark.parametrize("function", ["rosenbrock", "beale", "himmelblau", "ill_conditioned", "rastrigin"])
def test_every_trajectory_ends_nearer_a_minimum_than_it_started(function):
    from lossopt_cli.insight.trajectories import step_path

    surface = SURFACES[function]
    params = {"condition": 20.0} if "condition" in surface.params else {}
    for name in OPTIMIZERS:
        path = step_path(surface, name, surface.default_rate(name, params), surface.start, 200, params)
        start, end = path.path[0], path.path[-1]
        assert len(path.path) == 201, (function, name)
        assert surface.nearest_minimum_distance(*end) < surface.nearest_minimum_distance(*start), (function, name)
        assert path.values[-1] < path.values[0], (function, name)


@pytest.mark.slow
def test_optimizers_escape_the_saddle_and_stop_when_far_outside_the_view():
    from lossopt_cli.insight.trajectories import step_path

    surface = SURFACES["saddle"]
    for name in ("sgd", "momentum", "adam"):
        path = step_path(surface, name, surface.default_rate(name, {}), surface.start, 200, {})
        assert abs(path.path[-1][1]) > 100 * abs(surface.start[1]), name  # y grew: it left the saddle point
        assert path.values[-1] < path.values[0], name
        assert max(abs(v) for v in path.path[-1]) < 20  # stopped soon after leaving 3x the view, not at 1e6


@pytest.mark.slow
def test_the_command_writes_json_png_and_an_animation(tmp_path):
    result = CliRunner().invoke(cli, ["trajectories", "--function", "ill_conditioned", "--optimizers", "sgd,adam",
                                      "--steps", "12", "--condition", "10", "--lr", "adam=0.2", "--animate", "gif",
                                      "--output-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    (directory,) = tmp_path.glob("trajectories-ill_conditioned-*")
    record = json.loads((directory / "trajectories.json").read_text())
    assert record["parameters"] == {"condition": 10.0}
    assert [t["optimizer"] for t in record["trajectories"]] == ["sgd", "adam"]
    sgd, adam = record["trajectories"]
    assert len(sgd["path"]) == 13 and sgd["learning_rate"] == pytest.approx(0.18)  # 1.8 / condition
    assert adam["learning_rate"] == 0.2 and adam["arguments"]["beta_1"] == 0.9  # the catalog's Adam
    assert (directory / "trajectories.png").stat().st_size > 20_000
    assert (directory / "trajectories.gif").read_bytes()[:6] in (b"GIF89a", b"GIF87a")
    assert "sgd" in result.output and "distance to the nearest minimum" in result.output


@pytest.mark.parametrize("args, message", [
    (["--function", "rosenbrok"], "Did you mean 'rosenbrock'?"),
    (["--optimizers", "sgd,adamm"], "Did you mean 'adam'?"),
    (["--lr", "adam=fast"], "--lr 'adam=fast' must look like NAME=RATE"),
    (["--lr", "lion=0.1"], "'lion' is not among --optimizers"),
    (["--start", "1"], "--start must be two numbers X,Y"),
    (["--condition", "10"], "--condition applies to ill_conditioned only"),
])
def test_bad_options_are_usage_errors_that_write_nothing(tmp_path, args, message):
    result = CliRunner().invoke(cli, ["trajectories", *args, "--output-dir", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not (tmp_path / "out").exists()
