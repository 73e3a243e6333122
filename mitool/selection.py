"""``mitool.select``: greedy forward feature selection by conditional mutual information.

Each step scores every remaining column X by I(X; target | S), S the columns chosen so far
(plus any ``given`` ones), adds the best to S and repeats, until ``max_features`` are chosen,
the best gain falls below ``min_gain`` nats, or (with permutations) the best gain is not
significant. A redundant column (a near-copy of one in S) adds almost nothing given S and
is passed over, which a plain MI ranking (``mitool.pairs``) cannot do.

The stop test is a local permutation test of the *best* gain among all m candidates: the
target is redrawn among the ``k_perm`` rows nearest in S (``inference.local_permutation``;
a plain shuffle at the first step, where S is empty), which keeps p(target | S) and breaks
the target's link with every candidate at once; on each draw every candidate is
re-estimated and the largest kept (Westfall-Young's max-T), so the p-value accounts for
picking the best of m. Under H0 "no remaining column adds information given S" it is exact
up to the local permutation's approximation of p(target | S).

Cost and the default estimator (``benchmarks/selection.py``, docs/benchmarks.md): S grows
by one column per step, so k-NN CMI (``ksg-cmi``) meets the curse of dimension (it
undershoots from about 6 joint dimensions; auto-cmi then falls back to the Gaussian copula
anyway) and costs a neighbour search per candidate and per permutation, about ten times the
Gaussian copula's time with the stop test. The Gaussian-copula CMI (``gcmi-cmi``) costs a
least-squares residual per candidate and keeps its accuracy as S grows: the default for a
continuous target. For a discrete target its Gaussian model of the level indicators
overshoots once the classes separate (on scikit-learn's wine its first two gains already sum
past H(target)), so there the default is ``ksg-cmi``, which reads a label by the chain rule
of Ross's estimates, I(C; X, S) − I(C; S), and stays below H(target); a discrete candidate
of a discrete target is read by ``gcmi-cmi`` (no distances between levels). Either way
``gcmi-cmi`` is blind to non-monotone dependence, which ``ksg-cmi`` reads.

Every candidate is compared on the same rows: rows with a missing value in the target, the
given columns or a candidate are left out (a warning counts them), after dropping
candidates missing on more than half the rows.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mitool import __version__
from mitool.data.columns import split_specs
from mitool.data.kinds import TypedColumn, check_levels
from mitool.data.loading import TableOptions, flatten_columns, load_frame
from mitool.errors import InputError, UsageError, names_parameters
from mitool.estimators.base import PreparedData, ProgressCallback, RunOptions
from mitool.estimators.config import KnnConfig
from mitool.inference import InferenceSpec

SCHEMA_VERSION = 1
# the default by the target's kind (benchmarks/selection.py, docs/benchmarks.md)
DEFAULT_CONTINUOUS, DEFAULT_DISCRETE = "gcmi-cmi", "ksg-cmi"
ESTIMATORS = ("gcmi-cmi", "ksg-cmi", "auto-cmi")
MAX_MISSING_SHARE = 0.5  # a candidate missing on more rows than this is dropped
STOP_REASONS = ("max_features", "not_significant", "below_min_gain", "no_candidates")


@dataclass
class Step:
    """One step: the column added, what it adds given the ones before (report unit)."""

    step: int
    feature: str
    gain: float  # I(feature; target | selected before, given) estimate, clipped at 0
    gain_raw: float  # before clipping (bias-corrected gcmi-cmi can dip below 0)
    cumulative: float  # sum of the gains so far: the chain rule's I(selected; target | given)
    estimator: str  # the estimator that read this gain (auto-cmi: its choice)
    candidates: int  # columns compared at this step
    p_value: float | None = None  # max-T local permutation test (module docstring)
    runner_up: str | None = None
    runner_up_gain: float | None = None
    seconds: float = 0.0
    # a discrete target: the estimate before it was cut to the target's entropy left over
    # (H(target) - cumulative before this step), the most this column can add
    capped_from: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "feature": self.feature, "gain": self.gain,
                "gain_raw": self.gain_raw, "cumulative": self.cumulative,
                "estimator": self.estimator, "candidates": self.candidates,
                "p_value": self.p_value, "runner_up": self.runner_up,
                "runner_up_gain": self.runner_up_gain, "capped_from": self.capped_from,
                "seconds": round(self.seconds, 4)}


@dataclass
class SelectionResult:
    """The chosen columns in order, and why the selection stopped."""

    path: str
    target: str
    estimator: str
    unit: str
    max_features: int
    min_gain: float  # in nats, as given
    alpha: float
    permutations: int
    k_perm: int
    k: int
    seed: int
    n_rows: int
    n_used: int
    given: list[str]
    steps: list[Step]
    stop_reason: str
    stop_detail: str
    rejected: dict[str, Any] | None  # the best candidate at the stop, when one was refused
    seconds: float
    target_entropy: float | None = None  # H(target) (report unit) for a discrete target
    warnings: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    columns: list[dict[str, Any]] = field(default_factory=list)

    @property
    def selected(self) -> list[str]:
        return [s.feature for s in self.steps]

    def to_dict(self) -> dict[str, Any]:
        """The versioned JSON report (docs/json-schema.md, ``mitool select``)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "mitool_version": __version__,
            "command": "select",
            "input": {"path": self.path, "n_rows": self.n_rows, "n_used": self.n_used},
            "target": self.target,
            "given": self.given,
            "quantity": "I(X;Y|S)",
            "kind": "estimate",
            "estimator": self.estimator,
            "unit": self.unit,
            "max_features": self.max_features,
            "min_gain": self.min_gain,
            "alpha": self.alpha if self.permutations else None,
            "permutations": self.permutations,
            "k_perm": self.k_perm if self.permutations else None,
            "k": self.k,
            "seed": self.seed,
            "selected": self.selected,
            "steps": [s.to_dict() for s in self.steps],
            "stop_reason": self.stop_reason,
            "stop_detail": self.stop_detail,
            "rejected": self.rejected,
            "target_entropy": self.target_entropy,
            "seconds": round(self.seconds, 4),
            "columns": self.columns,
            "skipped": self.skipped,
            "warnings": self.warnings,
        }


