"""Write the bundled sample tables in sample_data/ (deterministic: fixed seeds).

Run from the repo root: ``python scripts/make_sample_data.py``. The true MI of each file is
listed in sample_data/README.md (printed by this script too).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sklearn.datasets import load_wine

from mitool.data import synthetic

OUT = Path(__file__).resolve().parent.parent / "sample_data"


def main() -> None:
    OUT.mkdir(exist_ok=True)
    sets = {
        "gaussian_1d.csv": synthetic.gaussian(5000, 1, 1, mi=1.0, seed=1),
        "gaussian_3x3.csv": synthetic.gaussian(5000, 3, 3, mi=1.0, seed=0),
        "gaussian_3x3_nonlinear.csv": synthetic.transformed(
            synthetic.gaussian(5000, 3, 3, mi=1.0, seed=3), "cube", "exp"
        ),
        "independent.csv": synthetic.independent(5000, 2, 2, seed=4),
        "label.csv": synthetic.discrete_label(5000, n_classes=4, shift=0.5, seed=5),
    }
    for name, d in sets.items():
        d.to_frame().to_csv(OUT / name, index=False, float_format="%.7g")
        print(f"{name}: {d.name}, true MI = {d.mi:.4f} nats, x={d.x_names}, y={d.y_names}")
    wine = load_wine(as_frame=True)
    frame: pd.DataFrame = wine.frame.rename(columns={"od280/od315_of_diluted_wines": "od280_od315"})
    frame["target"] = frame["target"].map(dict(enumerate(wine.target_names)))
    frame.to_csv(OUT / "wine.csv", index=False)
    print(f"wine.csv: {len(frame)} rows, columns {list(frame.columns)}")
    time_series()


def time_series() -> None:
    """var_series.csv: a VAR(1) where x drives y (TE(x→y) > 0, TE(y→x) = 0), one row a day."""
    d = synthetic.var1(2000, seed=7)
    frame = d.frame.copy()
    frame["t"] = pd.date_range("2020-01-01", periods=len(frame), freq="D").strftime("%Y-%m-%d")
    frame.to_csv(OUT / "var_series.csv", index=False, float_format="%.7g")
    print(f"var_series.csv: {d.name}, TE(x→y) = {d.te('xy'):.4f}, TE(y→x) = {d.te('yx'):.4f}, "
          f"I(x(t-1);y(t)) = {d.lagged_mi(1):.4f} nats")


if __name__ == "__main__":
    main()
