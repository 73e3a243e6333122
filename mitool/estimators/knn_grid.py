"""Exact KSG neighbour search for one column against one column, compiled (numba).

One column against one is the common case (every pair of a ``pairs`` screen, most
``estimate`` calls), and there a general kd-tree spends most of its time walking nodes.
Here the plane is cut into a g × g grid whose edges are the columns' own quantiles
(g ≈ √(N/2), so a cell holds two points on average whatever the marginals look like), the
k-th neighbour of a point is found by scanning rings of cells outward until the k-th
distance so far is no larger than the distance to every unscanned cell, and the marginal
counts are two exact binary searches in each column's sorted values. Distances are
|a − b| in float64 and their maximum, as in scipy's kd-tree, so the answers are the same to
the last bit (``tests/test_knn.py``); the search is 3× faster than the kd-tree on one core.

The kernels compile on first use and are cached beside this file, so a fresh installation
pays the compilation (a few seconds) once. They are serial and release the GIL; rows are
spread over a thread per core from Python (no numba threading layer, so they are safe in
threads, forked processes and cluster workers alike), as many as
``neighbours.search_threads()`` allows (a ``pairs`` worker: one).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from mitool.estimators.neighbours import search_threads

__all__ = ["ksg_grid", "strict_counts_1d"]


@njit(cache=True)
def _grid(x, y, ox, oy, g):  # pragma: no cover - compiled
    """Ranks, the lowest value of each quantile bin, and the points sorted by cell."""
    n = x.shape[0]
    rx = np.empty(n, np.int64)  # (n,) rank of x[i]
    ry = np.empty(n, np.int64)
    for r in range(n):
        rx[ox[r]] = r
        ry[oy[r]] = r
    xlo = np.empty(g)  # (g,) smallest x in bin b: bin b holds ranks [ceil(b n/g), ...)
    ylo = np.empty(g)
    for b in range(g):
        s = (b * n + g - 1) // g
        xlo[b] = x[ox[s]]
        ylo[b] = y[oy[s]]
    start = np.zeros(g * g + 1, np.int64)  # (g²+1,) cell c holds slots [start[c], start[c+1])
    cell = np.empty(n, np.int64)
    for i in range(n):
        c = (rx[i] * g // n) * g + ry[i] * g // n
        cell[i] = c
        start[c + 1] += 1
    for c in range(g * g):
        start[c + 1] += start[c]
    fill = start[:-1].copy()
    member = np.empty(n, np.int64)  # (n,) point in each slot
    px = np.empty(n)  # (n,) its coordinates, slot order (scanned contiguously)
    py = np.empty(n)
    for i in range(n):
        t = fill[cell[i]]
        fill[cell[i]] += 1
        member[t] = i
        px[t] = x[i]
        py[t] = y[i]
    return rx, ry, xlo, ylo, start, member, px, py


@njit(inline="always")
def _insert(best, d):  # pragma: no cover - compiled
    """Put d into the ascending array ``best``, dropping its largest; the new largest."""
    p = best.shape[0] - 1
    while p > 0 and best[p - 1] > d:
        best[p] = best[p - 1]
        p -= 1
    best[p] = d
    return best[best.shape[0] - 1]


@njit(nogil=True, cache=True)
def _kth(x, y, k, g, rx, ry, xlo, ylo, start, member, px, py, eps, lo, hi):  # pragma: no cover
    """eps[i] for i in [lo, hi): max-norm distance from point i to its k-th nearest other."""
    n = x.shape[0]
    for i in range(lo, hi):
        xi = x[i]
        yi = y[i]
        bx = rx[i] * g // n
        by = ry[i] * g // n
        best = np.full(k, np.inf)
        thr = np.inf
        ring = 0
        while True:
            x0, x1, y0, y1 = bx - ring, bx + ring, by - ring, by + ring
            for cx in range(max(x0, 0), min(x1, g - 1) + 1):
                # a column on the square's side: every cell; inside: the two ends
                step = 1 if (cx == x0 or cx == x1) else y1 - y0
                cy = y0
                while cy <= y1:
                    if 0 <= cy < g:
                        c = cx * g + cy
                        for t in range(start[c], start[c + 1]):
                            d = abs(px[t] - xi)
                            if d >= thr or member[t] == i:
                                continue
                            e = abs(py[t] - yi)
                            if e > d:
                                d = e
                            if d < thr:
                                thr = _insert(best, d)
                    cy += step
            # every unscanned point is at least this far away (bins below x0 hold values
            # <= xlo[x0], bins above x1 values >= xlo[x1 + 1], and the same in y)
            bound = np.inf
            if x0 > 0:
                bound = min(bound, xi - xlo[x0])
            if x1 < g - 1:
                bound = min(bound, xlo[x1 + 1] - xi)
            if y0 > 0:
                bound = min(bound, yi - ylo[y0])
            if y1 < g - 1:
                bound = min(bound, ylo[y1 + 1] - yi)
            if thr <= bound or bound == np.inf:
                break
            ring += 1
        eps[i] = thr


@njit(nogil=True, cache=True)
def _counts(v, order, radii, out, lo_p, hi_p):  # pragma: no cover - compiled
    """out[order[p]] for p in [lo_p, hi_p): other points with |v_j − v_i| < radii[i]; two
    binary searches on the distances themselves (no shifted bounds that round), the
    queries in sorted order (neighbouring queries hit the same memory)."""
    n = v.shape[0]
    for p in range(lo_p, hi_p):
        i = order[p]
        vi = v[i]
        r = radii[i]
        lo = p  # largest q >= p with v[order[q]] - vi < r
        hi = n
        while hi - lo > 1:
            m = (lo + hi) // 2
            if v[order[m]] - vi < r:
                lo = m
            else:
                hi = m
        top = lo
        lo = -1  # smallest q <= p with vi - v[order[q]] < r
        hi = p
        while hi - lo > 1:
            m = (lo + hi) // 2
            if vi - v[order[m]] < r:
                hi = m
            else:
                lo = m
        out[i] = top - hi


def _spread(kernel, n: int, *args) -> None:
    """Run ``kernel(*args, lo, hi)`` over [0, n) in spans, on a thread per core."""
    threads = search_threads()
    if threads < 2 or n < 20_000:
        kernel(*args, 0, n)
        return
    from concurrent.futures import ThreadPoolExecutor

    step = -(-n // (4 * threads))  # four spans a thread: uneven spans even out
    spans = [(s, min(n, s + step)) for s in range(0, n, step)]
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda se: kernel(*args, *se), spans))


def strict_counts_1d(v: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """For each value, how many *other* values lie strictly within its radius (n,)."""
    v = np.ascontiguousarray(v, dtype=np.float64).ravel()
    out = np.empty(v.shape[0], dtype=np.int64)
    _spread(_counts, v.shape[0], v, np.argsort(v),
            np.ascontiguousarray(radii, dtype=np.float64), out)
    return out


def ksg_grid(x: np.ndarray, y: np.ndarray, k: int
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(eps, n_x, n_y) for KSG on one column x (n,) against one column y (n,): eps_i the
    k-th neighbour's max-norm distance (self excluded), n_x/n_y the other points strictly
    closer than eps_i in x/y."""
    x = np.ascontiguousarray(x, dtype=np.float64).ravel()
    y = np.ascontiguousarray(y, dtype=np.float64).ravel()
    n = x.shape[0]
    ox, oy = np.argsort(x), np.argsort(y)
    g = max(1, int(np.sqrt(n / 2.0)))
    rx, ry, xlo, ylo, start, member, px, py = _grid(x, y, ox, oy, g)
    eps = np.empty(n)
    _spread(_kth, n, x, y, int(k), g, rx, ry, xlo, ylo, start, member, px, py, eps)
    nx = np.empty(n, dtype=np.int64)
    ny = np.empty(n, dtype=np.int64)
    _spread(_counts, n, x, ox, eps, nx)
    _spread(_counts, n, y, oy, eps, ny)
    return eps, nx, ny
