"""``gcmi-rot``: gcmi after a learned rotation of each side whose angle depends on its radius.

Why: a map that keeps a side's distribution but changes which point goes where hides the
dependence from every estimator that looks at one side at a time (normal scores, flows fitted
to each side) and from gcmi's linear view. The plainest such map of a round (isotropic)
cloud is a rotation whose angle grows with the distance from the centre: the bmi "spiral"
tasks, which no other component here reads (gcmi 0.25 of 1.02 nats on the 3×3 one). This
estimator learns the inverse kind of map, per side:

    h(x) = x + U (R(φ(r)) − I) Uᵀ x          x whitened normal scores (n, d)
                                             r = log mean square of x (the radius)
                                             U (d, 2p) orthonormal: p planes
                                             R block-diagonal rotations by p angles φ(r)

h keeps the radius (a rotation), so it is invertible and I(h(X); h'(Y)) = I(X; Y). The two
maps are fitted together on half of the rows to maximise the Gaussian MI of the pair; the
reported value is gcmi of the *other* half through the fitted maps (then the halves swap,
and the two readouts are averaged). φ starts at 0, where the estimate is gcmi's. The fit
runs while its Gaussian MI on a validation slice of the fitting half still rises (on
Gaussian sides, where no rotation helps, it stops after about 100 of its 400 steps).

What it guarantees: where each whitened side is Gaussian, any such rotation leaves it
Gaussian, and the Gaussian MI of a pair with Gaussian sides is at most the true MI (the
Gaussian has the largest joint entropy for its covariance). So on Gaussian sides the fit can
only move the estimate up toward the truth, never past it (up to noise). Elsewhere it is a
Gaussian-copula view of a transformed pair, like gcmi itself.

p-value: each half's readout uses maps fitted on the other half, so under independence it is
gcmi's statistic on independent columns (Bartlett's χ²); the two halves' p-values are
combined by the Cauchy combination test, which holds under any dependence between them.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from mitool.estimators.base import EstimatorResult, PreparedData, RunOptions
from mitool.estimators.gauss_bound import dv_readout
from mitool.estimators.gcmi import _whitener, gaussian_mi_statistic, gaussian_scores

NAME = "gcmi-rot"


@dataclass
class RotConfig:
    """Fitting settings (chosen on the bmi tune half and the spiral tasks: docs/benchmarks.md)."""

    planes: int = 2  # p: rotation planes per side (at most d // 2)
    hidden: int = 32  # width of the angle network φ(r)
    steps: int = 400  # Adam steps per fit, at most
    # longer training only while the validation curve still rises: every ``check_every``
    # steps each model's Gaussian MI on the validation slice; the fit stops when no split's
    # best gain over the identity grew by ``min_gain`` nats in the last ``patience`` steps
    # (on bmi's tasks: 166 steps on average at N = 5,000, the spirals run on; the gains it
    # gives up, at most 0.02 nats, are the validation slice's noise on Gaussian tasks)
    check_every: int = 25
    patience: int = 100
    min_gain: float = 0.005
    lr: float = 1e-2
    # a fit can stall in a poor plane (the angle starts at 0, so at first the frame gets no
    # gradient) or not carry over to new rows: fit from this many random frames and keep
    # whichever of them, or the identity, has the best Gaussian MI on a validation slice of
    # the fitting half (the held-out half is never looked at)
    restarts: int = 3
    validation: float = 0.2
    batch_size: int = 1024  # rows per step (all training rows when fewer)
    min_rows: int = 100  # below this a half cannot fit the maps and read them out


def _rotations(models: int, d: int, cfg: RotConfig, gen):
    """``models`` independent maps h for one side of d whitened columns, fitted side by side
    as one batch (one Python step for all of them: the fit is overhead-bound at these
    sizes); None when d < 2 (nothing to rotate)."""
    import torch
    from torch import nn

    planes = min(cfg.planes, d // 2)
    if planes < 1:
        return None
    f64 = torch.float64

    class RadialRotations(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.frame = nn.Parameter(torch.randn(models, d, 2 * planes, dtype=f64,
                                                  generator=gen))
            # φ(r) = tanh(r·w1 + b1)·w2 + b2, one small network per model; w1, b1 as
            # nn.Linear(1, h) draws them, w2 = b2 = 0: φ = 0, the identity, at the start
            # (single precision: the (M, B, hidden) layer is most of a step's time, and an
            # angle needs no more)
            f32 = torch.float32
            self.w1 = nn.Parameter(2 * torch.rand(models, 1, cfg.hidden, generator=gen,
                                                  dtype=f32) - 1)
            self.b1 = nn.Parameter(2 * torch.rand(models, 1, cfg.hidden, generator=gen,
                                                  dtype=f32) - 1)
            self.w2 = nn.Parameter(torch.zeros(models, cfg.hidden, planes, dtype=f32))
            self.b2 = nn.Parameter(torch.zeros(models, 1, planes, dtype=f32))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            # x (M, B, d) -> (M, B, d), each row keeps its radius
            u, _ = torch.linalg.qr(self.frame)  # (M, d, 2p) orthonormal
            r = torch.log(x.square().mean(dim=2, keepdim=True) + 1e-3)  # (M, B, 1)
            r = r.to(self.w1.dtype)
            phi = (torch.tanh(r @ self.w1 + self.b1) @ self.w2 + self.b2).to(x.dtype)  # (M, B, p)
            c = x @ u  # (M, B, 2p): coordinates in the planes
            a, b = c[..., 0::2], c[..., 1::2]  # (M, B, p) each
            cos, sin = torch.cos(phi), torch.sin(phi)
            rot = torch.stack([a * cos - b * sin, a * sin + b * cos], dim=3).flatten(2)
            return x + (rot - c) @ u.transpose(1, 2)

    return RadialRotations()


def _batch_gaussian_mi(u, v):
    """Gaussian MI (nats) of batches u (M, B, p), v (M, B, q) -> (M,), differentiable."""
    import torch

    z = torch.cat([u, v], dim=2)
    z = z - z.mean(dim=1, keepdim=True)
    cov = z.transpose(1, 2) @ z / (z.shape[1] - 1)  # (M, p + q, p + q)
    cov = cov + 1e-6 * torch.eye(cov.shape[1], dtype=cov.dtype)
    p = u.shape[2]
    return 0.5 * (torch.logdet(cov[:, :p, :p]) + torch.logdet(cov[:, p:, p:])
                  - torch.logdet(cov))


def _whiten(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre and whiten both by the training rows' covariance: a round cloud for Gaussian
    sides, where a rotation keeps the law (the bound in the module docstring)."""
    w = _whitener(np.atleast_2d(np.cov(train, rowvar=False)))  # (d, d')
    mean = train.mean(axis=0)
    return (train - mean) @ w, (test - mean) @ w


