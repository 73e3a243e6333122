"""The estimator registry: everything mitool knows about an estimator, in one entry.

Each entry says what the estimator is (name, family, one line of help), how to run it (a
``module:function`` runner, imported only when the estimator runs), when it applies (a cheap
rule on the prepared columns, with the reason it gives when it does not), how its result is
tested and given an interval, what kind of number it reports (a lower bound of the truth,
an estimate that may sit on either side of it, or a capped value, and why), whether it joins
the default set and ``auto``, and where it tends to fall short.

``run_estimator``, ``mitool.inference``, the default set, ``auto``'s components, the CLI's
``--estimator`` help and the README table all read these entries; an unregistered name
raises. Adding an estimator means its module, one ``Estimator(...)`` line below, its tests
and its README row (``tests/test_registry.py`` checks that count).

Nothing here imports numpy-heavy modules, scipy or torch: the rules are plain array shape
and dtype checks, so parsing ``-e`` and choosing the default set stay instant.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from dataclasses import dataclass

from mitool.errors import UsageError
from mitool.estimators.base import EstimatorResult, PreparedData, RunOptions

# what kind of number an estimator reports
LOWER_BOUND = "lower bound"  # below the truth in expectation (read on rows its fit never saw)
ESTIMATE = "estimate"  # can land on either side of the truth
CAPPED = "capped"  # a lower bound that cannot exceed a ceiling it names
KINDS = (LOWER_BOUND, ESTIMATE, CAPPED)

# how its independence test works (``mitool.inference``)
TEST_PERMUTATION = "permutation"  # re-estimate the registered statistic on shuffled rows
TEST_ANALYTIC = "analytic"  # a p-value from the estimator's own null distribution
TEST_CRITIC = "critic"  # the trained critic read on shuffled held-out rows (no retraining)
TEST_COMPONENTS = "components"  # each component tested, combined
TESTS = (TEST_PERMUTATION, TEST_ANALYTIC, TEST_CRITIC, TEST_COMPONENTS)

# how its interval is made
CI_HALF_SAMPLING = "half-sampling"  # the statistic on n/2-row subsamples, normal interval
CI_LEARNING_CURVE = "learning curve"  # neural: bias-aware, from critics trained on half
CI_LOWER_ONLY = "lower bound only"  # one-sided: estimate - z*se
CI_CHOSEN = "chosen component"  # the interval of the component that supplied the number
INTERVALS = (CI_HALF_SAMPLING, CI_LEARNING_CURVE, CI_LOWER_ONLY, CI_CHOSEN)

Rule = Callable[[PreparedData], "str | None"]  # None: applies; else the reason it does not


@dataclass(frozen=True)
class DefaultContext:
    """What the default-set rules may look at besides the columns."""

    search: str = "auto"  # the neighbour search asked for (ksg's cost depends on it)


# a default-set rule: (joins, note); a note says why it was left out (None: silently)
DefaultRule = Callable[[PreparedData, DefaultContext], "tuple[bool, str | None]"]


@dataclass(frozen=True)
class Estimator:
    """One registered estimator (see the module docstring for what reads each field)."""

    name: str
    family: str
    help: str  # one line: what it is
    runner: str  # "module:function", called as function(name, data, options)
    kind: str  # LOWER_BOUND | ESTIMATE | CAPPED
    kind_why: str  # why it is that kind, and what caps it
    test: str  # one of TESTS
    interval: str  # one of INTERVALS
    statistic: str | None = None  # "module:function"(data, options) -> nats, unclipped
    permutation_scheme: str | None = None  # how the permutation test reads, for the JSON
    applies: Rule | None = None  # None: any columns
    default_rank: int | None = None  # its place in the default set; None: only when asked
    default_rule: DefaultRule | None = None  # None: joins whenever it is in the default set
    auto_rank: int | None = None  # its place among auto's components; None: not one
    in_auto: Callable[[PreparedData], bool] | None = None  # None: always, where ranked
    # cheap evidence on the columns that running it cannot change auto's answer here: None
    # runs it; else the reason it is skipped (auto's and the default set's; -e runs it)
    worth_running: Rule | None = None
    # whether, as a component, it may supply auto's headline (the maximum): only numbers
    # that cannot overshoot may; None: always; else a rule giving the reason it may not
    competes: Rule | None = None
    # a held-out bound of the same model: where it falls short of this estimate by no more
    # than fitting that model costs, the estimate competes after all (auto)
    checked_by: str | None = None
    # the kind on these columns where it depends on them (gcmi: a bound for one continuous
    # column against another); None: ``kind`` everywhere
    kind_on: Callable[[PreparedData], str] | None = None
    falls_short: str | None = None  # auto's hint when this component reads well below it
    extra_help: str = ""  # for --estimator's help: where it applies
    # two discrete sides: the interval's low end also gives way by the estimator's mean
    # over shuffles (a contingency MI keeps a small bias on sparse tables)
    discrete_bias_allowance: bool = False
    # True: it estimates the conditional I(X;Y|Z) and runs only with Z (``--z``); every
    # other entry estimates I(X;Y) and is refused with Z. Its ``default_rank`` places it in
    # the conditional default set (``default_names(conditional=True)``)
    conditional: bool = False

    def kind_for(self, data: PreparedData) -> str:
        return self.kind if self.kind_on is None else self.kind_on(data)

    def reason_not_applicable(self, data: PreparedData) -> str | None:
        if self.conditional != data.conditional:
            return ("estimates I(X;Y|Z): it needs Z columns (--z)" if self.conditional else
                    "estimates I(X;Y) only; with Z columns use " + ", ".join(supporting_z()))
        return None if self.applies is None else self.applies(data)

    def load(self, which: str = "runner") -> Callable:
        """The function a ``module:function`` field names (its module imported now)."""
        target = getattr(self, which)
        if target is None:
            raise UsageError(f"estimator '{self.name}' registers no {which}")
        module, _, attr = target.partition(":")
        return getattr(importlib.import_module(module), attr)


# --------------------------------------------------------------------------------- the rules

def _all_discrete(data: PreparedData) -> bool:
    return bool(data.x_discrete.all() and data.y_discrete.all())


def _any_discrete(data: PreparedData) -> bool:
    return bool(data.x_discrete.any() or data.y_discrete.any())


def _dims(data: PreparedData) -> int:
    return int(data.x.shape[1] + data.y.shape[1])


def rotatable(data: PreparedData) -> bool:
    """Whether gcmi-rot applies: continuous columns only, and a side with two or more."""
    return not _any_discrete(data) and max(data.x.shape[1], data.y.shape[1]) >= 2


# estimators that feed a discrete column as level indicators (one-hot) build n x levels
# numbers; above this many a 4,043-level category of 336,776 rows would take 10.9 GB
ONE_HOT_MAX_CELLS = 50_000_000


def _one_hot(data: PreparedData) -> tuple[int, int]:
    """(cells, levels) of the level indicators of every discrete column (codes 0..m-1)."""
    levels = 0
    for values, disc in ((data.x, data.x_discrete), (data.y, data.y_discrete)):
        for j in range(values.shape[1]):
            if disc[j] and data.n:
                levels += int(values[:, j].max()) + 1
    return data.n * levels, levels


def _one_hot_rule(data: PreparedData) -> str | None:
    cells, levels = _one_hot(data)
    if cells > ONE_HOT_MAX_CELLS:
        return (f"its level indicators would take {cells * 8 / 1e9:.1f} GB ({levels:,} levels "
                f"x {data.n:,} rows); gcmi and ksg read such a category without them, or "
                "--max-rows takes a sample")
    return None


def _gcmi_rule(data: PreparedData) -> str | None:
    if data.n < _dims(data) + 3:
        return f"needs more rows ({data.n}) than columns + 2 ({_dims(data) + 2})"
    one_column = any(v.shape[1] == 1 and d.all() and not o.all() for v, d, o in
                     ((data.x, data.x_discrete, data.y_discrete),
                      (data.y, data.y_discrete, data.x_discrete)))
    if not one_column and not _all_discrete(data):  # one category: read through group means
        return _one_hot_rule(data)
    return None


def _gcmi_rot_rule(data: PreparedData) -> str | None:
    if _any_discrete(data):
        return "needs continuous columns only (use gcmi for discrete ones)"
    if max(data.x.shape[1], data.y.shape[1]) < 2:
        return ("needs a side with 2 or more columns to rotate (one column against one: "
                "gcmi is the same thing)")
    return None  # too few rows: the runner says so (its minimum is a fitting setting)


def _sklearn_rule(data: PreparedData) -> str | None:
    if data.x.shape[1] != 1 or data.y.shape[1] != 1:
        return ("scikit-learn handles one X column against one Y column only; "
                f"got {data.x.shape[1]} x {data.y.shape[1]}")
    return None


# the default set leaves ksg out when its exact brute-force search would need more than this
# many coordinate comparisons (N² · d; 10^11 is a couple of minutes on two cores)
KSG_DEFAULT_MAX_WORK = 1e11
# from this many rows the default set leaves sklearn out (200k rows: 14 s against ksg's 2.4)
SKLEARN_DEFAULT_MAX_ROWS = 200_000
AUTO_KSG_DIMS = 8  # ksg joins auto's components up to this many joint dimensions


def _gcmi_competes(data: PreparedData) -> str | None:
    if data.x.shape[1] == data.y.shape[1] == 1 and not _any_discrete(data):
        return None  # one continuous column against another: a lower bound
    return ("with several columns or a discrete side the Gaussian model can exceed the "
            "truth; its bound, gcmi-bound, competes instead")


# below this many rows ksg's noise is as large as the MI people screen for, and it is not a
# bound: the bounds compete alone (benchmarks/overshoot.py: 1x1, MI 0.03, N = 150 over the
# truth by more than 0.05 nats in 5 of 20 seeds; independent 1x1 on 500 distinct rows,
# each written twice, in 3 of 20 at a floor of 500 rows)
KSG_COMPETE_MIN_ROWS = 1000
# Ross's k-NN formula for a discrete side reads high with few rows per level (100 levels of
# 10 rows against a continuous column: 0.75 for a truth of 0.68; benchmarks/overshoot.py)
KSG_MIN_ROWS_PER_LEVEL = 30


def _ksg_competes(data: PreparedData) -> str | None:
    if _all_discrete(data):
        return None  # the contingency-table MI, capped by the entropies
    if data.n < KSG_COMPETE_MIN_ROWS:
        return (f"{data.n} rows: below {KSG_COMPETE_MIN_ROWS} k-NN's noise is as large as "
                "a weak dependence, and it is not a bound")
    if bool(data.x_discrete.all()) != bool(data.y_discrete.all()):  # Ross's formula
        import numpy as np

        side = data.x if data.x_discrete.all() else data.y
        levels = np.unique(side, axis=0).shape[0]
        if data.n / levels < KSG_MIN_ROWS_PER_LEVEL:
            return (f"{levels} levels of about {data.n // levels} rows each: k-NN within "
                    "levels that small reads high")
    repeated = repeated_rows(data)
    if repeated:
        return (f"{repeated:.1%} of the rows repeat another exactly: zero distances inflate "
                "k-NN")
    return None


def distinct_values(data: PreparedData) -> dict:
    """Each column's sorted distinct values, by (side, index), computed once per data."""
    import numpy as np

    if "distinct_values" not in data.memo:
        data.memo["distinct_values"] = {
            (side, j): np.unique(values[:, j])
            for side, values in (("x", data.x), ("y", data.y)) for j in range(values.shape[1])}
    return data.memo["distinct_values"]


