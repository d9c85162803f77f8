"""The diagnosis corpus (benchmarks/diagnosis): its labelling rule says what its README says, and its held-out
third is the hashed third, kept apart from the tuning part."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "diagnosis"
sys.path.insert(0, str(BENCH))

from label_rule import label  # noqa: E402


def facts(loss, val, test=None, **kw):
    n = len(loss)
    base = {"loss": loss, "val_loss": val, "test_curve": test if test is not None else list(val),
            "test_loss": (test or val)[-1], "restored": False, "train_baseline": 1.0, "minority_prevalence": None,
            "minority_recall": None, "reference_test_loss": min(test or val), "test_baseline": 1.0}
    assert n == len(val)
    return {**base, **kw}


FALLING = [1.0, 0.6, 0.45, 0.38, 0.34, 0.32, 0.31, 0.30, 0.30, 0.295]


def test_healthy_run_near_the_best_on_its_split():
    assert label(facts(FALLING, [v + 0.02 for v in FALLING]))[0] == "healthy"


def test_non_finite_loss_is_diverged():
    assert label(facts([1.0, 5.0, float("nan")], [1.0, 6.0, float("nan")]))[0] == "diverged"


def test_three_jumps_of_the_training_loss_are_unstable():
    loss = [1.0, 0.6, 0.8, 0.5, 0.7, 0.4, 0.6, 0.45]
    assert label(facts(loss, loss))[0] == "unstable"


def test_overfitting_needs_the_test_loss_to_rise_too():
    loss = [1.0, 0.5, 0.3, 0.2, 0.1, 0.05, 0.03, 0.02]
    val = [1.0, 0.6, 0.5, 0.55, 0.6, 0.7, 0.8, 0.9]
    assert label(facts(loss, val, test=[1.0, 0.6, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75]))[0] == "overfitting"
    flat_test = facts(loss, val, test=[1.0, 0.6, 0.5, 0.5, 0.5, 0.5, 0.5, 0.51])
    assert label(flat_test)[0] != "overfitting"


def test_restored_best_weights_are_not_overfitting():
    loss = [1.0, 0.5, 0.3, 0.2, 0.1, 0.05, 0.03, 0.02]
    val = [1.0, 0.6, 0.5, 0.55, 0.6, 0.7, 0.8, 0.9]
    f = facts(loss, val, test=[1.0, 0.6, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75], restored=True, test_loss=0.5,
              reference_test_loss=0.48)
    assert label(f)[0] == "healthy"


def test_a_loss_that_does_not_move_is_stalled():
    loss = [1.0, 0.99, 0.99, 0.98, 0.98, 0.98]
    assert label(facts(loss, loss, train_baseline=0.7))[0] == "stalled"


def test_rare_class_missed_is_imbalance_even_when_the_loss_falls_to_the_prior():
    loss = [0.7, 0.4, 0.3, 0.27, 0.26, 0.26, 0.26]
    f = facts(loss, loss, train_baseline=0.26, minority_prevalence=0.07, minority_recall=0.0)
    assert label(f)[0] == "imbalance"
    assert label({**f, "minority_recall": 0.7})[0] == "healthy"
    assert label({**f, "minority_recall": 0.5})[0] == "unclear"


def test_levelled_off_far_from_the_best_without_a_gap_is_underfitting():
    loss = [1.0, 0.7, 0.62, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]
    f = facts(loss, [v + 0.01 for v in loss], train_baseline=1.0, reference_test_loss=0.3)
    assert label(f)[0] == "underfitting"


@pytest.mark.parametrize("part", ["", "-holdout"])
def test_the_held_out_third_is_the_hashed_third(part):
    from make_corpus import held_out

    path = BENCH / f"corpus-labels{part}.csv"
    if not path.exists():
        pytest.skip("the corpus has not been labelled in this checkout")
    rows = list(csv.DictReader(open(path)))
    assert rows
    for row in rows:
        name = Path(row["file"]).name.removesuffix(".csv")
        assert held_out(name) == (part == "-holdout"), row["file"]
        assert (BENCH / row["file"]).exists(), row["file"]
        assert row["file"].startswith("corpus-holdout/" if part else "corpus/")


@pytest.mark.parametrize("fresh", ["fresh", "fresh2"])
def test_each_fresh_held_out_set_is_other_seeds_of_the_same_recipes(fresh):
    from make_corpus import FRESH_SETS, fresh_set, recipes

    path = BENCH / f"corpus-labels-{fresh}.csv"
    if not path.exists():
        pytest.skip(f"the {fresh} set has not been labelled in this checkout")
    rows = list(csv.DictReader(open(path)))
    recipes_of_set = {r["name"]: r for r in recipes(fresh)}
    corpus_seeds = {r["seed"] for r in recipes()}
    assert rows and FRESH_SETS[fresh] not in corpus_seeds and len(set(FRESH_SETS.values())) == len(FRESH_SETS)
    assert {r["seed"] for r in recipes_of_set.values()} == {FRESH_SETS[fresh]}
    for row in rows:
        name = Path(row["file"]).name.removesuffix(".csv")
        assert fresh_set(name) == fresh and name in recipes_of_set, row["file"]
        assert row["file"].startswith(f"corpus-{fresh}/") and (BENCH / row["file"]).exists(), row["file"]
