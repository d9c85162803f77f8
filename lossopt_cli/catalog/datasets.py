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
from .dataset import DATASETS, FIXED, Dataset, classification, regression  # noqa: F401 - the catalog's data type
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


def seed_matters(name: str) -> bool:
    """Whether ``data.dataset`` is drawn from the run's seed (a synthetic set) rather than read (bundled, Keras'
    cache, a file or folder): runs of other seeds can share what was read."""
    return name in DATASETS and FIXED not in DATASETS.entry(name, "data.dataset").tags


class LoadedDatasets:
    """Datasets loaded once for several runs (a fused group's members): runs whose data sections ask for the same
    data share one ``Dataset``, and a dataset drawn from the seed is shared only by runs of the same seed. Each run
    still makes its own split from it (``training.data.prepare`` copies, it never writes into the arrays)."""

    def __init__(self) -> None:
        self._by_key: dict = {}

    def load(self, name: str, params: dict, target: str | None, seed: int, task: str | None = None,
             **options) -> Dataset:
        import json

        key = json.dumps([name, params, target, seed if seed_matters(name) else None, task, options], sort_keys=True,
                         default=str)
        if key not in self._by_key:
            self._by_key[key] = load_dataset(name, params, target, seed, task=task, **options)
        return self._by_key[key]