# ----------------------------------------------------------------------------- the maths

def _statistic(name: str, k: int, seed: int):
    """The raw (unclipped) CMI statistic in nats of a registered conditional estimator."""
    from mitool.estimators.registry import get

    stat = get(name).load("statistic")
    opts = RunOptions(k=k, seed=seed, transform="copula")
    return lambda d: float(stat(d, opts))


def _component(estimator: str, data: PreparedData) -> str:
    """The estimator that reads ``data``: auto-cmi's choice (``registry.cmi_prefers_knn``);
    gcmi-cmi for a candidate ksg-cmi cannot read (a discrete candidate of a discrete
    target: no distances between levels)."""
    from mitool.estimators.registry import cmi_prefers_knn, get

    if estimator == "auto-cmi":
        return "ksg-cmi" if cmi_prefers_knn(data) is None else "gcmi-cmi"
    if estimator == "ksg-cmi" and get("ksg-cmi").reason_not_applicable(data) is not None:
        return "gcmi-cmi"
    return estimator


class StepScorer:
    """Every candidate's raw CMI statistic (nats) at one step, for the observed target or a
    redrawing of its rows (``scores(src)``: the target's rows in the order ``src``).

    ``gcmi-cmi`` goes the short way, the same number as ``cmi_gauss.gcmi_cmi_statistic``:
    the normal scores of each column are computed once (a redrawing of rows permutes them,
    ranks being equivariant), the basis of Z once per step and each candidate's residual on
    it once per step, so a permutation costs one residual of the target and one canonical
    correlation per candidate. The others re-run their registered statistic."""

    def __init__(self, datas: list[PreparedData], comps: list[str], stats: list,
                 encoded: list[np.ndarray | None], y_encoded: np.ndarray, z_encoded: np.ndarray):
        from mitool.estimators.cmi_gauss import _basis, _residuals

        self.datas, self.comps, self.stats = datas, comps, stats
        self.y_encoded = y_encoded
        self.zw = _basis(z_encoded)
        self.rx = [None if c != "gcmi-cmi" else _residuals(e, self.zw)
                   for c, e in zip(comps, encoded, strict=True)]

    def scores(self, src: np.ndarray | None = None) -> list[float]:
        from mitool.estimators.cmi_gauss import _residuals
        from mitool.estimators.gcmi import _entropy_bias, canonical_correlations

        ry = None
        out = []
        n, r = self.y_encoded.shape[0], self.zw.shape[1]
        for d, stat, rx in zip(self.datas, self.stats, self.rx, strict=True):
            if rx is None:
                out.append(stat(d if src is None else d.with_y(d.y[src])))
                continue
            if ry is None:
                ry = _residuals(self.y_encoded if src is None else self.y_encoded[src], self.zw)
            rho, p, q = canonical_correlations(rx, ry)
            plugin = float(-0.5 * np.log1p(-rho**2).sum())
            out.append(plugin - (_entropy_bias(p + r, n) + _entropy_bias(q + r, n)
                                 - _entropy_bias(p + q + r, n) - _entropy_bias(r, n)))
        return out


