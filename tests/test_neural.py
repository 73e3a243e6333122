"""Short end-to-end checks of the neural engine (the full suite lives in benchmarks/)."""

import math
import os

import numpy as np
import pytest

from mitool.data import synthetic
from mitool.errors import UsageError
from mitool.estimators import registry
from mitool.estimators.base import PreparedData
from mitool.estimators.config import NeuralConfig
from mitool.estimators.neural import (
    estimate_neural,
    parse_hidden,
)

HEADLINE = "smile"  # auto's neural component (mitool/estimators/auto.py)


def prepared(s) -> PreparedData:
    return PreparedData(
        s.x, s.y, s.x_names, s.y_names,
        np.zeros(s.x.shape[1], bool), np.zeros(s.y.shape[1], bool),
    )


def within(est, truth):
    return abs(est - truth) <= max(0.1 * truth, 0.05)


@pytest.mark.parametrize("d,mi", [(1, 1.0), (3, 1.0)])
def test_default_estimator_is_accurate(d, mi):
    s = synthetic.gaussian(n=4000, dx=d, dy=d, mi=mi, seed=3)
    r = estimate_neural(HEADLINE, prepared(s), NeuralConfig(), seed=0)
    assert within(r.mi, s.mi), (r.mi, s.mi)
    det = r.details
    # three folds: every row held out once, each critic fitted on the other two thirds
    assert det["folds"] == 3 and det["n_heldout"] == 4000
    assert det["n_train"] + det["n_validation"] == 2666
    assert len(det["fold_mi_raw"]) == 3
    assert det["ceiling"] == pytest.approx(math.log(1333))  # the smallest fold
    assert not det["near_ceiling"]
    assert 0 < det["spread"] < 0.2
    assert 0 < len(det["curve"]) <= 100
    assert set(det["curve"][0]) == {"step", "train", "validation"}


@pytest.mark.parametrize("name", ["nwj", "mine", "infonce"])
def test_other_bounds_are_accurate_after_short_training(name):
    """1x1 Gaussian, MI 0.5 nats, 2,000 rows, 300 steps. Each is a lower bound read out on
    held-out rows: its expectation sits below 0.5 by what the critic has not learnt, and its
    noise is sqrt(Var[i(x, y)] / N) = sqrt(rho^2 / N) = 0.018 (the information density of a
    Gaussian pair has variance rho^2 = 1 - e^-1). Measured over 3 data sets x 2 seeds:
    nwj 0.447-0.493, mine 0.451-0.498, infonce 0.453-0.504; here (data seed 0, seed 0)
    nwj 0.457, mine 0.459, infonce 0.467. Window: 0.5 + 3 sd above, 0.1 below.
    InfoNCE is kept at a low MI: it cannot exceed the log of its candidates."""
    s = synthetic.gaussian(n=2000, dx=1, dy=1, mi=0.5, seed=0)
    r = estimate_neural(name, prepared(s), NeuralConfig(steps=300), seed=0)
    assert 0.4 <= r.mi <= 0.555, r.mi
    assert r.mi == r.details["mi_raw"] and len(r.details["fold_mi_raw"]) == 3
    assert all(0.35 <= f <= 0.6 for f in r.details["fold_mi_raw"])  # each fold: 667 rows
    assert r.mi < r.details["ceiling"] - 3


def test_reproducible_with_seed_and_progress():
    s = synthetic.gaussian(n=1000, mi=0.5, seed=1)
    calls = []
    cfg = NeuralConfig(steps=200, eval_every=50)
    a = estimate_neural("mine", prepared(s), cfg, seed=7, progress=lambda *a: calls.append(a))
    b = estimate_neural("mine", prepared(s), cfg, seed=7)
    assert a.mi == b.mi
    assert [c[0] for c in calls] == [50, 100, 150, 200] * 3  # one critic per fold
    assert [c[2]["stage"] for c in calls[::4]] == [f"mine fold {f}/3" for f in (1, 2, 3)]
    assert math.isfinite(calls[0][2]["mi"])
    one = estimate_neural("mine", prepared(s), NeuralConfig(steps=200, eval_every=50,
                                                            folds=1), seed=7)
    assert one.details["folds"] == 1 and one.mi != a.mi


@pytest.mark.parametrize("name", registry.family("neural"))
def test_every_estimator_runs_and_reports(name):
    s = synthetic.gaussian(n=600, dx=2, dy=2, mi=0.5, seed=2)
    r = estimate_neural(name, prepared(s), NeuralConfig(steps=100, eval_every=50), seed=0,
                        permutations=3)
    assert r.mi is not None and math.isfinite(r.mi) and r.mi >= 0
    assert len(r.details["null_mi"]) == 3
    assert r.details["permutation_scheme"] == (
        "trained critic on shuffled held-out rows (each fold's critic on its own fold, shuffled "
        "within it; the smallest of the folds' p-values times the number of folds, Bonferroni)")
    assert len(r.details["fold_null_mi_raw"]) == 3  # the engine's draws, per fold
    assert all(len(d) == 3 for d in r.details["fold_null_mi_raw"])
    if name == "infonce":  # auto critic = separable: a fold's 200 held-out rows are candidates
        assert r.details["critic"] == "separable"
        assert r.details["ceiling"] == pytest.approx(math.log(200))
    else:
        assert r.details["critic"] == "concat"
    if name == "jsd":
        assert r.details["readout"] == "dv"


