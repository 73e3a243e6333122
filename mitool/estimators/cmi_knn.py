"""``ksg-cmi``: the Frenzel–Pompe k-NN estimate of I(X;Y|Z) (Frenzel & Pompe 2007; Vejmelka &
Paluš 2008), max-norm, exact neighbour searches (``mitool.estimators.neighbours``).

ε_i is the distance to the k-th neighbour of row i in the joint (X, Y, Z) space; n_xz, n_yz
and n_z count the other rows strictly closer than ε_i in the (X, Z), (Y, Z) and Z spaces:

    Î = ψ(k) − ⟨ψ(n_xz + 1) + ψ(n_yz + 1) − ψ(n_z + 1)⟩.

It is KSG's estimate of the four entropies with one shared radius, so their biases largely
cancel; what remains grows with dim Z (the same curse as KSG), and it undershoots badly with
many conditioning columns. Not a bound either way.

A discrete X or Y (every column of that side discrete, the other side continuous) is read
by the chain rule, I(X;Y|Z) = I(C; (W, Z)) − I(C; Z) for the discrete side C and the
continuous side W, each term Ross's k-NN estimate for a label against continuous columns
(``knn.mixed_mi``): the same neighbour counts on the Z part in both terms, so much of their
bias cancels.

Discrete Z columns cannot be measured by distance: the rows are split into strata (one per
combination of their levels), the estimate is computed within each stratum on the
continuous Z columns (plain KSG where there are none) and averaged weighted by stratum size,
since I(X;Y|Z) = Σ p(z_d) I(X;Y|Z_c, z_d). Strata with fewer than k + 2 rows are dropped,
with a warning. Continuous columns are standardised and jittered against ties as in ``ksg``
(the copula transform, normal scores of the ranks, is the default of ``mitool.estimate`` with Z:
CMI is unchanged by monotone maps of any column, and k-NN reads heavy tails badly).
"""

from __future__ import annotations

import time

import numpy as np

from mitool.errors import UsageError
from mitool.estimators.base import EstimatorResult, PreparedData, RunOptions
from mitool.estimators.knn import copula_scores, digamma, joint_codes, mixed_mi, standardize
from mitool.estimators.neighbours import choose_method, count_within, kth_distance


def frenzel_pompe(x: np.ndarray, y: np.ndarray, z: np.ndarray, k: int, search: str = "auto"
                  ) -> float:
    """Î(X;Y|Z) in nats of continuous, tie-free x (n, dx), y (n, dy), z (n, dz); dz may be 0
    (then it is KSG's first estimator of I(X;Y))."""
    n = x.shape[0]
    joint = np.hstack([x, y, z])  # (n, dx + dy + dz)
    method = choose_method(n, joint.shape[1], "auto" if search == "grid" else search)
    eps = kth_distance(joint, k, method)  # (n,)
    n_xz = count_within(np.hstack([x, z]), eps, method)
    n_yz = count_within(np.hstack([y, z]), eps, method)
    n_z = count_within(z, eps, method) if z.shape[1] else np.full(n, n - 1)
    return float(digamma(k) - np.mean(digamma(n_xz + 1) + digamma(n_yz + 1)
                                      - digamma(n_z + 1)))


def ross_cmi(w: np.ndarray, labels: np.ndarray, z: np.ndarray, k: int, seed: int,
             search: str = "auto") -> float:
    """Î(W;C|Z) in nats for continuous w (n, dw), a label c (n,) and continuous z (n, dz):
    I(C; W, Z) − I(C; Z) (the second term 0 without Z columns), raw (unclipped)."""
    search = "auto" if search == "grid" else search
    whole = mixed_mi(np.hstack([w, z]), labels, k, seed, clip=False, search=search)
    return whole - (mixed_mi(z, labels, k, seed, clip=False, search=search) if z.shape[1]
                    else 0.0)


def discrete_side(data: PreparedData) -> str | None:
    """The side ("x" or "y") that is all discrete against an all-continuous other, or None."""
    for side, disc, other in (("x", data.x_discrete, data.y_discrete),
                              ("y", data.y_discrete, data.x_discrete)):
        if disc.size and disc.all() and not other.any():
            return side
    return None