def repeated_rows(data: PreparedData) -> float:
    """The share of rows that repeat an earlier row exactly (every selected column)."""
    import numpy as np

    if "repeated_rows" in data.memo:
        return data.memo["repeated_rows"]
    share = 0.0
    # a column whose values are all distinct rules repeats out (a 1-D sort, not a row sort)
    if data.n and not any(u.size == data.n for u in distinct_values(data).values()):
        joint = np.hstack([data.x, data.y])  # (n, dx + dy)
        share = 1.0 - np.unique(joint, axis=0).shape[0] / data.n
    data.memo["repeated_rows"] = share
    return share


def _ksg_default(data: PreparedData, ctx: DefaultContext) -> tuple[bool, str | None]:
    from mitool.estimators.neighbours import brute_work, choose_method

    if _all_discrete(data):
        return True, None
    xd, yd = bool(data.x_discrete.all()), bool(data.y_discrete.all())
    dims = data.x.shape[1] if yd else data.y.shape[1] if xd else _dims(data)
    plane = not xd and not yd and data.x.shape[1] == data.y.shape[1] == 1
    if choose_method(data.n, dims, ctx.search, plane=plane) != "brute":
        return True, None
    work = brute_work(data.n, _dims(data))
    if work <= KSG_DEFAULT_MAX_WORK:
        return True, None
    return False, (
        f"ksg left out of the default set: {_dims(data)} joint dimensions on {data.n:,} rows "
        f"need an exact all-pairs neighbour search (N²·d = {work:.0e} comparisons, far beyond "
        "minutes here); ask for it with -e ksg, or estimate it on a sample with --max-rows "
        "50000")


