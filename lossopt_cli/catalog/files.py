"""Dataset files: CSV tables (through ``tables``), NPZ arrays and folders of images (one folder per class)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..schema import ConfigError
from .dataset import Dataset, classification, regression

# --- files ---------------------------------------------------------------------------------


def load_file(path_text: str, target: str | None, path: str = "data.dataset", features=None, categorical=None,
              image_size=(64, 64), color_mode="rgb", **table_options) -> Dataset:
    """A CSV (or other delimited, optionally gzipped) file, an .npz file or a folder of images.
    ``table_options``: the other CSV keys of the data section (see ``tables.TableOptions``)."""
    from .tables import TableOptions, is_table_file, read_table

    p = Path(path_text)
    if not p.exists():
        raise ConfigError(f"{path}: file {path_text!r} does not exist. Give a built-in name "
                          f"(see `lossopt catalog datasets`), the path of a .csv or .npz file, or a folder of "
                          f"images (one sub-folder per class).", key=path)
    if p.is_dir():
        return _load_image_folder(p, image_size, color_mode, path)
    from .file_checks import check_dataset, read_npz

    if p.suffix.lower() == ".npz":
        arrays = read_npz(p, path)
        extra = {k: arrays.get(k) for k in ("x_val", "y_val", "x_test", "y_test")}
        y = arrays["y"]
        is_class = y.dtype.kind in "iub" or y.dtype.kind in "US"
        if len(arrays["x"]) != len(y) or any(extra[f"x_{s}"] is not None and extra[f"y_{s}"] is not None
                                             and len(extra[f"x_{s}"]) != len(extra[f"y_{s}"]) for s in ("val", "test")):
            ds = Dataset(p.stem, arrays["x"], y, "regression", **extra)  # lengths differ: report before encoding
        else:
            ds = (classification if is_class else regression)(p.stem, arrays["x"], y, **extra)
        check_dataset(ds, p, path)
        return ds
    if is_table_file(p):
        ds = read_table(p, TableOptions(target=target, features=features, categorical=categorical or [],
                                        **table_options))
        check_dataset(ds, p, path, missing_ok=True)  # missing cells are data.missing's; infinities, one class are not
        return ds
    raise ConfigError(f"{path}: {path_text!r} is neither a built-in dataset, a .csv (.tsv, .txt, .data, .gz) or "
                      f".npz file, nor a folder.", key=path)


def apply_task(ds: Dataset, task: str | None) -> Dataset:
    """``data.task`` on a dataset whose task was not inferred with it (built-in sets, NPZ files)."""
    if task in (None, "auto") or task == ds.task or ds.inference is not None:
        return ds
    if task == "regression":  # class indices as values
        names = ds.class_names
        values = np.array([float(n) for n in names]) if names and all(_is_float(n) for n in names) else None

        def convert(y):
            return None if y is None else (values[y] if values is not None else y).astype("float32")

        return Dataset(ds.name, ds.x, convert(ds.y), "regression", feature_names=ds.feature_names,
                       x_test=ds.x_test, y_test=convert(ds.y_test), x_val=ds.x_val, y_val=convert(ds.y_val))
    if ds.y.ndim > 1:
        raise ConfigError(f"data.task is classification but {ds.name} has {ds.y.shape[1]} targets per sample.",
                          key="data.task")
    return classification(ds.name, ds.x, ds.y, feature_names=ds.feature_names, x_test=ds.x_test,
                          y_test=ds.y_test, x_val=ds.x_val, y_val=ds.y_val)


def _is_float(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _load_image_folder(p: Path, image_size, color_mode: str, path: str) -> Dataset:
    """A folder with one sub-folder of images per class (``keras.utils.image_dataset_from_directory``)."""
    classes = sorted(d.name for d in p.iterdir() if d.is_dir() and not d.name.startswith("."))
    if len(classes) < 2:
        raise ConfigError(f"{path}: the folder {p} must hold one sub-folder of images per class (at least two); "
                          f"found {len(classes)}.", key=path)
    import keras

    try:
        ds = keras.utils.image_dataset_from_directory(p, labels="inferred", label_mode="int", image_size=tuple(image_size),
                                                      color_mode=color_mode, batch_size=None, shuffle=False)
        pairs = [(np.asarray(x), int(y)) for x, y in ds.as_numpy_iterator()]
    except Exception as exc:
        raise ConfigError(f"{path}: could not read images from {p}: {type(exc).__name__}: {exc}", key=path) from None
    if not pairs:
        raise ConfigError(f"{path}: no images (.jpg, .png, .bmp, .gif) in the class folders of {p}.", key=path)
    x = np.stack([a for a, _ in pairs]).astype("float32")
    y = np.array([b for _, b in pairs])
    return Dataset(p.name, x, y.astype("int64"), "classification", n_classes=len(classes), class_names=classes)
