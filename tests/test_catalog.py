"""The catalog without TensorFlow: every name is listed with its parameters, every parameter is
validated, custom references are checked, and every dataset source loads (Keras' cache formats
included, from tiny files written in a temporary KERAS_HOME)."""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from lossopt_cli import config
from lossopt_cli.catalog import DATASETS, LOSSES, REGISTRIES
from lossopt_cli.catalog.datasets import KERAS_DATASETS, load_dataset
from lossopt_cli.catalog.optimizers import SCHEDULES
from lossopt_cli.catalog.registry import custom_function
from lossopt_cli.cli import cli
from lossopt_cli.schema import Any_, ConfigError

from .fixtures.keras_cache import N_TEST, N_TRAIN, write_keras_cache

REPO = Path(__file__).resolve().parent.parent
ALL = {**REGISTRIES, "schedules": SCHEDULES}


def base(**changes) -> dict:
    raw = {"data": {"dataset": "iris"}, "loss": "categorical_crossentropy"}
    raw.update(changes)
    return raw


# --- lossopt catalog -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(ALL))
def test_catalog_lists_every_name_description_and_parameter(kind):
    result = CliRunner().invoke(cli, ["catalog", kind])
    assert result.exit_code == 0, result.output
    for entry in ALL[kind].entries():
        assert f"  {entry.name}" in result.output
        assert entry.description in result.output
        for key in entry.params:
            assert f"{key}: " in result.output, (entry.name, key)
        for alias in entry.aliases:
            assert alias in result.output


def test_catalog_without_kind_summarizes_and_unknown_kind_is_exit_2():
    runner = CliRunner()
    summary = runner.invoke(cli, ["catalog"])
    assert summary.exit_code == 0 and all(kind in summary.output for kind in ALL)
    bad = runner.invoke(cli, ["catalog", "loss"])
    assert bad.exit_code == 2 and "losses" in bad.output


def test_optimizers_listing_explains_gd_and_shows_schedules():
    out = CliRunner().invoke(cli, ["catalog", "optimizers"]).output
    assert "gd: full-batch (one step per epoch; batch_size becomes the training-set size)" in out
    assert "cosine_decay" in out and "warmup_steps" in out


def test_catalog_and_validate_do_not_import_tensorflow(tmp_path):
    """Listing every kind, and validating configs whose data is loaded and checked (a Keras
    dataset read from its cache included), leaves TensorFlow and Keras unimported."""
    write_keras_cache(tmp_path / "keras")
    (tmp_path / "mnist.yaml").write_text("data: {dataset: 'keras:mnist', validation_split: 0}\nloss: cce\n")
    code = ("import sys\nfrom click.testing import CliRunner\nfrom lossopt_cli.cli import cli\n"
            "r = CliRunner()\n"
            "for kind in ['losses', 'optimizers', 'metrics', 'datasets', 'models', 'schedules']:\n"
            "    assert r.invoke(cli, ['catalog', kind]).exit_code == 0\n"
            f"res = r.invoke(cli, ['validate', 'configs/quickstart.yaml', 'configs/custom/iou_loss.yaml', "
            f"'{tmp_path / 'mnist.yaml'}'])\n"
            "assert res.exit_code == 0 and 'not checked' not in res.output, res.output\n"
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'imported'\n")
    env = {**os.environ, "KERAS_HOME": str(tmp_path / "keras")}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120,
                          env=env)
    assert done.returncode == 0, done.stderr[-2000:]


# --- every parameter has a constraint that rejects bad values --------------------------------

REQUIRED = {"layers": ["Dense"], "initial": 0.1, "decay_steps": 10, "first_decay_steps": 10, "boundaries": [10],
            "values": [0.1, 0.01]}  # valid values for the required parameters
PARAMS = [(kind, entry.name, key) for kind, reg in sorted(ALL.items()) for entry in reg.entries()
          for key in entry.params]


@pytest.mark.parametrize("kind,name,key", PARAMS, ids=[f"{k}:{n}.{p}" for k, n, p in PARAMS])
def test_every_parameter_has_a_constraint_that_names_the_key(kind, name, key):
    registry = ALL[kind]
    table = registry.entry(name, "x").params
    assert not isinstance(table[key].constraint, Any_), f"{kind} {name}.{key} has no constraint"
    required = {k: REQUIRED[k] for k, p in table.items() if p.required}
    with pytest.raises(ConfigError) as err:
        registry.get({registry.selector: name, **required, key: [{"not": "valid"}]}, "section")
    assert f"section.{key}" in str(err.value)


