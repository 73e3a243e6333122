"""`--budget SECONDS`: the cheap estimators run first, the learned critics train in the time
left and stop in time for it (reading out their best checkpoint), and the report says so;
the plan is announced before long work."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest

import mitool
from mitool.cli import app
from mitool.errors import UsageError
from mitool.estimation import progress_to
from mitool.estimators.config import NeuralConfig


@pytest.fixture(scope="module")
def two_by_one() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    u = rng.standard_normal((2000, 2))
    return pd.DataFrame({"a": u[:, 0], "b": u[:, 1],
                         "y": u[:, 0] - u[:, 1] + rng.standard_normal(2000)})


def test_a_budget_stops_the_critic_and_says_so(two_by_one):
    # 100,000 steps would take minutes: the budget of 4 s stops it at an evaluation point
    t0 = time.perf_counter()
    r = mitool.estimate(two_by_one, ["a", "b"], "y", "smile",
                        neural=NeuralConfig(steps=100_000, patience=0, budget=4.0))
    took = time.perf_counter() - t0
    smile = r.result("smile")
    assert smile.details["out_of_time"] is True
    assert max(smile.details["fold_steps_run"]) < 100_000
    assert any("stopped at the time budget" in w for w in r.warnings)
    assert took < 40  # 4 s of training and the readouts, with room for a loaded machine
    # still a held-out bound of what it learned: above 0, below the truth (0.55 nats)
    assert 0.1 < smile.mi < 0.6
    cost = smile.details["cost"]
    assert cost["steps"] == sum(smile.details["fold_steps_run"])
    assert cost["seconds_per_step"] > 0 and cost["readout_pairs"] > 0


def test_without_a_budget_nothing_stops_early_for_time(two_by_one):
    r = mitool.estimate(two_by_one, ["a", "b"], "y", "smile", neural=NeuralConfig(steps=200))
    assert r.result("smile").details["out_of_time"] is False
    assert not any("time budget" in w for w in r.warnings)


def test_the_plan_is_announced_with_the_budget(two_by_one):
    messages = []

    def progress(done, total, fields):
        if "message" in fields:
            messages.append(fields["message"])

    with progress_to(progress):
        r = mitool.estimate(two_by_one, ["a", "b"], "y", "auto,smile",
                            neural=NeuralConfig(steps=200, budget=30))
    assert r.result("auto").mi is not None
    plan = [m for m in messages if m.startswith("plan: ")]
    assert len(plan) == 1
    assert "then smile, gbm (learned critics; smile:" in plan[0] and "--budget 30 s" in plan[0]
    assert plan[0].index("gcmi") < plan[0].index("then smile")  # the cheap ones first


def test_the_boosted_critic_stops_at_the_budget_too(two_by_one):
    """The default's learned critic (gbm) boosts in chunks under a budget and stops at its
    share of it: still a held-out bound, and the report says so."""
    r = mitool.estimate(two_by_one, ["a", "b"], "y", "gbm", neural=NeuralConfig(budget=0.2))
    gbm = r.result("gbm")
    assert gbm.details["out_of_time"] is True
    assert max(gbm.details["boosting_iterations"]) < 300
    assert any("stopped at the time budget" in w for w in r.warnings)
    assert 0.0 <= gbm.mi < 0.6  # below the truth (0.55 nats)
    free = mitool.estimate(two_by_one, ["a", "b"], "y", "gbm").result("gbm")
    assert free.details["out_of_time"] is False
    assert free.mi == pytest.approx(0.55, abs=0.08)


def test_a_bad_budget_is_refused(two_by_one, runner, tmp_path):
    with pytest.raises(UsageError, match="positive number of seconds"):
        mitool.estimate(two_by_one, ["a", "b"], "y", "smile", neural=NeuralConfig(budget=0))
    path = tmp_path / "d.csv"
    two_by_one.to_csv(path, index=False)
    out = runner.invoke(app, ["estimate", str(path), "--x", "a,b", "--y", "y", "-e", "smile",
                              "--budget", "-1"])
    assert out.exit_code == 2
    assert "--budget" in out.stderr and "positive number of seconds" in out.stderr


def test_the_cli_budget_reaches_the_report(two_by_one, runner, tmp_path):
    path = tmp_path / "d.csv"
    two_by_one.to_csv(path, index=False)
    out = runner.invoke(app, ["estimate", str(path), "--x", "a,b", "--y", "y", "-e", "smile",
                              "--steps", "100000", "--patience", "0", "--budget", "3",
                              "-f", "json"])
    assert out.exit_code == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["results"][0]["out_of_time"] is True
    assert "stopped at the time budget" in out.stderr
