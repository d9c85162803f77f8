"""``keras:<name>`` datasets: read from Keras' cache directory when the file is there, else downloaded once
by Keras."""

from __future__ import annotations

import gzip
import io
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np

from ..schema import Choice, ConfigError, Int, Param
from .dataset import DATASETS, FIXED, classification, regression

# --- keras.datasets: read Keras' cache directly, else let Keras download -------------------------


def keras_cache_dir() -> Path:
    base = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(base) / "datasets"


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles NumPy arrays and nothing else (Keras' own rule for its ragged dataset files)."""

    ALLOWED = {("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "_reconstruct"),
               ("numpy._core.multiarray", "_reconstruct")}

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a dataset file")


def _read_npz(path: Path) -> dict:
    """All arrays of an .npz, object (ragged) arrays included, without unpickling anything but NumPy."""
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if member.endswith(".npy"):
                fp = io.BytesIO(archive.read(member))
                try:
                    arrays[member[:-4]] = np.lib.format.read_array(fp, allow_pickle=False)
                except ValueError:  # an object array: a pickle of NumPy arrays
                    fp.seek(0)
                    version = np.lib.format.read_magic(fp)
                    (np.lib.format.read_array_header_1_0 if version[0] == 1 else np.lib.format.read_array_header_2_0)(fp)
                    arrays[member[:-4]] = _NumpyOnlyUnpickler(fp).load()
    return arrays


def _shuffled_split(x, y, test_split=0.2, seed=113):
    """Keras' split for boston_housing, california_housing and reuters: shuffle with seed 113, keep 80 %."""
    idx = np.arange(len(x))
    np.random.RandomState(seed).shuffle(idx)
    x, y = x[idx], y[idx]
    cut = int(len(x) * (1 - test_split))
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])