def max_t_local_permutation(scorer: StepScorer, z: np.ndarray, z_discrete: np.ndarray,
                            observed: float, n_perm: int, k_perm: int,
                            rng: np.random.Generator) -> float:
    """p-value of the largest of the candidates' statistics: the target (shared by every
    candidate) redrawn within neighbourhoods of Z, every candidate re-read on each draw,
    the largest compared with ``observed`` (module docstring)."""
    from mitool.estimators.knn import joint_codes
    from mitool.inference import p_value, z_neighbourhoods

    if z_discrete.all():  # no continuous Z column (the first step): shuffle within strata
        strata = (joint_codes(z) if z.shape[1] else np.zeros(z.shape[0], dtype=np.int64))
        groups = [np.flatnonzero(strata == s) for s in np.unique(strata)]

        def draw() -> np.ndarray:  # O(n), where local_permutation of one stratum is O(n^2)
            src = np.empty(z.shape[0], dtype=np.int64)
            for g in groups:
                src[g] = g[rng.permutation(g.size)]
            return src
    else:
        import random

        hoods = [h.tolist() for h in z_neighbourhoods(z, z_discrete, k_perm)]
        py = random.Random(int(rng.integers(2**63)))
        n = len(hoods)

        def draw() -> np.ndarray:
            """``inference.local_permutation``'s scheme in plain Python on small lists:
            rows in random order, each takes a neighbour drawn uniformly among those not
            taken yet (among all when every one is); three times faster than numpy's
            per-row calls on 5-row neighbourhoods."""
            taken = bytearray(n)
            src = [0] * n
            order = list(range(n))
            py.shuffle(order)
            u = py.random
            for i in order:
                near = hoods[i]
                free = [j for j in near if not taken[j]]
                pick = free[int(u() * len(free))] if free else near[int(u() * len(near))]
                src[i] = pick
                taken[pick] = 1
            return np.asarray(src, dtype=np.int64)
    null = [max(scorer.scores(draw())) for _ in range(n_perm)]
    return p_value(observed, null)


# ----------------------------------------------------------------------------- the API

