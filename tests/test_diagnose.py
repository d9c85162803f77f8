"""Each diagnosis rule on synthetic histories: a case it must catch and a case it must leave alone."""

from __future__ import annotations

import math

import pytest

from lossopt_cli.analysis.diagnose import (
    CODES,
    VERDICTS,
    diagnose_history,
    generalization_loss,
    simulate_early_stopping,
    up_strips,
)
from lossopt_cli.analysis.thresholds import THRESHOLDS
from lossopt_cli.commands import parse_codes
from lossopt_cli.schema import ConfigError


def history(loss, val_loss=None, accuracy=None, val_accuracy=None, learning_rate=None):
    h = {"epoch": list(range(1, len(loss) + 1)), "loss": list(loss)}
    for key, values in (("accuracy", accuracy), ("val_loss", val_loss), ("val_accuracy", val_accuracy),
                        ("learning_rate", learning_rate)):
        if values is not None:
            h[key] = list(values)
    return h


def decay(n, start=2.0, end=0.1, tau=5.0):
    return [end + (start - end) * math.exp(-t / tau) for t in range(n)]


def healthy(n=30):
    loss = decay(n, tau=3.0)
    return history(loss, [v + 0.05 for v in loss], [min(0.99, 1 - v / 2.2) for v in loss],
                   [min(0.97, 1 - v / 2.1) for v in loss])


def overfitted(n=40, onset=10):
    loss = decay(n, 2.0, 0.001, 4.0)
    val = [0.5 + 0.6 * math.exp(-t / 3) + (0.02 * (t - onset) if t > onset else 0.0) for t in range(n)]
    return history(loss, val, [min(1.0, 1 - v / 2.1) for v in loss], [0.85] * n)


def codes(result):
    return {f["code"] for f in result["findings"]}


def test_healthy_run_has_only_the_healthy_finding():
    result = diagnose_history(healthy())
    assert result["verdict"] == "healthy"
    assert codes(result) <= {"healthy", "plateau"}
    assert "healthy" in codes(result)


def test_every_finding_has_the_contract_fields_and_known_codes():
    for h in (healthy(), overfitted(), history([1.0, float("nan")])):
        result = diagnose_history(h)
        assert result["verdict"] in VERDICTS
        for f in result["findings"]:
            assert set(f) == {"code", "severity", "epoch", "message", "evidence", "suggestion"}
            assert f["code"] in CODES and f["severity"] in ("info", "warning", "error")
            assert f["epoch"] is None or 1 <= f["epoch"] <= len(h["loss"])
            assert all(v is None or isinstance(v, (int, float)) for v in f["evidence"].values())


# --- over-fitting ---------------------------------------------------------------------------------


def test_overfitting_onset_is_the_minimum_of_validation_loss_with_early_stopping_advice():
    h = overfitted()
    result = diagnose_history(h)
    assert result["verdict"] == "overfitting"
    f = next(f for f in result["findings"] if f["code"] == "overfitting")
    best = min(range(len(h["val_loss"])), key=h["val_loss"].__getitem__)
    assert f["epoch"] == best + 1 == result["onset_epoch"]
    assert f["evidence"]["gl_percent"] == pytest.approx(100 * (h["val_loss"][-1] / h["val_loss"][best] - 1), rel=1e-3)
    assert f["evidence"]["early_stopping_epoch"] == best + 1 + 3
    assert f"would have stopped at epoch {best + 4}" in f["suggestion"]
    assert f["evidence"]["train_loss_fall_after_onset"] > 0.9


def test_a_small_rise_of_validation_loss_is_not_overfitting():
    loss = decay(30)
    val = [v + 0.05 for v in loss]
    val[-2:] = [val[-3] * 1.01, val[-3] * 1.02]  # +2%: noise, not over-fitting
    assert "overfitting" not in codes(diagnose_history(history(loss, val)))


def test_memorization_with_a_flat_validation_loss_is_overfitting_by_the_gap_ratio():
    n = 40
    loss = [0.5 * 0.8 ** t for t in range(n)]  # training loss goes to ~0
    val = [0.6, 0.4, 0.3] + [0.31] * (n - 3)    # validation flat just above its minimum (GL 3%)
    f = next(f for f in diagnose_history(history(loss, val))["findings"] if f["code"] == "overfitting")
    assert "gap ratio" in f["message"] and f["epoch"] == 3
    level = [0.5 * 0.8 ** t for t in range(4)] + [0.5 * 0.8 ** 3] * (n - 4)  # training levels off near validation
    assert "overfitting" not in codes(diagnose_history(history(level, val)))


