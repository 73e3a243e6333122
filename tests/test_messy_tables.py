"""Messy tables (files written by ``messy_tables.write_all``): every case gives the number the
clean version of the same data gives, or a clean exit-2 error that names the problem."""

from __future__ import annotations

import json

import numpy as np
import pytest
from messy_tables import write_all

import mitool
from mitool.cli import app
from mitool.data.loading import TableOptions
from mitool.data.tables import CsvOptions
from mitool.errors import InputError
from mitool.estimators.config import KnnConfig
from mitool.inference import InferenceSpec


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    return write_all(tmp_path_factory.mktemp("messy"))


def ksg(data, x, y, **kw):
    return mitool.estimate(data, x=x, y=y, estimators="ksg", **kw)


@pytest.mark.parametrize("name", ["stray_token", "thousands", "european"])
def test_text_numbers_read_as_the_clean_numbers(cases, name):
    c = cases[name]
    got, want = ksg(c.path, c.x, c.y), ksg(c.clean.reset_index(drop=True), c.x, c.y)
    assert got.mi == pytest.approx(want.mi, abs=1e-9)
    assert got.mi > 0.4  # the pair is dependent (0.51 nats): nothing fell back to categories
    assert [col["kind"] for col in got.to_dict()["columns"]] == ["continuous", "continuous"]


def test_stray_token_is_counted_and_shown(cases):
    r = ksg(cases["stray_token"].path, "x", "y")
    assert r.input.n_dropped == 1
    assert any("1 of 500 cells are not numbers" in w and "'abc'" in w for w in r.warnings)
    x = r.to_dict()["columns"][0]
    assert (x["source"], x["n_unparsable"]) == ("text", 1)


def test_layout_detection_says_which_flags(cases):
    r = ksg(cases["european"].path, "x", "y")
    assert any("--sep ';' --decimal ','" in w for w in r.warnings)
    explicit = ksg(cases["european"].path, "x", "y",
                   table=TableOptions(csv=CsvOptions(sep=";", decimal=",")))
    assert explicit.mi == r.mi and not any("--sep" in w for w in explicit.warnings)
    t = ksg(cases["thousands"].path, "x", "y")
    assert any("thousands separator ','" in w for w in t.warnings)


def test_duplicate_header_is_refused_by_name(cases, runner):
    c = cases["duplicate_header"]
    with pytest.raises(InputError, match="'a' is column 1 and 3"):
        ksg(c.path, "a", "b")
    r = runner.invoke(app, ["pairs", str(c.path)])
    assert r.exit_code == 2 and "duplicate column names" in r.stderr


@pytest.mark.parametrize("name", ["huge", "tiny"])
@pytest.mark.parametrize("est,transform", [("ksg", "standardize"), ("sklearn", "standardize"),
                                           ("smile", "standardize"), ("smile", "copula"),
                                           ("ksg", "copula")])
def test_magnitudes_do_not_change_the_mi(cases, name, est, transform):
    from mitool.estimators.config import NeuralConfig

    c = cases[name]
    cfg = NeuralConfig(steps=200)
    got = mitool.estimate(c.path, c.x, c.y, est, neural=cfg, knn=KnnConfig(transform=transform))
    want = mitool.estimate(c.clean, c.x, c.y, est, neural=cfg, knn=KnnConfig(transform=transform))
    assert got.mi == pytest.approx(want.mi, abs=1e-6)
    assert got.mi > 0.3


@pytest.mark.parametrize("name", ["timestamp_parquet", "dates_iso"])
def test_dates_are_seconds_since_epoch(cases, name):
    c = cases[name]
    got, want = ksg(c.path, c.x, c.y), ksg(c.clean, c.x, c.y)
    assert want.mi > 0.5  # a strong trend
    assert got.mi == pytest.approx(want.mi, abs=0.02 if name == "dates_iso" else 1e-9)
    info = got.to_dict()["columns"][0]
    assert info["kind"] == "continuous" and info["source"] in ("datetime", "date")
    assert "seconds since 1970-01-01 UTC" in info["reason"]


def test_unique_string_id_is_refused_with_the_fix(cases, runner):
    c = cases["ids"]
    with pytest.raises(InputError, match="customer_id.*looks like an identifier"):
        ksg(c.path, "customer_id", "target")
    r = runner.invoke(app, ["estimate", str(c.path), "--x", "customer_id", "--y", "amount",
                            "-e", "ksg"])
    assert r.exit_code == 2
    assert "'customer_id' cannot be used as a category" in r.stderr and r.stdout == ""