@names_parameters("select")
def select(
    data: Any,
    target: str,
    columns: str | list[str] | None = None,
    estimator: str | None = None,
    *,
    max_features: int = 10,
    given: str | list[str] | None = None,
    min_gain: float = 0.0,
    alpha: float = 0.05,
    seed: int = 0,
    unit: str = "nats",
    table: TableOptions | None = None,
    knn: KnnConfig | None = None,
    inference: InferenceSpec | None = None,
    progress: ProgressCallback | None = None,
) -> SelectionResult:
    """Greedy forward selection: the column with the highest I(X; target | selected) first.

    Parameters
    ----------
    data : a CSV/TSV/Parquet path, raw bytes or a pandas DataFrame.
    target : the column to explain.
    columns : names/globs of the candidates (default: every column but target and given).
    estimator : ``gcmi-cmi``, ``ksg-cmi`` or ``auto-cmi``; default ``gcmi-cmi`` for a
        continuous target, ``ksg-cmi`` for a discrete one (module docstring).
    max_features : stop after this many columns.
    given : columns every step conditions on (never selected): start from them.
    min_gain : stop when the best gain is below this many nats (and always at a gain of 0).
    alpha : with ``inference.permutations``, stop when the best gain's p-value exceeds it.
    seed : seeds the permutations and the k-NN jitter.
    unit : "nats" or "bits" for the reported gains.
    table : how the table is read and typed (``TableOptions``).
    knn : ``k`` of ``ksg-cmi`` (``KnnConfig``).
    inference : ``InferenceSpec(permutations=N, k_perm=5)``: the max-T local permutation
        stop test at each step (0: no test).
    progress : ``(done, total, fields)`` callback, once per step.

    Returns
    -------
    SelectionResult : ``steps`` in order (feature, gain, cumulative, p-value),
        ``stop_reason`` and ``stop_detail``; ``.to_dict()`` is the JSON report.

    Examples
    --------
    >>> import mitool
    >>> r = mitool.select("sample_data/wine.csv", target="target", max_features=3)
    >>> r.estimator, r.selected  # a discrete target: ksg-cmi
    ('ksg-cmi', ['flavanoids', 'color_intensity', 'proline'])
    """
    from mitool.estimators.registry import names as registered
    from mitool.screening import MAX_LISTED, _checked_frame, _given_columns, _type_columns
    from mitool.units import check_unit, to_unit

    t0 = time.perf_counter()
    table = table or TableOptions()
    knn = knn or KnnConfig()
    knn.validate()
    spec = inference or InferenceSpec()
    spec.validate()
    check_unit(unit)
    if estimator is not None:
        estimator = estimator.strip().lower()
    if estimator is not None and estimator not in ESTIMATORS:
        known = " (it is an estimator of I(X;Y); selection conditions on the chosen columns)" \
            if estimator in registered() else ""
        raise UsageError(f"{{param}} '{estimator}' cannot select{known}; choose one of: "
                         f"{', '.join(ESTIMATORS)}", parameter="estimator")
    if isinstance(max_features, bool) or not isinstance(max_features, int) or max_features < 1:
        raise UsageError(f"{{param}} must be a positive integer, got {max_features}",
                         parameter="max_features")
    if not isinstance(min_gain, (int, float)) or not math.isfinite(min_gain) or min_gain < 0:
        raise UsageError(f"{{param}} must be a number of nats >= 0, got {min_gain}",
                         parameter="min_gain")
    if not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise UsageError(f"{{param}} must be between 0 and 1, got {alpha}", parameter="alpha")
    if spec.permutations and 1.0 / (spec.permutations + 1) > alpha:
        need = math.ceil(1.0 / alpha - 1.0)
        raise UsageError(f"{{param}} {spec.permutations} cannot give a p-value below alpha "
                         f"{alpha:g} (the smallest is 1/(N + 1)); use at least {need}",
                         parameter="permutations", function="InferenceSpec")
    if table.datetime_parts:
        raise UsageError("{param} works with estimate only for now; add the parts as columns "
                         "of the table to select among them", parameter="datetime_parts",
                         function="TableOptions")

    data, table, columns, target, given = flatten_columns(data, table, columns, target, given)
    tgt = split_specs(target)
    if len(tgt) != 1:
        raise UsageError("{param} takes one column", parameter="target")
    col_specs = split_specs(columns) or ["*"]
    given_specs = split_specs(given) if given is not None else []
    disc, cont = table.discrete_columns, table.continuous_columns
    loaded = load_frame(data, col_specs, tgt, table.input_format, set(cont), table.csv,
                        columns_z=given_specs or None)
    frame, t = loaded.frame, loaded.y[0]
    zs = list(dict.fromkeys(loaded.z or []))
    if t in zs:
        raise UsageError(f"{{param}} '{t}' is the target: it cannot condition on itself",
                         parameter="given")
    names = [c for c in loaded.x if c != t and c not in zs] + zs + [t]
    frame = _checked_frame(frame, names, table, seed)

    values, numeric, cols, warnings, skipped = _type_columns(
        frame, names, disc, cont, loaded.decimal, loaded.thousands)
    warnings = list(loaded.notes) + warnings
    index = {c: i for i, c in enumerate(cols.names)}
    if t not in index:
        reason = next(s["reason"] for s in skipped if s["column"] == t)
        raise InputError(f"the target '{t}' cannot be explained: {reason}")
    given_idx, zs = _given_columns(zs, index, skipped, warnings)
    cand = [index[c] for c in cols.names if c != t and c not in zs]

    # the same rows for every candidate: drop the mostly-missing candidates, then the rows
    n_all = values.shape[0]
    missing = np.isnan(values).mean(axis=0)
    for i in list(cand):
        if missing[i] > MAX_MISSING_SHARE:
            cand.remove(i)
            skipped.append({"column": cols.names[i],
                            "reason": f"missing on {missing[i]:.0%} of the rows (more than "
                                      f"{MAX_MISSING_SHARE:.0%})"})
    used = [index[t], *given_idx, *cand]
    rows = np.flatnonzero(~np.isnan(values[:, used]).any(axis=1))
    if rows.size < n_all:
        worst = sorted(used, key=lambda i: -missing[i])[:MAX_LISTED]
        shown = ", ".join(f"{cols.names[i]} ({missing[i]:.0%})" for i in worst if missing[i])
        warnings.append(f"{n_all - rows.size} of {n_all} rows have a missing value in the "
                        f"target, given or candidate columns and were left out (every "
                        f"candidate is compared on the same rows); missing most: {shown}")
    if rows.size < max(knn.k + 2, 10):
        raise InputError(f"only {rows.size} rows have every selected column present; "
                         "select fewer columns (--columns) or fill the gaps")

    blocks: dict[int, tuple[np.ndarray, bool]] = {}
    for i in used:
        col = TypedColumn(values[:, i].copy(), cols.info[i],
                          numeric[:, i].copy() if cols.has_numeric[i] else None)
        try:
            typed = check_levels(col, rows)
        except InputError as exc:
            if i in cand:
                cand.remove(i)
                skipped.append({"column": cols.names[i], "reason": str(exc)})
                continue
            raise
        v = typed.values[rows]
        if typed.discrete:
            v = np.unique(v, return_inverse=True)[1].astype(np.float64)
        if np.all(v == v[0]):
            if i == index[t]:
                raise InputError(f"the target '{t}' is constant on the rows used")
            if i in cand:
                cand.remove(i)
                skipped.append({"column": cols.names[i],
                                "reason": "constant on the rows used: carries no information"})
            continue
        blocks[i] = (v[:, None], typed.discrete)
    if skipped:
        shown = "; ".join(f"'{s['column']}' ({s['reason']})" for s in skipped[:MAX_LISTED])
        more = f"; and {len(skipped) - MAX_LISTED} more" if len(skipped) > MAX_LISTED else ""
        warnings.append(f"skipped {len(skipped)} column(s): {shown}{more}")
    if not cand:
        raise UsageError("no candidate columns besides the target"
                         + (" and the --given ones" if zs else ""))

    y, y_disc = blocks[index[t]]
    if estimator is None:
        estimator = DEFAULT_DISCRETE if y_disc else DEFAULT_CONTINUOUS
    h_target = _entropy(y[:, 0]) if y_disc else None
    stat_cache: dict[str, Any] = {}
    enc_cache: dict[int, np.ndarray] = {}
    n_rows = int(rows.size)

    def encoded(i: int) -> np.ndarray:
        """Column i as gcmi encodes it: normal scores of its ranks, or level indicators."""
        from mitool.estimators.gcmi import gaussian_scores

        if i not in enc_cache:
            enc_cache[i] = gaussian_scores(blocks[i][0], np.array([blocks[i][1]]))
        return enc_cache[i]

    def stat_of(name: str):
        if name not in stat_cache:
            stat_cache[name] = _statistic(name, knn.k, seed)
        return stat_cache[name]

    def prepared(i: int, cond: list[int]) -> PreparedData:
        x, x_disc = blocks[i]
        z = [blocks[c] for c in cond if c in blocks]
        return PreparedData(
            x, y, [cols.names[i]], [t], np.array([x_disc]), np.array([y_disc]),
            z=np.hstack([b for b, _ in z]) if z else np.empty((rows.size, 0)),
            z_names=[cols.names[c] for c in cond if c in blocks],
            z_discrete=np.array([d for _, d in z], dtype=bool))

    chosen: list[int] = []
    steps: list[Step] = []
    remaining = list(cand)
    cumulative = 0.0
    stop, detail, rejected = "no_candidates", "every candidate was selected", None
    total = min(max_features, len(remaining))
    if progress is not None:
        progress(0, total, {"stage": "select"})
    while remaining:
        t_step = time.perf_counter()
        cond = [*given_idx, *chosen]
        datas = [prepared(i, cond) for i in remaining]
        comps = [_component(estimator, d) for d in datas]
        stats = [stat_of(c) for c in comps]
        z_enc = np.hstack([encoded(c) for c in cond if c in blocks] or [np.empty((n_rows, 0))])
        scorer = StepScorer(datas, comps, stats,
                            [encoded(i) if c == "gcmi-cmi" else None
                             for i, c in zip(remaining, comps, strict=True)],
                            encoded(index[t]), z_enc)
        raw = scorer.scores()
        order = sorted(range(len(remaining)), key=lambda r: -raw[r])  # stable: column order
        best = order[0]
        gain = max(0.0, raw[best])
        name = cols.names[remaining[best]]
        capped_from = None
        if h_target is not None and gain > h_target - cumulative:  # I(X;y|S) <= H(y) - I(S;y)
            capped_from, gain = gain, max(0.0, h_target - cumulative)
        if gain <= 0.0 or gain < min_gain:
            stop = "below_min_gain"
            detail = (f"the best remaining column, '{name}', adds {gain:.4g} nats, "
                      + (f"below --min-gain {min_gain:g}" if gain > 0.0 else "nothing")
                      + ("; the target's entropy is used up" if capped_from is not None
                         else ""))
            rejected = {"feature": name, "gain": to_unit(gain, unit), "p_value": None}
            break
        p = None
        if spec.permutations:
            rng = np.random.default_rng([seed, 7919, len(steps)])
            p = max_t_local_permutation(scorer, datas[0].z, datas[0].z_discrete, raw[best],
                                        spec.permutations, spec.k_perm, rng)
            if p > alpha:
                stop = "not_significant"
                detail = (f"the best remaining column, '{name}', adds {gain:.4g} nats with "
                          f"p = {p:.3g} > alpha {alpha:g} (max over {len(remaining)} "
                          f"candidates, {spec.permutations} local permutations)")
                rejected = {"feature": name, "gain": to_unit(gain, unit), "p_value": p}
                break
        cumulative += gain
        second = order[1] if len(order) > 1 else None
        steps.append(Step(
            len(steps) + 1, name, to_unit(gain, unit), to_unit(raw[best], unit),
            to_unit(cumulative, unit), comps[best], len(remaining), p,
            None if second is None else cols.names[remaining[second]],
            None if second is None else to_unit(max(0.0, raw[second]), unit),
            time.perf_counter() - t_step, to_unit(capped_from, unit)))
        chosen.append(remaining.pop(best))
        if progress is not None:
            progress(len(steps), total, {"stage": "select"})
        if len(steps) >= max_features:
            stop, detail = "max_features", f"{max_features} columns selected"
            break
    capped = [s.feature for s in steps if s.capped_from is not None]
    if capped or (rejected is not None and stop == "below_min_gain" and h_target is not None
                  and cumulative >= h_target):
        warnings.append(f"the gains reached the target's entropy ({h_target:.4g} nats, the "
                        "most any columns can tell about it) and were capped there"
                        + (f" ({', '.join(capped)})" if capped else "")
                        + f": {estimator}'s estimates overshoot on this target, so read the "
                        "order, not the sizes, of the later steps")
    return SelectionResult(
        path=loaded.label, target=t, estimator=estimator, unit=unit,
        max_features=max_features, min_gain=float(min_gain), alpha=float(alpha),
        permutations=spec.permutations, k_perm=spec.k_perm, k=knn.k, seed=seed,
        n_rows=len(frame), n_used=int(rows.size), given=zs, steps=steps, stop_reason=stop,
        stop_detail=detail, rejected=rejected, seconds=time.perf_counter() - t0,
        target_entropy=to_unit(h_target, unit), warnings=warnings, skipped=skipped,
        columns=[cols.info[i].to_dict() for i in used if i in blocks or i == index[t]],
    )


def _entropy(codes: np.ndarray) -> float:
    """Miller-Madow entropy in nats of integer codes, never above ln K (as ``caps``)."""
    _, counts = np.unique(codes, return_counts=True)
    p = counts / counts.sum()
    k = counts.size
    h = float(-(p * np.log(p)).sum()) + (k - 1) / (2.0 * float(counts.sum()))
    return min(h, math.log(k)) if k > 1 else 0.0