def _sklearn_default(data: PreparedData, ctx: DefaultContext) -> tuple[bool, str | None]:
    if data.n < SKLEARN_DEFAULT_MAX_ROWS:
        return True, None
    return False, (f"sklearn left out of the default set on {data.n:,} rows: it repeats ksg's "
                   "estimate (the same KSG formula) at about 6x its time; ask for it with "
                   "-e default,sklearn")


def _gcmi_rot_default(data: PreparedData, ctx: DefaultContext) -> tuple[bool, str | None]:
    return rotatable(data), None  # one column a side or discrete columns: nothing to rotate


def _learned_critic_worth(data: PreparedData) -> str | None:
    """Whether a learned critic can change auto's answer here. One column against one with
    ksg competing (enough rows, none repeated) and no heavy tails: KSG is consistent in two
    dimensions and more accurate than a held-out bound at these sizes (about 0.01 nats at
    N = 5,000), while the critic costs most of the run. On bmi's nine 1x1 tasks the
    critic (smile, when this rule was measured; gbm now) supplied the headline once, on Student-t columns with one degree of freedom,
    where k-NN on standardized columns reads 0.178 for 0.224 and the critic 0.222: heavy
    tails keep it (``heavy_tailed``). Elsewhere (a side with 2+ columns, or ksg not
    competing) it may see what the cheap components cannot, and it runs."""
    if data.x.shape[1] == 1 and data.y.shape[1] == 1 and not _all_discrete(data) \
            and _ksg_competes(data) is None and not heavy_tailed(data):
        return ("one column against one, where ksg competes (no repeated rows, "
                f"{data.n:,} rows, no heavy tails): a learned critic cannot add to a "
                "consistent 2-D k-NN estimate; -e gbm runs it")
    return None


