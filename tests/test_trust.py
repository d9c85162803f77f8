"""Issue 12: verdicts and rankings a user can trust. One test per case found when lossopt was tried
as a new user would: synthetic histories shaped like the real runs that misled."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
import yaml

from lossopt_cli import config
from lossopt_cli.analysis import leaderboard, noise, stats
from lossopt_cli.analysis.diagnose import diagnose_history
from lossopt_cli.analysis.runs import collect
from lossopt_cli.schema import ConfigError
from lossopt_cli.training.preflight import check_data

sys.path.insert(0, str(Path(__file__).parent))
from sweep_fakes import write_run  # noqa: E402


def history(loss, val_loss=None, accuracy=None, val_accuracy=None):
    h = {"epoch": list(range(1, len(loss) + 1)), "loss": list(loss)}
    for key, values in (("accuracy", accuracy), ("val_loss", val_loss), ("val_accuracy", val_accuracy)):
        if values is not None:
            h[key] = list(values)
    return h


def decay(n, start, end, tau):
    return [end + (start - end) * math.exp(-t / tau) for t in range(n)]


def codes(result, warnings_only=True):
    return {f["code"] for f in result["findings"] if not warnings_only or f["severity"] != "info"}


def summary_with(constant_loss, n_classes=None):
    return {"data": {"n_classes": n_classes, "constant_model": {"loss": constant_loss}}}


# --- severity: a healthy run ends healthy, with notes ---------------------------------------------


def test_a_run_still_gently_improving_is_healthy_with_a_note():
    """The quickstart: val_loss 0.18 -> 0.125 over the last 5 of 10 epochs, far below ln(10)."""
    loss = decay(10, 1.2, 0.05, 2.5)
    val = decay(10, 0.9, 0.11, 3.0)
    result = diagnose_history(history(loss, val), summary=summary_with(2.3026, 10))
    assert result["verdict"] == "healthy"
    note = next(f for f in result["findings"] if f["code"] == "not_converged")
    assert note["severity"] == "info" and "more epochs would add a little" in note["message"]
    assert "not_converged" in next(f for f in result["findings"] if f["code"] == "healthy")["message"]


def test_a_run_cut_off_in_its_steep_descent_is_still_a_warning():
    loss = [2.3 - 0.1 * t for t in range(8)]
    result = diagnose_history(history(loss, [v + 0.05 for v in loss]), summary=summary_with(2.3026, 10))
    assert result["verdict"] == "not_converged"


def test_noisy_regression_at_its_floor_is_not_underfitting_nor_a_too_low_rate():
    """diabetes: the loss fell 'only 45%' because half the target's variance is noise."""
    loss = decay(40, 1.0, 0.52, 4.0)
    val = decay(40, 0.95, 0.55, 4.0)
    result = diagnose_history(history(loss, val), summary=summary_with(1.0))
    assert result["verdict"] == "healthy"
    assert not codes(result) & {"underfitting", "lr_too_low", "stalled"}
    at_floor = history([0.52 - 0.0005 * t for t in range(30)], [0.55 - 0.0004 * t for t in range(30)])
    assert not codes(diagnose_history(at_floor, summary=summary_with(1.0))) & {"lr_too_low", "stalled", "underfitting"}


def test_a_linear_model_far_from_what_other_runs_reach_is_underfitting():
    """friedman with no hidden layer: 88% fall from its first value, but the sweep's best run got 4x lower."""
    loss = decay(40, 2.0, 0.25, 3.0)
    val = [v + 0.01 for v in loss]
    h = history(loss, val)
    assert diagnose_history(h, summary=summary_with(1.0))["verdict"] == "healthy"  # alone it looks converged
    result = diagnose_history(h, summary=summary_with(1.0), reference={"val_loss": 0.06, "run": "mlp-64"})
    assert result["verdict"] == "underfitting"
    assert "above the best run on the same data" in next(f for f in result["findings"]
                                                         if f["code"] == "underfitting")["message"]


def test_a_loss_that_stays_near_the_constant_model_is_underfitting():
    loss = decay(30, 0.70, 0.60, 3.0)
    result = diagnose_history(history(loss, [v + 0.01 for v in loss]), summary=summary_with(0.69))
    assert result["verdict"] == "underfitting"