def test_overfitting_threshold_comes_from_the_thresholds():
    assert "overfitting" not in codes(diagnose_history(overfitted(), {"overfitting_gl": 1000, "overfitting_gap_ratio": 1e9}))


def test_prechelt_criteria():
    val = [1.0, 0.8, 0.5, 0.6, 0.55, 0.7, 0.65, 0.8]
    assert generalization_loss(val, 2) == 0
    assert generalization_loss(val, 7) == pytest.approx(60.0)
    assert up_strips(val, 7, 2) == 2  # 0.8 > 0.7 (epochs 7, 5), 0.7 > 0.6 (5, 3), but 0.6 < 0.8 (3, 1)
    es = simulate_early_stopping(val, patience=3)
    assert es == {"stopped": 5, "restored": 2, "val_loss": 0.5}
    assert simulate_early_stopping([3, 2, 1], patience=3) is None


# --- divergence -----------------------------------------------------------------------------------


def test_nan_loss_is_divergence_at_its_epoch():
    result = diagnose_history(history([2.0, 1.5, 40.0, float("nan"), float("nan")], [2.1, 1.6, 50.0, float("nan"),
                                                                                   float("nan")]))
    assert result["verdict"] == "diverged"
    f = next(f for f in result["findings"] if f["code"] == "diverged")
    assert f["epoch"] == 4 and f["severity"] == "error"
    assert "lr_too_high" in codes(result)


def test_loss_above_1e3_explodes_and_a_blow_up_that_stays_diverges():
    result = diagnose_history(history([1.0, 0.8, 5000.0, 3000.0, 2500.0]))
    assert {"exploding_loss", "diverged"} <= codes(result)
    blow = diagnose_history(history([1.0, 0.5, 0.4, 9.0, 8.0, 8.5]))
    assert {"exploding_loss", "diverged"} <= codes(blow)
    assert next(f for f in blow["findings"] if f["code"] == "exploding_loss")["epoch"] == 4


def test_a_validation_loss_that_ends_exploded_is_divergence():
    result = diagnose_history(history([5.0, 0.6, 0.5, 0.4, 0.3], [2e5, 3e5, 1e6, 9e5, 9e5]))
    assert result["verdict"] == "diverged"
    assert next(f for f in result["findings"] if f["code"] == "diverged")["epoch"] == 1
    assert "diverged" not in codes(diagnose_history(history([5.0, 0.6, 0.5, 0.4, 0.3], [2e5, 3.0, 1.0, 0.9, 0.9])))


def test_a_spike_that_recovers_is_unstable_not_diverged():
    result = diagnose_history(history([1.0, 0.5, 0.4, 9.0, 0.35, 0.3, 0.3, 0.29]))
    assert "exploding_loss" in codes(result) and "diverged" not in codes(result)
    assert result["verdict"] == "unstable"


def test_a_blow_up_after_which_nothing_is_learned_is_divergence():
    flat_after = [3e8] + [4.9, 4.5, 5.1, 4.4, 5.5] * 5           # lands near 5 and never learns again
    assert diagnose_history(history(flat_after))["verdict"] == "diverged"
    learns_after = [3e8] + [5.0 * 0.7 ** t for t in range(25)]  # lands, then learns
    result = diagnose_history(history(learns_after))
    assert result["verdict"] == "unstable" and "diverged" not in codes(result)


def test_finite_decreasing_loss_never_diverges():
    assert not codes(diagnose_history(healthy())) & {"diverged", "exploding_loss", "lr_too_high"}


# --- progress ---------------------------------------------------------------------------------------


def test_unchanged_loss_is_stalled():
    result = diagnose_history(history([2.302 - 1e-5 * t for t in range(20)], [2.303] * 20))
    assert result["verdict"] == "stalled"
    assert {"stalled", "lr_too_low"} <= codes(result)


def test_steady_but_tiny_progress_means_learning_rate_too_low():
    result = diagnose_history(history([2.3 - 0.005 * t for t in range(20)]))
    assert "lr_too_low" in codes(result) and "stalled" not in codes(result)
    h = history([2.3 - 0.005 * t for t in range(20)], learning_rate=[1e-5] * 20)
    f = next(f for f in diagnose_history(h)["findings"] if f["code"] == "lr_too_low")
    assert "0.0001" in f["suggestion"]


def test_plateau_after_progress():
    loss = decay(10) + [decay(10)[-1]] * 10
    assert "plateau" in codes(diagnose_history(history(loss)))
    assert "plateau" not in codes(diagnose_history(history([2.0 - 0.09 * t for t in range(20)])))


