"""The typed sections of a ``RunConfig``: ``config.data``, ``config.training``, ``config.optimizer``, ...

GENERATED from the constraint tables by ``python -m lossopt_cli.config.codegen``; do not edit. A new config key goes in its table
(``config/tables.py``), then this command adds it here. Each class is a read-only ``Section``
(``section.py``): attributes, mapping access and ``to_dict()``.
"""
# ruff: noqa: E501

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .section import CatalogSection, Section


@dataclass(frozen=True, eq=False)
class DataSection(Section):
    """``data``."""

    dataset: str
    """a built-in name (lossopt catalog datasets), keras:<name>, a .csv/.npz path, or a folder of images"""
    params: dict[str, Any]
    """parameters of a built-in dataset, e.g. {n_samples: 500, noise: 0.3}"""
    target: str | int | None
    """CSV only: the label column (a name, or a number from 0 with header: false)"""
    task: Literal['auto', 'classification', 'regression']
    """auto infers it from the target (text or few integers: classification) and the loss"""
    validation_split: float
    """fraction of the data held out for validation"""
    test_split: float
    """fraction held out for a final test evaluation"""
    normalize: Literal['auto', 'standard', 'minmax', 'none']
    """feature scaling, fitted on the training split"""
    scale_target: Literal['auto', 'none']
    """regression: auto ends the model with a fixed layer that maps standardized outputs to the target's units (Keras'
    Normalization(invert=True), fitted on the training split), so an unscaled target trains as fast as a scaled one while losses,
    metrics and predictions stay in its units; none: a plain linear output"""
    class_weight: Literal['balanced'] | dict[int, float] | None
    """weight the training loss per class: balanced = inverse class frequency"""
    features: list[str | int] | None
    """CSV only: the feature columns (default: every column but the target)"""
    categorical: list[str | int]
    """CSV only: columns to one-hot encode (text columns are detected without it)"""
    exclude: list[str | int]
    """CSV only: columns to leave out (ids, dates, ...)"""
    include: list[str | int]
    """CSV only: columns to keep as features where lossopt would leave them out (a row id, a text column with too many values)"""
    missing: Literal['drop', 'impute', 'error']
    """CSV only: rows with missing cells (NA, NaN, empty, ?): drop them, impute (median / most frequent, fitted on the training split),
    or stop with an error"""
    header: bool
    """CSV only: the first row names the columns (false: columns are numbered from 0)"""
    comment: str | None
    """CSV only: lines starting with this are skipped (null: none)"""
    delimiter: str | None
    """CSV only: the field separator (default: sniffed from the file)"""
    max_categories: int
    """CSV only: a text column with more distinct values is dropped (an id, free text); list it in categorical to keep it"""
    image_size: list[int]
    """image folders only: [height, width] to resize to"""
    color_mode: Literal['rgb', 'grayscale', 'rgba']
    """image folders only: channels to read"""


@dataclass(frozen=True, eq=False)
class EarlyStoppingSection(Section):
    """``training.early_stopping``."""

    monitor: str
    """the metric to watch"""
    patience: int
    """epochs without improvement before stopping"""
    min_delta: float
    """smallest change that counts as an improvement"""
    mode: Literal['auto', 'min', 'max']
    """whether the metric should fall or rise"""
    restore_best_weights: bool
    """keep the weights of the best epoch"""
    start_from_epoch: int
    """epochs of warm-up before watching"""


@dataclass(frozen=True, eq=False)
class ReduceLrOnPlateauSection(Section):
    """``training.reduce_lr_on_plateau``."""

    monitor: str
    """the metric to watch"""
    factor: float
    """new rate = rate * factor"""
    patience: int
    """epochs without improvement before lowering the rate"""
    min_delta: float
    """smallest change that counts as an improvement"""
    mode: Literal['auto', 'min', 'max']
    """whether the metric should fall or rise"""
    cooldown: int
    """epochs to wait after a reduction before watching again"""
    min_lr: float
    """the rate never goes below this"""


@dataclass(frozen=True, eq=False)
class TensorboardSection(Section):
    """``training.tensorboard``."""

    histogram_freq: int
    """epochs between weight histograms (0: none)"""
    write_graph: bool
    """write the model's graph"""
    write_images: bool
    """write the weights as images"""
    write_steps_per_second: bool
    """log the training speed"""
    update_freq: Literal['epoch', 'batch'] | int
    """epoch, batch, or every N batches"""
    profile_batch: int | list[int]
    """the batch (or [first, last] batches) to profile; 0: no profiling"""
    embeddings_freq: int
    """epochs between embedding-layer visualizations (0: none)"""