# a continuous column with more than this share of its rows beyond TAIL_MADS robust standard
# deviations (1.4826 MAD) from its median has heavy tails: a Gaussian has 6e-7 of them, a
# Student-t with one degree of freedom 0.085
TAIL_MADS = 5.0
HEAVY_TAIL_SHARE = 0.005


def heavy_tailed(data: PreparedData) -> bool:
    """Whether any continuous column has heavy tails (``HEAVY_TAIL_SHARE``)."""
    import numpy as np

    if "heavy_tailed" not in data.memo:
        heavy = False
        for values, disc in ((data.x, data.x_discrete), (data.y, data.y_discrete)):
            for j in range(values.shape[1]):
                if disc[j] or data.n == 0:
                    continue
                col = values[:, j]
                med = np.median(col)
                mad = 1.4826 * np.median(np.abs(col - med))
                if mad > 0 and np.mean(np.abs(col - med) > TAIL_MADS * mad) > HEAVY_TAIL_SHARE:
                    heavy = True
        data.memo["heavy_tailed"] = heavy
    return data.memo["heavy_tailed"]


def _learned_critic_default(data: PreparedData, ctx: DefaultContext
                            ) -> tuple[bool, str | None]:
    why = _learned_critic_worth(data)
    return (True, None) if why is None else (False, f"gbm left out: {why}")


def _z_dims(data: PreparedData) -> int:
    return 0 if data.z is None else int(data.z.shape[1])


def _gcmi_cmi_rule(data: PreparedData) -> str | None:
    dims = _dims(data) + _z_dims(data)
    if data.n < dims + 3:
        return f"needs more rows ({data.n}) than columns + 2 ({dims + 2})"
    return _one_hot_rule(data)


def _ksg_cmi_rule(data: PreparedData) -> str | None:
    if not _any_discrete(data):
        return None
    one_label = any(d.size and d.all() and not o.any() for d, o in (
        (data.x_discrete, data.y_discrete), (data.y_discrete, data.x_discrete)))
    if one_label:
        return None  # a discrete side against a continuous one: by the chain rule
    return ("needs continuous X and Y, or one all-discrete side against an all-continuous "
            "one (discrete Z columns are read as strata); gcmi-cmi reads the others")


