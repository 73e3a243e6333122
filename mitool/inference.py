"""Uncertainty and independence for estimates: permutation p-values and confidence intervals.

Schemes, per estimator family (each result says which one it used):
- k-NN (ksg, sklearn), permutation test: re-estimate with Y rows shuffled against X. ``ksg``
  uses its raw (unclipped) value as the statistic so the null has no ties at 0; scikit-learn
  clips at 0 inside, so ties there make its p-value conservative.
- k-NN intervals: half-sampling, i.e. subsampling with m = n/2 rows drawn *without*
  replacement. A naive bootstrap duplicates rows, which puts zero-distance neighbours into
  the k-NN search and biases KSG upwards; subsampling keeps every draw a genuine sample.
  Without replacement Var(θ_m − θ_n) ≈ σ²(n − m)/(mn), so sd(θ_m)·√(m/(n − m)) estimates the
  standard error of θ_n (the factor is 1 at m = n/2), and the interval is θ_n ± z·se,
  clipped at 0. A normal interval, because the reflected ("basic") quantile interval
  covered only 88% on 1-D Gaussians at N = 2,000 against 98% for this one
  (benchmarks/inference.py).
- conditional estimators (I(X;Y|Z), ``--z``): a *local* permutation test (Runge 2018). A
  plain shuffle of X breaks X–Z as well, so it tests I(X;Y) = 0 and rejects on every chain
  X → Z → Y; instead each row's X is drawn from the k_perm rows nearest to it in Z
  (``local_permutation``), which keeps p(x|z) and breaks only the X–Y link given Z.
- neural estimators: the p-value compares the held-out estimate with the *trained* critic
  evaluated on shuffled held-out rows (no retraining; the held-out rows took no part in
  training or early stopping, so observed and shuffled readouts are exchangeable under
  independence); the interval is bias-aware, from the learning curve (``neural_ci``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mitool.estimators.base import EstimatorResult, PreparedData, ProgressCallback, RunOptions
from mitool.estimators.z_shuffle import K_PERM, local_permutation, z_neighbourhoods
from mitool.pvalues import min_p_permutation, weighted_bonferroni

# each family of auto's p-value with a test of its own (the neural critic's, gcmi-rot's)
# gets this share of alpha; the shared-shuffle family the rest (``_components_inference``)
OWN_TEST_WEIGHT = 0.1
# an own-test family whose smallest p-value cannot pass this level after its weight gets
# none (``family_weights``): the level users test at, and the one the level is measured at
REFERENCE_ALPHA = 0.05


def p_value(observed: float, null: np.ndarray | list[float]) -> float:
    """(1 + #null ≥ observed) / (1 + N): never 0, exact under exchangeability.

    A null value that came out non-finite (NaN or inf: a critic that blew up on a shuffle)
    counts as ≥ observed: it cannot be shown to be smaller, and counting it as 0 would
    make the p-value too small.
    """
    null = np.asarray(null, dtype=float)
    extreme = ~np.isfinite(null) | (null >= observed - 1e-12)
    return float((1 + np.sum(extreme)) / (1 + null.size))


def null_summary(observed: float, null: np.ndarray | list[float]) -> dict:
    """p-value and a summary of the null draws (mean and 95th percentile of the finite ones;
    ``null_nonfinite`` counts the others, which the p-value treats as ≥ observed)."""
    null = np.asarray(null, dtype=float)
    finite = null[np.isfinite(null)]
    return {
        "p_value": p_value(observed, null),
        "permutations": int(null.size),
        "null_mean": float(finite.mean()) if finite.size else None,
        "null_p95": float(np.quantile(finite, 0.95)) if finite.size else None,
        "null_nonfinite": int(null.size - finite.size),
        "p_value_floor": 1.0 / (1 + null.size),  # the smallest p-value this test can give
    }


def _statistic(name: str, k: int, transform: str = "standardize"
               ) -> Callable[[PreparedData, int], float]:
    """The number a permutation test or a half-sampling interval recomputes for ``name``:
    the statistic its registry entry names (nats, unclipped where the estimator allows)."""
    from mitool.estimators.base import RunOptions
    from mitool.estimators.registry import get

    stat = get(name).load("statistic")
    return lambda d, s: stat(d, RunOptions(k=k, seed=s, transform=transform))


# the learning-curve check: from this many rows, and what counts as "moved"
LEARNING_CURVE_MIN_ROWS = 1000


def learning_curve(name: str, data: PreparedData, k: int, seed: int,
                   transform: str = "standardize", full: float | None = None) -> dict | None:
    """``name``'s statistic on a seeded half of the rows beside all of them (nats), and
    whether it moved by more than max(10%, 0.05 nats): an estimate still changing with the
    number of rows has not converged (a daily cycle in a year of timestamps, a dimension
    too high for the rows). None where the estimator has no cheap statistic or the table
    has fewer than LEARNING_CURVE_MIN_ROWS rows. ``full``: the statistic on all rows when
    the caller has it already (it is not computed twice)."""
    from mitool.estimators.registry import get

    if get(name).statistic is None or data.n < LEARNING_CURVE_MIN_ROWS:
        return None
    stat = _statistic(name, k, transform)
    rng = np.random.default_rng([seed, 4243])
    half = stat(data.subset(np.sort(rng.choice(data.n, data.n // 2, replace=False))), seed)
    full = stat(data, seed) if full is None else full
    moved = abs(full - half) > max(0.1 * abs(full), 0.05)
    return {"estimator": name, "half_rows": float(half), "all_rows": float(full),
            "rows": [data.n // 2, data.n], "converged": not moved}


def knn_permutation(
    name: str, data: PreparedData, k: int, n_perm: int, seed: int,
    transform: str = "standardize", progress: ProgressCallback | None = None,
) -> dict:
    """Permutation test of an estimator with a registered statistic (re-estimated on each
    shuffle of Y against X)."""
    stat = _statistic(name, k, transform)
    observed = stat(data, seed)
    rng = np.random.default_rng([seed, 7919])
    null = []
    for i in range(n_perm):
        null.append(stat(data.with_y(data.y[rng.permutation(data.n)]), seed))
        if progress is not None:
            progress(i + 1, n_perm, {"stage": f"{name} permutations"})
    from mitool.estimators.registry import get

    scheme = get(name).permutation_scheme or "re-estimated with Y shuffled against X"
    # "_null": the draws themselves, for a combined estimator's test of its maximum (the
    # same seed gives every component the same shuffles); popped before the report
    return {**null_summary(observed, null), "statistic": observed, "permutation_scheme": scheme,
            "_null": null}


def local_permutation_test(
    name: str, data: PreparedData, k: int, n_perm: int, seed: int, k_perm: int = K_PERM,
    transform: str = "standardize", progress: ProgressCallback | None = None,
) -> dict:
    """The conditional independence test of I(X;Y|Z): the statistic re-estimated with X
    redrawn within Z-neighbourhoods (``local_permutation``), ``n_perm`` times."""
    stat = _statistic(name, k, transform)
    observed = stat(data, seed)
    rng = np.random.default_rng([seed, 7919])
    hoods = z_neighbourhoods(data.z, data.z_discrete, k_perm)
    null = []
    for i in range(n_perm):
        null.append(stat(data.with_x(data.x[local_permutation(hoods, rng)]), seed))
        if progress is not None:
            progress(i + 1, n_perm, {"stage": f"{name} local permutations"})
    from mitool.estimators.registry import get

    scheme = (get(name).permutation_scheme
              or "local permutation of X within Z-neighbourhoods (k_perm={k_perm})")
    return {**null_summary(observed, null), "statistic": observed,
            "permutation_scheme": scheme.format(k_perm=k_perm), "k_perm": k_perm,
            "_null": null}


DISCRETE_BIAS_SHUFFLES = 20  # shuffles that measure a contingency estimator's bias at 0


def knn_subsample_ci(
    name: str, data: PreparedData, k: int, n_boot: int, seed: int, estimate: float,
    level: float = 0.95, transform: str = "standardize",
    progress: ProgressCallback | None = None,
) -> dict:
    """Half-sampling interval for a k-NN estimate (see module docstring).

    ``estimate`` is the raw (unclipped) value; only the interval's ends are clipped at 0.
    For two discrete sides the low end also gives way by the estimator's own bias at
    independence for these margins (its mean over shuffles, when positive): sparse tables
    keep a small positive bias even after the NSB correction, and an interval that
    ignored it would miss a true 0 too often (benchmarks/discrete_mi.py).
    """
    if n_boot < 2:
        from mitool.errors import UsageError

        raise UsageError("{param} needs at least 2 subsamples (200 is a good default)",
                         parameter="bootstrap", function="InferenceSpec")
    stat = _statistic(name, k, transform)
    n = data.n
    m = max(k + 2, n // 2)
    rng = np.random.default_rng([seed, 104729])
    draws = []
    for i in range(n_boot):
        draws.append(stat(data.subset(np.sort(rng.choice(n, size=m, replace=False))), seed))
        if progress is not None:
            progress(i + 1, n_boot, {"stage": f"{name} interval"})
    allowance = 0.0
    method = (f"half-sampling standard error (n/2 rows without replacement, {n_boot} draws), "
              "normal interval")
    from mitool.estimators.registry import get

    if get(name).discrete_bias_allowance and data.x_discrete.all() and data.y_discrete.all():
        shuffled = [stat(data.with_y(data.y[rng.permutation(n)]), seed)
                    for _ in range(DISCRETE_BIAS_SHUFFLES)]
        allowance = max(0.0, float(np.mean(shuffled)))
        method += (f"; low end lowered by the estimator's bias at independence "
                   f"({allowance:.4f} nats, mean of {DISCRETE_BIAS_SHUFFLES} shuffles)")
    out = half_sampling_interval(estimate, draws, n, m, level, data.conditional, allowance)
    out["ci_method"] = method + out["ci_method"]
    if allowance:
        out["ci_bias_allowance"] = allowance
    out["_draws"] = draws  # for a combined estimator's interval of its maximum; popped
    return out


def half_sampling_interval(estimate: float, draws: list[float], n: int, m: int,
                           level: float = 0.95, conditional: bool = False,
                           allowance: float = 0.0, unit: str = "nats") -> dict:
    """The normal interval from statistics on subsamples of m of the n rows drawn without
    replacement (module docstring): se = sd(draws)·√(m/(n − m)), estimate ± z·se, the low end
    lowered by ``allowance``, ends clipped at 0. ``conditional``: k-NN CMI's bias in
    dimension, read from the learning curve (the draws' mean at m rows against the
    estimate at n), moves the end the estimate moved towards on by CMI_DRIFT_FACTOR times
    that drift. Shared by the row-wise intervals and transfer entropy's block-wise ones;
    ``ci_method`` here is only the bias-aware part of the description (empty without it)."""
    from scipy.stats import norm

    se = float(np.std(draws, ddof=1) * np.sqrt(m / max(1, n - m)))
    z = float(norm.ppf(0.5 + level / 2))
    low, high = estimate - z * se - allowance, estimate + z * se
    curve, tail = None, ""
    if conditional:
        half = float(np.mean(draws))
        shortfall = CMI_DRIFT_FACTOR * (estimate - half)
        low, high = low + min(0.0, shortfall), high + max(0.0, shortfall)
        curve = {"full": estimate, "half": half, "shortfall": shortfall}
        tail = (f"; bias-aware: the end the estimate moved towards from n/2 to n rows moved "
                f"on by 3.85 x that drift ({shortfall:+.4f} {unit}), a bias ~ n^-1/3 "
                "extrapolated (k-NN CMI undershoots in 5+ joint dimensions)")
    out = {"ci_low": max(0.0, low), "ci_high": max(0.0, high), "ci_level": level,
           "stderr": se,
           "ci_kind": "half-sampling (normal)" if curve is None else "half-sampling, bias-aware",
           "ci_method": tail}
    if curve is not None:
        out["ci_learning_curve"] = curve
    return out


LEARNING_CURVE_FACTOR = 1 / (2**0.5 - 1)  # 2.41: bias(n) ~ n^-1/2 (benchmarks/neural_interval.py)
# I(X;Y|Z) half-sampling: k-NN CMI's bias decays slower than n^-1/2 in 5+ joint dimensions;
# 1/(2^(1/3) - 1) = 3.85, bias(n) ~ n^-1/3 (2.41 covered 0.87 of Gaussian CMI given 3
# columns at N = 1,000, 3.85 0.93 on the same 82 seeds; benchmarks/cmi.py --coverage)
CMI_DRIFT_FACTOR = 1 / (2 ** (1 / 3) - 1)


def neural_ci(
    result: EstimatorResult, data: PreparedData, neural, seed: int, level: float = 0.95,
    progress: ProgressCallback | None = None,
) -> dict:
    """A bias-aware interval for the true MI from a neural (DV-type) held-out bound.

    Every DV-type bound read out on held-out rows sits *below* the truth by what its critic
    failed to learn, and that shortfall shrinks as the critic sees more rows. So the
    estimator is run a second time with the same folds and held-out rows but critics trained
    on half the training rows; the drop b = I(n) − I(n/2) measures the learning curve, and
    with a shortfall ∝ n^−½ the remaining one is b/(√2 − 1) = 2.41·b. One drop is noisy
    (its standard error se_b, from the paired fold differences, is often as large as b), so
    the upper end also carries the extrapolation's own uncertainty:

        [I(n) − z·se, I(n) + 2.41·max(0, b) + z·se + 2.41·z·se_b],

    se the larger of the held-out standard error and the spread of the fold estimates; raw
    (unclipped) values, only the ends clipped at 0. The two error terms are added, not
    combined in quadrature: se_b comes from three folds (two degrees of freedom), and the
    sum is what reached 0.90 coverage on every Gaussian task of benchmarks/neural_interval.py
    (2.41·b alone: 0.73–0.82 at 1 nat in 3×3 and 2 nats in 1×1; the held-out spread alone
    0.80, repeated runs with fresh seeds 0.83).

    Bounds that saturate (InfoNCE, or any estimate within 1 nat of its ceiling) get no upper
    end (``ci_kind`` "lower bound only"): ``--gate-on ci`` refuses to gate above on them.
    """
    import dataclasses

    from scipy.stats import norm

    from mitool.estimators.neural.engine import estimate_neural

    z = float(norm.ppf(0.5 + level / 2))
    d = result.details
    full = float(d.get("mi_raw", result.mi))
    folds = np.asarray(d.get("fold_mi_raw") or [full], dtype=float)
    se_folds = float(folds.std(ddof=1) / math.sqrt(folds.size)) if folds.size > 1 else 0.0
    se = max(float(d.get("spread") or 0.0), se_folds)
    from mitool.estimators.registry import CI_LOWER_ONLY, get

    entry = get(result.estimator)
    capped = entry.interval == CI_LOWER_ONLY  # a bound that saturates: no upper end
    lower_only = capped or bool(d.get("near_ceiling"))
    out: dict = {"ci_level": level, "stderr": se}
    if lower_only:
        why = (entry.kind_why if capped
               else "the estimate is within 1 nat of its ceiling (ln of the held-out rows)")
        out.update(ci_low=max(0.0, full - z * se), ci_high=None, ci_kind="lower bound only",
                   ci_method=f"one-sided: held-out estimate - z*se; no upper end ({why})")
        return out
    half_cfg = dataclasses.replace(neural, train_fraction=0.5)
    half = estimate_neural(result.estimator, data, half_cfg, seed=seed, progress=progress)
    half_raw = float(half.details["mi_raw"])
    b = max(0.0, full - half_raw)
    half_folds = np.asarray(half.details.get("fold_mi_raw") or [half_raw], dtype=float)
    if folds.size > 1 and half_folds.size == folds.size:
        diff = folds - half_folds  # paired: same held-out rows, same fold
        se_b = float(diff.std(ddof=1) / math.sqrt(diff.size))
    else:  # one split: treat the two estimates as independent
        se_b = math.sqrt(2.0) * se
    shortfall = LEARNING_CURVE_FACTOR * b
    out.update(
        ci_low=max(0.0, full - z * se),
        ci_high=max(0.0, full + shortfall + z * se + LEARNING_CURVE_FACTOR * z * se_b),
        ci_kind="bias-aware (learning curve)",
        ci_learning_curve={"full": full, "half": half_raw, "shortfall": shortfall,
                           "shortfall_stderr": LEARNING_CURVE_FACTOR * se_b},
        ci_method=("held-out estimate - z*se to estimate + 2.41*(I(n) - I(n/2)) + z*se + "
                   "2.41*z*se(I(n) - I(n/2)): the bound's shortfall extrapolated from critics "
                   "trained on half the rows, with the extrapolation's uncertainty"),
    )
    return out


@dataclass(frozen=True)
class InferenceSpec:
    """How much uncertainty to measure: permutations for p-values (0: none), subsamples
    or runs for 95% intervals (0: none)."""

    permutations: int = 0
    bootstrap: int = 0
    # I(X;Y|Z): the rows nearest in Z among which X is redrawn (the local permutation test)
    k_perm: int = K_PERM

    def validate(self) -> None:
        from mitool.errors import UsageError

        if not isinstance(self.k_perm, int) or isinstance(self.k_perm, bool) or self.k_perm < 2:
            raise UsageError(f"{{param}} must be an integer of at least 2, got {self.k_perm}",
                             parameter="k_perm", function="InferenceSpec")
        for name in ("permutations", "bootstrap"):
            val = getattr(self, name)
            if not isinstance(val, int) or isinstance(val, bool) or val < 0:
                raise UsageError(f"{{param}} must be a non-negative integer, got {val}",
                                 parameter=name, function="InferenceSpec")


def attach_inference(result: EstimatorResult, data: PreparedData, opts: RunOptions,
                     spec: InferenceSpec, keep_draws: bool = False) -> None:
    """Add p-value / interval fields to ``result.details`` in place, by the test and
    interval its registry entry names (an unregistered estimator raises)."""
    from mitool.estimators.registry import (
        CI_CHOSEN,
        CI_HALF_SAMPLING,
        CI_LEARNING_CURVE,
        CI_LOWER_ONLY,
        TEST_ANALYTIC,
        TEST_COMPONENTS,
        TEST_CRITIC,
        TEST_PERMUTATION,
        get,
    )

    if result.mi is None or not result.applicable:
        return
    entry = get(result.estimator)
    permutations, bootstrap = spec.permutations, spec.bootstrap
    if entry.test == TEST_COMPONENTS:  # auto: test each part, combine; the chosen one's CI
        _components_inference(result, data, opts, spec, entry.interval == CI_CHOSEN)
        return
    if entry.test == TEST_ANALYTIC:
        _analytic_inference(result, permutations, bootstrap,
                            one_sided=entry.interval == CI_LOWER_ONLY,
                            scheme=entry.permutation_scheme or "analytic, no permutations")
        return
    if entry.test == TEST_CRITIC:
        # compare raw (unclipped) readouts: clipping at 0 would create ties under the null
        result.details.pop("null_mi", None)
        null = result.details.pop("null_mi_raw", None)
        fold_obs = result.details.pop("fold_permutation_statistic", None)
        fold_null = result.details.pop("fold_null_mi_raw", None)
        if permutations and null is not None:
            observed = result.details.get("permutation_statistic",
                                          result.details.get("mi_raw", result.mi))
            result.details.update(null_summary(observed, null))
            if fold_obs is not None and fold_null is not None:
                result.details.update(_fold_combined_p(fold_obs, fold_null))
            _warn_nonfinite(result)
        if bootstrap and entry.interval in (CI_LEARNING_CURVE, CI_LOWER_ONLY):
            result.details.update(neural_ci(result, data, opts.neural, opts.seed,
                                            progress=opts.progress))
        return
    if entry.test != TEST_PERMUTATION:  # pragma: no cover - register() checks the names
        raise ValueError(f"{result.estimator}: unknown test '{entry.test}'")
    transform = result.details.get("transform", "standardize")
    if permutations and data.conditional:
        result.details.update(
            local_permutation_test(result.estimator, data, opts.k, permutations, opts.seed,
                                   spec.k_perm, transform, opts.progress))
        _warn_nonfinite(result)
    elif permutations:
        result.details.update(
            knn_permutation(result.estimator, data, opts.k, permutations, opts.seed, transform,
                            opts.progress)
        )
        _warn_nonfinite(result)
    if bootstrap and entry.interval == CI_HALF_SAMPLING:
        raw = result.details.get("mi_raw", result.mi)
        result.details.update(
            knn_subsample_ci(result.estimator, data, opts.k, bootstrap, opts.seed, raw,
                             transform=transform, progress=opts.progress)
        )
    if not keep_draws:  # the raw draws serve a combined estimator only, never the report
        result.details.pop("_null", None)
        result.details.pop("_draws", None)


def family_weights(floors: list[float], shared: bool) -> list[float]:
    """auto's weighted-Bonferroni shares of alpha, one per test family (``floors``: the
    smallest p-value each can give; with ``shared``, the first is the shared-shuffle family
    and takes what the others leave). An own-test family gets ``OWN_TEST_WEIGHT`` where its
    floor lets it reject at ``REFERENCE_ALPHA`` on its own, and none where it cannot: the
    boosted critic's test with 100 permutations bottoms out at 3/101, 0.30 after its
    weight, so its share only cost the others level (1x1: 4/101 instead of 5/101). The
    floors depend on the permutation count and the folds alone, never on the data, so the
    weights are still fixed in advance and the combination stays valid."""
    if not shared:  # no shared-shuffle family: the own tests share alpha equally
        return [1.0 / len(floors)] * len(floors)
    own = [OWN_TEST_WEIGHT if f <= REFERENCE_ALPHA * OWN_TEST_WEIGHT else 0.0
           for f in floors[1:]]
    return [1.0 - sum(own), *own]


def _unweighted(label: str, floor: float, permutations: int) -> str:
    """The scheme's note on a family ``family_weights`` gave no weight, and what would."""
    share = REFERENCE_ALPHA * OWN_TEST_WEIGHT
    needed = math.ceil(round(floor * (permutations + 1) / share, 6)) - 1
    return (f"; {label}'s test has no weight: its smallest p-value, {floor:.3g}, cannot pass "
            f"{REFERENCE_ALPHA:g} at a weight of {OWN_TEST_WEIGHT:g} (--permutations "
            f"{needed} or more gives it one)")


