"""`mitool estimate` and `mitool sample` through the CLI: exit codes, stdout JSON, stderr text."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mitool.cli import app


def run(runner, *args, input=None):
    result = runner.invoke(app, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr


def test_json_report(runner, gauss_csv):
    code, out, err = run(runner, "estimate", str(gauss_csv), "--x", "x", "--y", "y",
                         "-e", "ksg,sklearn", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)  # exactly one document, nothing else on stdout
    assert doc["schema_version"] == 6 and doc["command"] == "estimate"
    assert doc["estimator"] == "ksg" and doc["mi"] == pytest.approx(0.5, abs=0.05)
    assert doc["input"] == {"path": str(gauss_csv), "format": "csv", "n_rows": 2000,
                            "n_used": 2000, "n_dropped": 0, "n_sampled": None,
                            "repeated_rows": 0.0}
    ksg, sk = doc["results"]
    assert abs(ksg["mi"] - sk["mi"]) < 0.02 and ksg["seconds"] >= 0
    assert "NaN" not in out


def test_table_output_and_bits(runner, gauss_csv):
    code, out, err = run(runner, "estimate", str(gauss_csv), "--x", "x", "--y", "y",
                         "-e", "ksg", "--unit", "bits")
    assert code == 0, err
    assert "ksg" in out and "bits" in out and "headline" in out
    value = float(out.split("ksg = ")[1].split()[0])
    assert value == pytest.approx(0.5 / np.log(2), abs=0.08)


def test_output_file_is_written(runner, gauss_csv, tmp_path):
    target = tmp_path / "report.json"
    code, out, _ = run(runner, "estimate", str(gauss_csv), "-x", "x", "-y", "y", "-e", "ksg",
                       "-f", "json", "--output", str(target))
    assert code == 0
    assert json.loads(target.read_text()) == json.loads(out)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_stdin_csv(runner, gauss_csv):
    code, out, _ = run(runner, "estimate", "-", "-x", "x", "-y", "y", "-e", "ksg", "-f", "json",
                       input=gauss_csv.read_text())
    assert code == 0 and json.loads(out)["input"]["path"] == "-"


def test_missing_values_reported(runner, tmp_path):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    df.loc[:4, "b"] = np.nan
    path = tmp_path / "m.csv"
    df.to_csv(path, index=False)
    code, out, _ = run(runner, "estimate", str(path), "-x", "a", "-y", "b", "-e", "ksg", "-f", "json")
    assert code == 0 and json.loads(out)["input"]["n_dropped"] == 5


# ---- bad input: one clean line on stderr, exit 2, no traceback -------------------------------
def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


BAD_CASES = {
    "missing file": (lambda t: ["nope.csv", "-x", "a", "-y", "b"], "file not found"),
    "folder": (lambda t: [str(t), "-x", "a", "-y", "b"], "is a folder"),
    "empty file": (lambda t: [write(t, "e.csv", ""), "-x", "a", "-y", "b"], "is empty"),
    "header only": (lambda t: [write(t, "h.csv", "a,b\n"), "-x", "a", "-y", "b"], "no data rows"),
    "malformed csv": (
        lambda t: [write(t, "bad.csv", "a,b\n1,2\n3,4,5\n"), "-x", "a", "-y", "b"],
        "malformed CSV",
    ),
    "unknown column": (
        lambda t: [write(t, "u.csv", "age,b\n1,2\n2,3\n"), "-x", "agee", "-y", "b"],
        "unknown column 'agee'; did you mean 'age'?",
    ),
    "same column": (
        lambda t: [write(t, "s.csv", "a,b\n1,2\n2,3\n"), "-x", "a", "-y", "a"],
        "in both --x and --y",
    ),
    "all rows missing": (
        lambda t: [write(t, "n.csv", "a,b\n1,\n2,\n3,\n"), "-x", "a", "-y", "b"],
        "no rows left",
    ),
    "too few rows": (
        lambda t: [write(t, "f.csv", "a,b\n1,2\n2,1\n3,5\n"), "-x", "a", "-y", "b", "-e", "ksg"],
        "more rows than k",
    ),
    "inf values": (
        lambda t: [write(t, "i.csv", "a,b\n1,2\ninf,3\n3,4\n4,1\n5,0\n"), "-x", "a", "-y", "b",
                   "-e", "ksg"],
        "infinite",
    ),
    "forced continuous text": (
        lambda t: [write(t, "c.csv", "a,b\n1,2\nfoo,3\n3,4\n4,1\n5,0\n"), "-x", "a", "-y", "b",
                   "--continuous", "a", "-e", "ksg"],
        "non-numeric values such as 'foo'",
    ),
    "unknown estimator": (
        lambda t: [write(t, "k.csv", "a,b\n1,2\n2,3\n"), "-x", "a", "-y", "b", "-e", "kgs"],
        "unknown estimator 'kgs'; did you mean 'ksg'?",
    ),
    "bad k": (
        lambda t: [write(t, "k0.csv", "a,b\n1,2\n2,3\n"), "-x", "a", "-y", "b", "--k", "0"],
        "--k must be a positive integer",
    ),
    "bad input format": (
        lambda t: [write(t, "p.csv", "a,b\n1,2\n"), "-x", "a", "-y", "b", "--input-format", "xls"],
        "Invalid value",
    ),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_input_exit_2(runner, tmp_path, case):
    make_args, message = BAD_CASES[case]
    code, out, err = run(runner, "estimate", *make_args(tmp_path))
    assert code == 2, (case, err)
    assert message in err
    assert "Traceback" not in err and out == ""


def test_constant_column_warns_on_stderr(runner, tmp_path):
    path = write(tmp_path, "const.csv", "a,b\n" + "".join(f"{i},7\n" for i in range(20)))
    code, out, err = run(runner, "estimate", path, "-x", "a", "-y", "b", "-e", "ksg", "-f", "json")
    assert code == 0
    assert "warning: column 'b' is constant" in err
    assert json.loads(out)["mi"] == 0.0


def test_runtime_failure_exit_1(runner, gauss_csv, monkeypatch):
    from mitool import estimation
    from mitool.errors import EstimationError

    def boom(*a, **k):
        raise EstimationError("training diverged")

    monkeypatch.setattr(estimation, "estimate", boom)
    code, _, err = run(runner, "estimate", str(gauss_csv), "-x", "x", "-y", "y")
    assert code == 1 and err.strip() == "error: training diverged"


def test_ctrl_c_exits_130_and_leaves_no_file(runner, gauss_csv, tmp_path, monkeypatch):
    from mitool import estimation

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(estimation, "estimate", interrupted)
    target = tmp_path / "out.json"
    code, out, err = run(runner, "estimate", str(gauss_csv), "-x", "x", "-y", "y",
                         "-o", str(target))
    assert code == 130 and not target.exists() and out == ""


def test_unexpected_error_has_no_traceback_unless_debug(runner, gauss_csv, monkeypatch):
    from mitool import estimation

    def bug(*a, **k):
        raise ValueError("oops")

    monkeypatch.setattr(estimation, "estimate", bug)
    code, _, err = run(runner, "estimate", str(gauss_csv), "-x", "x", "-y", "y")
    assert code == 1 and "unexpected failure: ValueError: oops" in err and "Traceback" not in err
    monkeypatch.setenv("MITOOL_DEBUG", "1")
    code, _, err = run(runner, "estimate", str(gauss_csv), "-x", "x", "-y", "y")
    assert code == 1 and "Traceback" in err


def test_sample_command_round_trip(runner, tmp_path):
    target = tmp_path / "s.csv"
    code, _, err = run(runner, "sample", "gaussian", "--n", "3000", "--dim", "2", "--mi", "0.8",
                       "-o", str(target))
    assert code == 0 and "true MI = 0.800000 nats" in err
    code, out, _ = run(runner, "estimate", str(target), "-x", "x*", "-y", "y*", "-e", "ksg",
                       "-f", "json")
    assert json.loads(out)["mi"] == pytest.approx(0.8, rel=0.1)


def test_output_file_has_normal_permissions(runner, gauss_csv, tmp_path):
    import os
    import stat

    target = tmp_path / "perm.json"
    run(runner, "estimate", str(gauss_csv), "-x", "x", "-y", "y", "-e", "ksg", "-o", str(target))
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask


def test_default_estimators_side_by_side(runner, gauss_csv):
    code, out, err = run(runner, "estimate", str(gauss_csv), "-x", "x", "-y", "y", "--steps", "400",
                         "-f", "json", "--quiet")
    assert code == 0, err
    doc = json.loads(out)
    # one column against one where ksg competes: the learned critic is not run, and says why
    assert [r["estimator"] for r in doc["results"]] == ["auto", "gcmi", "ksg", "sklearn"]
    assert any(n.startswith("gbm left out: one column against one") for n in doc["notes"])
    assert doc["estimator"] == "auto" and doc["mi"] == doc["results"][0]["mi"]
    auto = doc["results"][0]
    parts = {r["estimator"]: r for r in doc["results"][1:]}
    # the headline is the largest of its components, and says which one and why
    assert auto["chosen"] in ("gcmi", "ksg")
    assert auto["mi"] == max(parts[n]["mi"] for n in ("gcmi", "ksg"))
    assert auto["why"].startswith("largest of ")
    assert set(auto["components"]) == {"gcmi", "ksg"}
    assert "-e gbm runs it" in auto["skipped"]["gbm"]
    assert abs(auto["mi"] - 0.5) < 0.05
    # asked for, it runs
    code, out, err = run(runner, "estimate", str(gauss_csv), "-x", "x", "-y", "y", "--steps",
                         "400", "-e", "smile", "-f", "json", "--quiet")
    smile = json.loads(out)["results"][0]
    assert smile["folds"] == 3 and smile["n_heldout"] == 2000
    assert smile["ceiling"] == pytest.approx(np.log(666))
    assert smile["near_ceiling"] is False and smile["spread"] > 0 and smile["curve"]
    assert abs(smile["mi"] - 0.5) < 0.1


def test_big_tables_leave_sklearn_out_of_the_default_set(runner, gauss_csv, monkeypatch):
    """On big tables sklearn repeats ksg's number at ~6x its time: left out, with a note, and
    still there when asked for."""
    import mitool.estimators.registry

    monkeypatch.setattr(mitool.estimators.registry, "SKLEARN_DEFAULT_MAX_ROWS", 1000)
    code, out, err = run(runner, "estimate", str(gauss_csv), "-x", "x", "-y", "y", "--steps",
                         "100", "-f", "json", "--quiet")
    assert code == 0, err
    doc = json.loads(out)
    assert [r["estimator"] for r in doc["results"]] == ["auto", "gcmi", "ksg"]
    assert any(n.startswith("sklearn left out of the default set") for n in doc["notes"])
    code, out, err = run(runner, "estimate", str(gauss_csv), "-x", "x", "-y", "y", "--steps",
                         "100", "-e", "default,sklearn", "-f", "json", "--quiet")
    assert code == 0, err
    assert json.loads(out)["results"][-1]["estimator"] == "sklearn"


def test_default_set_leaves_out_a_ksg_search_that_would_take_hours(monkeypatch):
    """From 16 joint dimensions KSG searches all pairs (N² · d): past the budget the default
    set leaves it out with a note naming the fix; asked for, it still runs."""
    import mitool
    import mitool.estimators.registry
    from mitool.data import synthetic
    from mitool.estimators.config import NeuralConfig

    monkeypatch.setattr(mitool.estimators.registry, "KSG_DEFAULT_MAX_WORK", 1e6)
    d = synthetic.gaussian(400, 8, 8, mi=1.0, seed=0)  # 400² · 16 = 2.6e6 comparisons
    r = mitool.estimate(d.to_frame(), "x*", "y*", neural=NeuralConfig(steps=100))
    assert [x.estimator for x in r.results] == [
        "auto", "gbm", "gcmi", "gcmi-rot", "sklearn", "gcmi-bound"]  # auto's part, after
    note = next(n for n in r.to_dict()["notes"] if n.startswith("ksg left out"))
    assert "16 joint dimensions on 400 rows" in note and "--max-rows" in note
    assert mitool.estimate(d.to_frame(), "x*", "y*", "ksg").mi > 0.5


def test_neural_bad_settings_are_usage_errors(runner, gauss_csv):
    for args, message in ((["--steps", "0"], "steps"), (["--batch-size", "5000"], "batch"),
                          (["--hidden", "12,abc"], "hidden")):
        code, out, err = run(runner, "estimate", str(gauss_csv), "-x", "x", "-y", "y",
                             "-e", "smile", *args)
        assert code == 2, (args, err)
        assert message in err.lower() and out == ""


def test_cuda_without_gpu_is_usage_error(runner, gauss_csv):
    import torch

    code, out, err = run(runner, "estimate", str(gauss_csv), "-x", "x", "-y", "y", "-e", "smile",
                         "--device", "cuda", "--steps", "200", "-f", "json")
    if torch.cuda.is_available():  # on a GPU machine the same call must train on CUDA
        assert code == 0 and json.loads(out)["results"][0]["device"].startswith("cuda")
    else:
        assert code == 2 and "CUDA is not available" in err


def test_table_at_80_columns_keeps_numbers_whole(runner, gauss_csv, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("TERMINAL_WIDTH", "80")
    r = runner.invoke(app, ["estimate", str(gauss_csv), "--x", "x", "--y", "y", "-e",
                            "ksg,sklearn", "--bootstrap", "20", "--permutations", "20"])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    row = next(line for line in lines if line.startswith("│ ksg"))
    import re

    assert re.search(r"│ +0\.\d{4} │", row)  # the MI on one line
    assert re.search(r"\[0\.\d{3}, 0\.\d{3}\]", row)  # the interval on one line


def test_the_default_keyword_follows_the_default_sets_rules():
    """`-e default` is the default set, rules and all; a name given beside it always runs."""
    import mitool
    from mitool.data import synthetic
    from mitool.estimators.config import NeuralConfig

    d = synthetic.gaussian(1500, 1, 1, mi=0.5, seed=0).to_frame()
    quick = NeuralConfig(steps=50)
    plain = mitool.estimate(d, "x", "y", "default", neural=quick)
    assert [r.estimator for r in plain.results] == ["auto", "gcmi", "ksg", "sklearn"]
    assert any(n.startswith("gbm left out") for n in plain.extra["notes"])
    asked = mitool.estimate(d, "x", "y", "default,gbm", neural=quick)
    assert [r.estimator for r in asked.results] == ["auto", "gbm", "gcmi", "ksg", "sklearn"]
    assert not any(n.startswith("gbm left out") for n in asked.extra.get("notes", []))