# auto-cmi reads ksg-cmi up to this many joint dimensions (X, Y and Z) and from this many
# rows; elsewhere the Gaussian copula (benchmarks/cmi.py: k-NN CMI undershoots with many
# conditioning columns)
CMI_KSG_MAX_DIMS = 6
CMI_KSG_MIN_ROWS = 1000
CMI_KSG_MAX_REPEATED = 0.01  # share of rows repeating another exactly: ties inflate k-NN


def cmi_prefers_knn(data: PreparedData) -> str | None:
    """None where auto-cmi reports ksg-cmi; else why it reports gcmi-cmi."""
    dims = _dims(data) + _z_dims(data)
    if _ksg_cmi_rule(data) is not None:
        return "ksg-cmi does not apply to these X and Y columns"
    if _any_discrete(data):
        return ("a discrete X or Y: ksg-cmi's chain-rule difference of two Ross estimates is "
                "not benchmarked yet; the Gaussian copula reads a label through its means")
    if dims > CMI_KSG_MAX_DIMS:
        return (f"{dims} joint dimensions: k-NN CMI undershoots above {CMI_KSG_MAX_DIMS}, the "
                "Gaussian copula does not")
    if data.n < CMI_KSG_MIN_ROWS:
        return f"{data.n} rows: below {CMI_KSG_MIN_ROWS} k-NN CMI is too noisy"
    import numpy as np

    joint = np.hstack([data.x, data.y, data.z])
    repeated = 1.0 - np.unique(joint, axis=0).shape[0] / data.n
    if repeated > CMI_KSG_MAX_REPEATED:
        return f"{repeated:.1%} of the rows repeat another exactly: zero distances inflate k-NN"
    return None


# ------------------------------------------------------------------------------ the entries

_NEURAL_RUNNER = "mitool.estimators.neural.engine:run"
_NEURAL_KIND = ("a Donsker-Varadhan-type variational bound read on held-out rows its critic "
                "never saw: below the truth in expectation, by what the critic did not learn")
_NEURAL_FALLS_SHORT = "the neural bound did not reach it (more rows or steps may help)"


def _neural(name: str, help_: str, kind: str = LOWER_BOUND, kind_why: str = _NEURAL_KIND,
            interval: str = CI_LEARNING_CURVE, **more) -> Estimator:
    more.setdefault("applies", _one_hot_rule)  # the critic's inputs are one-hot
    return Estimator(name, "neural", help_, _NEURAL_RUNNER, kind, kind_why, TEST_CRITIC,
                     interval, **more)