@dataclass(frozen=True, eq=False)
class TrainingSection(Section):
    """``training``."""

    NESTED = {'early_stopping': EarlyStoppingSection, 'reduce_lr_on_plateau': ReduceLrOnPlateauSection, 'tensorboard': TensorboardSection}

    epochs: int
    """passes over the training data"""
    batch_size: int | Literal['full']
    """samples per step; full = batch gradient descent, 1 = per-example SGD"""
    shuffle: bool
    """shuffle the training data every epoch (an order fixed by seed and epoch)"""
    checkpoint: Literal['every_epoch', 'none']
    """checkpoint.npz after every epoch (weights, optimizer, callbacks): what --resume continues"""
    distribute: Literal['none', 'mirrored', 'multi_worker']
    """replicate the model: mirrored = every GPU (else every CPU device) of this machine; batch_size is the global batch (multi_worker:
    not with Keras 3)"""
    gpus: int | float
    """GPUs the run needs on a Ray cluster (a fraction shares one GPU between runs)"""
    early_stopping: EarlyStoppingSection | None
    """stop when the monitored metric stops improving (Keras EarlyStopping)"""
    reduce_lr_on_plateau: ReduceLrOnPlateauSection | None
    """lower the learning rate when the monitored metric stalls (Keras ReduceLROnPlateau)"""
    tensorboard: TensorboardSection | None
    """TensorBoard logs in <run directory>/tensorboard (Keras TensorBoard); a sweep adds the HParams dashboard"""


@dataclass(frozen=True, eq=False)
class TrackingSection(Section):
    """``tracking``."""

    mlflow: bool | str | None
    """log the run to MLflow as it trains: a tracking URI (sqlite:///mlflow.db, http://host:5000, a folder), or true for
    MLFLOW_TRACKING_URI (else MLflow's default); needs lossopt[mlflow]"""
    experiment: str | None
    """the MLflow experiment (default: the config's name; in a sweep, the sweep's)"""


@dataclass(frozen=True, eq=False)
class OutputSection(Section):
    """``output``."""

    dir: str
    """where run directories are created"""
    save_model: bool
    """write model.keras"""
    shared: bool
    """--executor ray: every node mounts dir at the same path, so Ray tasks write there directly instead of sending run directories
    back"""


@dataclass(frozen=True, eq=False)
class DiagnosticsSection(Section):
    """``diagnostics``."""

    strip_length: int
    """k, the length in epochs of Prechelt's training strips (PQ, UP_s)"""
    overfitting_gl: float
    """generalization loss GL = 100*(val_loss/min val_loss - 1), in percent, at the last epoch above which the run over-fitted; below
    it, a run called by UP_s or the gap ratio gets an over-fitting note (memorizing, validation not yet hurt)"""
    overfitting_min_epochs: int
    """epochs after the validation-loss minimum before over-fitting is called (the rise must last)"""
    up_strips: int
    """s of Prechelt's UP_s: validation loss up at s successive strip ends also calls over-fitting when GL is at least half of
    overfitting_gl"""
    overfitting_gap_ratio: float
    """val_loss at least this many times the training loss at the end, after at least strip_length epochs without a new validation
    minimum while the training loss fell by overfitting_train_fall, also calls over-fitting (memorization)"""
    overfitting_train_fall: float
    """fraction by which the training loss must fall after the onset for the gap-ratio criterion"""
    early_stopping_patience: int
    """patience of the simulated keras.callbacks.EarlyStopping in the suggestion"""
    early_stopping_min_delta: float
    """min_delta of the simulated EarlyStopping"""
    gap_accuracy: float
    """train accuracy minus validation accuracy (mean of the last strip) above which there is a generalization gap"""
    val_better_margin: float
    """validation loss below (1 - margin) x training loss over the last strip: validation better than training"""
    overconfidence_accuracy_tolerance: float
    """validation accuracy that still 'holds' may drop at most this much while val_loss rises"""
    overconfidence_loss_drop: float
    """training loss falling by this fraction over the last strip while training accuracy is flat: over-confidence"""
    accuracy_flat: float
    """an accuracy that moves less than this over a strip is flat"""
    explode_loss: float
    """a loss at or above this value is exploding"""
    explode_span: float
    """without an accuracy column, a loss above explode_loss from the first epoch counts as exploding only if its largest value is this
    many times its smallest (a blow-up inside epoch 1); otherwise it is the target's scale"""
    blowup_factor: float
    """a loss this many times its lowest earlier value has blown up"""
    stall_progress: float
    """relative fall of the training loss over the whole run below which the run stalled"""
    slow_progress: float
    """relative fall over the whole run below which a steadily falling loss means a learning rate too low"""
    plateau_window: int
    """epochs at the end over which the loss is checked for a plateau"""
    plateau_min_delta: float
    """relative improvement of the loss over plateau_window below which it has plateaued"""
    not_converged_improvement: float
    """relative improvement of the monitored loss over the last strip above which the run had not converged"""
    underfit_accuracy: float
    """not used since a low accuracy alone is no evidence of under-fitting (data at their noise ceiling); kept so older config.yaml
    files load"""
    minority_share: float
    """a class below this share of the training samples (and below half of an even share) is a minority class, judged on its own
    recall"""
    minority_recall: float
    """a minority class found less often than this (recall on the validation split) is mostly missed: verdict imbalanced"""
    minority_min_support: int
    """validation samples a minority class needs before its recall is judged"""
    underfit_window_fall: float
    """relative fall of the training loss over plateau_window below which a poor run has stopped learning (under-fitting)"""
    underfit_progress: float
    """not used since under-fitting is judged against the constant-model loss (underfit_baseline_ratio); kept so older config.yaml files
    load"""
    underfit_baseline_ratio: float
    """a flattened run whose training loss stays above this fraction of the constant-model loss (class prior / target mean, from
    summary.json) under-fits"""
    signal_gain: float
    """a run settled at the constant model's loss stalled (the inputs give little to learn) when a reference (data.reference_fit or the
    best run on the same data) beats the constant model by less than this fraction; otherwise, or with no reference, it under-fits
    (capacity)"""
    underfit_reference_margin: float
    """a flattened run whose validation loss ends this fraction above the best of the runs on the same data (a sweep) and close to its
    training loss under-fits"""
    underfit_reference_share: float
    """and that excess is at least this share of what separates the best run from the constant model (when its loss is known)"""
    not_converged_share: float
    """still falling at the end is a warning (not a note) when the last strip brought more than this share of the loss' whole fall"""
    early_rise: float
    """the training loss rising by this fraction over the previous epoch within the first epochs: the learning rate or the set-up is
    wrong"""
    chance_margin: float
    """accuracy within this of chance (1/classes) or of the majority-class rate is stuck there"""
    oscillation_tolerance: float
    """a rise of the training loss bigger than this fraction of its first value (and than oscillation_rise of the epoch before) counts
    as one oscillation"""
    oscillation_rise: float
    """a rise of the training loss counts as one oscillation only when it is at least this fraction of the previous epoch's loss (late
    in training a jump is judged against where the loss is, not where it started)"""
    oscillation_min_rises: int
    """rises beyond the tolerance needed to call oscillation"""


