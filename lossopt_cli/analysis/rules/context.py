"""What the rules read: the history's columns (``History``) and what a run directory adds beside it
(``Context``: the constant-model loss, weights, early stopping, regularization, the output layer, references),
with the facts about the curve that more than one rule needs (``Context.trained``, ``Context.overfit``, ...),
each computed once, by one function, so that no rule passes a flag to another."""

from __future__ import annotations

import math
from functools import cached_property

from ...schema import ConfigError
from .common import REFERENCE_FIT
from .common import ok as _ok

LOSS_LIKE = ("loss", "error", "mse", "mae", "crossentropy")  # names a history's loss column may have


class History:
    """The columns the rules use, with the epoch numbers, and what each rule may rely on."""

    def __init__(self, history: dict[str, list[float]]):
        columns = {k: list(v) for k, v in history.items()}
        n = max((len(v) for v in columns.values()), default=0)
        self.epochs = [int(e) for e in columns.pop("epoch", list(range(1, n + 1)))]
        self.n = len(self.epochs)
        self.columns = columns
        loss_key = "loss" if "loss" in columns else next(
            (k for k in columns if not k.startswith("val_") and any(w in k for w in LOSS_LIKE)), None)
        if columns and loss_key is None:
            raise ConfigError(f"The history has no loss column (columns: {', '.join(columns)}); expected 'loss' "
                              f"or a column named like a loss ({', '.join(LOSS_LIKE)}).", key="loss")
        self.loss_key = loss_key
        self.loss = [float(v) for v in columns.get(loss_key, [])] if loss_key else []
        self.val_loss = [float(v) for v in columns.get(f"val_{loss_key}", [])] if loss_key else []
        acc = next((k for k in ("accuracy", "acc", "categorical_accuracy", "sparse_categorical_accuracy",
                                "binary_accuracy") if k in columns), None)
        self.acc_key = acc
        self.acc = columns.get(acc, []) if acc else []
        self.val_acc = columns.get(f"val_{acc}", []) if acc else []
        self.lr = columns.get("learning_rate") or columns.get("lr") or []

    def epoch(self, i: int | None) -> int | None:
        return self.epochs[i] if i is not None and 0 <= i < self.n else None


