"""Datasets: scikit-learn's bundled sets, synthetic sets, ``keras:<name>``, CSV and NPZ files,
and folders of images: ``load_dataset`` reads the one a config names.

One module per source registers its names in ``DATASETS`` (``bundled``, ``synthetic``,
``keras_cache``) or reads a path (``files``). A loader returns a ``Dataset`` of NumPy arrays;
splitting, normalization and label encoding happen later, in ``training.data``, so every source is
treated alike. Nothing here imports TensorFlow except ``keras:<name>`` when the file is not already in
Keras' cache, and image folders (read with ``keras.utils.image_dataset_from_directory``).
"""

from __future__ import annotations

from . import bundled, synthetic  # noqa: F401 - register their names
from .dataset import DATASETS, Dataset, classification, regression  # noqa: F401 - the catalog's data type
from .files import apply_task, load_file
from .keras_cache import KERAS_DATASETS, keras_dataset_cached  # noqa: F401 - registers keras:<name>


def load_dataset(name: str, params: dict, target: str | None, seed: int, task: str | None = None,
                 **options) -> Dataset:
    """Load ``data.dataset`` (already validated by the config). ``options``: the file keys of the
    data section (features, categorical, image_size, color_mode and the other CSV keys)."""
    if name in DATASETS:
        spec = DATASETS.get({"name": name, **params}, "data.dataset")
        return apply_task(spec.build(seed=seed), task)
    if name.startswith("keras:"):
        DATASETS.entry(name, "data.dataset")  # raises: unknown Keras dataset, with a did-you-mean
    if task is not None:
        options["task"] = task
    table_keys = ("exclude", "include", "task", "missing", "header", "comment", "delimiter", "max_categories", "regression_loss")
    from .tables import is_table_file

    if not is_table_file(name):
        options = {k: v for k, v in options.items() if k not in table_keys}
        return apply_task(load_file(name, target, **options), task)
    return load_file(name, target, **options)
