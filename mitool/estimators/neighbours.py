"""Nearest-neighbour searches for the k-NN estimators, in the max-norm, exact.

Two methods give identical answers (the same float64 distances, the same strict counts):

- ``kdtree``: scipy's cKDTree. O(N log N) in low dimension, but the tree stops pruning as
  the dimension grows (a max-norm ball around a point must span most of every axis to hold
  k of N points once there are a few dozen dimensions).
- ``grid``: one column against one column only: quantile cells scanned ring by ring,
  compiled (``mitool.estimators.knn_grid``), 3x faster than the kd-tree there.
- ``brute``: every distance, computed in blocks of rows against all rows (memory bounded by
  the block). O(N² d), but with no tree overhead: it wins above ~15 joint dimensions. On
  the CPU each block is scipy's ``cdist(..., "chebyshev")`` (a compiled loop that keeps a
  pair's coordinates in cache and releases the GIL, so blocks run on every core: 4x faster
  than the vectorised torch loop, which streams the whole block through memory once per
  coordinate); on a CUDA device, when given, torch (float64) does the same sums.

``choose_method`` picks by dimension (and size); the choice is recorded in the JSON.
"""

from __future__ import annotations

import numpy as np

METHODS = ("auto", "kdtree", "brute", "grid")
BRUTE_DIMS = 16  # joint dimensions from which brute force beats the kd-tree (benchmarks/knn_speed.py)
BLOCK_ELEMENTS = 1 << 21  # distances held per block (16 MB of float64)

_THREADS: int | None = None  # cap on the CPU threads of the searches; None: one per core


def set_threads(n: int | None) -> None:
    """Cap the CPU threads of every neighbour search (a ``pairs`` worker uses one: the
    workers already share the cores); None: one per core again."""
    global _THREADS
    _THREADS = None if n is None else max(1, int(n))


def search_threads() -> int:
    """CPU threads the searches use now."""
    from mitool.device import available_cores

    return _THREADS if _THREADS is not None else available_cores()


def brute_work(n: int, dims: int) -> float:
    """Coordinate comparisons of an exact all-pairs search: n² · dims (about 10⁹ per second
    per core here, so 10¹¹ is a couple of minutes on two cores)."""
    return float(n) * float(n) * float(dims)


def choose_method(n: int, dims: int, method: str = "auto", plane: bool = False) -> str:
    """The search to use for ``n`` points in ``dims`` joint dimensions; ``plane``: the
    points are one continuous column against one (KSG on a 1x1 pair), where ``grid`` works."""
    from mitool.errors import UsageError

    if method not in METHODS:
        raise UsageError(f"unknown neighbour search '{method}'; choose from {', '.join(METHODS)}")
    if method == "grid" and not plane:
        raise UsageError("the grid neighbour search works on one continuous column against "
                         "one; use --neighbours auto, kdtree or brute here")
    if method != "auto":
        return method
    if plane:
        return "grid"
    return "brute" if dims >= BRUTE_DIMS else "kdtree"


def _torch():
    import torch

    return torch


def _on_cpu(device) -> bool:
    return device is None or getattr(device, "type", str(device)) == "cpu"