@dataclass(frozen=True, eq=False)
class LossSection(CatalogSection):
    """``loss``: the loss (``name``) and its parameters (``params``, every default filled in); an absent parameter reads as None."""

    @property
    def from_logits(self) -> bool | None:
        """the model outputs logits (no softmax/sigmoid on the output layer)"""
        return self.params.get('from_logits')

    @property
    def label_smoothing(self) -> float | None:
        """label smoothing factor in [0, 1]"""
        return self.params.get('label_smoothing')


@dataclass(frozen=True, eq=False)
class OptimizerSection(CatalogSection):
    """``optimizer``: the optimizer (``name``) and its parameters (``params``, every default filled in); an absent parameter reads as
    None."""

    @property
    def learning_rate(self) -> float | Literal['lr_find'] | dict[str, Any] | None:
        """step size"""
        return self.params.get('learning_rate')

    @property
    def momentum(self) -> float | None:
        return self.params.get('momentum')

    @property
    def clipnorm(self) -> float | None:
        """clip each gradient to this norm"""
        return self.params.get('clipnorm')

    @property
    def clipvalue(self) -> float | None:
        """clip each gradient value to [-v, v]"""
        return self.params.get('clipvalue')

    @property
    def global_clipnorm(self) -> float | None:
        """clip all gradients together to this global norm"""
        return self.params.get('global_clipnorm')

    @property
    def weight_decay(self) -> float | None:
        """decoupled weight decay"""
        return self.params.get('weight_decay')


@dataclass(frozen=True, eq=False)
class ModelSection(CatalogSection):
    """``model``: the model (``type``) and its parameters (``params``, every default filled in); an absent parameter reads as None."""

    SELECTOR = 'type'

    @property
    def type(self) -> str:
        return self.name

    @property
    def hidden_units(self) -> list[int] | None:
        """units of each hidden Dense layer ([] = a linear/logistic model)"""
        return self.params.get('hidden_units')

    @property
    def activation(self) -> Literal['relu', 'sigmoid', 'tanh', 'elu', 'selu', 'gelu', 'silu', 'swish', 'softplus', 'leaky_relu', 'linear'] | None:
        """activation of the hidden layers"""
        return self.params.get('activation')

    @property
    def dropout(self) -> float | None:
        """dropout rate after each hidden block"""
        return self.params.get('dropout')

    @property
    def output_activation(self) -> Literal['relu', 'sigmoid', 'tanh', 'elu', 'selu', 'gelu', 'silu', 'swish', 'softplus', 'leaky_relu', 'linear', 'softmax', 'log_softmax', 'softsign', 'exponential', 'hard_sigmoid', 'relu6', 'mish'] | None:
        """override the output activation (default: from the loss)"""
        return self.params.get('output_activation')

    @property
    def batch_norm(self) -> bool | None:
        """batch normalization before each hidden activation"""
        return self.params.get('batch_norm')


# RunConfig's sections: the attribute -> its class
SECTION_TYPES: dict[str, type[Section]] = {"data": DataSection, "model": ModelSection, "loss": LossSection, "optimizer": OptimizerSection, "training": TrainingSection, "diagnostics": DiagnosticsSection, "output": OutputSection, "tracking": TrackingSection}
