"""Docs that tests keep true: the schema pages name every key a report has, every estimator
has its README row and schema section, every command's help shows an example, the README
points at the benchmark figures instead of copying them, the public entry points have
structured docstrings, and the architecture page's walk through one command names
functions that exist."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import mitool
from mitool.cli import app
from mitool.data import synthetic
from mitool.estimators import registry
from mitool.estimators.config import NeuralConfig
from mitool.inference import InferenceSpec

ROOT = Path(mitool.__file__).parent.parent
README = (ROOT / "README.md").read_text()
SCHEMA = (ROOT / "docs" / "json-schema.md").read_text()
CLUSTER_DOC = (ROOT / "docs" / "cluster.md").read_text()
BENCHMARKS = (ROOT / "docs" / "benchmarks.md").read_text()
ARCHITECTURE = (ROOT / "docs" / "architecture.md").read_text()

# keys whose names are data, not schema: estimator names (auto's components), per-row
# readout names, thread counts in the cluster's timing probes
DATA_KEYS_UNDER = {"components", "readouts", "seconds_per_step"}


def _keys(obj, out: set[str], parent: str = "") -> set[str]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            if parent not in DATA_KEYS_UNDER:
                out.add(k)
            _keys(v, out, k)
    elif isinstance(obj, list):
        for v in obj:
            _keys(v, out, parent)
    return out


def _undocumented(doc: dict, page: str) -> list[str]:
    return sorted(k for k in _keys(doc, set()) if f"`{k}`" not in page)


@pytest.fixture(scope="module")
def table():
    frame = synthetic.gaussian(600, 2, 1, mi=0.5, seed=0).to_frame()
    frame["label"] = np.where(frame["y"] > 0, "up", "down")
    frame["sign"] = np.where(frame["x0"] > 0, "+", "-")
    return frame


def test_every_estimate_key_is_documented(table):
    quick = NeuralConfig(steps=100)
    docs = [mitool.estimate(table, "x*", "y", "all", neural=quick,
                            inference=InferenceSpec(9, 3)).to_dict(normalized=True),
            mitool.estimate(table, "x*", "label", "auto,ksg,gcmi", neural=quick,
                            inference=InferenceSpec(9, 3)).to_dict(normalized=True),
            mitool.estimate(table, "sign", "label", "ksg,gcmi",  # two discrete sides
                            inference=InferenceSpec(9, 3)).to_dict(normalized=True)]
    missing = sorted({k for d in docs for k in _undocumented(d, SCHEMA)})
    assert not missing, f"document these in docs/json-schema.md: {missing}"


def test_every_pairs_key_is_documented(table):
    doc = mitool.pairs(table, target="label", inference=InferenceSpec(5)).to_dict(
        normalized=True)
    doc["top"] = 3  # only with --top (the CLI adds it)
    assert not _undocumented(doc, SCHEMA)
    given = mitool.pairs(table, target="label", given="x0", estimator="gcmi-cmi",
                         inference=InferenceSpec(5)).to_dict()
    assert {"given", "conditional", "quantity", "k_perm"} <= set(given)
    assert not _undocumented(given, SCHEMA)


def test_every_cluster_key_is_documented(tmp_path):
    from mitool.cluster import HeadOptions, TrainConfig, cluster

    rng = np.random.default_rng(0)
    for label in ("h", "v"):
        (tmp_path / label).mkdir()
        for i in range(10):
            img = rng.integers(0, 40, size=(8, 8))
            if label == "h":
                img[3, :] = 255
            else:
                img[:, 3] = 255
            Image.fromarray(img.astype(np.uint8)).save(tmp_path / label / f"{i}.png")
    result = cluster(tmp_path, k=2, threads=1,
                     train=TrainConfig(epochs=1, batch_size=8, repeats=2),
                     heads=HeadOptions(subheads=2, overcluster=4))
    assert not _undocumented(result.to_dict(), CLUSTER_DOC)


def test_the_key_check_can_fail():
    assert _undocumented({"mi": 1, "surely_not_a_documented_key": 2}, SCHEMA) == [
        "surely_not_a_documented_key"]


@pytest.mark.parametrize("name", registry.names())
def test_every_estimator_has_a_schema_section(name):
    section = SCHEMA.split("## `mitool estimate`")[1].split("## `mitool cluster`")[0]
    assert re.search(rf"^- (neural \()?[^:\n]*`{re.escape(name)}`", section, re.M), name


@pytest.mark.parametrize("command", ["estimate", "pairs", "select", "cluster", "sample", "te"])
def test_every_command_has_help_with_an_example(runner, command):
    out = runner.invoke(app, [command, "--help"])
    assert out.exit_code == 0
    assert re.search(r"Example", out.stdout), out.stdout[:400]
    assert f"mitool {command}" in out.stdout


def test_the_readme_links_to_figures_instead_of_copying_them():
    assert not re.search(r"MAE \d", README), "accuracy figures belong in docs/benchmarks.md"
    assert not re.search(r"\b\d+/40\b", README)
    slugs = {_slug(h) for h in re.findall(r"^#+ (.+)$", BENCHMARKS, re.M)}
    links = re.findall(r"docs/benchmarks\.md#([\w-]+)", README)
    assert links, "the README should point at the figures"
    assert not [a for a in links if a not in slugs], "README links to missing headings"


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


@pytest.mark.parametrize("path", ["mitool.estimation.estimate", "mitool.screening.pairs",
                                  "mitool.selection.select",
                                  "mitool.cluster.api.cluster"])
def test_entry_points_have_structured_docstrings(path):
    module, _, name = path.rpartition(".")
    doc = getattr(importlib.import_module(module), name).__doc__
    for part in ("Parameters\n", "Returns\n", "Examples\n"):
        assert part in doc, (path, part)


def test_the_walk_through_one_command_names_real_functions():
    section = ARCHITECTURE.split("## Follow one command")[1]
    names = re.findall(r"`(mitool(?:\.\w+)+)`", section)
    assert len(names) >= 10
    for dotted in names:
        parts = dotted.split(".")
        for cut in range(len(parts), 0, -1):  # the longest importable prefix, then attributes
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
            except ModuleNotFoundError:
                continue
            for attr in parts[cut:]:
                obj = getattr(obj, attr)  # AttributeError: the page names a missing function
            break