def test_defaults_validate_and_aliases_resolve():
    for reg in ALL.values():
        for entry in reg.entries():
            required = {k: REQUIRED[k] for k, p in entry.params.items() if p.required}
            reg.get({reg.selector: entry.name, **required}, "x")
            for alias in entry.aliases:
                assert reg.get(alias, "x").name == entry.name
    assert LOSSES.resolve({"name": "huber", "delta": 2.0}, "loss")["delta"] == 2.0
    assert LOSSES.get("BCE", "loss").name == "binary_crossentropy"


@pytest.mark.parametrize("value,message", [
    ({"name": "cosine_decay", "initial": 0.1, "decay_steps": 100, "warmup_steps": 10, "warmup_target": 0.5}, None),
    ({"name": "piecewise_constant_decay", "boundaries": [10, 20], "values": [0.1, 0.01]},
     "optimizer.learning_rate.values must hold one more rate than optimizer.learning_rate.boundaries"),
    ({"name": "piecewise_constant_decay", "boundaries": [20, 10], "values": [0.1, 0.01, 0.001]}, "must be increasing"),
    ({"name": "cosine_decay", "initial": 0.1, "decay_steps": 100, "warmup_target": 0.5},
     "warmup_target needs optimizer.learning_rate.warmup_steps > 0"),
    ({"name": "exponential_decay", "decay_steps": 100}, "optimizer.learning_rate.initial is required"),
    ({"name": "cosine", "initial": 0.1}, "Did you mean 'cosine_decay'?"),
    (-0.5, "optimizer.learning_rate must be a number > 0. Got -0.5."),
    ("fast", "optimizer.learning_rate must be a number > 0, lr_find, or a schedule mapping"),
])
def test_learning_rate_schedules_are_validated(value, message):
    raw = base(optimizer={"name": "sgd", "learning_rate": value})
    if message is None:
        cfg = config.validate(raw)
        assert cfg.optimizer["learning_rate"]["alpha"] == 0.0  # defaults filled in
        return
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("?", r"\?")):
        config.validate(raw)


def test_new_config_keys_are_validated():
    cfg = config.validate(base(training={"reduce_lr_on_plateau": True}, data={"dataset": "iris",
                                                                             "class_weight": "balanced"}))
    assert cfg.training["reduce_lr_on_plateau"]["factor"] == 0.5 and cfg.data["class_weight"] == "balanced"
    for raw, message in [
        (base(data={"dataset": "iris", "class_weight": {0: -1}}), "data.class_weight must be null, 'balanced'"),
        (base(training={"reduce_lr_on_plateau": {"factr": 0.1}}), "Did you mean 'factor'?"),
        (base(data={"dataset": "iris", "categorical": -1}),
             "data.categorical[0] must be a non-empty string or an integer >= 0"),
    ]:
        with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("?", r"\?")):
            config.validate(raw)


# --- custom losses and models ----------------------------------------------------------------