# --- learning-rate pathologies first ---------------------------------------------------------------


def test_a_learning_rate_far_too_high_is_unstable_not_overfitting():
    """adam lr 0.1 on digits: 3.4 -> 5.4 -> 3.6 -> 2.0 -> 2.5, above ln(10)."""
    loss = [3.4, 5.4, 3.6, 2.0, 2.5, 2.4, 2.6, 2.35, 2.5, 2.4]
    val = [2.9, 4.0, 2.4, 1.9, 2.6, 2.3, 2.8, 2.5, 2.9, 2.7]
    acc = [0.15, 0.12, 0.18, 0.22, 0.2, 0.21, 0.19, 0.2, 0.2, 0.21]
    result = diagnose_history(history(loss, val, acc, acc), summary=summary_with(2.3026, 10))
    assert result["verdict"] == "unstable"
    assert "overfitting" not in codes(result, warnings_only=False)
    f = next(f for f in result["findings"] if f["code"] == "lr_too_high")
    assert f["severity"] == "warning" and "learning rate is too high" in f["message"]
    assert "Divide the learning rate by 10" in f["suggestion"]
    # a plain CSVLogger history (no summary) still says unstable: it rose early and again
    assert diagnose_history(history(loss, val, acc, acc))["verdict"] == "unstable"


def test_a_wrong_output_layer_is_not_blamed_on_the_learning_rate():
    """linear output with categorical cross-entropy: stalls at 6.57, far above the prior's 2.30."""
    loss = [8.1, 6.9, 6.7, 6.6, 6.58, 6.57, 6.57, 6.56, 6.57, 6.57]
    cfg = {"loss": {"name": "categorical_crossentropy"}, "model": {"output_activation": "linear"}}
    result = diagnose_history(history(loss, [v + 0.1 for v in loss]), summary=summary_with(2.3026, 10), config=cfg)
    assert result["verdict"] == "stalled"
    advice = " ".join(f["suggestion"] for f in result["findings"])
    assert "output layer (linear)" in advice and "from_logits: true" in advice
    assert "Multiply the learning rate" not in advice and "overfitting" not in codes(result, warnings_only=False)
    relu = {"loss": {"name": "categorical_crossentropy"}, "model": {"output_activation": "relu"}}
    nan = diagnose_history(history([2.4, math.nan, math.nan]), config=relu)
    assert nan["verdict"] == "diverged"
    assert all("Divide the learning rate" not in f["suggestion"] for f in nan["findings"])


@pytest.mark.parametrize("model, loss, expected", [
    ({"type": "mlp", "output_activation": "linear"}, "categorical_crossentropy", "from_logits: true"),
    ({"type": "mlp", "output_activation": "relu"}, "sparse_categorical_crossentropy", "zeros give log 0"),
    ({"type": "mlp", "output_activation": "tanh"}, "categorical_crossentropy", "expects probabilities"),
])
def test_preflight_refuses_an_output_layer_that_cannot_feed_the_loss(model, loss, expected):
    raw = {"data": {"dataset": "iris"}, "loss": loss, "model": model}
    with pytest.raises(ConfigError) as err:
        check_data(config.validate(raw), offline=True)
    assert err.value.key == "model.output_activation" and expected in str(err.value)


def test_preflight_accepts_logits_and_refuses_sigmoid_regression_outside_0_1():
    ok = {"data": {"dataset": "iris"}, "loss": {"name": "categorical_crossentropy", "from_logits": True},
          "model": {"type": "mlp", "output_activation": "linear"}}
    check_data(config.validate(ok), offline=True)
    bad = {"data": {"dataset": "diabetes"}, "loss": "mse", "model": {"type": "mlp", "output_activation": "sigmoid"}}
    with pytest.raises(ConfigError, match="regression targets range from"):
        check_data(config.validate(bad), offline=True)