def _components_inference(result: EstimatorResult, data: PreparedData, opts: RunOptions,
                          spec: InferenceSpec, chosen_interval: bool) -> None:
    """auto: the p-value and interval of the number it reports, the maximum of its
    competing components.

    p-value: the components that are re-estimated on shuffles (gcmi, gcmi-bound, ksg) share
    the same shuffles, so they are tested together exactly by Westfall-Young's min-p (each
    one's p-value against its own null draws, the smallest compared with the smallest on
    every shuffle: ``pvalues.min_p_permutation``); the raw maximum, tested before, let the
    widest null (ksg's) set the bar for all. A component with its own kind of test (the
    neural critic's cross-fitted one, gcmi-rot's analytic one) is a test of the same null;
    the families are combined by a weighted Bonferroni, min p_i / w_i, valid under any
    dependence, with weights fixed in advance (``OWN_TEST_WEIGHT`` to each own-test family,
    the rest to the shared-shuffle one). No single p = 1 can veto the others (the Cauchy
    combination could), and an equal split cost the level: 0.010 and 0.020 false positives
    at 0.05 (1x1 and 3x3, N = 500, 200 seeds; benchmarks/headline_inference.py), because
    the neural test's smallest p-value, 3/(P + 1), can never pass at half of 0.05.

    Interval: the same maximum recomputed on each half-sample of the rows (the cheap
    competing components' draws, subset by subset), so it accounts for choosing the
    largest; the interval of the chosen component where that is not a cheap one."""
    from mitool.estimators.auto import component_options
    from mitool.estimators.registry import TEST_PERMUTATION, get

    chosen = result.details.get("chosen")
    parts = result.components or {}
    comps = result.details["components"]
    competing = [n for n in parts if comps[n].get("competes", True)]
    cheap = [n for n in competing if get(n).test == TEST_PERMUTATION
             and parts[n].applicable and parts[n].mi is not None]
    for name, part in parts.items():
        boot = spec.bootstrap if (name == chosen or name in cheap) else 0
        attach_inference(part, data, opts if data.conditional else component_options(opts),
                         InferenceSpec(spec.permutations, boot, spec.k_perm), keep_draws=True)
        entry = comps[name]
        for key in ("p_value", "ci_low", "ci_high", "stderr"):
            if key in part.details:
                entry[key] = part.details[key]
    nulls = {n: parts[n].details.pop("_null", None) for n in parts}
    draws = {n: parts[n].details.pop("_draws", None) for n in parts}
    if spec.permutations:
        families, floors, named, labels = [], [], [], []
        # a shared-shuffle family comes first and takes what the own tests leave
        shared = bool(cheap) and all(nulls[n] is not None for n in cheap)
        if shared:
            labels.append("+".join(cheap))
            observed = [float(parts[n].details.get("statistic", parts[n].mi)) for n in cheap]
            families.append(min_p_permutation(observed, [nulls[n] for n in cheap]))
            floors.append(1.0 / (1 + len(nulls[cheap[0]])))
            named.append(("Westfall-Young min-p over " + ", ".join(cheap) if len(cheap) > 1
                          else f"{cheap[0]}'s permutation test") + " on the same shuffles")
        for n in competing:
            if n in cheap or "p_value" not in parts[n].details:
                continue
            families.append(parts[n].details["p_value"])
            floors.append(parts[n].details.get("p_value_floor", 0.0))
            named.append(f"{n}'s own test")
            labels.append(n)
        prefix = "the reported maximum's test: "
        if data.conditional and len(competing) == 1 and cheap:  # auto-cmi: one reported
            prefix = f"the chosen component's test ({cheap[0]}): "
            named = [str(parts[cheap[0]].details.get("permutation_scheme"))]
        if families:
            weights = family_weights(floors, shared=shared)
            result.details.update(
                p_value=weighted_bonferroni(families, weights), permutations=spec.permutations,
                p_value_families=[{"test": lab, "p_value": p, "weight": w, "floor": f}
                                  for lab, p, w, f in zip(labels, families, weights, floors,
                                                          strict=True)],
                p_value_floor=weighted_bonferroni(floors, weights),
                permutation_scheme=prefix + "; ".join(named)
                + ("; combined by weighted Bonferroni (min p/w, weights "
                   + ", ".join(f"{w:g}" for w in weights) + ")" if len(families) > 1 else "")
                + "".join(_unweighted(labels[i], floors[i], spec.permutations)
                          for i, w in enumerate(weights) if w == 0))
    if spec.bootstrap and chosen in parts:
        from scipy.stats import norm

        part = parts[chosen].details
        # auto-cmi reports one component: its own interval (bias-aware), not a maximum
        if chosen in cheap and all(draws[n] is not None for n in cheap) \
                and not data.conditional:
            m_draws = np.max([np.asarray(draws[n], dtype=float) for n in cheap], axis=0)
            n, m = data.n, max(2, data.n // 2)
            se = float(np.std(m_draws, ddof=1) * np.sqrt(m / max(1, n - m)))
            z = float(norm.ppf(0.975))
            est = float(result.details.get("mi_raw", result.mi))
            cap = result.details.get("cap")
            high = est + z * se if cap is None else min(cap, est + z * se)
            result.details.update(
                ci_low=max(0.0, est - z * se), ci_high=max(0.0, high), ci_level=0.95,
                stderr=se, ci_kind="half-sampling of the maximum",
                ci_method=(f"auto's maximum over {', '.join(cheap)} recomputed on each "
                           f"half-sample ({len(m_draws)} draws, n/2 rows without "
                           "replacement); normal interval around the reported value"))
        elif chosen_interval:
            for key in ("ci_low", "ci_high", "ci_level", "stderr", "ci_method", "ci_kind",
                        "ci_learning_curve", "ci_bias_allowance"):
                if key in part:
                    result.details[key] = part[key]


def _analytic_inference(result: EstimatorResult, permutations: int, bootstrap: int,
                        one_sided: bool, scheme: str, level: float = 0.95) -> None:
    """An estimator with an analytic p-value (``p_value_analytic`` in its details) and a
    delta-method standard error (``stderr_readout``). For ``gcmi-rot``: refitting the rotations for every shuffle or subsample would cost
    hundreds of fits, and is not needed. Each half is read through maps fitted on the other
    half only, so under independence its statistic is gcmi's on independent columns:
    the p-value is analytic (Bartlett per half, Cauchy-combined; ``gcmi_rot``). The interval
    is one-sided: a fitted map falls short of the truth by what it did not learn, and that
    shortfall has no estimate here, so only the low end (estimate − z·se, se the larger of
    the delta-method standard error and the two halves' disagreement) is stood behind."""
    from scipy.stats import norm

    d = result.details
    if permutations:
        d.update(p_value=d["p_value_analytic"], p_value_floor=0.0, permutation_scheme=scheme)
    if bootstrap and one_sided:
        z = float(norm.ppf(0.5 + level / 2))
        raw, se = float(d.get("mi_raw", result.mi)), float(d["stderr_readout"])
        d.update(ci_low=max(0.0, raw - z * se), ci_high=None, ci_level=level, stderr=se,
                 ci_kind="lower bound only",
                 ci_method="one-sided: estimate - z*se, se the larger of the delta-method "
                 "sqrt(sum rho^2 / n) and half the two halves' difference; no upper end (the "
                 "fitted rotations' shortfall is not estimated)")


def combine_fold_p_values(p_values: list[float]) -> float:
    """One p-value from K folds' exact tests of the same null: Bonferroni on the smallest,
    min(1, K·min p), valid under any dependence between the folds (they are dependent).

    Measured on independent data (benchmarks/neural_null.py, 200 seeds): Bonferroni 0.050
    at 0.05; the Cauchy combination, valid only as α → 0 under dependence, 0.060 (0.074
    after 136 seeds). The cost: with B permutations the smallest p-value is K/(B + 1)
    (3/201 with the gate's 200), so a test at 0.01 with 3 folds needs B ≥ 299."""
    ps = [float(p) for p in p_values]
    return float(min(1.0, len(ps) * min(ps))) if ps else 1.0


def _fold_combined_p(observed: list[float], nulls: list[list[float]]) -> dict:
    """The p-value of a cross-fitted neural test: each fold's own permutation p-value,
    combined by ``combine_fold_p_values``.

    Each fold's test is exact: its critic never saw the fold, so the fold's rows and their
    shuffles are exchangeable. The sum over folds is not: critic A was trained on fold B's
    true pairing and critic B on fold A's, so a chance pattern shared by two folds raises
    both observed values together while their shuffles stay independent. Pooling the sums
    made the observed statistic 1.3-1.5x as spread as its null (smile, 3 folds, independent
    1x1 data, N = 1,000: 0.105 false positives at 0.05 over 200 seeds, p-values piled up at
    both ends; benchmarks/neural_null.py)."""
    ps = [p_value(o, n) for o, n in zip(observed, nulls, strict=True)]
    floors = [1.0 / (1 + len(n)) for n in nulls]
    return {"p_value": combine_fold_p_values(ps), "fold_p_values": ps,
            "p_value_floor": combine_fold_p_values(floors)}


def _warn_nonfinite(result: EstimatorResult) -> None:
    bad = result.details.get("null_nonfinite", 0)
    if bad:
        result.warnings.append(
            f"{bad} of {result.details['permutations']} permutation draws were not finite; "
            "they count as at least the observed value (a conservative p-value)"
        )
