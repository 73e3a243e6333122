"""One CLI layer (issue 20): shared options declared once, the same --format choices in every
command, one report path (table, JSON or CSV on stdout; --output and the other files after it).
"""

from __future__ import annotations

import csv
import io
import json
import os

import pytest

from mitool.cli import app
from mitool.cli.estimate import CSV_FIELDS as ESTIMATE_CSV_FIELDS

REPORT_COMMANDS = ["estimate", "pairs", "select", "cluster"]
TABLE_OPTIONS = ["--discrete", "--continuous", "--max-rows", "--input-format", "--sep",
                 "--decimal", "--thousands", "--seed", "--quiet"]
OUTPUT_OPTIONS = ["--format", "--output", "--unit"]
# a short cluster run: a few seconds on one thread
FAST = ["--k", "2", "--epochs", "2", "--batch-size", "16", "--repeats", "2", "--subheads", "2",
        "--overcluster", "0", "--threads", "1", "--no-baseline", "--quiet"]


def _help(runner, command: str) -> str:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output
    return result.stdout


def _option_lines(help_text: str, option: str) -> list[str]:
    """The help-table rows that declare ``option``, whitespace collapsed."""
    rows = [" ".join(line.strip("│ ").split()) for line in help_text.splitlines()]
    return [r for r in rows if r.lstrip("* ").split(" ")[0] == option]


def _declarations(command: str) -> dict[str, tuple]:
    """Each option of ``command`` as Click sees it: names, help, choices, default, flags."""
    import typer

    params = typer.main.get_command(app).commands[command].params
    return {p.name: (tuple(p.opts), tuple(p.secondary_opts), p.help,
                     tuple(getattr(p.type, "choices", ()) or ()), repr(p.default),
                     p.multiple, p.required) for p in params if hasattr(p, "help")}


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """The tiny bar images (tests/tiny_images.py) as PNG files in two labelled folders."""
    from PIL import Image
    from tiny_images import bars

    root = tmp_path_factory.mktemp("bars")
    batch = bars(24, 8).numpy()
    for i, img in enumerate(batch):
        folder = root / ("vertical" if i % 2 else "horizontal")
        folder.mkdir(exist_ok=True)
        Image.fromarray(img[0]).save(folder / f"{i:02d}.png")
    return root


# --- help: the same options everywhere ----------------------------------------------------------
@pytest.mark.parametrize("command", REPORT_COMMANDS)
def test_every_report_command_offers_the_same_format_choices(runner, command):
    text = _help(runner, command)
    lines = _option_lines(text, "--format")
    assert len(lines) == 1 and "-f" in lines[0] and "[table|json|csv]" in lines[0], text
    assert _option_lines(text, "--output") and "-o" in _option_lines(text, "--output")[0]


def test_shared_options_are_declared_once(runner):
    """Same names, help, choices and defaults wherever a command takes a shared option."""
    decls = {c: _declarations(c) for c in REPORT_COMMANDS + ["sample"]}
    by_flag = {c: {d[0][0]: d for d in ds.values()} for c, ds in decls.items()}
    for option in TABLE_OPTIONS + OUTPUT_OPTIONS:
        seen = {c: flags[option] for c, flags in by_flag.items() if option in flags}
        if option == "--output":  # sample writes its data there, not a report
            seen.pop("sample")
        assert {"estimate", "pairs"} <= set(seen), option  # the table readers take them all
        assert len(set(seen.values())) == 1, (option, seen)
    for option in ("--seed", "--quiet", "--format", "--output"):
        assert option in by_flag["cluster"], option
    assert by_flag["pairs"]["--unit"][3] == ("nats", "bits")
    assert by_flag["pairs"]["--input-format"][3] == ("csv", "tsv", "parquet")
    assert by_flag["sample"]["--seed"] == by_flag["estimate"]["--seed"]


@pytest.mark.parametrize("command", ["estimate", "pairs", "select", "cluster", "sample"])
def test_every_command_help_has_an_example(runner, command):
    assert f"Example: mitool {command} " in _help(runner, command)


