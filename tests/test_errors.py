"""Errors that name their parameter: a Python caller reads the call it wrote
(``KnnConfig(k=...)``, ``estimate(x=...)``), the command line reads the flag (``--k``)."""

from __future__ import annotations

import pytest

import mitool
from mitool.cli import app
from mitool.cli.output import flag_for
from mitool.data import synthetic
from mitool.errors import MitoolError, UsageError, names_parameters
from mitool.estimators.config import KnnConfig, NeuralConfig
from mitool.gate import GateSpec
from mitool.inference import InferenceSpec


@pytest.fixture(scope="module")
def frame():
    return synthetic.gaussian(300, 1, 1, mi=0.5, seed=0).to_frame()


@pytest.mark.parametrize("kwargs,python,flag", [
    ({"knn": KnnConfig(k=0)}, "KnnConfig(k=...) must be a positive integer", "--k"),
    ({"inference": InferenceSpec(permutations=-1)}, "InferenceSpec(permutations=...)",
     "--permutations"),
    ({"gate": GateSpec(fail_if_independent=2.0)}, "GateSpec(fail_if_independent=...) takes",
     "--fail-if-independent"),
    ({"estimators": "smile", "neural": NeuralConfig(lr=0.0)}, "NeuralConfig(lr=...) must be",
     "--lr"),
    ({"unit": "furlongs"}, "unknown unit 'furlongs'", "--unit"),
])
def test_python_callers_read_the_call_the_cli_reads_the_flag(frame, kwargs, python, flag):
    with pytest.raises(UsageError) as err:
        mitool.estimate(frame, "x", "y", **kwargs)
    assert python in str(err.value)
    assert flag_for(err.value.parameter) == flag
    assert "--" not in str(err.value).split(" got")[0] or flag == "--unit"


def test_a_parameter_of_the_call_itself_names_the_call(frame):
    with pytest.raises(UsageError, match=r"no X columns given \(estimate\(x=\.\.\.\)\)"):
        mitool.estimate(frame, "", "y")
    with pytest.raises(UsageError, match=r"pairs\(refine=\.\.\.\) must be a positive integer"):
        mitool.pairs(frame, target="y", refine=0)


def test_the_cli_spells_the_flag(runner, tmp_path, frame):
    path = tmp_path / "g.csv"
    frame.to_csv(path, index=False)
    out = runner.invoke(app, ["estimate", str(path), "--x", "x", "--y", "y", "--k", "0"])
    assert out.exit_code == 2
    assert out.stderr == "error: --k must be a positive integer, got 0\n"
    out = runner.invoke(app, ["pairs", str(path), "--target", "y", "--refine", "0"])
    assert out.exit_code == 2 and out.stderr.startswith("error: --refine must be")


def test_the_template_and_the_decorator():
    err = MitoolError("{param} must be odd", parameter="n")
    assert str(err) == "n must be odd" and err.for_flag("--n") == "--n must be odd"

    @names_parameters("f")
    def f():
        raise UsageError("{param} must be odd", parameter="n")

    with pytest.raises(UsageError, match=r"^f\(n=\.\.\.\) must be odd$"):
        f()
    plain = UsageError("no parameter here")
    assert str(plain) == "no parameter here" and plain.for_flag("--x") == "no parameter here"
    assert flag_for("max_rows") == "--max-rows" and flag_for("estimators") == "--estimator"
