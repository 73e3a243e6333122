"""Progress for logs: plain periodic lines on stderr when it is not a terminal."""

from __future__ import annotations

import io

from mitool.cli.output import PlainProgress
from mitool.durations import format_duration


def test_short_work_prints_nothing():
    out = io.StringIO()
    p = PlainProgress("training", interval=60.0, stream=out)
    for i in range(1, 101):
        p(i, 100, {"stage": "smile", "mi": 0.5})
    assert out.getvalue() == ""


def test_every_update_prints_with_zero_interval_and_shows_eta():
    out = io.StringIO()
    p = PlainProgress("training", interval=0.0, stream=out)
    p(0, 40, {"stage": "smile"})
    p(10, 40, {"stage": "smile", "mi": 0.25})
    p(40, 40, {"stage": "smile", "mi": 0.5})
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("smile: 0/40 (0%) elapsed ") and "ETA" not in lines[0]
    assert lines[1].startswith("smile: 10/40 (25%) elapsed ")
    assert "ETA " in lines[1] and "mi=0.250" in lines[1]
    assert lines[2].startswith("smile: 40/40 (100%)") and "ETA" not in lines[2]


def test_unknown_total_and_new_stage():
    out = io.StringIO()
    p = PlainProgress("pairs", interval=0.0, stream=out)
    p(3, 0, {"stage": "reading"})
    p(1, 5, {"stage": "permutations"})
    lines = out.getvalue().splitlines()
    assert lines[0] == "reading: 3 elapsed 0 s"
    assert lines[1].startswith("permutations: 1/5 (20%)")


def test_progress_lines_write_durations_as_plans_do():
    """One duration style in every message (progress, plans, tables)."""
    assert format_duration(5.4) == "5 s"
    assert format_duration(125) == "2 min 05 s"
    assert format_duration(7300) == "2 h 01 min"