def test_custom_references_are_checked_at_load_and_imported_at_build(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.py").write_text("def my_loss(y_true, y_pred):\n    return y_pred\n")
    cfg = config.validate(base(loss={"name": "mine.py:my_loss", "labels": "sparse"}))
    # stored absolute, so the run directory's config.yaml trains from anywhere
    assert cfg.loss == {"name": f"{tmp_path.resolve() / 'mine.py'}:my_loss", "labels": "sparse", "args": {}}
    assert custom_function("mine.py:my_loss", "loss").__name__ == "my_loss"
    with pytest.raises(ConfigError, match="defines no function 'my_los'. Did you mean 'my_loss'?"):
        custom_function("mine.py:my_los", "loss")
    for ref, message in [("missing.py:f", "the file 'missing.py' of 'missing.py:f' does not exist"),
                         ("mine.py:", "is not a valid reference"),
                         ("not a module:f", "is neither a Python module name nor a .py file")]:
        with pytest.raises(ConfigError, match=message):
            config.validate(base(loss=ref))
    with pytest.raises(ConfigError, match="model.type.*missing.py"):
        config.validate(base(model={"type": "missing.py:build"}))
    monkeypatch.syspath_prepend(str(tmp_path))  # module:function form
    assert custom_function("mine:my_loss", "loss").__name__ == "my_loss"
    with pytest.raises(ConfigError, match="could not import 'nosuchmodule' for 'nosuchmodule:f'"):
        custom_function("nosuchmodule:f", "loss")
    with pytest.raises(ConfigError, match=r"Unknown key loss.delta for loss '/.*mine.py:my_loss'"):
        config.validate(base(loss={"name": "mine.py:my_loss", "delta": 1}))


def test_layers_model_needs_keras_layer_specs():
    cfg = config.validate(base(model={"type": "layers", "layers": ["Flatten", {"class_name": "Dense", "units": 4}]}))
    assert cfg.model["layers"][0] == {"class_name": "Flatten"}
    with pytest.raises(ConfigError, match=r"model.layers\[0\] must be a Keras layer class name"):
        config.validate(base(model={"type": "layers", "layers": [{"units": 4}]}))


# --- datasets ----------------------------------------------------------------------------------

SYNTHETIC = {"moons": 2, "circles": 2, "blobs": 3, "spirals": 2, "xor": 2, "imbalanced": 2}


@pytest.mark.parametrize("name", sorted(SYNTHETIC))
def test_synthetic_datasets_have_their_classes(name):
    ds = load_dataset(name, DATASETS.get({"name": name, "n_samples": 200}, "d").params, None, seed=1)
    assert ds.x.shape[0] == 200 and ds.task == "classification" and ds.n_classes == SYNTHETIC[name]
    assert ds.x.dtype == np.float32 and np.isfinite(ds.x).all()


def test_imbalanced_is_imbalanced_and_regression_has_outliers():
    ds = load_dataset("imbalanced", {"n_samples": 1000, "n_features": 20, "n_classes": 2, "minority": 0.05,
                                     "class_sep": 1.0, "flip_y": 0.0}, None, seed=0)
    assert 0.03 < np.bincount(ds.y)[1] / 1000 < 0.07
    clean = load_dataset("regression", {"n_samples": 200, "n_features": 3, "noise": 1.0, "outliers": 0.0}, None, 0)
    dirty = load_dataset("regression", {"n_samples": 200, "n_features": 3, "noise": 1.0, "outliers": 0.1}, None, 0)
    assert (np.abs(dirty.y - clean.y) > 3 * clean.y.std()).sum() == 20


@pytest.mark.parametrize("name,task,n", [("wine", "classification", 178), ("linnerud", "regression", 20),
                                         ("breast_cancer", "classification", 569)])
def test_sklearn_datasets(name, task, n):
    ds = load_dataset(name, {}, None, 0)
    assert ds.task == task and len(ds.x) == n
    if name == "linnerud":
        assert ds.y.shape == (20, 3)


SHAPES = {"mnist": (28, 28), "fashion_mnist": (28, 28), "cifar10": (32, 32, 3), "cifar100": (32, 32, 3),
          "imdb": (1000,), "reuters": (1000,), "boston_housing": (13,), "california_housing": (8,)}


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    write_keras_cache(tmp_path / "keras")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    return tmp_path / "keras"


@pytest.mark.parametrize("name", sorted(KERAS_DATASETS))
def test_keras_datasets_read_from_keras_cache_formats(keras_home, name):
    params = DATASETS.get(f"keras:{name}", "data.dataset").params
    ds = load_dataset(f"keras:{name}", params, None, 0)
    assert ds.x.shape[1:] == SHAPES[name] and ds.x_test.shape[1:] == SHAPES[name]
    if name in ("mnist", "fashion_mnist", "imdb"):
        assert (len(ds.x), len(ds.x_test)) == (N_TRAIN, N_TEST)
    if name in ("reuters", "boston_housing", "california_housing"):
        assert (len(ds.x), len(ds.x_test)) == (16, 4)  # Keras' 80/20 split
    if name in ("imdb", "reuters"):
        assert set(np.unique(ds.x)) <= {0.0, 1.0} and ds.x[:, :3].sum() == 0 and ds.x.sum() > 0
    assert ds.task == ("regression" if "housing" in name else "classification")


def test_cifar100_coarse_labels_and_housing_versions(keras_home):
    coarse = load_dataset("keras:cifar100", {"label_mode": "coarse"}, None, 0)
    assert coarse.n_classes <= 20
    small = load_dataset("keras:california_housing", {"version": "small"}, None, 0)
    assert len(small.x) + len(small.x_test) == 20


def test_keras_dataset_neither_cached_nor_downloadable_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty"))

    def offline(**_):
        raise OSError("no network")

    fake = types.SimpleNamespace(datasets=types.SimpleNamespace(mnist=types.SimpleNamespace(load_data=offline)))
    monkeypatch.setitem(sys.modules, "keras", fake)
    with pytest.raises(ConfigError) as err:
        load_dataset("keras:mnist", {}, None, 0)
    text = str(err.value)
    assert "keras:mnist is not in Keras' cache" in text and "OSError: no network" in text and "digits" in text


def test_unknown_keras_dataset_suggests():
    with pytest.raises(ConfigError, match="Did you mean 'keras:mnist'?"):
        config.validate(base(data={"dataset": "keras:mnst"}))


def test_csv_with_feature_columns_and_categorical_one_hot(tmp_path):
    path = tmp_path / "houses.csv"
    path.write_text("size,city,noise,label\n1.0,paris,9,0\n2.0,rome,9,1\n3.0,paris,9,1\n4.0,oslo,9,0\n")
    ds = load_dataset(str(path), {}, "label", 0, features=["size", "city"], categorical=["city"])
    assert ds.feature_names == ["size", "city=oslo", "city=paris", "city=rome"]
    np.testing.assert_array_equal(ds.x[0], [1.0, 0.0, 1.0, 0.0])
    detected = load_dataset(str(path), {}, "label", 0)  # a text column is one-hot encoded without being listed
    assert detected.feature_names == ["size", "city=oslo", "city=paris", "city=rome", "noise"]
    with pytest.raises(ConfigError, match="data.features 'siz' is not a column.*Did you mean 'size'"):
        load_dataset(str(path), {}, "label", 0, features=["siz"])


def test_npz_with_its_own_validation_and_test_sets(tmp_path):
    path = tmp_path / "d.npz"
    rng = np.random.default_rng(0)
    np.savez(path, x=rng.normal(size=(30, 4)), y=np.arange(30) % 3, x_val=rng.normal(size=(6, 4)),
             y_val=np.arange(6) % 3, x_test=rng.normal(size=(9, 4)), y_test=np.arange(9) % 3)
    ds = load_dataset(str(path), {}, None, 0)
    assert ds.n_classes == 3 and ds.x_val.shape == (6, 4) and ds.x_test.shape == (9, 4)


def test_image_folder_is_validated_without_tensorflow(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pics" / "cats").mkdir(parents=True)
    (tmp_path / "pics" / "dogs").mkdir()
    cfg = config.validate(base(data={"dataset": "pics", "image_size": [8, 8]}))
    from lossopt_cli.training.preflight import check_data

    assert "folder of images" in check_data(cfg, offline=True).notes[0]


# --- example configs and their documentation ---------------------------------------------------

EXAMPLES = sorted(str(p.relative_to(REPO)) for p in REPO.glob("configs/**/*.yaml"))


def test_every_example_config_validates_and_is_documented(monkeypatch):
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(cli, ["validate", *EXAMPLES])
    assert result.exit_code == 0, result.output
    page = (REPO / "docs" / "configs.md").read_text()
    section = page.split("## Example configs", 1)[1].split("\n## ", 1)[0]
    for path in EXAMPLES:
        assert f"`{path}`" in section, f"{path} is not described in docs/configs.md's ## Example configs"
        assert yaml.safe_load((REPO / path).read_text())  # not empty
        first, second = (REPO / path).read_text().splitlines()[:2]
        assert first.startswith("# yaml-language-server: $schema="), f"{path} should start with the schema modeline"
        assert second.startswith("# "), f"{path} should then say, in a comment, what it teaches"
        if "vary" in yaml.safe_load((REPO / path).read_text()):
            continue  # a sweep file: validate expanded and checked each of its runs above
        resolved = config.load(REPO / path)  # the run's config.yaml (every default filled in) loads as is
        assert config.validate(yaml.safe_load(config.dump(resolved))).to_dict() == resolved.to_dict()


@pytest.mark.parametrize("name", ["digits", "iris", "wine", "breast_cancer", "diabetes", "linnerud"])
def test_bundled_datasets_are_exactly_scikit_learns(name):
    """lossopt reads scikit-learn's data files itself (no 1.5 s sklearn import in `validate`)."""
    import numpy as np
    from sklearn import datasets as skd

    from lossopt_cli.catalog.datasets import DATASETS

    ours = DATASETS.get(name, "data.dataset").build(seed=0)
    theirs = getattr(skd, f"load_{name}")()
    assert np.allclose(ours.x, theirs.data.astype("float32"), rtol=1e-6, atol=1e-7)
    assert np.allclose(ours.y, theirs.target)
    if ours.task == "classification":
        assert ours.class_names == [str(c) for c in theirs.target_names]


def test_the_split_is_seeded_stratified_and_complete():
    import numpy as np

    from lossopt_cli.training.data import split_indices

    y = np.array([0] * 90 + [1] * 10)
    kept, held = split_indices(y, 0.2, seed=3, stratify=True)
    assert len(held) == 20 and np.bincount(y[held]).tolist() == [18, 2]  # class shares kept
    assert sorted(np.concatenate([kept, held]).tolist()) == list(range(100))
    again = split_indices(y, 0.2, seed=3, stratify=True)
    assert [a.tolist() for a in again] == [kept.tolist(), held.tolist()]
    other = split_indices(y, 0.2, seed=4, stratify=True)[1]
    assert other.tolist() != held.tolist()
    kept, held = split_indices(np.arange(10) % 7, 0.3, seed=0, stratify=True)  # a class of one: plain split
    assert len(held) == 3