ENTRIES: tuple[Estimator, ...] = (
    Estimator(
        "auto", "combined",
        "the largest of gcmi, gcmi-rot, ksg and the gbm bound (the default headline)",
        "mitool.estimators.auto:run", ESTIMATE,
        "the largest of its components: an estimate wherever one of them can overshoot "
        "(gcmi on several columns or a discrete side, ksg on repeated rows)",
        TEST_COMPONENTS, CI_CHOSEN, default_rank=0),
    _neural("mine", "Donsker-Varadhan bound with MINE's moving-average gradient correction"),
    _neural("mine-biased", "Donsker-Varadhan bound, plain gradient"),
    _neural("jsd", "Jensen-Shannon (Deep InfoMax) critic, MI read with a KL bound"),
    _neural("nwj", "Nguyen-Wainwright-Jordan (MINE-f) bound"),
    _neural("infonce", "InfoNCE bound", kind=CAPPED,
            kind_why="InfoNCE cannot exceed the log of its candidates",
            interval=CI_LOWER_ONLY),
    _neural("smile", "DV bound with a clipped partition term (Song & Ermon), JS-trained critic",
            falls_short=_NEURAL_FALLS_SHORT),
    Estimator(
        "ksg", "k-NN",
        "Kraskov-Stoegbauer-Grassberger (max-norm); Ross's formula with a discrete side; "
        "the bias-corrected contingency MI for two discrete sides",
        "mitool.estimators.ksg:run", ESTIMATE,
        "k-NN estimates are biased down in dimension, and up where rows repeat (zero "
        "distances) or with little data",
        TEST_PERMUTATION, CI_HALF_SAMPLING, statistic="mitool.estimators.ksg:statistic",
        discrete_bias_allowance=True,
        permutation_scheme="re-estimated with Y shuffled against X; raw (unclipped) KSG "
                           "statistic",
        default_rank=4, default_rule=_ksg_default, auto_rank=2,
        in_auto=lambda d: _all_discrete(d) or _dims(d) <= AUTO_KSG_DIMS,
        competes=_ksg_competes,
        falls_short="k-NN undershoots in dimension or with few rows"),
    Estimator(
        "sklearn", "k-NN", "scikit-learn's mutual_info_regression / mutual_info_classif",
        "mitool.estimators.sklearn_mi:run", ESTIMATE,
        "the KSG formula, clipped at 0", TEST_PERMUTATION, CI_HALF_SAMPLING,
        statistic="mitool.estimators.sklearn_mi:statistic",
        permutation_scheme="re-estimated with Y shuffled against X (scikit-learn clips at 0: "
                           "conservative)",
        applies=_sklearn_rule, default_rank=5, default_rule=_sklearn_default,
        extra_help="one column a side"),
    Estimator(
        "gcmi", "closed form",
        "Gaussian-copula MI (normal scores, canonical correlations), bias-corrected",
        "mitool.estimators.gcmi:run", ESTIMATE,
        "exact for a Gaussian copula; a lower bound for one continuous column against "
        "another; elsewhere a Gaussian model that can sit on either side",
        TEST_PERMUTATION, CI_HALF_SAMPLING, statistic="mitool.estimators.gcmi:statistic",
        permutation_scheme="re-estimated with Y shuffled against X; raw (unclipped) gcmi "
                           "statistic",
        applies=_gcmi_rule, default_rank=2, auto_rank=0, in_auto=lambda d: not _all_discrete(d),
        competes=_gcmi_competes, checked_by="gcmi-bound",
        kind_on=lambda d: LOWER_BOUND if _gcmi_competes(d) is None else ESTIMATE,
        falls_short="the dependence is not a Gaussian copula (gcmi sees only its linear "
                    "part in the normal scores)"),
    Estimator(
        "gcmi-rot", "fitted copula",
        "gcmi-bound after a learned radius-dependent rotation of each side",
        "mitool.estimators.gcmi_rot:run", LOWER_BOUND,
        "the Gaussian critic of rotated sides, fitted on one half and read as a DV bound on "
        "the other: below the truth in expectation whatever the distribution",
        TEST_ANALYTIC, CI_LOWER_ONLY,
        permutation_scheme="analytic, no permutations: Bartlett's chi-square on each half "
                           "read through maps fitted on the other half, Cauchy-combined",
        applies=_gcmi_rot_rule, default_rank=3,
        default_rule=_gcmi_rot_default, auto_rank=1, in_auto=rotatable,
        falls_short="the dependence is not a Gaussian copula of radially rotated sides",
        extra_help="a side with 2+ continuous columns"),
    Estimator(
        "gcmi-bound", "closed form",
        "the Gaussian-copula model as a critic: a DV lower bound read on held-out rows",
        "mitool.estimators.gauss_bound:run", LOWER_BOUND,
        "a Donsker-Varadhan bound of a critic fitted on the other half of the rows: below "
        "the truth in expectation whatever the distribution, tight for a Gaussian copula",
        TEST_PERMUTATION, CI_HALF_SAMPLING, statistic="mitool.estimators.gauss_bound:statistic",
        applies=_one_hot_rule,
        permutation_scheme="re-estimated with Y shuffled against X; raw (unclipped) bound",
        auto_rank=4,
        in_auto=lambda d: not _all_discrete(d) and not (
            d.x.shape[1] == d.y.shape[1] == 1 and not _any_discrete(d)),
        falls_short="the dependence is not a Gaussian copula"),
    Estimator(
        "gbm", "fitted classifier",
        "a gradient-boosted classifier of joint against shuffled pairs, its log-odds read as "
        "a DV lower bound on held-out rows (cross-fitted)",
        "mitool.estimators.gbm_critic:run", LOWER_BOUND,
        "the classifier's log-odds are a critic T(x, y), read in a Donsker-Varadhan bound on "
        "rows it never saw (3 folds, each read by the critic fitted and weighed on the "
        "others): below the truth in expectation whatever the distribution, by what the "
        "critic did not learn",
        TEST_CRITIC, CI_LOWER_ONLY, applies=_one_hot_rule,
        permutation_scheme="each fold's trained classifier read on its own rows with Y "
                           "shuffled (no refitting), Bonferroni over the folds",
        default_rank=1, auto_rank=3, in_auto=lambda d: not _all_discrete(d),
        worth_running=_learned_critic_worth, default_rule=_learned_critic_default,
        falls_short="the boosted classifier did not learn the dependence"),
    Estimator(
        "auto-cmi", "combined",
        "I(X;Y|Z), the default with --z: ksg-cmi in low dimension on enough distinct rows, "
        "gcmi-cmi elsewhere",
        "mitool.estimators.cmi_auto:run", ESTIMATE,
        "neither component is a bound: it reports the one that should be closer here "
        "(k-NN CMI in low dimension, the Gaussian copula with many columns or few rows)",
        TEST_COMPONENTS, CI_CHOSEN, default_rank=0, conditional=True),
    Estimator(
        "ksg-cmi", "k-NN",
        "Frenzel-Pompe k-NN conditional MI I(X;Y|Z) (max-norm); within strata of discrete Z; "
        "a discrete side by the chain rule of Ross's estimates",
        "mitool.estimators.cmi_knn:run", ESTIMATE,
        "k-NN CMI is biased down as dim Z grows (a tenth of the truth with 10 conditioning "
        "columns) and up where rows repeat; either side at small N",
        TEST_PERMUTATION, CI_HALF_SAMPLING, statistic="mitool.estimators.cmi_knn:statistic",
        permutation_scheme="local permutation of X within Z-neighbourhoods (k_perm={k_perm})",
        applies=_ksg_cmi_rule, default_rank=2, conditional=True,
        extra_help="continuous X and Y, or one discrete side"),
    Estimator(
        "gcmi-cmi", "closed form",
        "Gaussian-copula conditional MI I(X;Y|Z) (partial canonical correlations), "
        "bias-corrected",
        "mitool.estimators.cmi_gauss:run", ESTIMATE,
        "exact for a Gaussian copula; elsewhere a Gaussian model of the normal scores that "
        "can sit on either side of the truth (blind to non-monotone dependence)",
        TEST_PERMUTATION, CI_HALF_SAMPLING, statistic="mitool.estimators.cmi_gauss:statistic",
        permutation_scheme="local permutation of X within Z-neighbourhoods (k_perm={k_perm})",
        applies=_gcmi_cmi_rule, default_rank=1, conditional=True),
    Estimator(
        "gbm-cmi", "fitted classifier",
        "I(X;Y|Z) by a gradient-boosted classifier of joint rows against rows whose X comes "
        "from a nearest neighbour in Z (CCMI), its log-odds read as a DV bound on held-out "
        "rows (cross-fitted)",
        "mitool.estimators.cmi_gbm:run", LOWER_BOUND,
        "a Donsker-Varadhan readout on rows the classifier never saw (3 folds): below the "
        "truth in expectation against exact samples of p(x|z)p(y|z)p(z), so only "
        "approximately a bound: its product rows take X from a near, not an equal, Z, and "
        "where X moves fast with Z on few rows it can read above the truth",
        TEST_CRITIC, CI_LOWER_ONLY, applies=_gcmi_cmi_rule, conditional=True,
        permutation_scheme="each fold's trained classifier read on its own rows with X "
                           "redrawn within Z-neighbourhoods (no refitting), Bonferroni over "
                           "the folds",
        falls_short="the boosted classifier did not learn the conditional dependence"),
)