def test_numeric_ids_the_leakage_gate_tells_leaks_from_noise(cases, runner):
    """README: an identifier must carry (almost) no information about the target, confidently."""
    path = str(cases["ids"].path)
    base = ["estimate", path, "--y", "target", "-e", "ksg", "--discrete", "{id}",
            "--fail-above", "0.02", "--gate-on", "ci", "--unit", "bits", "--format", "json"]
    runs = {}
    for col in ("random_id", "leaky_id"):
        args = [a.replace("{id}", col) for a in base[:2]] + ["--x", col] + [
            a.replace("{id}", col) for a in base[2:]]
        runs[col] = runner.invoke(app, args)
    ok, leak = runs["random_id"], runs["leaky_id"]
    assert ok.exit_code == 0, ok.output
    assert leak.exit_code == 3, leak.output
    doc_ok, doc_leak = json.loads(ok.stdout), json.loads(leak.stdout)
    assert doc_ok["results"][0]["ci_high"] <= 0.02
    assert doc_leak["mi"] > 0.1
    # --discrete on a column with one level per row is overridden, and the report says why
    assert any("treated as numeric" in w for w in doc_ok["warnings"])
    assert doc_ok["columns"][0]["kind"] == "continuous"


def test_float_codes_get_the_discrete_hint(cases):
    c = cases["float_codes"]
    r = ksg(c.path, c.x, c.y)
    assert any("--discrete occupation" in w for w in r.warnings)
    p = mitool.pairs(c.path)  # pairs reads such a code as discrete, and says so
    assert any("read as discrete codes" in w and "occupation (6)" in w for w in p.warnings)
    assert p.scores[0].note == "occupation read as discrete codes"


def test_pairs_finishes_around_empty_and_constant_columns(cases):
    r = mitool.pairs(cases["holes"].path)
    assert {s["column"] for s in r.skipped} == {"empty", "flat"}
    assert any("'empty' (empty or all missing)" in w for w in r.warnings)
    top = r.scores[0]
    assert (top.x, top.y) == ("x", "y") and top.mi > 0.4
    # the nearly empty column's pairs have no estimate, and sort last
    assert [s.mi is None for s in r.scores] == [False] + [True] * (len(r.scores) - 1)
    assert all("nearly_empty" in (s.x, s.y) for s in r.scores[1:])


def test_estimate_names_the_all_missing_column(cases):
    with pytest.raises(InputError, match="'empty' hold no values"):
        ksg(cases["holes"].path, "empty", "y")


def test_independent_categories_do_not_top_the_screen(cases):
    c = cases["categories"]
    r = mitool.pairs(c.path)
    top = r.scores[0]
    assert {top.x, top.y} == {"u", "v"}
    cat = next(s for s in r.scores if {s.x, s.y} == {"shop", "colour"})
    assert cat.mi < 0.08  # the plug-in gives 0.53 here
    e = mitool.estimate(c.path, "shop", "colour", "ksg", inference=InferenceSpec(bootstrap=50)).result("ksg")
    assert e.details["mi_plugin"] > 0.4
    assert e.details["ci_low"] == 0.0  # the interval covers the true 0


def test_pairs_top_applies_to_every_format(cases, runner):
    path = str(cases["categories"].path)
    for fmt in ("json", "csv", "table"):
        r = runner.invoke(app, ["pairs", path, "--top", "2", "-f", fmt])
        assert r.exit_code == 0, r.output
        if fmt == "json":
            assert len(json.loads(r.stdout)["pairs"]) == 2
        elif fmt == "csv":
            assert len(r.stdout.strip().splitlines()) == 3
        else:
            assert "top 2 shown" in r.stdout


def test_dataframe_with_integer_column_names():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(500, 3))
    a[:, 1] += a[:, 0]
    import pandas as pd

    r = mitool.estimate(pd.DataFrame(a), x=0, y=1, estimators="ksg")
    assert r.x == ["0"] and r.y == ["1"] and r.mi > 0.2
    r2 = mitool.estimate(pd.DataFrame(a), x=[0, 2], y=1, estimators="ksg")
    assert r2.x == ["0", "2"]


@pytest.mark.parametrize("name,said", [
    ("latin1", "is not UTF-8 (byte 2 is not valid UTF-8): read as cp1252"),
    ("utf16", "UTF-16 byte-order mark"),
    ("latin1_gzip", "is not UTF-8 (byte 2 is not valid UTF-8): read as cp1252"),
])
def test_other_encodings_read_as_the_clean_table_and_say_so(cases, name, said):
    c = cases[name]
    opts = TableOptions(discrete="städt")
    got = ksg(c.path, c.x, c.y, table=opts)
    want = ksg(c.clean, c.x, c.y, table=opts)
    assert got.mi == pytest.approx(want.mi, abs=1e-9) and got.mi > 0.5
    assert any(said in w for w in got.warnings), got.warnings
    assert got.to_dict()["columns"][0]["n_levels"] == 4  # Köln, Zürich, Genève, Montréal
    if name == "latin1_gzip":  # the layout is sniffed on the decompressed text
        assert any("--sep ';' --decimal ','" in w for w in got.warnings)