def test_the_constant_model_loss_is_the_class_prior_and_the_target_mean():
    import numpy as np

    from lossopt_cli.training.baseline import constant_model

    y = np.array([0, 0, 0, 1])
    assert constant_model(y, y, "integer", "sparse_categorical_crossentropy")["loss"] == pytest.approx(
        -(0.75 * math.log(0.75) + 0.25 * math.log(0.25)))
    values = np.array([1.0, 2.0, 3.0, 4.0])
    assert constant_model(values, values, "values", "mean_squared_error")["loss"] == pytest.approx(1.25)
    assert constant_model(values, values, "values", "hinge") == {}


# --- early stopping, oscillation against over-fitting, stalls, imbalance, val < train ------------


def early_stopped(patience=3, n_best=12):
    loss = decay(n_best + patience, 2.0, 0.05, 4.0)
    val = decay(n_best, 1.8, 0.3, 3.5) + [0.3 * (1 + 0.06 * (t + 1)) for t in range(patience)]
    return history(loss, val)


def test_an_early_stopping_tail_is_recognised_from_the_run_config():
    h = early_stopped(patience=5)
    alone = diagnose_history(h)
    assert alone["verdict"] == "overfitting"  # a bare history cannot know
    es = {"training": {"early_stopping": {"monitor": "val_loss", "patience": 5, "restore_best_weights": True}}}
    result = diagnose_history(h, config=es)
    assert result["verdict"] == "healthy"
    note = next(f for f in result["findings"] if f["code"] == "overfitting")
    assert note["severity"] == "info" and "EarlyStopping(patience=5)" in note["message"]
    assert "add early stopping" not in note["suggestion"].lower()


def test_a_zigzag_validation_loss_climbing_far_above_its_minimum_is_overfitting():
    n = 40
    loss = decay(n, 1.0, 0.01, 4.0)
    val = [0.6 - 0.03 * t for t in range(8)] + [0.4 + 0.02 * t + (0.08 if t % 2 else 0.0) for t in range(n - 8)]
    result = diagnose_history(history(loss, val))
    assert result["verdict"] == "overfitting"
    osc = next(f for f in result["findings"] if f["code"] == "oscillation")
    assert osc["severity"] == "info"


def test_a_wobble_around_the_first_value_at_a_tiny_rate_is_a_stall_not_underfitting():
    """lr 1e-7 with dropout: the training loss wobbles around 2.30."""
    loss = [2.30, 2.33, 2.27, 2.31, 2.26, 2.32, 2.28, 2.30, 2.27, 2.31, 2.29, 2.30, 2.26, 2.32, 2.28]
    acc = [0.1 + 0.02 * (t % 3) for t in range(len(loss))]
    result = diagnose_history(history(loss, [2.30] * len(loss), acc, [0.1] * len(loss)),
                              summary=summary_with(2.3026, 10))
    assert result["verdict"] == "stalled"
    assert "underfitting" not in codes(result)


def test_class_imbalance_from_a_plain_history():
    """accuracy frozen at the majority rate while the loss falls; no summary.json."""
    n = 20
    loss = decay(n, 0.69, 0.22, 4.0)
    result = diagnose_history(history(loss, [v + 0.01 for v in loss], [0.94] * n, [0.94] * n))
    assert "class_imbalance" in codes(result)
    stuck = diagnose_history(history([0.69] * n, [0.69] * n, [0.94] * n, [0.94] * n))
    assert "class_imbalance" not in codes(stuck)  # nothing learned: a stall, not an imbalance signature


def test_validation_below_training_in_the_early_epochs_is_normal():
    """Keras' training loss is the epoch mean: validation after the epoch is lower, like the next epoch's mean."""
    f = lambda t: 0.1 + 2.0 * math.exp(-t / 3.0)  # noqa: E731
    loss = [f(t) for t in range(10)]          # epoch means
    val = [f(t + 0.9) for t in range(10)]     # measured after the epoch
    assert "val_better_than_train" not in codes(diagnose_history(history(loss, val)), warnings_only=False)
    leak = [0.5 * v for v in loss]
    assert "val_better_than_train" in codes(diagnose_history(history(loss, leak)), warnings_only=False)
    regularized = {"model": {"dropout": 0.3}}
    assert "val_better_than_train" not in codes(diagnose_history(history(loss, leak), config=regularized),
                                                warnings_only=False)