def test_separable_critic_and_discrete_columns():
    rng = np.random.default_rng(0)
    c = rng.integers(0, 4, size=800).astype(float)
    x = (c + rng.normal(0, 0.3, size=800))[:, None]
    data = PreparedData(x, c[:, None], ["x"], ["c"], np.array([False]), np.array([True]))
    cfg = NeuralConfig(steps=300, critic="separable", eval_every=50, folds=1)
    r = estimate_neural("infonce", data, cfg, seed=0)
    assert r.mi > 0.5  # H(C) = log 4 = 1.39; clearly dependent
    assert r.details["ceiling"] == pytest.approx(math.log(400))  # one split: 400 held out


def test_heldout_evaluation_does_not_memorise():
    # independent data and a big critic trained hard: training rows would look dependent,
    # the held-out rows must not
    s = synthetic.independent(n=400, seed=0)
    cfg = NeuralConfig(steps=600, hidden=(256, 256), lr=3e-3, patience=0, eval_every=100)
    r = estimate_neural("mine-biased", prepared(s), cfg, seed=0)
    assert r.mi < 0.1
    assert any("~0" in w for w in r.warnings)


def test_diverging_setting_never_returns_nan():
    s = synthetic.gaussian(n=500, mi=3.0, seed=0)
    cfg = NeuralConfig(steps=200, lr=50.0, eval_every=20, patience=0)
    for name in ("nwj", "mine-biased"):
        try:
            r = estimate_neural(name, prepared(s), cfg, seed=0)
        except Exception as exc:  # a clear error is acceptable, NaN is not
            assert "diverged" in str(exc) or "non-finite" in str(exc)
        else:
            assert math.isfinite(r.mi)


def test_parse_hidden():
    assert parse_hidden("128,128") == (128, 128)
    assert parse_hidden("64x3") == (64, 64, 64)
    assert parse_hidden("32") == (32,)
    for junk in ("", "a,b", "0", "-4,8", "12x", "x2"):
        with pytest.raises(UsageError):
            parse_hidden(junk)


@pytest.mark.parametrize("kwargs", [
    {"steps": 0}, {"steps": -5}, {"batch_size": 0}, {"batch_size": -1},
    {"batch_size": 10_000}, {"holdout": 0.0}, {"holdout": 1.0}, {"lr": 0.0},
    {"critic": "bilinear"}, {"activation": "swish2"}, {"readout": "tuba"},
    {"eval_every": 0}, {"epochs": 0.0}, {"hidden": (0,)},
])
def test_bad_settings_raise_usage_error(kwargs):
    with pytest.raises(UsageError):
        NeuralConfig(**kwargs).validate(1000)


def test_unknown_estimator_and_tiny_data():
    s = synthetic.gaussian(n=1000, mi=0.5, seed=1)
    with pytest.raises(UsageError):
        estimate_neural("tuba", prepared(s), NeuralConfig(), seed=0)
    with pytest.raises(UsageError):
        NeuralConfig().validate(10)


def test_concat_infonce_ceiling_is_negatives_plus_one():
    s = synthetic.gaussian(n=600, mi=0.5, seed=2)
    cfg = NeuralConfig(steps=50, eval_every=50, critic="concat")
    r = estimate_neural("infonce", prepared(s), cfg, seed=0)
    assert r.details["ceiling"] == pytest.approx(math.log(129))  # 128 shifts + positive


def test_plot_training_curves(tmp_path):
    pytest.importorskip("matplotlib")
    from mitool.plotting import plot_training_curves

    s = synthetic.gaussian(n=600, mi=0.5, seed=2)
    r = estimate_neural("jsd", prepared(s), NeuralConfig(steps=100, eval_every=25), seed=0)
    out = tmp_path / "curves.png"
    plot_training_curves([r], out, unit="bits", truth=s.mi)
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert [p.name for p in tmp_path.iterdir()] == ["curves.png"]  # no temp file left


def test_default_folds_follow_the_rows():
    """Cross-fitting (3 folds) below 100,000 rows; one split from there on, where half of the
    rows held out already pin the readout down; an explicit count always wins."""
    from mitool.estimators.config import CROSSFIT_MAX_ROWS, resolve_folds
    from mitool.estimators.neural.splits import fold_splits, split_sizes

    assert resolve_folds(None, CROSSFIT_MAX_ROWS - 1) == 3
    assert resolve_folds(None, CROSSFIT_MAX_ROWS) == 1
    assert resolve_folds(5, 10**6) == 5
    assert len(fold_splits(NeuralConfig(), 2_000, seed=0)) == 3
    assert len(fold_splits(NeuralConfig(), 200_000, seed=0)) == 1
    assert split_sizes(NeuralConfig(), 200_000).n_heldout == 100_000


def test_readout_memory_stays_at_the_live_data():
    """A readout over many blocks must not grow the heap block by block (glibc fragmentation:
    +310 MB at 50,000 rows before bound_heap, +50 MB after); in a fresh process."""
    import subprocess
    import sys

    code = (
        "import resource, torch\n"
        "from mitool.device import bound_heap\n"
        "from mitool.estimators.neural.critics import make_critic\n"
        "from mitool.estimators.neural.readouts import row_stats\n"
        "bound_heap()\n"
        "torch.manual_seed(0); c = make_critic('concat', 2, 2, (128, 128), 'relu', 32)\n"
        "x, y = torch.randn(50000, 2), torch.randn(50000, 2)\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "row_stats(c, x, y, False, 7, 5.0, torch.Generator().manual_seed(0), 4096)\n"
        "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert float(out.stdout.strip()) < 150, out.stdout


def test_the_settings_name_what_the_networks_build():
    """NeuralConfig's choices (checked before any work) are the ones the critics build."""
    from mitool.estimators import config
    from mitool.estimators.neural.critics import ACTIVATIONS

    assert tuple(ACTIVATIONS) == config.ACTIVATION_NAMES
    with pytest.raises(UsageError, match=r"neural\(steps=\.\.\.\)|steps"):
        NeuralConfig(steps=0).validate(1000)