def _cache_mnist(cache: Path, fname="mnist.npz", **_):
    with np.load(cache / fname, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


def _cache_fashion_mnist(cache: Path, **_):
    folder = cache / "fashion-mnist"

    def read(name, offset):
        with gzip.open(folder / name, "rb") as f:
            return np.frombuffer(f.read(), np.uint8, offset=offset)

    y, yt = read("train-labels-idx1-ubyte.gz", 8), read("t10k-labels-idx1-ubyte.gz", 8)
    x = read("train-images-idx3-ubyte.gz", 16).reshape(len(y), 28, 28)
    xt = read("t10k-images-idx3-ubyte.gz", 16).reshape(len(yt), 28, 28)
    return (x, y), (xt, yt)


def _cifar_folder(cache: Path, name: str) -> Path:
    for folder in (cache / f"{name}-target" / name, cache / name):  # Keras 3 layout, then older Keras
        if folder.is_dir():
            return folder
    raise FileNotFoundError(cache / f"{name}-target" / name)


def _cifar_batch(path: Path, label_key: str):
    with open(path, "rb") as f:
        d = {k.decode("utf8") if isinstance(k, bytes) else k: v
             for k, v in _NumpyOnlyUnpickler(f, encoding="bytes").load().items()}
    x = np.asarray(d["data"], dtype="uint8").reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return x, np.asarray(d[label_key])


def _cache_cifar10(cache: Path, **_):
    folder = _cifar_folder(cache, "cifar-10-batches-py")
    parts = [_cifar_batch(folder / f"data_batch_{i}", "labels") for i in range(1, 6)]
    x, y = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    return (x, y), _cifar_batch(folder / "test_batch", "labels")


def _cache_cifar100(cache: Path, label_mode="fine", **_):
    folder = _cifar_folder(cache, "cifar-100-python")
    key = f"{label_mode}_labels"
    return _cifar_batch(folder / "train", key), _cifar_batch(folder / "test", key)


def _cache_imdb(cache: Path, **_):
    f = _read_npz(cache / "imdb.npz")
    return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


def _cache_reuters(cache: Path, **_):
    f = _read_npz(cache / "reuters.npz")
    return _shuffled_split(f["x"], f["y"])


def _cache_housing(fname):
    def read(cache: Path, version="large", **_):
        with np.load(cache / fname, allow_pickle=False) as f:
            x, y = f["x"], f["y"]
        if version == "small":
            x, y = x[:600], y[:600]
        return _shuffled_split(x, y)

    return read


def _multi_hot(sequences, num_words: int, index_from: int = 3) -> np.ndarray:
    """Bag of words: one column per word id below ``num_words`` (Keras' convention: ids shifted by
    ``index_from``, 1 = start, 2 = out of vocabulary)."""
    out = np.zeros((len(sequences), num_words), dtype="float32")
    for i, seq in enumerate(sequences):
        ids = np.asarray(seq, dtype="int64") + index_from
        ids = np.where(ids < num_words, ids, 2)
        out[i, ids] = 1.0
    out[:, :3] = 0.0  # padding, start and out-of-vocabulary marks carry no information
    return out


NUM_WORDS = Param(1000, Int(10), "vocabulary: the most frequent words kept, as a bag-of-words vector")
KERAS_DATASETS = {
    # name: (read the cache, keras load_data kwargs from params, task, description, params)
    "mnist": (_cache_mnist, "classification", "28x28 handwritten digits, 60000 + 10000 test, 10 classes", {}),
    "fashion_mnist": (_cache_fashion_mnist, "classification", "28x28 clothing images, 60000 + 10000 test, 10 classes",
                      {}),
    "cifar10": (_cache_cifar10, "classification", "32x32 colour images, 50000 + 10000 test, 10 classes", {}),
    "cifar100": (_cache_cifar100, "classification", "32x32 colour images, 50000 + 10000 test, 100 fine or 20 "
                 "coarse classes", {"label_mode": Param("fine", Choice(("fine", "coarse")), "fine (100) or coarse (20)")}),
    "imdb": (_cache_imdb, "classification", "movie reviews, positive or negative, 25000 + 25000 test, as bag-of-words",
             {"num_words": NUM_WORDS}),
    "reuters": (_cache_reuters, "classification", "newswires, 46 topics, 80/20 split, as bag-of-words",
                {"num_words": NUM_WORDS}),
    "boston_housing": (_cache_housing("boston_housing.npz"), "regression", "Boston house prices, 13 features, "
                       "80/20 split", {}),
    "california_housing": (_cache_housing("california_housing.npz"), "regression", "California house values, 8 "
                           "features, 80/20 split", {"version": Param("large", Choice(("large", "small")),
                                                                      "large (20640 samples) or small (600)")}),
}
KERAS_FILES = {"mnist": "mnist.npz", "fashion_mnist": "fashion-mnist/", "cifar10": "cifar-10-batches-py-target/",
               "cifar100": "cifar-100-python-target/", "imdb": "imdb.npz", "reuters": "reuters.npz",
               "boston_housing": "boston_housing.npz", "california_housing": "california_housing.npz"}


def keras_dataset_cached(name: str) -> bool:
    """Whether ``keras:<name>`` can be read from Keras' cache without TensorFlow."""
    return (keras_cache_dir() / KERAS_FILES[name]).exists()


def _keras_loader(name: str):
    read, task, _, _ = KERAS_DATASETS[name]

    def load(seed=0, **params):
        cache = keras_cache_dir()
        text = {k: v for k, v in params.items() if k == "num_words"}
        try:
            (x, y), (xt, yt) = read(cache, **{k: v for k, v in params.items() if k != "num_words"})
        except (FileNotFoundError, KeyError):
            (x, y), (xt, yt) = _download(name, cache, **params)
        if text:  # imdb, reuters: ragged word-id sequences -> fixed-size bag-of-words
            x, xt = _multi_hot(x, text["num_words"]), _multi_hot(xt, text["num_words"])
        y, yt = np.asarray(y).reshape(len(y), -1).squeeze(-1), np.asarray(yt).reshape(len(yt), -1).squeeze(-1)
        make = classification if task == "classification" else regression
        return make(f"keras:{name}", x, y, x_test=xt, y_test=yt)

    return load


def _download(name: str, cache: Path, **params):
    kwargs = {k: v for k, v in params.items() if k in ("label_mode", "version")}
    if "num_words" in params:
        kwargs.update(num_words=params["num_words"], index_from=0, start_char=None, oov_char=None)
    try:
        import keras

        return getattr(keras.datasets, name).load_data(**kwargs)
    except Exception as exc:  # no network, no cache
        raise ConfigError(
            f"data.dataset: keras:{name} is not in Keras' cache ({cache / KERAS_FILES[name]}) and could not be "
            f"downloaded ({type(exc).__name__}: {str(exc)[:120]}). Download it once with internet access "
            f"(python -c 'import keras; keras.datasets.{name}.load_data()'), set KERAS_HOME to a folder holding "
            f"datasets/{KERAS_FILES[name]}, or use an offline dataset such as 'digits'.",
            key="data.dataset",
        ) from None


for _name, (_read, _task, _text, _params) in KERAS_DATASETS.items():
    DATASETS.register(f"keras:{_name}", f"keras.datasets.{_name}: {_text} (read from Keras' cache, or downloaded "
                      f"once)", params=_params, tags={_task, "keras", FIXED})(_keras_loader(_name))
