"""Write field_survey.csv: a small, made-up penguin field survey shaped like the CSVs people really have.

It has a comment line before the header, string class labels (species), two text columns
(island, sex), an id column, a date column, a free-text column with quoted commas, and missing
cells written as NA, as an empty field and as '?'. ``configs/csv_field_survey.yaml`` trains on
it; the tests write their own copy with ``write``.

    python configs/data/make_field_survey.py            # -> configs/data/field_survey.csv
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

SPECIES = {  # bill length mm, bill depth mm, flipper mm, body mass g: means per species
    "Adelie": (38.8, 18.3, 190.0, 3700.0),
    "Chinstrap": (48.8, 18.4, 196.0, 3733.0),
    "Gentoo": (47.5, 15.0, 217.0, 5076.0),
}
ISLANDS = {"Adelie": ["Torgersen", "Biscoe", "Dream"], "Chinstrap": ["Dream"], "Gentoo": ["Biscoe"]}
NOTES = ["", "", "", "egg seen, nest 2", "banded", "re-measured, \"wet\"", ""]


def rows(n: int = 300, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    out = ["# Data source: made-up field survey for the lossopt examples (not real measurements)",
           "id,species,island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex,date,notes"]
    names = list(SPECIES)
    for i in range(n):
        species = names[i % 3] if rng.random() > 0.2 else rng.choice(names)
        means = SPECIES[species]
        numbers = [rng.gauss(m, s) for m, s in zip(means, (2.8, 1.1, 6.5, 420.0))]
        cells = [f"{v:.1f}" if j < 3 else f"{v:.0f}" for j, v in enumerate(numbers)]
        for j in range(4):  # about 3 % of the measurements are missing, in three spellings
            if rng.random() < 0.03:
                cells[j] = rng.choice(["NA", "", "?"])
        sex = rng.choice(["male", "female"]) if rng.random() > 0.04 else "NA"
        note = rng.choice(NOTES)
        note = f"\"{note.replace(chr(34), chr(34) * 2)}\"" if ("," in note or '"' in note) else note
        date = f"2009-{rng.randint(10, 12):02d}-{rng.randint(1, 28):02d}"
        out.append(",".join([f"N{i:04d}", species, rng.choice(ISLANDS[species]), *cells, sex, date, note]))
    return out


def write(path: str | Path, n: int = 300, seed: int = 0) -> Path:
    path = Path(path)
    path.write_text("\n".join(rows(n, seed)) + "\n")
    return path


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("field_survey.csv")
    print(write(target))