def test_still_falling_at_the_last_epoch_is_not_converged():
    loss = [2.0 - 0.09 * t for t in range(20)]
    result = diagnose_history(history(loss, [v + 0.1 for v in loss]))
    assert result["verdict"] == "not_converged"
    assert "not_converged" not in codes(diagnose_history(healthy()))


def test_flat_and_poor_accuracy_is_underfitting():
    n = 20
    loss = decay(n, 1.2, 0.69, 2.0)
    result = diagnose_history(history(loss, [v + 0.01 for v in loss], [0.6] * n, [0.59] * n))
    assert result["verdict"] == "underfitting"
    assert "underfitting" not in codes(diagnose_history(healthy()))


def test_accuracy_at_chance_is_underfitting_when_the_summary_knows_the_classes():
    n = 20
    loss = decay(n, 2.4, 2.0, 3.0)
    h = history(loss, loss, [0.11 + 0.001 * (t % 2) for t in range(n)], [0.1] * n)
    result = diagnose_history(h, summary={"data": {"n_classes": 10}})
    assert "underfitting" in codes(result)


# --- oscillation ------------------------------------------------------------------------------------


def test_repeated_rises_are_oscillation_and_learning_rate_too_high():
    loss = [1.0, 0.6, 0.9, 0.5, 0.85, 0.45, 0.8, 0.5, 0.75, 0.4]
    result = diagnose_history(history(loss, learning_rate=[0.3] * len(loss)))
    assert result["verdict"] == "unstable"
    assert {"oscillation", "lr_too_high"} <= codes(result)
    f = next(f for f in result["findings"] if f["code"] == "lr_too_high")
    assert "by about 3 (to about 0.1)" in f["suggestion"]


def test_a_zigzag_validation_loss_is_oscillation():
    loss = decay(20, 0.6, 0.3)
    val = [0.62, 0.5, 0.41, 0.46, 0.41, 0.48, 0.39, 0.45, 0.37, 0.44, 0.36] + [0.36] * 9
    f = next(f for f in diagnose_history(history(loss, val))["findings"] if f["code"] == "oscillation")
    assert f["evidence"]["validation_peaks"] == 4 and f["epoch"] == 4
    smooth = [v + 0.05 for v in loss]
    assert "oscillation" not in codes(diagnose_history(history(loss, smooth)))


def test_small_noise_is_not_oscillation():
    loss = [v * (1.01 if t % 2 else 1.0) for t, v in enumerate(decay(30))]
    assert "oscillation" not in codes(diagnose_history(history(loss)))


# --- accuracy rules ---------------------------------------------------------------------------------


def test_generalization_gap_on_accuracy():
    n = 20
    loss = decay(n)
    assert "generalization_gap" in codes(diagnose_history(history(loss, loss, [0.99] * n, [0.8] * n)))
    assert "generalization_gap" not in codes(diagnose_history(history(loss, loss, [0.9] * n, [0.88] * n)))


def test_validation_better_than_training():
    loss = decay(20)
    assert "val_better_than_train" in codes(diagnose_history(history(loss, [0.7 * v for v in loss])))
    assert "val_better_than_train" not in codes(diagnose_history(history(loss, [0.97 * v for v in loss])))


def test_overconfidence_validation_loss_rises_while_accuracy_holds():
    assert "overconfidence" in codes(diagnose_history(overfitted()))  # val_accuracy constant 0.85
    h = overfitted()
    h["val_accuracy"] = [0.85] * 11 + [0.85 - 0.01 * t for t in range(1, len(h["loss"]) - 10)]
    assert not any(f["code"] == "overconfidence" and f["severity"] == "warning"
                   for f in diagnose_history(h)["findings"])


def test_overconfidence_training_loss_falls_while_accuracy_is_flat():
    n = 20
    loss = [0.5 * 0.7 ** t for t in range(n)]
    f = [f for f in diagnose_history(history(loss, accuracy=[1.0] * n))["findings"] if f["code"] == "overconfidence"]
    assert f and f[0]["severity"] == "info"
    rising_acc = [0.5 + 0.02 * t for t in range(n)]
    assert "overconfidence" not in codes(diagnose_history(history(loss, accuracy=rising_acc)))


def test_class_imbalance_accuracy_at_the_majority_rate():
    n = 15
    loss = decay(n, 0.7, 0.3)
    h = history(loss, loss, [0.9] * n, [0.9] * n)
    assert "class_imbalance" in codes(diagnose_history(h, summary={"data": {"n_classes": 2}}))
    assert "class_imbalance" in codes(diagnose_history(h, summary={"data": {"majority_class_rate": 0.9}}))
    moving = history(loss, loss, [0.6 + 0.02 * t for t in range(n)], [0.6 + 0.02 * t for t in range(n)])
    assert "class_imbalance" not in codes(diagnose_history(moving, summary={"data": {"n_classes": 2}}))