def _cheb_np(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Max-norm distances between rows of a (B, d) and b (n, d) -> (B, n), float64; the same
    values as ``_cheb`` (max |a_j - b_j| is exact in any order)."""
    from scipy.spatial.distance import cdist

    return cdist(a, b, "chebyshev")


def _blocks_cpu(n: int, work) -> list:
    """Run ``work(start, end)`` over row blocks on a thread per core, results in order."""
    from concurrent.futures import ThreadPoolExecutor

    from mitool.device import bound_heap

    bound_heap()  # each block's (b, n) temporaries must go back to the system when freed
    block = max(1, BLOCK_ELEMENTS // max(n, 1))
    spans = [(s, min(n, s + block)) for s in range(0, n, block)]
    cores = search_threads()
    if cores < 2 or len(spans) < 2:
        return [work(s, e) for s, e in spans]
    with ThreadPoolExecutor(min(cores, len(spans))) as pool:
        return list(pool.map(lambda se: work(*se), spans))


def _cheb(a, b):
    """Max-norm distances between rows of a (B, d) and b (n, d) -> (B, n), float64."""
    torch = _torch()
    d = torch.empty((a.shape[0], b.shape[0]), dtype=torch.float64, device=a.device)
    torch.sub(a[:, 0:1], b[:, 0][None, :], out=d).abs_()
    tmp = torch.empty_like(d)
    for j in range(1, a.shape[1]):
        torch.sub(a[:, j:j + 1], b[:, j][None, :], out=tmp).abs_()
        torch.maximum(d, tmp, out=d)
    return d


def ksg_search_brute(xs: np.ndarray, ys: np.ndarray, k: int, device=None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(eps, n_x, n_y) for KSG by brute force: eps_i the k-th neighbour's joint max-norm
    distance (self excluded), n_x/n_y the other points strictly closer than eps_i in X/Y."""
    if _on_cpu(device):
        xs = np.ascontiguousarray(xs, dtype=np.float64)
        ys = np.ascontiguousarray(ys, dtype=np.float64)

        def work(s: int, e: int):
            dx, dy = _cheb_np(xs[s:e], xs), _cheb_np(ys[s:e], ys)  # (b, n) each
            # the point itself is at distance 0: the k-th other neighbour is index k
            r = np.partition(np.maximum(dx, dy), k, axis=1)[:, k]  # (b,)
            return r, (dx < r[:, None]).sum(1) - 1, (dy < r[:, None]).sum(1) - 1

        parts = _blocks_cpu(xs.shape[0], work)
        return tuple(np.concatenate([p[i] for p in parts]) for i in range(3))
    torch = _torch()
    dev = device or torch.device("cpu")
    x = torch.from_numpy(np.ascontiguousarray(xs, dtype=np.float64)).to(dev)
    y = torch.from_numpy(np.ascontiguousarray(ys, dtype=np.float64)).to(dev)
    n = x.shape[0]
    block = max(1, BLOCK_ELEMENTS // n)
    eps = torch.empty(n, dtype=torch.float64, device=dev)
    nx = torch.empty(n, dtype=torch.int64, device=dev)
    ny = torch.empty(n, dtype=torch.int64, device=dev)
    for s in range(0, n, block):
        e = min(n, s + block)
        dx = _cheb(x[s:e], x)  # (b, n)
        dy = _cheb(y[s:e], y)
        joint = torch.maximum(dx, dy)
        # the point itself is at distance 0: the k-th other neighbour is the (k+1)-th value
        r = torch.kthvalue(joint, k + 1, dim=1).values  # (b,)
        eps[s:e] = r
        nx[s:e] = (dx < r[:, None]).sum(dim=1) - 1
        ny[s:e] = (dy < r[:, None]).sum(dim=1) - 1
    return eps.cpu().numpy(), nx.cpu().numpy(), ny.cpu().numpy()


def kth_distance(points: np.ndarray, k: int, method: str = "kdtree", device=None) -> np.ndarray:
    """Max-norm distance from each point to its k-th nearest other point (n,)."""
    if method == "kdtree":
        from scipy.spatial import cKDTree

        return cKDTree(points).query(points, k=[k + 1], p=np.inf, workers=-1)[0][:, 0]
    if _on_cpu(device):
        pts = np.ascontiguousarray(points, dtype=np.float64)
        return np.concatenate(_blocks_cpu(pts.shape[0], lambda s, e: np.partition(
            _cheb_np(pts[s:e], pts), k, axis=1)[:, k]))
    torch = _torch()
    dev = device or torch.device("cpu")
    p = torch.from_numpy(np.ascontiguousarray(points, dtype=np.float64)).to(dev)
    n = p.shape[0]
    block = max(1, BLOCK_ELEMENTS // n)
    out = torch.empty(n, dtype=torch.float64, device=dev)
    for s in range(0, n, block):
        e = min(n, s + block)
        out[s:e] = torch.kthvalue(_cheb(p[s:e], p), k + 1, dim=1).values
    return out.cpu().numpy()


def count_within(points: np.ndarray, radii: np.ndarray, method: str = "kdtree",
                 device=None) -> np.ndarray:
    """For each point, how many *other* points lie strictly within its radius (max-norm)."""
    if method == "kdtree":
        from scipy.spatial import cKDTree

        r = np.nextafter(radii, 0)  # strict inequality
        tree = cKDTree(points)
        return tree.query_ball_point(points, r, p=np.inf, return_length=True, workers=-1) - 1
    if _on_cpu(device):
        pts = np.ascontiguousarray(points, dtype=np.float64)
        rad_np = np.asarray(radii, dtype=np.float64)
        return np.concatenate(_blocks_cpu(pts.shape[0], lambda s, e: (
            _cheb_np(pts[s:e], pts) < rad_np[s:e, None]).sum(1) - 1))
    torch = _torch()
    dev = device or torch.device("cpu")
    p = torch.from_numpy(np.ascontiguousarray(points, dtype=np.float64)).to(dev)
    rad = torch.from_numpy(np.asarray(radii, dtype=np.float64)).to(dev)
    n = p.shape[0]
    block = max(1, BLOCK_ELEMENTS // n)
    out = torch.empty(n, dtype=torch.int64, device=dev)
    for s in range(0, n, block):
        e = min(n, s + block)
        out[s:e] = (_cheb(p[s:e], p) < rad[s:e, None]).sum(dim=1) - 1
    return out.cpu().numpy()