def test_accents_after_the_first_64_kb_fall_back_with_the_offset(cases):
    c = cases["late_latin1"]
    r = ksg(c.path, c.x, c.y, table=TableOptions(discrete="town"))
    first = next(i for i, b in enumerate(c.path.read_bytes()) if b >= 0x80)
    assert first > 65536
    assert any(f"byte {first:,} is not valid UTF-8): read as cp1252" in w for w in r.warnings)
    assert r.to_dict()["columns"][0]["n_levels"] == 5  # Bonn and the four towns


def test_a_given_encoding_is_used_and_a_wrong_one_refused_with_the_offset(cases, runner):
    c = cases["latin1"]
    ok = ksg(c.path, c.x, c.y, table=TableOptions(csv=CsvOptions(encoding="latin-1")))
    assert not any("UTF-8" in w for w in ok.warnings) and ok.mi > 0.5
    with pytest.raises(InputError, match=r"as utf-8: byte 2 is not valid utf-8; pass "
                                         r"CsvOptions\(encoding=\.\.\.\)"):
        ksg(c.path, c.x, c.y, table=TableOptions(csv=CsvOptions(encoding="utf-8")))
    res = runner.invoke(app, ["estimate", str(c.path), "--x", c.x, "--y", c.y, "-e", "ksg",
                              "--encoding", "utf-8", "-q"])
    assert res.exit_code == 2 and res.stdout == ""
    assert "byte 2 is not valid utf-8; pass --encoding" in res.stderr
    res = runner.invoke(app, ["pairs", str(c.path), "--encoding", "klingon", "-q"])
    assert res.exit_code == 2 and "unknown --encoding 'klingon'" in res.stderr
    res = runner.invoke(app, ["pairs", str(c.path), "--target", c.y, "--encoding", "cp1252",
                              "-f", "json", "-q"])
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["pairs"][0]["x"] == c.x


def test_multiindex_labels_select_columns():
    """A MultiIndex frame's labels are tuples: alone, in lists, in discrete=, in pairs'
    target; the report names them by their levels joined with '/'."""
    import pandas as pd

    rng = np.random.default_rng(3)
    u = rng.normal(size=1500)
    df = pd.DataFrame({("delay", "dep"): u,
                       ("delay", "arr"): 0.8 * u + 0.6 * rng.normal(size=1500),
                       ("w", "t"): rng.normal(size=1500), ("w", "c"): (u > 0).astype(int)})
    flat = df.set_axis(["delay/dep", "delay/arr", "w/t", "w/c"], axis=1)
    one = ksg(df, ("delay", "dep"), ("delay", "arr"))
    assert (one.to_dict()["x"], one.to_dict()["y"]) == (["delay/dep"], ["delay/arr"])
    assert one.mi == pytest.approx(ksg(flat, "delay/dep", "delay/arr").mi, abs=1e-12)
    assert one.mi == pytest.approx(-0.5 * np.log(1 - 0.8**2), abs=0.05)
    two = ksg(df, [("delay", "dep")], [("delay", "arr"), ("w", "t")])
    assert two.to_dict()["y"] == ["delay/arr", "w/t"]
    assert ksg(df, "delay/dep", "w/*").to_dict()["y"] == ["w/t", "w/c"]  # names and globs
    lab = ksg(df, ("delay", "dep"), ("w", "c"), table=TableOptions(discrete=[("w", "c")]))
    assert [c["kind"] for c in lab.to_dict()["columns"]] == ["continuous", "discrete"]
    with pytest.raises(InputError, match="unknown column 'delay'; did you mean 'delay/dep'"):
        ksg(df, ("delay", "nope"), ("w", "t"))  # not a label: two names, and neither is one
    screen = mitool.pairs(df, target=("delay", "arr"), seed=0).to_dict()
    assert screen["pairs"][0]["x"] == "delay/dep"


