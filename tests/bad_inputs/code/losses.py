"""Custom losses of the bad-input corpus: one that works (to misname) and one that always fails."""


def my_loss(y_true, y_pred):
    return (y_true - y_pred) ** 2


def raising_loss(y_true, y_pred):
    raise ValueError("this loss always fails")