def _prepared(data: PreparedData, transform: str, seed: int
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x, y, continuous z, stratum code per row): continuous columns transformed,
    standardised and jittered (seeded); the discrete Z columns' joint level."""
    if transform not in ("standardize", "copula"):
        raise UsageError(f"unknown transform '{transform}'; choose standardize or copula")
    rng = np.random.default_rng([seed, 3301])
    zc = data.z[:, ~data.z_discrete]
    blocks = []
    label_side = discrete_side(data)
    for side, a in (("x", data.x), ("y", data.y), ("z", zc)):
        if side == label_side:  # a label: its joint level, one code per row
            blocks.append(joint_codes(a)[:, None].astype(np.float64))
            continue
        if a.shape[1] and transform == "copula":
            a = copula_scores(a)
        blocks.append(standardize(a, rng) if a.shape[1] else a)
    zd = data.z[:, data.z_discrete]
    strata = joint_codes(zd) if zd.shape[1] else np.zeros(data.n, dtype=np.int64)
    return blocks[0], blocks[1], blocks[2], strata


def ksg_cmi_statistic(data: PreparedData, k: int = 3, seed: int = 0,
                      transform: str = "standardize", search: str = "auto") -> dict:
    """The raw (unclipped) Frenzel–Pompe CMI in nats, stratum by stratum of the discrete Z
    columns, and which strata were too small to read."""
    x, y, zc, strata = _prepared(data, transform, seed)
    label_side = discrete_side(data)
    levels, counts = np.unique(strata, return_counts=True)
    total, used, dropped = 0.0, 0, []
    for level, size in zip(levels, counts, strict=True):
        if size < k + 2:
            dropped.append(int(size))
            continue
        rows = np.flatnonzero(strata == level)
        if label_side is None:
            total += size * frenzel_pompe(x[rows], y[rows], zc[rows], k, search)
        else:
            w, c = (y, x) if label_side == "x" else (x, y)
            total += size * ross_cmi(w[rows], c[rows, 0], zc[rows], k, seed, search)
        used += int(size)
    return {"mi_raw": float(total / used) if used else None, "strata": int(levels.size),
            "strata_dropped": len(dropped), "rows_dropped": int(sum(dropped)),
            "rows_used": used}


def run(name: str, data: PreparedData, opts: RunOptions) -> EstimatorResult:
    """The registry's runner: ``mi`` clipped at 0, the raw value in ``mi_raw``."""
    t0 = time.perf_counter()
    st = ksg_cmi_statistic(data, opts.k, opts.seed, opts.transform, opts.search)
    if st["mi_raw"] is None:
        return EstimatorResult(name, None, time.perf_counter() - t0, applicable=False,
                               reason=f"every stratum of the discrete Z columns has fewer "
                                      f"than k + 2 = {opts.k + 2} rows")
    notes = [f"Frenzel-Pompe k-NN CMI (k={opts.k}, max-norm, exact neighbour search)"
             if discrete_side(data) is None else
             f"k-NN CMI of a discrete side by the chain rule, I(C; W, Z) - I(C; Z), each "
             f"Ross's estimate (k={opts.k}, max-norm)"]
    warnings = []
    if st["strata"] > 1:
        notes.append(f"within {st['strata']} strata of the discrete Z columns, weighted by "
                     "their rows")
    if st["strata_dropped"]:
        warnings.append(f"{st['strata_dropped']} strata of the discrete Z columns have fewer "
                        f"than k + 2 = {opts.k + 2} rows ({st['rows_dropped']} rows in all): "
                        "left out of the estimate")
    method = ("Frenzel-Pompe KSG-CMI" if discrete_side(data) is None
              else "Ross chain rule I(C;W,Z) - I(C;Z)")
    details = {"method": method, "k": opts.k, "transform": opts.transform,
               **st}
    return EstimatorResult(name, max(0.0, st["mi_raw"]), time.perf_counter() - t0,
                           notes=notes, warnings=warnings, details=details)


def statistic(data: PreparedData, opts: RunOptions) -> float:
    """The raw value permutation tests and intervals recompute (0 where no stratum can be
    read: a subsample can lose them all)."""
    v = ksg_cmi_statistic(data, opts.k, opts.seed, opts.transform, opts.search)["mi_raw"]
    return 0.0 if v is None else v