# --- the leaderboard ------------------------------------------------------------------------------


def sweep(tmp_path, groups: dict[str, list[tuple[list[float], str | None]]]):
    for group, seeds in groups.items():
        for seed, (curve, verdict) in enumerate(seeds):
            write_run(tmp_path / f"{group}-seed{seed}", f"{group}-seed{seed}", curve, seed=seed, verdict=verdict,
                      config={"optimizer": {"name": group, "learning_rate": 0.01}})
    return collect([tmp_path])


def test_a_diverged_configuration_never_ranks_first_on_its_best_epoch(tmp_path):
    """per-example SGD: val_loss 0.57 -> 261, best epoch 0.2: it was #1 with 'diverged 0'."""
    records = sweep(tmp_path, {
        "sgd-b1": [([0.57, 0.2, 5.0, 261.0], "diverged")] * 3,
        "adam": [([0.6, 0.4, 0.35, 0.3], "healthy"), ([0.6, 0.41, 0.36, 0.31], "healthy"),
                 ([0.6, 0.42, 0.37, 0.32], "healthy")],
    })
    rows, notes = leaderboard.leaderboard(records)
    assert [r["config"] for r in rows] == ["adam", "sgd-b1"]
    assert rows[1]["diverged"] == 3 and rows[1]["best_val_loss_mean"] == pytest.approx(0.2)
    assert "sgd-b1 (3 diverged of 3 seeds)" in notes["flagged"]
    assert "optimistic" in notes["optimism"]


def test_an_unstable_configuration_does_not_outrank_a_healthy_one_with_a_similar_score(tmp_path):
    records = sweep(tmp_path, {
        "rmsprop-lr0.1": [([0.9, 0.5, 0.29], "unstable"), ([0.9, 0.6, 0.30], "healthy"),
                          ([0.9, 0.5, 0.31], "healthy")],
        "adam": [([0.9, 0.5, 0.30], "healthy"), ([0.9, 0.5, 0.31], "healthy"), ([0.9, 0.5, 0.32], "healthy")],
        "sgd": [([0.9, 0.8, 0.70], "healthy")] * 3,
    })
    rows, notes = leaderboard.leaderboard(records)
    assert [r["config"] for r in rows] == ["adam", "rmsprop-lr0.1", "sgd"]
    assert rows[1]["unstable"] == 1 and "rmsprop-lr0.1 (1 unstable of 3 seeds)" in notes["flagged"]


def test_intervals_stay_inside_the_metric_range(tmp_path):
    assert noise.bootstrap_interval([0.99, 1.0, 1.0], noise.metric_range("val_auc"))[1] <= 1.0
    assert noise.bootstrap_interval([0.001, 0.002, 0.05], noise.metric_range("val_loss"))[0] >= 0.0
    records = sweep(tmp_path, {"a": [([0.5, 0.001], None), ([0.5, 0.002], None), ([0.5, 0.05], None)]})
    rows, _ = leaderboard.leaderboard(records)
    assert rows[0]["final_val_loss_ci95_low"] >= 0.0  # a Student-t interval went to -0.039 here
    t_low = stats.interval95([0.001, 0.002, 0.05])[0]
    assert t_low < 0


def test_the_noise_call_with_3_seeds_says_how_sure_it_is():
    a, b = {0: 0.30, 1: 0.31, 2: 0.32}, {0: 0.33, 1: 0.35, 2: 0.34}
    result = noise.compare(a, b, lower_better=True)
    assert result["wins"] == 3 and result["p_value"] == pytest.approx(0.25) and result["call"] == "hint"
    assert "run more seeds" in noise.sentence("a", "b", result, "val_loss")
    mixed = noise.compare({0: 0.30, 1: 0.36, 2: 0.32}, {0: 0.33, 1: 0.31, 2: 0.34}, lower_better=True)
    assert mixed["call"] == "within noise"


