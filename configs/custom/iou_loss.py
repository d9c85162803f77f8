"""A custom loss for lossopt: the soft IoU (Jaccard) loss, 1 - |A n B| / |A u B| on probabilities.

Use it in a config as ``loss: {name: configs/custom/iou_loss.py:iou_loss, labels: binary}``.
A loss is any function ``(y_true, y_pred) -> per-sample loss`` written with ``keras.ops``.
"""

from keras import ops

SMOOTH = 1.0  # keeps the ratio defined when a batch has no positives


def iou_loss(y_true, y_pred):
    y_true = ops.cast(y_true, y_pred.dtype)
    intersection = ops.sum(y_true * y_pred, axis=-1)
    union = ops.sum(y_true + y_pred, axis=-1) - intersection
    return 1.0 - (intersection + SMOOTH) / (union + SMOOTH)
