"""In pipelines: fail fast on bad destinations, lose nothing, end quietly, exit with the right code.

Subprocess tests run the installed entry point for real (pipes, signals, permissions).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from subprocess_cli import env, mitool_cmd

from mitool.cli import app

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def table(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=3000)
    df = pd.DataFrame({"x": x, "y": x + rng.normal(size=3000), "z": rng.normal(size=3000),
                       "w": rng.normal(size=3000)})
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("args", [
    ["estimate", "{t}", "--x", "x", "--y", "y", "--output", "{missing}/r.json"],
    ["estimate", "{t}", "--x", "x", "--y", "y", "-e", "smile", "--plot", "{missing}/c.png"],
    ["pairs", "{t}", "--heatmap", "{missing}/h.png"],
    ["pairs", "{t}", "--output", "{missing}/p.json"],
    ["sample", "--output", "{missing}/s.csv"],
])
def test_missing_output_folder_fails_before_any_work(runner, table, tmp_path, args,
                                                    monkeypatch):
    import mitool.data.synthetic
    import mitool.estimation
    import mitool.screening

    started = []

    def work(*a, **k):  # the commands' workers: none may start before the check
        started.append(a)
        raise AssertionError("work started before the output folder was checked")

    monkeypatch.setattr(mitool.estimation, "estimate", work)
    monkeypatch.setattr(mitool.screening, "pairs", work)
    monkeypatch.setattr(mitool.data.synthetic, "sample", work)
    missing = tmp_path / "no" / "such"
    argv = [a.format(t=table, missing=missing) for a in args]
    r = runner.invoke(app, argv)
    assert started == []  # checked first: no table read, no training, no pairs
    assert r.exit_code == 2, r.output
    assert f"folder '{missing}' does not exist" in r.stderr
    assert r.stdout == ""


def test_unwritable_folder_is_exit_2_naming_the_path(runner, table, tmp_path, monkeypatch):
    import tempfile as tf

    def denied(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tf, "mkstemp", denied)
    out = tmp_path / "r.json"
    r = runner.invoke(app, ["estimate", str(table), "--x", "x", "--y", "y", "-o", str(out)])
    assert r.exit_code == 2
    assert r.stderr.strip() == (f"error: cannot write --output '{out}': no write permission "
                                f"in folder '{tmp_path}'")


def _make_read_only(folder: Path) -> str | None:
    """Make ``folder`` really unwritable for this process; returns how (None: cannot).

    Permission bits do not stop root, so as root the immutable attribute is used
    (``chattr +i``), which does.
    """
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return "chmod"
    if shutil.which("chattr") and subprocess.run(["chattr", "+i", str(folder)],
                                                 capture_output=True).returncode == 0:
        return "chattr"
    return None


def _undo_read_only(folder: Path, how: str | None) -> None:
    if how == "chattr":
        subprocess.run(["chattr", "-i", str(folder)], capture_output=True)
    elif how == "chmod":
        folder.chmod(0o755)


_NO_ESTIMATION = (
    "import sys\n"
    "import mitool.estimation\n"
    "def started(*a, **k):\n"
    "    sys.stderr.write('estimation started\\n')\n"
    "    sys.exit(99)\n"
    "mitool.estimation.estimate = started\n"
    "sys.argv[0] = 'mitool'\n"
    "from mitool.cli import main\n"
    "main()\n"
)


def test_read_only_folder_for_real(table, tmp_path, runner, monkeypatch):
    """A really read-only folder: exit 2 before any estimation, the path named, no temp
    name."""
    ro = tmp_path / "ro"
    ro.mkdir()
    how = _make_read_only(ro)
    try:
        if how is None:  # no way to make a folder read-only for root here: simulate the OS
            import tempfile as tf

            def denied(*a, **k):
                raise PermissionError(13, "Permission denied")

            monkeypatch.setattr(tf, "mkstemp", denied)
            r = runner.invoke(app, ["estimate", str(table), "--x", "x", "--y", "y",
                                    "-o", str(ro / "r.json")])
            code, err = r.exit_code, r.stderr
        else:
            # the real entry point, with estimation replaced by an exit that says it ran:
            # the permission must be refused before any of it
            proc = subprocess.run([sys.executable, "-c", _NO_ESTIMATION, "estimate",
                                   str(table), "--x", "x", "--y", "y", "-o", str(ro / "r.json")],
                                  capture_output=True, env=env())
            code, err = proc.returncode, proc.stderr.decode()
            assert "estimation started" not in err
        assert code == 2, err
        assert f"cannot write --output '{ro / 'r.json'}': no write permission" in err
        assert ".r.json." not in err  # never the temp file's name
        assert list(ro.iterdir()) == []
    finally:
        _undo_read_only(ro, how)


def test_late_write_failure_still_prints_the_report(runner, table, tmp_path, monkeypatch):
    from mitool.cli import output as cli_output

    out = tmp_path / "r.json"
    real = cli_output.write_after_report

    def break_folder(writes, *rest):
        out.parent.chmod(0o755)
        shutil.rmtree(out.parent)  # the folder vanished while mitool ran
        real(writes, *rest)

    monkeypatch.setattr(cli_output, "write_after_report", break_folder)
    r = runner.invoke(app, ["estimate", str(table), "--x", "x", "--y", "y", "-e", "ksg",
                            "-f", "json", "-o", str(out)])
    assert r.exit_code == 1
    assert json.loads(r.stdout)["mi"] > 0.2  # the report reached stdout
    assert "cannot write" in r.stderr and "the report above is complete" in r.stderr


def test_broken_pipe_ends_quietly():
    cmd = " ".join(mitool_cmd()) + " sample gaussian --n 200000 | head -1"
    r = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, env=env())
    assert r.stdout.decode().strip() == "x,y"
    assert r.returncode in (0, 141)
    assert b"Traceback" not in r.stderr and b"BrokenPipe" not in r.stderr
    assert b"unexpected failure" not in r.stderr


def test_only_requested_estimator_not_applicable_is_exit_2(runner, table):
    r = runner.invoke(app, ["estimate", str(table), "--x", "x,z", "--y", "y", "-e", "sklearn"])
    assert r.exit_code == 2
    assert "no requested estimator applies" in r.stderr
    assert "one X column against one Y column only; got 2 x 1" in r.stderr


def _wait_for_busy_workers(pid: int, workers: int, cpu_seconds: float, limit: float) -> None:
    """Return once ``workers`` loky children of ``pid`` have used ``cpu_seconds`` each."""
    import psutil

    def busy(child: psutil.Process) -> bool:
        try:
            cpu = child.cpu_times()
            return (cpu.user + cpu.system >= cpu_seconds
                    and "LokyProcess" in " ".join(child.cmdline()))
        except psutil.Error:  # the child ended while we looked
            return False

    start = time.monotonic()
    while time.monotonic() - start < limit:
        if sum(busy(c) for c in psutil.Process(pid).children()) >= workers:
            return
        time.sleep(0.5)
    raise AssertionError(f"workers not busy after {limit:.0f} s")


def test_ctrl_c_in_pairs_with_workers_is_one_line_and_130(tmp_path):
    rng = np.random.default_rng(1)
    df = pd.DataFrame(rng.normal(size=(20000, 12)), columns=[f"c{i}" for i in range(12)])
    path = tmp_path / "wide.csv"
    df.to_csv(path, index=False)
    # 66 neural pairs: minutes of work on any machine, so the interrupt lands mid-screen.
    # SIGINT back to its default in the child: a test run started in the background (`&` in
    # a script) ignores SIGINT, the child would inherit that, and Python then rightly leaves
    # Ctrl-C ignored, as POSIX asks of background jobs.
    proc = subprocess.Popen([*mitool_cmd(), "pairs", str(path), "-e", "smile", "-j", "2"],
                            env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    # interrupt once a worker is scoring (5 CPU-seconds, past its imports), not at a fixed time
    _wait_for_busy_workers(proc.pid, workers=1, cpu_seconds=5.0, limit=150.0)
    assert proc.poll() is None, "the screen ended before the interrupt; make it longer"
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole group
    out, err = proc.communicate(timeout=60)
    text = err.decode()
    assert proc.returncode == 130, text
    assert "Traceback" not in text and "Segmentation" not in text
    assert text.strip().splitlines()[-1] == "interrupted"
    assert out == b""
