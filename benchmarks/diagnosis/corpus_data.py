"""The public data of the diagnosis corpus, written as files lossopt reads (CSV, and Keras' cache format).

scikit-learn's bundled sets are read by lossopt itself (digits, breast_cancer, wine, iris, diabetes); this
module writes the others into ``.data/`` (not committed; rewritten by ``make_corpus.py``):

- statsmodels' bundled data sets: ``fair`` (extra-marital affairs, 6366 rows) as a regression, a 32 %
  binary target and rare-positive targets (affairs > 2 / 3 / 5: 10 %, 7 %, 2.3 %); ``randhie`` (RAND
  health insurance, 4000 of 20190 rows) as a regression and its top 5.5 % of doctor visits; ``star98``
  (share of students above the median, 303 districts); ``anes96`` (vote, 944 people); ``modechoice``
  (travel mode chosen, 840 rows); ``sunspots`` (309 years, windows of 10 -> the next year) and ``co2``
  (2284 weeks, 16 weekly changes -> the next change) as sequences;
- scikit-learn's digits as derived tasks (odd/even, below 5 / not, one digit against the rest), as
  integer pixel tokens (an Embedding + GRU reads them), and as 8x8 images in Keras' ``mnist.npz`` cache
  format (``keras:mnist`` with ``KERAS_HOME=.data/keras``);
- digits with 20 % of the labels redrawn at random and breast_cancer with 15 % of the diagnoses flipped
  (label noise: what makes an over-sized model over-fit these clean sets).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"


def _write(name: str, x: np.ndarray, y: np.ndarray, columns: list[str] | None = None, target: str = "target",
           integer_target: bool = True) -> Path:
    path = DATA / f"{name}.csv"
    if path.exists():
        return path
    columns = columns or [f"x{i}" for i in range(x.shape[1])]
    header = ",".join(columns + [target])
    fmt = ["%.6g"] * x.shape[1] + (["%d"] if integer_target else ["%.6g"])
    tmp = path.with_suffix(".tmp")
    np.savetxt(tmp, np.column_stack([x, y]), delimiter=",", header=header, comments="", fmt=fmt)
    os.replace(tmp, path)
    return path


def write_all() -> dict[str, Path]:
    """Write every derived data file (skipping those already there); returns name -> path."""
    DATA.mkdir(exist_ok=True)
    warnings.filterwarnings("ignore")
    import statsmodels.datasets as sm
    from sklearn.datasets import load_digits

    out = {}
    fair = sm.fair.load_pandas().data
    fx = fair.drop(columns=["affairs"])
    affairs = fair["affairs"].to_numpy()
    out["fair_reg"] = _write("fair_reg", fx.to_numpy(float), affairs, list(fx.columns), "affairs", integer_target=False)
    out["fair_any"] = _write("fair_any", fx.to_numpy(float), (affairs > 0).astype(int), list(fx.columns), "affair")
    for t in (2, 3, 5):
        out[f"fair_gt{t}"] = _write(f"fair_gt{t}", fx.to_numpy(float), (affairs > t).astype(int), list(fx.columns),
                                    "affair")
    r = sm.randhie.load_pandas().data.sample(4000, random_state=0)
    rx = r.drop(columns=["mdvis"])
    visits = r["mdvis"].to_numpy(float)
    out["randhie_reg"] = _write("randhie_reg", rx.to_numpy(float), visits, list(rx.columns), "mdvis",
                                integer_target=False)
    out["randhie_top"] = _write("randhie_top", rx.to_numpy(float), (visits > np.quantile(visits, 0.94)).astype(int),
                                list(rx.columns), "many_visits")
    s = sm.star98.load_pandas().data
    sx = s.drop(columns=["NABOVE", "NBELOW"])
    out["star98"] = _write("star98", sx.to_numpy(float), (s.NABOVE / (s.NABOVE + s.NBELOW)).to_numpy(),
                           list(sx.columns), "share_above", integer_target=False)
    a = sm.anes96.load_pandas().data
    ax = a.drop(columns=["vote", "PID"])
    out["anes_vote"] = _write("anes_vote", ax.to_numpy(float), a["vote"].to_numpy().astype(int), list(ax.columns),
                              "vote")
    m = sm.modechoice.load_pandas().data
    mx = m.drop(columns=["individual", "choice"])
    out["modechoice"] = _write("modechoice", mx.to_numpy(float), m["choice"].to_numpy().astype(int), list(mx.columns),
                               "choice")
    sp = sm.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy(float)
    out["sunspots"] = _write("sunspots", np.stack([sp[i:i + 10] for i in range(len(sp) - 10)]), sp[10:],
                             [f"lag{10 - i}" for i in range(10)], "sunactivity", integer_target=False)
    co = sm.co2.load_pandas().data["co2"].interpolate().bfill().to_numpy(float)
    dco = np.diff(co)
    out["co2"] = _write("co2", np.stack([dco[i:i + 16] for i in range(len(dco) - 16)]), dco[16:],
                        [f"lag{16 - i}" for i in range(16)], "change", integer_target=False)
    digits = load_digits()
    px, digit = digits.data, digits.target
    pixels = [f"p{i}" for i in range(64)]
    out["digits_parity"] = _write("digits_parity", px, digit % 2, pixels, "odd")
    out["digits_lt5"] = _write("digits_lt5", px, (digit < 5).astype(int), pixels, "below5")
    out["digit0"] = _write("digit0", px, (digit == 0).astype(int), pixels, "is0")
    out["digit8"] = _write("digit8", px, (digit == 8).astype(int), pixels, "is8")
    out["digits_tokens"] = _write("digits_tokens", px, digit, pixels, "digit")
    rng = np.random.default_rng(7)  # label noise, as in hand-labelled data: 20 % of the digits relabelled at random
    noisy = np.where(rng.random(len(digit)) < 0.2, rng.integers(0, 10, len(digit)), digit)
    out["digits_noisy"] = _write("digits_noisy", px, noisy, pixels, "digit")
    from sklearn.datasets import load_breast_cancer

    bx, by = load_breast_cancer(return_X_y=True)
    flipped = np.where(rng.random(len(by)) < 0.15, 1 - by, by)  # 15 % of the diagnoses flipped
    out["breast_cancer_noisy"] = _write("breast_cancer_noisy", bx, flipped, [f"f{i}" for i in range(bx.shape[1])],
                                        "malignant")
    keras_home = DATA / "keras"
    cache = keras_home / "datasets" / "mnist.npz"
    if not cache.exists():  # digits as 8x8 uint8 images in keras.datasets.mnist's file format (80/20)
        cache.parent.mkdir(parents=True, exist_ok=True)
        idx = np.random.default_rng(113).permutation(len(px))
        images = (digits.images * 255 / 16).round().astype("uint8")
        cut = int(0.8 * len(idx))
        tmp = cache.with_name("mnist.tmp.npz")
        np.savez_compressed(tmp, x_train=images[idx[:cut]], y_train=digit[idx[:cut]].astype("uint8"),
                            x_test=images[idx[cut:]], y_test=digit[idx[cut:]].astype("uint8"))
        os.replace(tmp, cache)
    out["keras_home"] = keras_home
    return out
