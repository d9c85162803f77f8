"""Write the data files of the bad-input corpus: ``python make_data_files.py [DIR]`` (default: data/
beside this file). The test writes them into its copy of the corpus, so none is committed; this
script says exactly what is wrong with each."""

import sys

from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent / "data"


def rows(*lines: str) -> str:
    return "\n".join(lines) + "\n"


GOOD = [f"{i % 5}.{i},{(i * 7) % 11}.5,{i % 2}" for i in range(12)]


def main(DATA: Path = DATA) -> None:  # noqa: N803 - the folder the files go to
    DATA.mkdir(exist_ok=True)
    (DATA / "not_images").mkdir(exist_ok=True)
    (DATA / "not_images" / "notes.txt").write_text("a folder without one sub-folder of images per class\n")
    (DATA / "a_file.txt").write_text("a file where output.dir expects a directory\n")
    text = {
        "good.csv": rows("a,b,label", *GOOD),
        "empty.csv": "",
        "header_only.csv": rows("a,b,label"),
        "ragged.csv": rows("a,b,label", "1,2,0", "3,4", "5,6,1", "7,8,1,9", *GOOD[:6]),  # lines 3 and 5
        "extra_fields.csv": rows("a,b,label", "1,2,0", "3,4,1", "5,6,1,7,8", *GOOD[:6]),  # line 4
        "one_row.csv": rows("a,b,label", "1,2,0"),
        "one_class.csv": rows("a,b,label", *[f"{i},{i * 2},1" for i in range(8)]),
        "nan.csv": rows("a,b,label", "1,2,0", "3,nan,1", *GOOD[:6]),  # sample 2, column b
        "inf.csv": rows("a,b,label", "1,2,0", "3,4,1", "inf,6,1", *GOOD[:6]),  # sample 3, column a
        "empty_cell.csv": rows("a,b,label", "1,2,0", "3,,1", *GOOD[:6]),
        "nan_target.csv": rows("a,b,y", "1,2,0.5", "3,4,nan", *[f"{i},{i},{i * 0.37}" for i in range(8)]),
        "text_feature.csv": rows("a,b,label", "1,low,0", "3,high,1", *GOOD[:6]),
    }
    for name, content in text.items():
        (DATA / name).write_text(content)
    (DATA / "latin1.csv").write_bytes(rows("a,b,label", "1,2,0", "3,4,caf\xe9", *GOOD[:6]).encode("latin-1"))
    (DATA / "binary.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (DATA / "not_zip.npz").write_text("x,y\n1,2\n")
    ragged = np.empty(3, dtype=object)
    ragged[:] = [np.zeros(3), np.zeros(2), np.zeros(4)]
    np.savez(DATA / "object_arrays.npz", x=ragged, y=np.array([0, 1, 0]))
    np.savez(DATA / "string_features.npz", x=np.array([["a", "b"], ["c", "d"], ["e", "f"]]), y=np.array([0, 1, 0]))
    np.savez(DATA / "mismatched.npz", x=np.zeros((10, 3)), y=np.arange(6) % 2)
    np.savez(DATA / "no_y.npz", x=np.zeros((10, 3)), labels=np.arange(10) % 2)
    x = np.random.default_rng(0).normal(size=(10, 3))
    x[2, 1], x[7, 0] = np.nan, np.inf
    np.savez(DATA / "nan.npz", x=x, y=np.arange(10) % 2)
    np.savez(DATA / "val_without_y.npz", x=np.zeros((10, 3)), y=np.arange(10) % 2, x_val=np.zeros((4, 3)))
    np.savez(DATA / "empty.npz", x=np.zeros((0, 3)), y=np.zeros(0))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DATA)