class Context:
    """What a run directory knows beside its history: the constant-model loss, early stopping,
    regularization, the output layer, and the best loss of other runs on the same data; and the shared
    facts about the curve (below), computed on first use."""

    def __init__(self, h: History, th: dict, summary: dict, config: dict, reference: dict):
        self.h, self.th, self.summary = h, th, summary
        self.k = th["strip_length"]
        self.skipped: list[str] = []  # what could not be judged, and why (diagnosis.json's "skipped")
        # facts owned by one rule module and read by others, established by diagnose.establish_facts before
        # any rule runs: where the training loss blew up (divergence.blow_up), Prechelt's judgement of the
        # validation curve (overfitting.assess: findings, onset) and the set-up rule's findings (learning_rate.set_up)
        self.blow_up: dict | None = None
        self.overfit: tuple[list, int | None] = ([], None)
        self.set_up: list = []
        data = summary.get("data") or {}
        constant = data.get("constant_model") or summary.get("constant_model") or {}
        self.baseline = constant.get("loss") if _ok(constant.get("loss")) else None
        self.baseline_what = constant.get("prediction") or "a constant prediction"
        loss = config.get("loss")
        self.loss_name = (loss.get("name") if isinstance(loss, dict) else loss) or ""
        self.from_logits = bool(isinstance(loss, dict) and loss.get("from_logits"))
        n_classes = data.get("n_classes")
        if self.baseline is None and n_classes and h.acc_key and "crossentropy" in str(self.loss_name):
            self.baseline, self.baseline_what = math.log(n_classes), "uniform class probabilities (ln classes)"
        # what the *training* loss must beat: under class weights (which Keras applies to the training loss
        # only) the weighted constant model's loss, else the same constant model
        weighted = constant.get("train_loss")
        self.train_baseline = weighted if _ok(weighted) else self.baseline
        self.train_baseline_what = (constant.get("train_prediction") or self.baseline_what) if _ok(weighted) \
            else self.baseline_what
        training = config.get("training") or {}
        es = training.get("early_stopping")
        self.early_stopping = es if isinstance(es, dict) else ({"patience": 3, "restore_best_weights": True,
                                                                "monitor": "val_loss"} if es is True else None)
        model = config.get("model") or {}
        self.regularized = bool(model.get("dropout") or model.get("l2") or model.get("l1")
                                or (isinstance(loss, dict) and loss.get("label_smoothing")))
        self.config_known = bool(config)
        self.output_activation = model.get("output_activation")
        ref = reference.get("val_loss")
        self.reference = ref if _ok(ref) and ref > 0 else None  # a zero loss gives no scale to compare with
        self.reference_run = reference.get("run")
        fit = (data.get("reference_fit") or {}).get("loss")  # simple models (neighbours, boosted trees), same split
        self.reference_model = (data.get("reference_fit") or {}).get("model") or "k nearest neighbours"
        weighted = (config.get("data") or {}).get("class_weight") is not None
        # (a weighted run's validation loss is unweighted and pays for the weights: no unweighted fit compares)
        if _ok(fit) and fit > 0 and not weighted and (self.reference is None or fit < self.reference):
            self.reference, self.reference_run = fit, REFERENCE_FIT
        self.status = summary.get("status")
        self.class_weight = (config.get("data") or {}).get("class_weight")
        self.regression = not h.acc_key and not (data.get("n_classes") or "crossentropy" in str(self.loss_name)
                                                 or "hinge" in str(self.loss_name))

    def skip(self, what: str) -> None:
        """Record a rule that could not judge this run, and why."""
        self.skipped.append(what)

    # --- facts about the curve that more than one rule reads ---------------------------------------

    @property
    def set_up_stalled(self) -> bool:
        """The set-up rule called the run stalled: the progress rule does not say it again."""
        return any(f.code == "stalled" for f in self.set_up)

    @cached_property
    def trained(self) -> bool:
        """The run learned more than a constant model: its training loss ends below 98 % of the constant
        model's (under the run's weights), or its validation loss (no dropout, no weights) ends clearly
        below the constant model's. A run that did not is judged by the set-up rule alone."""
        from .common import mean

        end = mean(self.h.loss[-self.k:])
        val_end = mean(self.h.val_loss[-self.k:]) if self.h.val_loss else None
        val_learned = self.baseline is not None and val_end is not None and val_end < 0.97 * self.baseline
        above = self.train_baseline is not None and end is not None and end >= 0.98 * self.train_baseline
        return not above or val_learned

    @cached_property
    def training_jumps(self) -> list[int]:
        """The epochs (0-based) where the training loss jumped (``common.rises``)."""
        from .common import rises

        return rises(self.h.loss, self.th)

    @cached_property
    def early_rises(self) -> list[int]:
        """The training loss rising by ``early_rise`` over the epoch before within the first epochs."""
        from .common import ok

        loss = self.h.loss
        return [i for i in range(1, min(4, self.h.n)) if ok(loss[i]) and ok(loss[i - 1]) and loss[i - 1] > 0
                and loss[i] > (1 + self.th["early_rise"]) * loss[i - 1]]

    @cached_property
    def unstable_training(self) -> bool:
        """The training loss itself is unstable: it jumped ``oscillation_min_rises`` times, blew up (and came
        back), or rose in the first epochs and went on rising or ended no better than a constant model.
        Generalization is judged only as a note then: fix the learning rate first."""
        early = bool(self.early_rises) and (not self.trained or len(self.training_jumps) >= 2)
        return (len(self.training_jumps) >= self.th["oscillation_min_rises"] or early
                or self.blow_up is not None)

    def setup_check(self) -> str:
        """What to check when nothing was learned, in the task's own terms."""
        if self.regression:
            return ("Check that the inputs are normalized and the target is on a sensible scale (a target in the "
                    "hundreds takes many epochs at the default rate: standardize it)")
        return ("Check that the labels match the loss and the output layer (softmax for categorical "
                "cross-entropy, sigmoid for binary) and that the inputs are normalized")

    def setup_hint(self) -> str | None:
        """Why the output layer cannot feed the loss (a config written before the pre-flight check knew)."""
        act = self.output_activation
        if act and "crossentropy" in str(self.loss_name) and not self.from_logits and act not in ("softmax", "sigmoid"):
            return (f"The output layer ({act}) does not produce probabilities for {self.loss_name}: set "
                    f"model.output_activation: softmax (sigmoid for one unit), or keep a linear output with "
                    f"loss.from_logits: true. The learning rate is not the problem.")
        return None
