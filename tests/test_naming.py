"""Runs a user can tell apart: --set overrides become part of the run's name."""

from __future__ import annotations

from click.testing import CliRunner

from lossopt_cli import config
from lossopt_cli.cli import cli
from lossopt_cli.naming import override_suffix, safe

from .conftest import REPO


def test_set_overrides_name_the_run():
    cfg = config.load(REPO / "configs/quickstart.yaml", config.parse_overrides(["optimizer.name=sgd", "optimizer.learning_rate=0.1"]))
    assert cfg.name == "quickstart-sgd-lr0.1"
    cfg = config.load(REPO / "configs/quickstart.yaml", config.parse_overrides(["training.epochs=30", "model.hidden_units=[512, 512]",
                                                         "optimizer={name: rmsprop, learning_rate: 0.01}"]))
    assert cfg.name == "quickstart-ep30-units512x512-rmsprop-lr0.01"
    assert config.load(REPO / "configs/quickstart.yaml").name == "quickstart"
    assert config.load(REPO / "configs/quickstart.yaml", config.parse_overrides(["output.dir=/tmp/x", "diagnostics.overfitting_gl=5"])
                       ).name == "quickstart"  # where it goes and how it is judged are not what was trained
    assert config.load(REPO / "configs/quickstart.yaml", config.parse_overrides(["name=mine", "training.epochs=3"])).name == "mine"


def test_long_or_odd_overrides_stay_short_unique_and_filesystem_safe():
    a = override_suffix([("data.dataset", "../some dir/My Data.csv.gz"), ("loss", "/x/losses.py:iou_loss"),
                         ("metrics", ["accuracy", "precision", "recall", "f1", "auc", "pr_auc"])])
    b = override_suffix([("data.dataset", "../some dir/My Data.csv.gz"), ("loss", "/x/losses.py:iou_loss"),
                         ("metrics", ["accuracy", "precision", "recall", "f1", "auc"])])
    assert a != b and len(a) <= 48 and a == safe(a) and "/" not in a and " " not in a
    assert a.startswith("My-Data-iou_loss-metricsaccuracy")


def test_list_shows_set_variants_apart(tmp_path):
    """The directory name carries the overrides, so `lossopt list` and `compare` labels differ."""
    for lr in ("0.1", "0.01"):
        run = tmp_path / "outputs" / f"quickstart-sgd-lr{lr}-20260101-000000"
        run.mkdir(parents=True)
        (run / "history.csv").write_text("epoch,loss,val_loss\n1,1.0,1.1\n2,0.8,0.9\n")
        (run / "summary.json").write_text(f'{{"name": "quickstart-sgd-lr{lr}", "status": "completed"}}')
    out = CliRunner().invoke(cli, ["list", str(tmp_path / "outputs")]).output
    assert "quickstart-sgd-lr0.1-" in out and "quickstart-sgd-lr0.01-" in out
    result = CliRunner().invoke(cli, ["compare", *map(str, (tmp_path / "outputs").iterdir()),
                                      "--output", str(tmp_path / "c.png")])
    assert result.exit_code == 0, result.output
    assert "quickstart-sgd-lr0.1 " in result.output and "quickstart-sgd-lr0.01 " in result.output