def test_the_noise_call_with_10_seeds_can_be_sure():
    a = {s: 0.30 + 0.002 * s for s in range(10)}
    b = {s: 0.32 + 0.002 * s + (0.004 if s % 3 else -0.005) for s in range(10)}
    result = noise.compare(a, b, lower_better=True)
    assert result["call"] == "ahead" and result["p_value"] <= 0.05
    assert "ahead beyond seed noise" in noise.sentence("a", "b", result, "val_loss")
    same = {s: 0.30 + (0.01 if s % 2 else -0.01) for s in range(10)}
    other = {s: 0.30 + (0.01 if s % 3 else -0.01) for s in range(10)}
    assert noise.compare(same, other, lower_better=True)["call"] == "within noise"
    # higher-is-better metrics: the same call with the signs turned
    acc_a, acc_b = {s: 1 - v for s, v in a.items()}, {s: 1 - v for s, v in b.items()}
    assert noise.compare(acc_a, acc_b, lower_better=False)["call"] == "ahead"


def test_the_comparison_plot_shows_the_ranking_metric_for_16_configurations(tmp_path):
    from lossopt_cli.reporting import sweep_plots

    groups = {f"cfg{i:02d}": [([1.0, 0.5 + 0.01 * i], None)] for i in range(16)}
    records = sweep(tmp_path / "runs", groups)
    for r in records:
        r.history["val_auc"] = [0.5, 0.9 - 0.01 * int(r.group[3:])]
    assert sweep_plots.comparison_panels(records, "val_auc") == ["val_auc", "val_loss"]
    colours = {sweep_plots.line_style(i, sweep_plots._pyplot()) for i in range(16)}
    assert len(colours) == 16
    path = sweep_plots.plot_comparison(records, tmp_path / "comparison.png", sorted(groups), rank_by="val_auc")
    assert path.is_file() and path.stat().st_size > 10_000


def test_a_sweep_judges_under_fitting_against_the_best_run_on_the_same_data(tmp_path):
    from lossopt_cli import rundir
    from lossopt_cli.analysis.reference import apply_references

    data = {"data": {"dataset": "friedman"}, "loss": {"name": "mse"}, "seed": 0}
    mlp = decay(30, 1.0, 0.06, 4.0)
    linear = decay(30, 1.0, 0.25, 3.0)
    write_run(tmp_path / "mlp", "mlp", mlp, config={**data, "model": {"hidden_units": [64]}}, verdict="healthy")
    write_run(tmp_path / "linear", "linear", linear, config={**data, "model": {"hidden_units": []}}, verdict="healthy")
    records = collect([tmp_path])
    changed = apply_references(records)
    assert [r.name for r in changed] == ["linear"]
    diagnosis = rundir.read_json(tmp_path / "linear" / rundir.DIAGNOSIS)
    assert diagnosis["verdict"] == "underfitting" and diagnosis["reference_val_loss"] == pytest.approx(min(mlp))
    assert rundir.read_json(tmp_path / "linear" / rundir.SUMMARY)["verdict"] == "underfitting"


def test_the_default_target_of_a_score_near_1_is_not_reached_by_everyone_at_epoch_1(tmp_path):
    """rank_by: val_auc with AUCs of 0.99: 'within 10% of the best' was 0.89, reached at epoch 1."""
    records = sweep(tmp_path, {"a": [([0.5, 0.3, 0.2], None)], "b": [([0.5, 0.4, 0.3], None)]})
    for r in records:
        r.history["val_auc"] = [0.95, 0.985, 0.99] if r.group == "a" else [0.94, 0.97, 0.98]
    target = leaderboard.resolve_target(records, None, "val_auc")
    assert target["value"] == pytest.approx(0.99 - 0.001)
    rows, _ = leaderboard.leaderboard(records, rank_by="val_auc")
    assert [r["reached_target"] for r in rows] == ["1/1", "0/1"]


