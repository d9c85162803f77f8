"""Not valid Python: the corpus checks lossopt says so without running it."""
def my_loss(y_true, y_pred)
    return y_true
