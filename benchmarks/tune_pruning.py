"""Pruning by diagnosis against Optuna's MedianPruner, replayed on the same trials (benchmarks/README.md).

Input: sweep directories made by ``lossopt sweep benchmarks/tune/nopruning_*.yaml`` (``mode: tune`` with
``prune: none``: every trial trained to its last epoch). For each study the trials are replayed in their
order, epoch by epoch, through (a) lossopt's rules (``analysis.pruning.prune_reason`` against the best
finished, unpruned trial so far, as ``PruneCallback`` does with one worker) and (b) ``optuna.pruners.MedianPruner()``
(its defaults) in an in-memory study. Per data set: the epochs trained, the share saved, whether each
configuration's best trial and the ranking of the configurations stay the same, and the false prunes (a
pruned trial that would have ended in the top quarter of its study).

    python benchmarks/tune_pruning.py outputs/nopruning_quickstart-* outputs/nopruning_breast_cancer_crossentropy-*
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import optuna

from lossopt_cli import rundir
from lossopt_cli.analysis.pruning import prune_reason


def curves(sweep_dir: Path) -> dict[str, list[list[float]]]:
    """Study name -> its trials' val_loss curves, in trial order."""
    storage = f"sqlite:///{sweep_dir / 'optuna.db'}"
    out = {}
    for summary in optuna.get_all_study_summaries(storage):
        study = optuna.load_study(study_name=summary.study_name, storage=storage)
        out[summary.study_name] = [rundir.read_history(Path(t.user_attrs["run_dir"]) / rundir.HISTORY)["val_loss"]
                                   for t in sorted(study.trials, key=lambda t: t.number) if "run_dir" in t.user_attrs]
    return out


def best(curve):
    finite = [v for v in curve if math.isfinite(v)]
    return min(finite) if finite else math.inf


def replay_diagnosis(trials, epochs):
    stopped, reference, ref_best = [], None, math.inf
    for curve in trials:
        at = next((e for e in range(1, len(curve) + 1) if (r := prune_reason(curve[:e], epochs, reference))
                   and not r.startswith("diverged")), None)
        stopped.append(at)
        if at is None and best(curve) < ref_best:
            reference, ref_best = curve, best(curve)
    return stopped


def replay_median(trials):
    study = optuna.create_study(pruner=optuna.pruners.MedianPruner(), sampler=optuna.samplers.RandomSampler(0))
    stopped = []
    for curve in trials:
        trial, at = study.ask(), None
        for e, v in enumerate(curve, start=1):
            if not math.isfinite(v):
                break
            trial.report(v, e)
            if trial.should_prune():
                at = e
                break
        stopped.append(at)
        if at is not None or not math.isfinite(best(curve)):
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            study.tell(trial, best(curve))
    return stopped


def score(studies, method, epochs):
    full = used = false = pruned = 0
    same_best, rank_full, rank_kept = True, {}, {}
    for name, trials in studies.items():
        stopped = method(trials, epochs) if method is replay_diagnosis else method(trials)
        finals = [best(c) for c in trials]
        top = sorted(finals)[:max(1, len(finals) // 4)]
        full += sum(len(c) for c in trials)
        used += sum(len(c) if s is None else s for c, s in zip(trials, stopped))
        pruned += sum(s is not None for s in stopped)
        false += sum(s is not None and f in top for s, f in zip(stopped, finals))
        kept = [f if s is None else math.inf for s, f in zip(stopped, finals)]
        same_best &= finals.index(min(finals)) == kept.index(min(kept))
        rank_full[name], rank_kept[name] = min(finals), min(kept)
    ranking = sorted(rank_full, key=rank_full.get) == sorted(rank_kept, key=rank_kept.get)
    return {"epochs": used, "of": full, "saved": 1 - used / full, "pruned": pruned, "false_prunes": false,
            "same_best": same_best, "same_ranking": ranking}


def main(dirs):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    print("| data set | pruner | trial epochs | saved | trials pruned | false prunes (top quarter) | best trial same | ranking same |")
    print("|---|---|---|---|---|---|---|---|")
    for d in map(Path, dirs):
        studies = curves(d)
        epochs = max(len(c) for trials in studies.values() for c in trials)
        for label, method in (("lossopt diagnosis", replay_diagnosis), ("Optuna MedianPruner", replay_median)):
            s = score(studies, method, epochs)
            print(f"| {d.name.rsplit('-', 2)[0]} | {label} | {s['epochs']} / {s['of']} | {s['saved']:.0%} | {s['pruned']} | "
                  f"{s['false_prunes']} | {'yes' if s['same_best'] else 'NO'} | {'yes' if s['same_ranking'] else 'NO'} |")


if __name__ == "__main__":
    main(sys.argv[1:])