def test_a_run_interrupted_before_its_first_epoch_is_no_reference_and_does_not_crash_the_sweep_report(tmp_path):
    """Ctrl-C while a sweep's run was starting left a run directory with summary.json and no history.csv:
    the sweep's report crashed with 'No history at ...' (exit 2 instead of 130)."""
    from lossopt_cli import rundir
    from lossopt_cli.analysis.reference import apply_references

    data = {"data": {"dataset": "iris"}, "loss": {"name": "categorical_crossentropy"}, "seed": 0}
    write_run(tmp_path / "a", "a", decay(10, 1.0, 0.1, 3.0), config=data, verdict="healthy")
    write_run(tmp_path / "b", "b", decay(10, 1.0, 0.3, 3.0), config=data, verdict="healthy")
    started = tmp_path / "c"
    started.mkdir()
    rundir.atomic_write(started / rundir.CONFIG, yaml.safe_dump({"name": "c", **data}))
    rundir.write_json(started / rundir.SUMMARY, {"name": "c", "status": "interrupted", "epochs_run": 0})
    records = collect([tmp_path])
    assert {r.name: r.status for r in records}["c"] == "interrupted"
    changed = apply_references(records)
    assert "c" not in [r.name for r in changed]
    rows, _ = leaderboard.leaderboard(records, None, None)
    row = next(row for row in rows if row["config"] == "c")  # still on the leaderboard, with no numbers
    assert row["final_val_loss_mean"] is None and row["rank"] == len(rows)


# --- imbalance: per-class scores, the plain-history signature, and advice that fits what is tracked -----


def per_class_summary(recall_minority, support=(93, 7), counts=(247, 16), weight=None):
    return {"data": {"n_classes": 2, "class_counts": list(counts), "constant_model": {"loss": 0.23}},
            "per_class": {"split": "validation", "classes": ["none", "claim"], "support": list(support),
                          "recall": [0.99, recall_minority], "precision": [0.95, 0.5]}}


def test_a_minority_class_mostly_missed_is_never_healthy():
    """Issue 18: recall 0.03 on a 6% class was called healthy; recall 0.33 on a 3% class too."""
    loss = decay(20, 0.5, 0.17, 3.0)
    h = history(loss, [v + 0.03 for v in loss], [0.94] * 20, [0.94] * 20)
    for recall in (0.03, 0.33):
        result = diagnose_history(h, summary=per_class_summary(recall))
        assert result["verdict"] == "imbalanced"
        (f,) = [f for f in result["findings"] if f["code"] == "minority_missed"]
        assert "'claim'" in f["message"] and f["evidence"]["recall"] == recall
        assert "class_weight: balanced" in f["suggestion"]
    weighted = diagnose_history(h, summary=per_class_summary(0.3), config={"data": {"class_weight": "balanced"}})
    (f,) = [f for f in weighted["findings"] if f["code"] == "minority_missed"]
    assert "already weighted" in f["suggestion"]  # no advice to do what was done
    found = diagnose_history(h, summary=per_class_summary(0.8))
    assert found["verdict"] != "imbalanced" and "class_imbalance" not in codes(found)
    balanced = per_class_summary(0.3, support=(50, 50), counts=(130, 130))
    assert "minority_missed" not in codes(diagnose_history(h, summary=balanced))  # no minority: not this rule


def test_the_imbalance_advice_does_not_ask_to_track_what_is_tracked():
    n = 20
    loss = decay(n, 0.69, 0.22, 4.0)
    h = history(loss, [v + 0.01 for v in loss], [0.94] * n, [0.94] * n)
    (plain,) = [f for f in diagnose_history(h)["findings"] if f["code"] == "class_imbalance"]
    assert "metrics: [accuracy, precision, recall" in plain["suggestion"]
    h["val_recall"], h["val_pr_auc"] = [0.1] * n, [0.2] * n
    (tracked,) = [f for f in diagnose_history(h)["findings"] if f["code"] == "class_imbalance"]
    assert "track" not in tracked["suggestion"] and "recall, pr_auc" in tracked["suggestion"]


def test_accuracy_that_rose_is_never_described_as_unchanged():
    """A LossoptCallback run was told accuracy was 'unchanged for the whole run' when it rose 0.949 -> 0.970."""
    acc = [0.90, 0.949, 0.955, 0.962, 0.966, 0.970]
    loss = decay(6, 0.40, 0.08, 2.0)
    result = diagnose_history(history(loss, [v + 0.01 for v in loss], acc, acc))
    assert "class_imbalance" not in codes(result, warnings_only=False)
    assert not [f for f in result["findings"] if "unchanged" in f["message"]]
