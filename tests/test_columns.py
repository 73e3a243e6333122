"""Reading tables and preparing columns: formats, globs, types, missing values (library API)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mitool
from mitool.data.columns import resolve_columns, split_specs
from mitool.data.loading import TableOptions
from mitool.errors import InputError, UsageError


@pytest.fixture
def frame():
    rng = np.random.default_rng(0)
    n = 400
    a = rng.normal(size=n)
    return pd.DataFrame(
        {
            "age": a,
            "pixel_1": a + 0.3 * rng.normal(size=n),
            "pixel_2": rng.normal(size=n),
            "city": rng.choice(["paris", "rome"], size=n),
            "code": rng.integers(0, 3, size=n),
        }
    )


def test_split_and_globs():
    assert split_specs(["a,b", " c "]) == ["a", "b", "c"]
    cols = ["age", "pixel_1", "pixel_2"]
    assert resolve_columns(["pixel_*"], cols, "--x") == ["pixel_1", "pixel_2"]
    assert resolve_columns(["age", "a*"], cols, "--x") == ["age"]


def test_unknown_column_suggests_close_name():
    with pytest.raises(InputError, match="unknown column 'agee'; did you mean 'age'"):
        resolve_columns(["agee"], ["age", "income"], "--x")
    with pytest.raises(InputError, match="matches no column"):
        resolve_columns(["zz*"], ["age"], "--x")


def test_dataframe_input_and_types(frame):
    r = mitool.estimate(frame, x="pixel_*", y="age", estimators="ksg")
    assert r.x == ["pixel_1", "pixel_2"] and r.y == ["age"]
    assert r.mi > 0.5
    r2 = mitool.estimate(frame, x="age", y="city", estimators="ksg")
    assert r2.discrete == ["city"]
    assert r2.mi < 0.05  # city is independent of age


def test_integer_column_hint_and_discrete_override(frame):
    r = mitool.estimate(frame, x="age", y="code", estimators="ksg")
    assert any("--discrete code" in w for w in r.warnings)
    r2 = mitool.estimate(frame, x="age", y="code", estimators="ksg", table=TableOptions(discrete="code"))
    assert r2.discrete == ["code"] and not any("--discrete" in w for w in r2.warnings)


def test_missing_rows_dropped_and_counted(frame):
    frame.loc[:9, "age"] = np.nan
    r = mitool.estimate(frame, x="age", y="pixel_1", estimators="ksg")
    assert (r.input.n_rows, r.input.n_used, r.input.n_dropped) == (400, 390, 10)


def test_max_rows_is_seeded(frame):
    a = mitool.estimate(frame, x="age", y="pixel_1", estimators="ksg", seed=3, table=TableOptions(max_rows=100))
    b = mitool.estimate(frame, x="age", y="pixel_1", estimators="ksg", seed=3, table=TableOptions(max_rows=100))
    assert a.input.n_used == 100 and a.input.n_sampled == 100 and a.mi == b.mi


def test_constant_column_warns_and_gives_zero(frame):
    frame["flat"] = 1.0
    r = mitool.estimate(frame, x="flat", y="age", estimators="ksg,sklearn")
    assert r.mi == 0.0
    assert any("constant" in w for w in r.warnings)


def test_same_column_in_both(frame):
    with pytest.raises(UsageError, match="in both --x and --y"):
        mitool.estimate(frame, x="age", y="age,pixel_1", estimators="ksg")


def test_forced_continuous_with_text(frame):
    frame["num"] = frame["age"].astype(str)
    frame.loc[5, "num"] = "n/a-ish"  # one stray token: the cell is missing, with a warning
    r = mitool.estimate(frame, x="num", y="pixel_1", estimators="ksg", table=TableOptions(continuous="num"))
    assert r.input.n_dropped == 1
    assert any("1 of 400 cells are not numbers" in w and "'n/a-ish'" in w for w in r.warnings)
    frame.loc[:40, "num"] = "n/a-ish"  # 10% text: not a numeric column
    with pytest.raises(InputError, match="non-numeric values such as 'n/a-ish'"):
        mitool.estimate(frame, x="num", y="age", estimators="ksg", table=TableOptions(continuous="num"))


def test_inf_values_rejected(frame):
    frame.loc[3, "age"] = np.inf
    with pytest.raises(InputError, match="infinite"):
        mitool.estimate(frame, x="age", y="pixel_1", estimators="ksg")


def test_parquet_by_magic_bytes_and_tsv(tmp_path, frame):
    pq = tmp_path / "data.bin"  # no telling extension: detected by 'PAR1'
    frame.to_parquet(pq)
    r = mitool.estimate(pq, x="age", y="pixel_1", estimators="ksg")
    assert r.input.format == "parquet" and r.input.n_used == 400
    tsv = tmp_path / "data.tsv"
    frame.to_csv(tsv, sep="\t", index=False)
    r2 = mitool.estimate(tsv, x="age", y="pixel_1", estimators="ksg")
    assert r2.input.format == "tsv" and r2.mi == pytest.approx(r.mi, abs=1e-6)
    r3 = mitool.estimate(pq.read_bytes(), x="age", y="pixel_1", estimators="ksg")
    assert r3.input.path == "-" and r3.input.format == "parquet"


def test_bits_and_json_never_nan(frame):
    r = mitool.estimate(frame, x="age", y="pixel_1", estimators="ksg,sklearn", unit="bits")
    nats = mitool.estimate(frame, x="age", y="pixel_1", estimators="ksg,sklearn")
    doc = r.to_dict()
    # every value reachable from the result object is in its unit, not only the headline
    assert doc["mi"] == r.mi == pytest.approx(nats.mi / np.log(2))
    assert r.result("ksg").unit == "bits"
    assert r.result("ksg").mi == pytest.approx(nats.result("ksg").mi / np.log(2))
    assert r.result("ksg").details["mi_raw"] == pytest.approx(
        nats.result("ksg").details["mi_raw"] / np.log(2))
    assert doc["unit"] == "bits" and doc["schema_version"] == 6


def test_numbers_read_without_pandas_give_the_same_report(tmp_path):
    """A file of numbers skips pandas (data.loading.NumberColumns): same rows, kinds,
    warnings and MI as the DataFrame of the same values."""
    rng = np.random.default_rng(3)
    n = 400
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.integers(0, 6, size=n)})
    frame["c"] = frame["a"] + rng.normal(size=n)
    frame.loc[[3, 50, 77], "a"] = np.nan
    path = tmp_path / "n.csv"
    frame.to_csv(path, index=False)
    got = mitool.estimate(path, "a,b", "c", "ksg").to_dict()
    want = mitool.estimate(frame, "a,b", "c", "ksg").to_dict()
    for key in ("mi", "columns", "warnings", "discrete"):
        assert got[key] == want[key], key
    assert got["input"]["n_dropped"] == 3 and got["input"]["n_used"] == n - 3
    assert any("only 6 distinct integer values" in w for w in got["warnings"])