def _fit_and_read(splits, cfg: RotConfig, seed: int) -> list[dict]:
    """For each split (a_tr, b_tr, a_te, b_te): fit the two maps on the training rows and
    read gcmi of the test rows through them. The splits' fits (``restarts`` each) run as one
    batch where their whitened sides have the same widths, as the two halves' nearly always
    do."""
    white = []
    for a_tr, b_tr, a_te, b_te in splits:
        xa_tr, xa_te = _whiten(a_tr, a_te)  # (n, p') each
        xb_tr, xb_te = _whiten(b_tr, b_te)  # (n, q')
        white.append((xa_tr, xb_tr, xa_te, xb_te))
    widths = {(w[0].shape[1], w[1].shape[1]) for w in white}
    if len(widths) > 1:  # a side lost a direction in one split only: fit them one by one
        return [_fit_batch([w], cfg, seed + k)[0] for k, w in enumerate(white)]
    return _fit_batch(white, cfg, seed)


def _fit_batch(white, cfg: RotConfig, seed: int) -> list[dict]:
    """``_fit_and_read`` for whitened splits of equal widths: models (split, restart) in one
    batch, M = splits × restarts; each split keeps whichever of its restarts, or the
    identity, has the best Gaussian MI on a validation slice of its training rows."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    restarts = cfg.restarts
    n_fit = min(w[0].shape[0] for w in white)  # the halves differ by at most one row
    n_val = max(2, int(round(cfg.validation * n_fit)))
    fit, val = [], []
    for k, (xa_tr, xb_tr, _, _) in enumerate(white):
        perm = np.random.default_rng(seed + k).permutation(xa_tr.shape[0])[:n_fit]
        fit.append((xa_tr[perm[n_val:]], xb_tr[perm[n_val:]]))
        val.append((torch.from_numpy(xa_tr[perm[:n_val]])[None],
                    torch.from_numpy(xb_tr[perm[:n_val]])[None]))  # (1, n_val, ·)
    # (M, n, ·): split k's rows repeated for its `restarts` models
    ta = torch.from_numpy(np.stack([f[0] for f in fit])).repeat_interleave(restarts, dim=0)
    tb = torch.from_numpy(np.stack([f[1] for f in fit])).repeat_interleave(restarts, dim=0)
    models, n = ta.shape[0], ta.shape[1]
    fa = _rotations(models, ta.shape[2], cfg, gen)
    fb = _rotations(models, tb.shape[2], cfg, gen)
    params = [q for f in (fa, fb) if f is not None for q in f.parameters()]
    steps_run = 0
    curve = _ValidationCurve(val, restarts, cfg) if params and restarts > 0 else None
    if curve is not None:
        opt = _Adam(params, lr=cfg.lr)
        rows = torch.arange(models)[:, None]
        for step in range(cfg.steps):
            if step % cfg.check_every == 0 and curve.flat(fa, fb):
                break
            steps_run = step + 1
            if cfg.batch_size < n:
                idx = torch.randint(0, n, (models, cfg.batch_size), generator=gen)
                a, b = ta[rows, idx], tb[rows, idx]  # (M, B, ·)
            else:
                a, b = ta, tb
            mi = _batch_gaussian_mi(fa(a) if fa is not None else a,
                                    fb(b) if fb is not None else b)  # (M,)
            opt.zero_grad()
            (-mi.sum()).backward()  # the models share no parameter: each gets its own gradient
            opt.step()
    out = []
    scores = None if curve is None else curve.scores(fa, fb)  # (M,) on their own split's rows
    with torch.no_grad():
        for k, (xa_tr, xb_tr, xa_te, xb_te) in enumerate(white):
            va, vb = val[k]
            best, pick = float(_batch_gaussian_mi(va, vb)[0]), None  # the identity first
            if scores is not None:
                for m in range(k * restarts, (k + 1) * restarts):
                    if float(scores[m]) > best:
                        best, pick = float(scores[m]), m
            ua, vb_te = _through(fa, torch.from_numpy(xa_te)[None], pick,
                                 torch.from_numpy(xb_te)[None], fb)
            ua_fit, vb_fit = _through(fa, torch.from_numpy(xa_tr)[None], pick,
                                      torch.from_numpy(xb_tr)[None], fb)
            no_discrete_a = np.zeros(ua.shape[1], dtype=bool)
            no_discrete_b = np.zeros(vb_te.shape[1], dtype=bool)
            res = gaussian_mi_statistic(gaussian_scores(ua, no_discrete_a),
                                        gaussian_scores(vb_te, no_discrete_b))
            # the bound: the Gaussian model of the fitted half, through the maps, as a
            # critic read on the held-out half (gauss_bound): below the truth whatever the
            # distribution
            res["dv"] = dv_readout(ua_fit, vb_fit, ua, vb_te)
            res["steps"] = steps_run
            out.append(res)
    return out


class _ValidationCurve:
    """Each split's best gain over the identity on its validation slice, at every check;
    ``flat`` once no split's gain grew by ``cfg.min_gain`` in the last ``cfg.patience``
    steps (the slice is the one the restarts are chosen on: the held-out half stays unseen)."""

    def __init__(self, val, restarts: int, cfg: RotConfig):
        import torch

        self.restarts, self.cfg = restarts, cfg
        # (M, n_val, ·): split k's validation rows for each of its models
        self.a = torch.cat([v[0] for v in val]).repeat_interleave(restarts, dim=0)
        self.b = torch.cat([v[1] for v in val]).repeat_interleave(restarts, dim=0)
        with torch.no_grad():
            self.identity = _batch_gaussian_mi(self.a, self.b)  # (M,)
        self.best: list[np.ndarray] = []  # per check: (splits,) best gain so far

    def scores(self, fa, fb):
        """Each model's Gaussian MI on its split's validation rows, through its maps: (M,)."""
        import torch

        with torch.no_grad():
            return _batch_gaussian_mi(self.a if fa is None else fa(self.a),
                                      self.b if fb is None else fb(self.b))

    def flat(self, fa, fb) -> bool:
        gain = (self.scores(fa, fb) - self.identity).numpy().reshape(-1, self.restarts)
        gain = gain.max(axis=1)  # (splits,)
        self.best.append(gain if not self.best else np.maximum(self.best[-1], gain))
        back = self.cfg.patience // self.cfg.check_every
        if len(self.best) <= back:
            return False
        return bool(np.all(self.best[-1] - self.best[-1 - back] < self.cfg.min_gain))


class _Adam:
    """torch.optim.Adam's update with its defaults (betas 0.9/0.999, eps 1e-8; the
    single-tensor path it takes on CPU, step for step the same numbers), by hand because
    constructing any torch optimizer imports torch._dynamo: 1.4-2.4 s on a 2-core box, a
    sixth of the default estimate on 5x5 columns."""

    def __init__(self, params, lr: float, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8):
        import torch

        self.params, self.lr, self.betas, self.eps = list(params), lr, betas, eps
        self.avg = [torch.zeros_like(q) for q in self.params]  # first moments
        self.avg_sq = [torch.zeros_like(q) for q in self.params]  # second moments
        self.t = 0

    def zero_grad(self) -> None:
        for q in self.params:
            q.grad = None

    def step(self) -> None:
        import torch

        b1, b2 = self.betas
        self.t += 1
        step_size = self.lr / (1 - b1 ** float(self.t))
        correction2 = (1 - b2 ** float(self.t)) ** 0.5
        with torch.no_grad():
            for q, avg, avg_sq in zip(self.params, self.avg, self.avg_sq, strict=True):
                g = q.grad
                avg.lerp_(g, 1 - b1)
                avg_sq.mul_(b2).addcmul_(g, g, value=1 - b2)
                q.addcdiv_(avg, (avg_sq.sqrt() / correction2).add_(self.eps), value=-step_size)


def _all_models(fa, a, fb, b):
    """Rows a (1, n, p), b (1, n, q) through every model's maps -> (M, n, p), (M, n, q)."""
    models = (fa or fb).frame.shape[0]
    a, b = a.expand(models, -1, -1), b.expand(models, -1, -1)
    return (a if fa is None else fa(a)), (b if fb is None else fb(b))


