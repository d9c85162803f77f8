"""Datasets: scikit-learn's bundled sets, synthetic sets, ``keras:<name>``, CSV and NPZ files,
and folders of images.

A loader returns a ``Dataset`` of NumPy arrays; splitting, normalization and label encoding
happen later, in ``training.data``, so every source is treated alike. Nothing here imports
TensorFlow except ``keras:<name>`` when the file is not already in Keras' cache, and image
folders (read with ``keras.utils.image_dataset_from_directory``).
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np

from ..schema import Choice, ConfigError, Float, Int, Param
from .dataset import Dataset  # noqa: F401 - the catalog's data type, imported from here by callers
from .registry import Registry

DATASETS = Registry("dataset")


def classification(name, x, y, **kw) -> Dataset:
    y = np.asarray(y)
    classes = np.unique(y)
    if not np.array_equal(classes, np.arange(len(classes))):  # map labels to 0..k-1
        lookup = {c: i for i, c in enumerate(classes)}
        y = np.array([lookup[v] for v in y])
        kw.setdefault("class_names", [str(c) for c in classes])
        for key in ("y_test", "y_val"):
            if kw.get(key) is not None:
                kw[key] = np.array([lookup[v] for v in kw[key]])
    return Dataset(name, np.asarray(x, dtype="float32"), y.astype("int64"), "classification",
                   n_classes=int(len(classes)), **kw)


def regression(name, x, y, **kw) -> Dataset:
    return Dataset(name, np.asarray(x, dtype="float32"), np.asarray(y, dtype="float32"), "regression", **kw)


# --- scikit-learn's bundled datasets (real data, offline) ----------------------------------


# Read straight from the files scikit-learn ships (the same arrays its load_* functions return, a
# test checks), so that `lossopt validate` does not pay the 1.5 s of importing scikit-learn.


def sklearn_data_dir() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("sklearn")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("data.dataset: scikit-learn is not installed; its bundled datasets need it "
                          "(pip install scikit-learn).", key="data.dataset")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"


def _read_labelled_csv(file: str):
    """scikit-learn's CSV format: a first row 'n_samples,n_features,class names...', then features + label."""
    path = sklearn_data_dir() / file
    with open(path) as f:
        class_names = f.readline().strip().split(",")[2:]
    table = np.loadtxt(path, delimiter=",", skiprows=1)
    return table[:, :-1], table[:, -1].astype(int), class_names


def _bundled(name: str):
    folder = sklearn_data_dir()
    if name == "digits":
        table = np.loadtxt(folder / "digits.csv.gz", delimiter=",")
        return classification(name, table[:, :-1], table[:, -1].astype(int), class_names=[str(i) for i in range(10)])
    if name in ("iris", "wine", "breast_cancer"):
        x, y, class_names = _read_labelled_csv({"wine": "wine_data.csv"}.get(name, f"{name}.csv"))
        return classification(name, x, y, class_names=class_names)
    if name == "diabetes":  # load_diabetes(scaled=True): standardized, then divided by sqrt(n_samples)
        x = np.loadtxt(folder / "diabetes_data_raw.csv.gz")
        x = (x - x.mean(axis=0)) / x.std(axis=0) / np.sqrt(len(x))
        return regression(name, x, np.loadtxt(folder / "diabetes_target.csv.gz"),
                          feature_names=["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"])
    if name == "linnerud":
        with open(folder / "linnerud_exercise.csv") as f:
            features = f.readline().split()
        x = np.loadtxt(folder / "linnerud_exercise.csv", skiprows=1)
        return regression(name, x, np.loadtxt(folder / "linnerud_physiological.csv", skiprows=1), feature_names=features)
    raise ValueError(name)


def _sklearn(loader_name: str, task: str):
    name = loader_name.removeprefix("load_")

    def load(**_):
        return _bundled(name)

    return load


for _name, _loader, _task, _text in [
    ("digits", "load_digits", "classification", "8x8 handwritten digits, 1797 images, 10 classes (scikit-learn, offline)"),
    ("iris", "load_iris", "classification", "Fisher's iris flowers, 150 samples, 4 features, 3 classes"),
    ("wine", "load_wine", "classification", "wine cultivars, 178 samples, 13 chemical features, 3 classes"),
    ("breast_cancer", "load_breast_cancer", "classification", "Wisconsin breast cancer, 569 samples, 30 features, 2 classes"),
    ("diabetes", "load_diabetes", "regression", "Diabetes progression, 442 samples, 10 features, regression"),
    ("linnerud", "load_linnerud", "regression", "Linnerud exercise/physiology, 20 samples, 3 features, 3 targets "
     "(multi-output regression)"),
]:
    DATASETS.register(_name, _text, tags={_task})(_sklearn(_loader, _task))


# --- synthetic datasets ------------------------------------------------------------------------

N_SAMPLES = Param(1000, Int(10), "number of samples")


def _noise(default: float, text: str = "standard deviation of Gaussian noise") -> Param:
    return Param(default, Float(0), text)


@DATASETS.register(
    "moons", "two interleaving half circles, 2 features, 2 classes (scikit-learn make_moons)",
    params={"n_samples": N_SAMPLES, "noise": _noise(0.2)}, tags={"classification"},
)
def moons(n_samples, noise, seed=0):
    from sklearn.datasets import make_moons

    x, y = make_moons(n_samples=n_samples, noise=noise, random_state=seed)
    return classification("moons", x, y, feature_names=["x1", "x2"])


