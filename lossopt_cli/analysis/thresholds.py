"""Thresholds of the reporter: the keys allowed under ``diagnostics:`` with their defaults.

Each rule of ``analysis.diagnose`` reads its numbers from here, so a config can change any of
them (``diagnostics: {overfitting_gl: 10}``) and ``config.py`` validates them like every other key.
"""

from __future__ import annotations

from ..schema import Float, Int, Param

_FRACTION = Float(0, 1, low_open=True)

THRESHOLDS: dict[str, Param] = {
    # --- over-fitting (Prechelt 1998, "Early stopping - but when?") -----------------------------
    "strip_length": Param(5, Int(1), "k, the length in epochs of Prechelt's training strips (PQ, UP_s)"),
    "overfitting_gl": Param(15.0, Float(0, low_open=True),
                            "generalization loss GL = 100*(val_loss/min val_loss - 1), in percent, at the last "
                            "epoch above which the run over-fitted; below it, a run called by UP_s or the gap "
                            "ratio gets an over-fitting note (memorizing, validation not yet hurt)"),
    "overfitting_min_epochs": Param(3, Int(1), "epochs after the validation-loss minimum before over-fitting is "
                                               "called (the rise must last)"),
    "up_strips": Param(2, Int(1), "s of Prechelt's UP_s: validation loss up at s successive strip ends also calls "
                                  "over-fitting when GL is at least half of overfitting_gl"),
    "overfitting_gap_ratio": Param(3.0, Float(1, low_open=True),
                                   "val_loss at least this many times the training loss at the end, after at least "
                                   "strip_length epochs without a new validation minimum while the training loss "
                                   "fell by overfitting_train_fall, also calls over-fitting (memorization)"),
    "overfitting_train_fall": Param(0.5, _FRACTION, "fraction by which the training loss must fall after the onset "
                                                    "for the gap-ratio criterion"),
    "early_stopping_patience": Param(3, Int(1), "patience of the simulated keras.callbacks.EarlyStopping in the "
                                                "suggestion"),
    "early_stopping_min_delta": Param(0.0, Float(0), "min_delta of the simulated EarlyStopping"),
    # --- accuracy gaps and confidence ---------------------------------------------------------------
    "gap_accuracy": Param(0.1, _FRACTION, "train accuracy minus validation accuracy (mean of the last strip) "
                                          "above which there is a generalization gap"),
    "val_better_margin": Param(0.1, _FRACTION, "validation loss below (1 - margin) x training loss over the "
                                               "last strip: validation better than training"),
    "overconfidence_accuracy_tolerance": Param(0.01, _FRACTION, "validation accuracy that still 'holds' may "
                                                                "drop at most this much while val_loss rises"),
    "overconfidence_loss_drop": Param(0.3, _FRACTION, "training loss falling by this fraction over the last "
                                                      "strip while training accuracy is flat: over-confidence"),
    "accuracy_flat": Param(0.005, _FRACTION, "an accuracy that moves less than this over a strip is flat"),
    # --- divergence --------------------------------------------------------------------------------
    "explode_loss": Param(1e3, Float(0, low_open=True), "a loss at or above this value is exploding"),
    "explode_span": Param(1e4, Float(1, low_open=True),
                          "without an accuracy column, a loss above explode_loss from the first epoch counts as "
                          "exploding only if its largest value is this many times its smallest (a blow-up "
                          "inside epoch 1); otherwise it is the target's scale"),
    "blowup_factor": Param(10.0, Float(1, low_open=True), "a loss this many times its lowest earlier value "
                                                          "has blown up"),
    # --- progress: stalled, too-small learning rate, plateau, under-fitting ------------------------
    "stall_progress": Param(0.01, _FRACTION, "relative fall of the training loss over the whole run below which "
                                             "the run stalled"),
    "slow_progress": Param(0.1, _FRACTION, "relative fall over the whole run below which a steadily falling loss "
                                           "means a learning rate too low"),
    "plateau_window": Param(5, Int(2), "epochs at the end over which the loss is checked for a plateau"),
    "plateau_min_delta": Param(0.005, _FRACTION, "relative improvement of the loss over plateau_window below "
                                                 "which it has plateaued"),
    "not_converged_improvement": Param(0.02, _FRACTION, "relative improvement of the monitored loss over the "
                                                         "last strip above which the run had not converged"),
    "underfit_accuracy": Param(0.8, _FRACTION, "not used since a low accuracy alone is no evidence of under-fitting "
                                               "(data at their noise ceiling); kept so older config.yaml files load"),
    # --- minority classes (per-class scores in summary.json) ------------------------------------------
    "minority_share": Param(0.2, _FRACTION, "a class below this share of the training samples (and below half "
                                            "of an even share) is a minority class, judged on its own recall"),
    "minority_recall": Param(0.5, _FRACTION, "a minority class found less often than this (recall on the "
                                             "validation split) is mostly missed: verdict imbalanced"),
    "minority_min_support": Param(5, Int(1), "validation samples a minority class needs before its recall is "
                                             "judged"),
    "underfit_window_fall": Param(0.05, _FRACTION, "relative fall of the training loss over plateau_window below "
                                                   "which a poor run has stopped learning (under-fitting)"),
    "underfit_progress": Param(0.5, _FRACTION, "not used since under-fitting is judged against the constant-model "
                                               "loss (underfit_baseline_ratio); kept so older config.yaml files load"),
    "underfit_baseline_ratio": Param(0.75, _FRACTION, "a flattened run whose training loss stays above this fraction "
                                                      "of the constant-model loss (class prior / target mean, from "
                                                      "summary.json) under-fits"),
    "signal_gain": Param(0.2, _FRACTION, "a run settled at the constant model's loss stalled (the inputs give "
                                         "little to learn) when a reference (data.reference_fit or the best run on "
                                         "the same data) beats the constant model by less than this "
                                         "fraction; otherwise, or with no reference, it under-fits (capacity)"),
    "underfit_reference_margin": Param(0.25, Float(0, low_open=True),
                                       "a flattened run whose validation loss ends this fraction above the best of "
                                       "the runs on the same data (a sweep) and close to its training loss "
                                       "under-fits"),
    "underfit_reference_share": Param(0.1, _FRACTION, "and that excess is at least this share of what separates the "
                                                      "best run from the constant model (when its loss is known)"),
    "not_converged_share": Param(0.1, _FRACTION, "still falling at the end is a warning (not a note) when the last "
                                                 "strip brought more than this share of the loss' whole fall"),
    "early_rise": Param(0.1, _FRACTION, "the training loss rising by this fraction over the previous epoch within "
                                        "the first epochs: the learning rate or the set-up is wrong"),
    "chance_margin": Param(0.05, _FRACTION, "accuracy within this of chance (1/classes) or of the majority-class "
                                            "rate is stuck there"),
    # --- oscillation -----------------------------------------------------------------------------
    "oscillation_tolerance": Param(0.02, _FRACTION, "a rise of the training loss bigger than this fraction of "
                                                    "its first value (and than oscillation_rise of the epoch "
                                                    "before) counts as one oscillation"),
    "oscillation_rise": Param(0.1, _FRACTION, "a rise of the training loss counts as one oscillation only when it "
                                              "is at least this fraction of the previous epoch's loss (late in "
                                              "training a jump is judged against where the loss is, not where it "
                                              "started)"),
    "oscillation_min_rises": Param(3, Int(1), "rises beyond the tolerance needed to call oscillation"),
}


def defaults() -> dict:
    """Every threshold at its default value."""
    return {key: param.default for key, param in THRESHOLDS.items()}