def test_pairs_reads_small_integer_codes_as_discrete_and_says_so(cases):
    c = cases["codes"]
    doc = mitool.pairs(c.path, target="seats", seed=0).to_dict()
    rows = {r["x"]: r for r in doc["pairs"]}
    both_codes = mitool.estimate(c.path, "engines", "seats", "ksg",
                                 table=TableOptions(discrete="engines,seats"))
    assert rows["engines"]["mi"] == pytest.approx(both_codes.mi, abs=1e-12)
    assert rows["engines"]["method"] == both_codes.result("ksg").details["method"]
    assert rows["engines"]["note"] == "engines read as discrete codes; seats read as discrete codes"
    assert rows["weight"]["note"] == "seats read as discrete codes"
    kinds = {col["name"]: col for col in doc["columns"]}
    assert kinds["engines"]["kind"] == "discrete"
    assert kinds["engines"]["reason"].startswith("numeric with 4 integer levels")
    assert any("read as discrete codes" in w and "engines (4), seats (3)" in w
               for w in doc["warnings"])
    kept = mitool.pairs(c.path, target="seats", seed=0,
                        table=TableOptions(continuous="engines")).to_dict()
    assert {col["name"]: col["kind"] for col in kept["columns"]}["engines"] == "continuous"


def test_datetime_parts_reveal_a_daily_cycle(cases, runner):
    c = cases["clock"]
    plain = ksg(c.path, c.x, c.y)
    assert plain.mi < 0.5  # seconds since 1970: the cycle is invisible
    parts = ksg(c.path, c.x, c.y, table=TableOptions(datetime_parts="hour"))
    assert parts.mi == pytest.approx(np.log(24), abs=0.15)  # the hour is a function of both
    doc = parts.to_dict()
    assert doc["y"] == ["time_hour.hour_sin", "time_hour.hour_cos"]
    assert [col["source"] for col in doc["columns"]] == ["numeric", "datetime part",
                                                         "datetime part"]
    res = runner.invoke(app, ["estimate", str(c.path), "--x", c.x, "--y", c.y, "-e", "ksg",
                              "--datetime-parts", "hour,weekday,timestamp", "-f", "json", "-q"])
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["y"] == [
        "time_hour.hour_sin", "time_hour.hour_cos", "time_hour.weekday_sin",
        "time_hour.weekday_cos", "time_hour.timestamp"]
    bad = runner.invoke(app, ["estimate", str(c.path), "--x", c.x, "--y", c.y,
                              "--datetime-parts", "fortnight", "-q"])
    assert bad.exit_code == 2 and "unknown --datetime-parts part(s) 'fortnight'" in bad.stderr
    none = runner.invoke(app, ["estimate", str(cases["codes"].path), "--x", "engines", "--y",
                               "seats", "--datetime-parts", "hour", "-q"])
    assert none.exit_code == 2 and "needs a timestamp or date column" in none.stderr


def test_cycle_positions_are_on_the_calendar():
    import pandas as pd

    from mitool.data.dateparts import cycle_position

    t = pd.to_datetime(["2024-01-01 00:00", "2024-01-01 06:00", "2024-07-01 12:00",
                        "2023-12-31 23:59"])
    s = (t - pd.Timestamp("1970-01-01")).total_seconds().to_numpy()
    assert cycle_position(s, "hour") == pytest.approx([0, 0.25, 0.5, 1439 / 1440])
    assert cycle_position(s, "weekday") == pytest.approx([0, 0.25 / 7, 0.5 / 7, 1 - 1 / 1440 / 7])
    assert cycle_position(s, "dayofyear")[2] == pytest.approx((182 + 0.5) / 366)  # leap year
    assert cycle_position(s, "month")[2] == pytest.approx((6 + 0.5 / 31) / 12)


def test_a_big_category_never_gets_an_indicator_matrix(monkeypatch):
    """Scaled down from 4,043 tail numbers x 336,776 flights (10.9 GB of indicators): above
    the limits, the one-hot estimators say why they do not apply, and gcmi reads the
    category through its group means (the same number as its indicators give)."""
    import pandas as pd

    from mitool.estimators import gcmi, registry

    rng = np.random.default_rng(11)
    tail = rng.integers(0, 400, 20_000)
    df = pd.DataFrame({"tailnum": [f"N{t:03d}" for t in tail],
                       "arr_delay": 20 * rng.normal(size=tail.size) + tail % 37})
    dense = mitool.estimate(df, "tailnum", "arr_delay", "gcmi").mi
    monkeypatch.setattr(registry, "ONE_HOT_MAX_CELLS", 1_000_000)
    monkeypatch.setattr(gcmi, "DENSE_INDICATOR_CELLS", 1_000_000)
    r = mitool.estimate(df, "tailnum", "arr_delay", "smile,gcmi-bound,gcmi,ksg")
    for name in ("smile", "gcmi-bound"):
        assert not r.result(name).applicable
        assert "level indicators would take 0.1 GB (400 levels x 20,000 rows)" in \
            r.result(name).reason
    assert r.result("gcmi").mi == pytest.approx(dense, rel=1e-9)
    assert r.result("ksg").mi == pytest.approx(dense, abs=0.05)  # both read ~0.12 nats