# --- odd histories ----------------------------------------------------------------------------------


@pytest.mark.parametrize("h", [
    history([1.0]),
    history([1.0], [1.1], [0.5], [0.4]),
    {"epoch": [], "loss": []},
    history(decay(10)),                                  # no validation, no accuracy
    history(decay(10), [float("nan")] * 10),             # validation all NaN
    history([1.0, float("inf"), float("nan")]),
    {"epoch": [1, 2, 3], "mae": [3.0, 2.0, 1.5], "val_mae": [3.1, 2.2, 1.9]},  # no 'loss' column
])
def test_odd_histories_give_a_verdict(h):
    result = diagnose_history(h)
    assert result["verdict"] in VERDICTS
    assert result["findings"]


def test_validation_every_other_epoch_is_not_divergence_and_still_shows_overfitting():
    h = overfitted()
    h["val_loss"] = [v if i % 2 else float("nan") for i, v in enumerate(h["val_loss"])]  # fit(validation_freq=2)
    result = diagnose_history(h)
    assert "diverged" not in codes(result)
    assert result["verdict"] == "overfitting"
    h["val_loss"][-6:] = [float("nan")] * 6  # but a validation loss that ends NaN for good diverged
    assert diagnose_history(h)["verdict"] == "diverged"


def test_a_history_without_any_loss_is_a_clear_error():
    with pytest.raises(ConfigError, match="no loss column .*columns: accuracy"):
        diagnose_history({"epoch": [1, 2], "accuracy": [0.5, 0.6]})


def test_one_epoch_is_too_short_to_judge():
    result = diagnose_history(history([1.0], [1.1]))
    assert result["verdict"] == "not_converged"


def test_no_validation_skips_the_validation_rules_and_says_so():
    result = diagnose_history(history(decay(20)))
    assert any("no validation" in s for s in result["skipped"])


# --- thresholds -------------------------------------------------------------------------------------


def test_every_threshold_is_documented_and_its_default_is_valid():
    for key, param in THRESHOLDS.items():
        assert param.doc, key
        assert param.constraint(param.default, f"diagnostics.{key}") == param.default


def test_bad_thresholds_are_config_errors_naming_the_key():
    with pytest.raises(ConfigError, match="diagnostics.overfitting_gl must be a number > 0"):
        diagnose_history(healthy(), {"overfitting_gl": -1})
    with pytest.raises(ConfigError, match="Unknown key diagnostics.overfiting_gl.*Did you mean 'overfitting_gl'"):
        diagnose_history(healthy(), {"overfiting_gl": 5})


def test_config_accepts_diagnostics_keys(tmp_path):
    from lossopt_cli import config

    path = tmp_path / "c.yaml"
    path.write_text("data: {dataset: iris}\nloss: categorical_crossentropy\ndiagnostics: {overfitting_gl: 20}\n")
    assert config.load(path).diagnostics["overfitting_gl"] == 20.0
    path.write_text("data: {dataset: iris}\nloss: categorical_crossentropy\ndiagnostics: {strip_length: 0}\n")
    with pytest.raises(ConfigError, match="diagnostics.strip_length"):
        config.load(path)


def test_parse_codes():
    assert parse_codes("overfitting, diverged") == ["overfitting", "diverged"]
    assert parse_codes(None) == []
    with pytest.raises(ConfigError, match="Unknown diagnosis code 'diverge'.*Did you mean 'diverged'"):
        parse_codes("diverge")


def test_a_large_loss_from_the_first_epoch_is_the_target_scale_not_divergence():
    """MSE on raw targets in the hundreds starts near 1.7e5 and falls slowly: not a blow-up."""
    loss = [172664.0 * (1 - 0.002 * i) for i in range(30)]
    found = codes(diagnose_history(history(loss, [1.1 * v for v in loss])))
    assert "diverged" not in found and "exploding_loss" not in found


def test_a_large_loss_is_divergence_for_classification_and_after_a_blow_up_inside_epoch_one():
    # with an accuracy column the loss starts near ln(classes): 5e3 is a blow-up
    result = diagnose_history(history([5e3] * 10, [6e3] * 10, accuracy=[0.1] * 10, val_accuracy=[0.1] * 10))
    assert result["verdict"] == "diverged"
    # regression that blew up inside epoch 1 (1e14) and never came back below the level
    loss = [1.15e14, 1.07e13, 2.9e11, 2.6e10] + [3.8e7] * 26
    assert diagnose_history(history(loss, [8e9] * 30))["verdict"] == "diverged"