_REGISTRY: dict[str, Estimator] = {e.name: e for e in ENTRIES}
HEADLINE = "auto"


def names(conditional: bool | None = None) -> tuple[str, ...]:
    """Every registered name, in registration order; with ``conditional``, only those that
    estimate I(X;Y|Z) (True) or I(X;Y) (False): what ``-e all`` runs with or without Z."""
    return tuple(n for n, e in _REGISTRY.items()
                 if conditional is None or e.conditional == conditional)


def supporting_z() -> tuple[str, ...]:
    """The estimators that take Z columns (``--z``), in registration order."""
    return names(conditional=True)


# the families whose estimators learn a critic from the rows: their cost is training, they
# share a --budget, and the cheap evidence may skip them (``worth_running``)
LEARNED_FAMILIES = ("neural", "fitted classifier")


def learned() -> tuple[str, ...]:
    """The registered estimators that learn a critic (``LEARNED_FAMILIES``)."""
    return tuple(n for n, e in _REGISTRY.items() if e.family in LEARNED_FAMILIES)


def family(name: str) -> tuple[str, ...]:
    """The registered names of one family (e.g. "neural"), in registration order."""
    return tuple(n for n, e in _REGISTRY.items() if e.family == name)


def default_names(conditional: bool = False) -> tuple[str, ...]:
    """The default set, in its order (each may still be left out by its rule); with
    ``conditional``, the default set of I(X;Y|Z)."""
    ranked = [e for e in _REGISTRY.values()
              if e.default_rank is not None and e.conditional == conditional]
    return tuple(e.name for e in sorted(ranked, key=lambda e: e.default_rank))