# --- choices in any case; bad ones are usage errors ---------------------------------------------
def test_choices_match_in_any_case(runner, gauss_csv):
    result = runner.invoke(app, ["estimate", str(gauss_csv), "-x", "x*", "-y", "y*", "-e", "gcmi",
                                 "--unit", "BITS", "-f", "JSON", "--input-format", "Csv"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["unit"] == "bits"


@pytest.mark.parametrize("command", ["estimate", "pairs"])
@pytest.mark.parametrize("option, bad", [("--unit", "furlongs"), ("--format", "xml"),
                                         ("--input-format", "xls")])
def test_bad_choice_is_a_usage_error(runner, gauss_csv, command, option, bad):
    args = ["-x", "x*", "-y", "y*"] if command == "estimate" else []
    result = runner.invoke(app, [command, str(gauss_csv), *args, option, bad])
    assert result.exit_code == 2
    assert "Invalid value" in result.stderr and option in result.stderr
    assert result.stdout == ""


# --- estimate: CSV -------------------------------------------------------------------------------
def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_estimate_csv_has_one_row_per_result(runner, gauss_csv, tmp_path):
    base = ["estimate", str(gauss_csv), "-x", "x*", "-y", "y*", "-e", "ksg,gcmi",
            "--bootstrap", "5", "--permutations", "5", "-q"]
    doc = json.loads(runner.invoke(app, [*base, "-f", "json"]).stdout)
    out = tmp_path / "mi.csv"
    result = runner.invoke(app, [*base, "--format", "csv", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == ",".join(ESTIMATE_CSV_FIELDS)
    assert out.read_text() == result.stdout  # --output writes the CSV with --format csv
    rows = _rows(result.stdout)
    assert [r["estimator"] for r in rows] == [r["estimator"] for r in doc["results"]]
    for row, want in zip(rows, doc["results"], strict=True):
        assert float(row["mi"]) == want["mi"]
        assert float(row["ci_low"]) == want["ci_low"]
        assert float(row["p_value"]) == want["p_value"]
        assert row["unit"] == "nats" and row["applicable"] == "true"
        assert row["headline"] == ("true" if want["estimator"] == doc["estimator"] else "false")


def test_not_applicable_estimator_has_empty_cells(runner, tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,b\n" + "".join(f"{i % 3},{i % 2}\n" for i in range(60)))
    result = runner.invoke(app, ["estimate", str(path), "-x", "a", "-y", "b",
                                 "-e", "gcmi,gcmi-rot", "--discrete", "a,b", "-f", "csv", "-q"])
    assert result.exit_code == 0, result.output
    gcmi, rot = _rows(result.stdout)
    assert gcmi["applicable"] == "true" and gcmi["headline"] == "true"
    assert rot["applicable"] == "false" and rot["mi"] == "" and "continuous" in rot["reason"]


# --- cluster: CSV and --output -------------------------------------------------------------------
def test_cluster_csv_is_the_assignments_and_output_holds_it(runner, images, tmp_path):
    report, assignments = tmp_path / "report.csv", tmp_path / "a.csv"
    report.write_text("old\n")
    result = runner.invoke(app, ["cluster", str(images), *FAST, "--format", "csv",
                                 "--output", str(report), "--assignments", str(assignments)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "path,cluster,confidence"
    assert report.read_text() == result.stdout  # replaced whole
    with open(assignments, newline="", encoding="utf-8") as fh:
        assert _rows(result.stdout) == list(csv.DictReader(fh))
    assert len(_rows(result.stdout)) == 24
    assert sorted(os.listdir(tmp_path)) == ["a.csv", "report.csv"]  # no temp files left


def test_cluster_output_with_json_and_table(runner, images, tmp_path):
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["cluster", str(images), *FAST, "-f", "JSON", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text()) == json.loads(result.stdout)
    assert out.read_text() == result.stdout


def test_cluster_output_write_failure_keeps_the_old_file(runner, images, tmp_path, monkeypatch):
    out = tmp_path / "r.json"
    out.write_text("old\n")
    real_replace = os.replace

    def failing_replace(src, dst, *args, **kwargs):
        if os.fspath(dst) == os.fspath(out):
            raise OSError(28, "No space left on device")
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", failing_replace)
    result = runner.invoke(app, ["cluster", str(images), *FAST, "-f", "json", "-o", str(out)])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["n_images"] == 24  # the report still reached stdout
    assert f"error: --output: cannot write '{out}'" in result.stderr
    assert "the report above is complete" in result.stderr
    assert out.read_text() == "old\n" and os.listdir(tmp_path) == ["r.json"]


def _never_train(monkeypatch):
    import mitool.cluster as lib

    def fail(*args, **kwargs):
        raise AssertionError("work started before the destinations were checked")

    monkeypatch.setattr(lib, "cluster", fail)


def test_cluster_bad_output_exits_2_before_any_work(runner, images, tmp_path, monkeypatch):
    _never_train(monkeypatch)
    for target, message in ((tmp_path / "missing" / "r.json", "does not exist"),
                            (tmp_path, "it is a folder")):
        result = runner.invoke(app, ["cluster", str(images), *FAST, "--output", str(target)])
        assert result.exit_code == 2, result.output
        assert "--output" in result.stderr and message in result.stderr
        assert result.stdout == ""
    same = tmp_path / "same.csv"
    result = runner.invoke(app, ["cluster", str(images), *FAST, "-f", "csv", "-o", str(same),
                                 "--assignments", str(same)])
    assert result.exit_code == 2 and "name the same file" in result.stderr


# --- a closed stdout still gets the files written -----------------------------------------------
def test_files_are_written_when_stdout_reader_has_gone(runner, gauss_csv, tmp_path, monkeypatch):
    from mitool.cli import output as cli_output

    def closed(text: str) -> None:
        raise BrokenPipeError

    monkeypatch.setattr(cli_output, "emit_text", closed)
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["estimate", str(gauss_csv), "-x", "x*", "-y", "y*", "-e", "gcmi",
                                 "-f", "json", "-o", str(out)])
    assert result.exit_code == cli_output.EXIT_BROKEN_PIPE
    assert json.loads(out.read_text())["estimator"] == "gcmi"