def _through(fa, a, model: int | None, b, fb):
    """Rows a (1, n, p), b (1, n, q) through model ``model``'s maps (None: the identity) ->
    (a', b') as (n, ·) arrays."""
    if model is None:
        return a[0].numpy(), b[0].numpy()
    ua, vb = _all_models(fa, a, fb, b)
    return ua[model].numpy(), vb[model].numpy()


def run_gcmi_rot(data: PreparedData, seed: int = 0, config: RotConfig | None = None) -> EstimatorResult:
    """The ``gcmi-rot`` estimator (see module). Continuous columns with a side of two or
    more: the registry checks that before it runs (``registry.rotatable``)."""
    import torch

    from mitool.pvalues import cauchy_combination

    cfg = config or RotConfig()
    t0 = time.perf_counter()
    dx, dy = int(data.x.shape[1]), int(data.y.shape[1])
    half = data.n // 2
    if half < max(cfg.min_rows, dx + dy + 3):
        return EstimatorResult(NAME, None, 0.0, applicable=False,
                               reason=f"needs at least {2 * max(cfg.min_rows, dx + dy + 3)} rows "
                                      f"(two halves, one to fit the rotations, one to read them)")
    a = gaussian_scores(data.x, data.x_discrete)  # (n, dx) normal scores
    b = gaussian_scores(data.y, data.y_discrete)
    order = np.random.default_rng(seed).permutation(data.n)
    halves = [order[:half], order[half:]]
    old_threads = torch.get_num_threads()
    torch.set_num_threads(1)  # see neural.settings.choose_threads: 1 thread is the robust choice
    try:
        reads = _fit_and_read([(a[halves[1 - k]], b[halves[1 - k]], a[halves[k]],
                                 b[halves[k]]) for k in range(2)], cfg, seed)
    finally:
        torch.set_num_threads(old_threads)
    corrected = [r["dv"] for r in reads]  # the held-out DV bound of each half
    # delta-method variance of each half's estimate for Gaussian data: Σρᵢ²/n
    variances = [float(np.sum(np.square(r["canonical_correlations"]))) / len(halves[k])
                 for k, r in enumerate(reads)]
    mi_raw = float(np.mean(corrected))
    # the mean of two independent halves: Var = (v1 + v2) / 4; the halves' own disagreement
    # (which also carries the fit's variability) when that is larger
    stderr = max(math.sqrt((variances[0] + variances[1]) / 4.0),
                 abs(corrected[0] - corrected[1]) / 2.0)
    details = {
        "method": "Gaussian-copula critic after learned radius-dependent rotations of each "
                  "side, read as a DV bound on rows the rotations and the critic never saw "
                  "(two halves)",
        "mi_raw": mi_raw,
        "gcmi_halves": [round(r["mi_raw"], 6) for r in reads],  # the held-out Gaussian MI
        "halves": [round(c, 6) for c in corrected],
        "spread": float(abs(corrected[0] - corrected[1]) / 2.0),
        "stderr_readout": stderr,
        "p_value_analytic": cauchy_combination([r["p_value_analytic"] for r in reads]),
        "planes": [min(cfg.planes, dx // 2), min(cfg.planes, dy // 2)],
        "steps": max(r["steps"] for r in reads),  # of at most cfg.steps (the curve stops it)
    }
    notes = ["the Gaussian-copula critic after learned radius-dependent rotations of each side "
             "(invertible), fitted on one half of the rows and read as a DV lower bound on the "
             "other, both ways; analytic p-value"]
    return EstimatorResult(NAME, max(0.0, mi_raw), time.perf_counter() - t0, notes=notes,
                           details=details)


def run(name: str, data: PreparedData, opts: RunOptions) -> EstimatorResult:
    """The registry's runner (``mitool.estimators.registry``)."""
    return run_gcmi_rot(data, seed=opts.seed)
