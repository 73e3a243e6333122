"""Real tables that packages ship (Palmer penguins, statsmodels, scikit-learn), and messy
variants of them: the numbers agree with scikit-learn where both apply, and mitool warns
where a real table has a trap in it."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_selection import mutual_info_classif

import mitool
from mitool.data.loading import TableOptions
from mitool.errors import InputError
from mitool.inference import InferenceSpec


@pytest.fixture(scope="module")
def penguins():
    palmerpenguins = pytest.importorskip("palmerpenguins")
    return palmerpenguins.load_penguins()


def test_penguins_species_against_a_measurement(penguins):
    r = mitool.estimate(penguins, "flipper_length_mm", "species", "ksg,sklearn")
    assert (r.input.n_rows, r.input.n_used, r.input.n_dropped) == (344, 342, 2)
    ours, sk = r.result("ksg").mi, r.result("sklearn").mi
    assert ours > 0.5 and abs(ours - sk) < 0.05
    assert r.discrete == ["species"]


def test_penguins_screen_ranks_measurements_and_hints_year(penguins):
    s = mitool.pairs(penguins, target="species")
    ranked = [p.x for p in s.scores]
    assert set(ranked[:3]) == {"flipper_length_mm", "bill_length_mm", "bill_depth_mm"}
    assert ranked[-2:] == ["year", "sex"] or ranked[-2:] == ["sex", "year"]
    assert any("read as discrete codes" in w and "year (3)" in w for w in s.warnings)
    island = next(p for p in s.scores if p.x == "island")  # Gentoo live only on Biscoe
    assert 0.4 < island.mi < 0.7


def test_penguins_with_a_row_number_shows_the_leak(penguins):
    """The file is sorted by species: a row number really does carry it (a leak to catch)."""
    df = penguins.reset_index().rename(columns={"index": "row"})
    r = mitool.estimate(df, "row", "species", "ksg", inference=InferenceSpec(bootstrap=50))
    assert r.mi > 0.8 and r.result("ksg").details["ci_low"] > 0.5
    shuffled = df.assign(row=np.random.default_rng(0).permutation(len(df)))
    r2 = mitool.estimate(shuffled, "row", "species", "ksg", inference=InferenceSpec(bootstrap=50))
    assert r2.result("ksg").details["ci_low"] == 0.0


def test_penguins_messy_variants_give_the_clean_numbers(penguins, tmp_path):
    clean = mitool.estimate(penguins, "body_mass_g", "species", "ksg").mi
    messy = penguins.copy()
    messy["body_mass_g"] = messy["body_mass_g"].map(
        lambda v: "" if np.isnan(v) else f"{v:,.0f}")  # "3,750"
    messy.loc[5, "body_mass_g"] = "n/a?"  # a stray token (row 5 is complete in the clean one)
    path = tmp_path / "penguins.csv"
    messy.to_csv(path, index=False)
    r = mitool.estimate(path, "body_mass_g", "species", "ksg")
    assert r.input.n_dropped == 3  # the two missing plus the stray token
    assert any("'n/a?'" in w for w in r.warnings)
    assert any("thousands separator" in w for w in r.warnings)
    assert abs(r.mi - clean) < 0.03  # one row fewer than the clean estimate
    # the species as IDs per row (species + row number) is refused, not estimated
    ids = penguins.assign(tag=[f"{s}-{i}" for i, s in enumerate(penguins["species"])])
    with pytest.raises(InputError, match="'tag' cannot be used as a category"):
        mitool.estimate(ids, "tag", "body_mass_g", "ksg")


def test_statsmodels_float_coded_occupation_gets_the_hint():
    sm = pytest.importorskip("statsmodels.api")
    fair = sm.datasets.fair.load_pandas().data
    r = mitool.estimate(fair, "occupation", "affairs", "ksg")
    assert any("--discrete occupation" in w and "6 distinct integer values" in w
               for w in r.warnings)
    d = mitool.estimate(fair, "occupation", "educ", "ksg", table=TableOptions(discrete="occupation"))
    assert d.discrete == ["occupation"] and d.mi > 0.1  # occupation follows education


def test_sklearn_diabetes_scaled_sex_gets_the_hint():
    from sklearn.datasets import load_diabetes

    df = load_diabetes(as_frame=True).frame
    r = mitool.estimate(df, "sex", "target", "ksg")
    assert any("--discrete sex" in w and "2 distinct values" in w for w in r.warnings)
    d = mitool.estimate(df, "sex", "target", "ksg", table=TableOptions(discrete="sex"))
    assert not any("--discrete" in w for w in d.warnings)


def test_breast_cancer_screen_matches_scikit_learn():
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    df = data.frame
    s = mitool.pairs(df, target="target", table=TableOptions(discrete="target"))
    ours = {p.x: p.mi for p in s.scores}
    theirs = mutual_info_classif(data.data, data.target, random_state=0)
    sk = dict(zip(data.feature_names, theirs, strict=True))
    top_ours = sorted(ours, key=ours.get, reverse=True)[:5]
    top_sk = sorted(sk, key=sk.get, reverse=True)[:5]
    assert len(set(top_ours) & set(top_sk)) >= 4
    assert all(abs(ours[f] - sk[f]) < 0.05 for f in data.feature_names)