@DATASETS.register(
    "circles", "a small circle inside a large one, 2 features, 2 classes (scikit-learn make_circles)",
    params={"n_samples": N_SAMPLES, "noise": _noise(0.05),
            "factor": Param(0.5, Float(0, 1, low_open=True, high_open=True), "inner radius / outer radius")},
    tags={"classification"},
)
def circles(n_samples, noise, factor, seed=0):
    from sklearn.datasets import make_circles

    x, y = make_circles(n_samples=n_samples, noise=noise, factor=factor, random_state=seed)
    return classification("circles", x, y, feature_names=["x1", "x2"])


@DATASETS.register(
    "blobs", "Gaussian clusters, one per class (scikit-learn make_blobs)",
    params={"n_samples": N_SAMPLES, "n_features": Param(2, Int(1), "number of features"),
            "centers": Param(3, Int(2), "number of clusters = classes"),
            "cluster_std": Param(1.0, Float(0, low_open=True), "spread of each cluster")},
    tags={"classification"},
)
def blobs(n_samples, n_features, centers, cluster_std, seed=0):
    from sklearn.datasets import make_blobs

    x, y = make_blobs(n_samples=n_samples, n_features=n_features, centers=centers, cluster_std=cluster_std,
                      random_state=seed)
    return classification("blobs", x, y)


@DATASETS.register(
    "spirals", "interleaved spiral arms, 2 features, one class per arm: needs a non-linear model",
    params={"n_samples": N_SAMPLES, "n_classes": Param(2, Int(2), "number of arms = classes"),
            "noise": _noise(0.2), "turns": Param(1.5, Float(0, low_open=True), "turns of each arm")},
    tags={"classification"},
)
def spirals(n_samples, n_classes, noise, turns, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n_samples) % n_classes
    t = rng.uniform(0.05, 1.0, n_samples)
    angle = t * turns * 2 * np.pi + y * 2 * np.pi / n_classes
    x = np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1) * 5 + rng.normal(0, noise, (n_samples, 2))
    return classification("spirals", x, y, feature_names=["x1", "x2"])


@DATASETS.register(
    "xor", "points in [-1, 1]^2 labelled by the sign of x1 * x2: not linearly separable",
    params={"n_samples": N_SAMPLES, "noise": _noise(0.1)}, tags={"classification"},
)
def xor(n_samples, noise, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n_samples, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(int)
    return classification("xor", x + rng.normal(0, noise, x.shape), y, feature_names=["x1", "x2"])


@DATASETS.register(
    "imbalanced", "classification where the minority class(es) are rare: accuracy misleads, precision/recall/F1/AUC "
    "and data.class_weight: balanced help (scikit-learn make_classification)",
    params={"n_samples": N_SAMPLES, "n_features": Param(20, Int(2), "number of features"),
            "n_classes": Param(2, Int(2), "number of classes"),
            "minority": Param(0.05, Float(0, 0.5, low_open=True), "fraction of the samples in each minority class"),
            "class_sep": Param(1.0, Float(0, low_open=True), "how far apart the classes are (smaller = harder)"),
            "flip_y": Param(0.01, Float(0, 1), "fraction of labels flipped at random")},
    tags={"classification"},
)
def imbalanced(n_samples, n_features, n_classes, minority, class_sep, flip_y, seed=0):
    from sklearn.datasets import make_classification

    if minority * (n_classes - 1) >= 1:
        raise ConfigError(f"data.params.minority * (n_classes - 1) must be < 1 to leave a majority class. Got "
                          f"{minority} * {n_classes - 1}.", key="data.params.minority")
    weights = [1 - minority * (n_classes - 1)] + [minority] * (n_classes - 1)
    x, y = make_classification(n_samples=n_samples, n_features=n_features, n_informative=min(n_features, 5),
                               n_redundant=min(2, max(0, n_features - 5)), n_classes=n_classes, weights=weights,
                               class_sep=class_sep, flip_y=flip_y, random_state=seed)
    return classification("imbalanced", x, y)


@DATASETS.register(
    "regression", "linear regression with Gaussian noise and optional outliers (scikit-learn make_regression)",
    params={
        "n_samples": N_SAMPLES,
        "n_features": Param(10, Int(1), "number of features"),
        "noise": Param(10.0, Float(0), "standard deviation of the noise on the target"),
        "outliers": Param(0.0, Float(0, 0.5), "fraction of targets replaced by large outliers"),
    },
    tags={"regression"},
)
def synthetic_regression(n_samples, n_features, noise, outliers, seed=0):
    from sklearn.datasets import make_regression

    x, y = make_regression(n_samples=n_samples, n_features=n_features, noise=noise, random_state=seed)
    if outliers:
        rng = np.random.default_rng(seed)
        idx = rng.choice(n_samples, int(round(outliers * n_samples)), replace=False)
        y[idx] += rng.choice([-1.0, 1.0], len(idx)) * 10 * y.std()
    return regression("regression", x, y)


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
                      f"once)", params=_params, tags={_task, "keras"})(_keras_loader(_name))


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
        convert = (lambda y: None if y is None else (values[y] if values is not None else y).astype("float32"))
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