def get(name: str) -> Estimator:
    """The entry for ``name``; an unregistered name raises (nothing falls through)."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UsageError(f"unknown estimator '{name}' (registered: {', '.join(_REGISTRY)})") \
            from None


def register(entry: Estimator) -> None:
    """Add (or replace) an entry: for plug-ins and tests; mitool's own are in ``ENTRIES``."""
    for field_, allowed in (("kind", KINDS), ("test", TESTS), ("interval", INTERVALS)):
        if getattr(entry, field_) not in allowed:
            raise ValueError(f"{entry.name}: {field_} must be one of {allowed}")
    if entry.test == TEST_PERMUTATION and entry.statistic is None:
        raise ValueError(f"{entry.name}: a permutation test needs a registered statistic")
    _REGISTRY[entry.name] = entry


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


def default_set(data: PreparedData, ctx: DefaultContext | None = None
                ) -> tuple[list[str], dict[str, str | None]]:
    """(the default names that join on these columns, {name left out: its note or None})."""
    ctx = ctx or DefaultContext()
    chosen, left_out = [], {}
    for name in default_names(data.conditional):
        rule = _REGISTRY[name].default_rule
        joins, note = (True, None) if rule is None else rule(data, ctx)
        if joins:
            chosen.append(name)
        else:
            left_out[name] = note
    return chosen, left_out


def auto_components(data: PreparedData) -> list[str]:
    """auto's components on these columns, in their order (ties go to the first), less
    those the cheap evidence says cannot change the answer (``auto_skipped``)."""
    skipped = auto_skipped(data)
    return [n for n in _auto_candidates(data) if n not in skipped]


def _auto_candidates(data: PreparedData) -> list[str]:
    ranked = sorted((e for e in _REGISTRY.values() if e.auto_rank is not None),
                    key=lambda e: e.auto_rank)
    return [e.name for e in ranked if e.in_auto is None or e.in_auto(data)]


def auto_skipped(data: PreparedData) -> dict[str, str]:
    """auto's components left out on these columns, each with the reason (its
    ``worth_running`` rule): compute is spent where it can change the answer."""
    out = {}
    for n in _auto_candidates(data):
        rule = _REGISTRY[n].worth_running
        why = None if rule is None else rule(data)
        if why:
            out[n] = why
    return out


def run_estimator(name: str, data: PreparedData, options: RunOptions | None = None,
                  **changes) -> EstimatorResult:
    """Run one registered estimator (its module imported now). ``changes`` override fields
    of ``options`` (``run_estimator("ksg", data, k=5)``). Where its rule says it does not
    apply, the result says why and the module is never imported."""
    entry = get(name)
    opts = dataclasses.replace(options or RunOptions(), **changes)
    reason = entry.reason_not_applicable(data)
    if reason is not None:
        return EstimatorResult(name, None, 0.0, applicable=False, reason=reason)
    return entry.load()(name, data, opts)


def estimator_help() -> str:
    """``--estimator``'s help: the registered names and the default set."""
    listed = ", ".join(names())
    parts = []
    for n in default_names():
        e = _REGISTRY[n]
        parts.append(f"{n} ({e.extra_help})" if e.extra_help else n)
    cond = default_names(conditional=True)
    return (f"Comma-separated estimators: {listed}, or 'all'. Default: {parts[0]}, the "
            f"headline: {_REGISTRY[HEADLINE].help}; shown beside {', '.join(parts[1:])} "
            f"as their own rows. With --z only {', '.join(supporting_z())} apply (default: "
            f"{', '.join(cond)}).")
