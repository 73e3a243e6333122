"""Datasets whose mutual information is known exactly, for tests, benchmarks and demos.

Every generator returns a ``SyntheticData`` with the true MI in nats. Facts used:
- Gaussian: I(X;Y) = ½ log(det Σxx det Σyy / det Σ); for paired coordinates −½ Σ log(1 − ρᵢ²).
- MI is unchanged by invertible maps of X and of Y (here: monotone maps per column).
- Multivariate Student-t: I = Gaussian term + a term in the degrees of freedom alone,
  from the closed-form entropy of the multivariate t.
- X ~ U(0,1), Y = X + U(−ε, ε): I = ε − log 2ε for ε ≤ ½.
- A label C uniform on m classes with X | C=c ~ U(c·s, c·s + 1): H(X|C) = 0, so I = H(X),
  exact for the piecewise-constant mixture density.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize, special

from mitool.errors import UsageError


@dataclass
class SyntheticData:
    """X (n, dx), Y (n, dy) and the true MI in nats; ``y_labels`` for a discrete Y."""

    name: str
    x: np.ndarray
    y: np.ndarray
    mi: float
    x_names: list[str]
    y_names: list[str]
    params: dict = field(default_factory=dict)
    y_labels: np.ndarray | None = None  # (n,) strings when Y is a discrete label

    def to_frame(self):
        """A pandas DataFrame with columns x0.., y0.. (or the label column)."""
        import pandas as pd

        cols = {name: self.x[:, j] for j, name in enumerate(self.x_names)}
        if self.y_labels is not None:
            cols[self.y_names[0]] = self.y_labels
        else:
            cols.update({name: self.y[:, j] for j, name in enumerate(self.y_names)})
        return pd.DataFrame(cols)


def _names(prefix: str, d: int) -> list[str]:
    return [prefix] if d == 1 else [f"{prefix}{j}" for j in range(d)]


def gaussian_mi(cov: np.ndarray, dx: int) -> float:
    """I(X;Y) in nats for a joint Gaussian with covariance ``cov`` whose first dx dims are X."""
    _, ld = np.linalg.slogdet(cov)
    _, ldx = np.linalg.slogdet(cov[:dx, :dx])
    _, ldy = np.linalg.slogdet(cov[dx:, dx:])
    return 0.5 * float(ldx + ldy - ld)


def _structured_cov(dx: int, dy: int, rho: float, structure: str, n_pairs: int) -> np.ndarray:
    """Unit-variance covariance with cross-correlation block set by ``structure``."""
    cross = np.zeros((dx, dy))
    if structure == "paired":
        for i in range(min(dx, dy)):
            cross[i, i] = rho
    elif structure == "sparse":
        for i in range(min(n_pairs, dx, dy)):
            cross[i, i] = rho
    elif structure == "dense":
        cross[:] = rho
    else:
        raise UsageError(f"unknown structure '{structure}'; choose paired, sparse or dense")
    cov = np.eye(dx + dy)
    cov[:dx, dx:] = cross
    cov[dx:, :dx] = cross.T
    return cov


def _rho_for_mi(dx: int, dy: int, mi: float, structure: str, n_pairs: int) -> float:
    """Solve for the correlation that gives the requested MI (monotone in rho)."""
    if mi <= 0:
        return 0.0
    if structure == "dense":
        rho_max = 1.0 / np.sqrt(dx * dy)
    else:
        rho_max = 1.0
    hi = rho_max * (1 - 1e-12)

    def f(r: float) -> float:
        return gaussian_mi(_structured_cov(dx, dy, r, structure, n_pairs), dx) - mi

    if f(hi) < 0:
        raise UsageError(f"MI {mi} nats is out of reach for a {structure} {dx}x{dy} Gaussian")
    return float(optimize.brentq(f, 0.0, hi, xtol=1e-14))


def gaussian(
    n: int = 5000,
    dx: int = 1,
    dy: int = 1,
    mi: float = 1.0,
    structure: str = "paired",
    n_pairs: int = 2,
    seed: int = 0,
) -> SyntheticData:
    """Correlated Gaussians with a requested MI (nats).

    structure: ``paired`` (x_i ~ y_i, equal ρ), ``sparse`` (only ``n_pairs`` pairs correlated),
    ``dense`` (every x_i correlated with every y_j by the same ρ).
    """
    _check_n(n)
    rho = _rho_for_mi(dx, dy, mi, structure, n_pairs)
    cov = _structured_cov(dx, dy, rho, structure, n_pairs)
    rng = np.random.default_rng(seed)
    z = rng.multivariate_normal(np.zeros(dx + dy), cov, size=n, method="cholesky")
    return SyntheticData(
        name=f"gaussian-{structure}-{dx}x{dy}",
        x=z[:, :dx],
        y=z[:, dx:],
        mi=gaussian_mi(cov, dx),
        x_names=_names("x", dx),
        y_names=_names("y", dy),
        params={"rho": rho, "structure": structure},
    )


# Monotone (hence invertible) maps applied column by column: MI does not change.
TRANSFORMS = {
    "cube": lambda v: v**3,
    "exp": np.exp,
    "asinh": lambda v: np.arcsinh(3 * v),
    "wiggly": lambda v: v + 0.6 * np.sin(2 * v) / 2,  # derivative 1 + 0.6 cos(2v) > 0
    "halfcube": lambda v: np.sign(v) * np.abs(v) ** 1.5,
}


def transformed(data: SyntheticData, x_map: str = "cube", y_map: str = "exp") -> SyntheticData:
    """Push X and Y through invertible per-column maps; the MI is unchanged."""
    for m in (x_map, y_map):
        if m not in TRANSFORMS:
            raise UsageError(f"unknown transform '{m}'; choose from {', '.join(TRANSFORMS)}")
    return SyntheticData(
        name=f"{data.name}-{x_map}-{y_map}",
        x=TRANSFORMS[x_map](data.x),
        y=TRANSFORMS[y_map](data.y),
        mi=data.mi,
        x_names=data.x_names,
        y_names=data.y_names,
        params={**data.params, "x_map": x_map, "y_map": y_map},
    )


def _t_entropy_const(d: int, dof: float) -> float:
    """Entropy of a d-dim Student-t with identity scale (the det-Σ term is added separately)."""
    return (
        0.5 * d * np.log(dof * np.pi)
        + special.gammaln(dof / 2)
        - special.gammaln((dof + d) / 2)
        + (dof + d) / 2 * (special.digamma((dof + d) / 2) - special.digamma(dof / 2))
    )


def student_t(
    n: int = 5000, dx: int = 1, dy: int = 1, rho: float = 0.5, dof: float = 2.0, seed: int = 0
) -> SyntheticData:
    """Multivariate Student-t (heavy tails) with paired correlation ``rho`` and ``dof`` degrees."""
    _check_n(n)
    if dof <= 0:
        raise UsageError("dof must be positive")
    cov = _structured_cov(dx, dy, rho, "paired", 0)
    rng = np.random.default_rng(seed)
    g = rng.multivariate_normal(np.zeros(dx + dy), cov, size=n, method="cholesky")
    w = rng.chisquare(dof, size=(n, 1)) / dof
    z = g / np.sqrt(w)
    d = dx + dy
    mi = (
        gaussian_mi(cov, dx)
        + _t_entropy_const(dx, dof)
        + _t_entropy_const(dy, dof)
        - _t_entropy_const(d, dof)
    )
    return SyntheticData(
        name=f"student-t-{dx}x{dy}-dof{dof:g}",
        x=z[:, :dx],
        y=z[:, dx:],
        mi=float(mi),
        x_names=_names("x", dx),
        y_names=_names("y", dy),
        params={"rho": rho, "dof": dof},
    )


def additive_uniform(n: int = 5000, eps: float = 0.1, seed: int = 0) -> SyntheticData:
    """X ~ U(0,1), Y = X + U(−ε, ε); I = ε − log 2ε (ε ≤ ½)."""
    _check_n(n)
    if not 0 < eps <= 0.5:
        raise UsageError("eps must be in (0, 0.5]")
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, size=(n, 1))
    y = x + rng.uniform(-eps, eps, size=(n, 1))
    return SyntheticData(
        name=f"additive-uniform-eps{eps:g}", x=x, y=y, mi=float(eps - np.log(2 * eps)),
        x_names=["x"], y_names=["y"], params={"eps": eps},
    )


def independent(n: int = 5000, dx: int = 1, dy: int = 1, seed: int = 0) -> SyntheticData:
    """Independent Gaussians: I = 0."""
    _check_n(n)
    rng = np.random.default_rng(seed)
    return SyntheticData(
        name=f"independent-{dx}x{dy}", x=rng.standard_normal((n, dx)),
        y=rng.standard_normal((n, dy)), mi=0.0, x_names=_names("x", dx), y_names=_names("y", dy),
    )


def discrete_label(
    n: int = 5000, n_classes: int = 4, shift: float = 0.5, seed: int = 0
) -> SyntheticData:
    """A class label (strings) and one continuous feature: X | C=c ~ U(c·shift, c·shift + 1).

    Because every conditional density is 1 on its interval, H(X|C) = 0 and I = H(X), which is
    exact for the piecewise-constant mixture density.
    """
    _check_n(n)
    if n_classes < 2 or shift <= 0:
        raise UsageError("n_classes must be >= 2 and shift > 0")
    rng = np.random.default_rng(seed)
    c = rng.integers(0, n_classes, size=n)
    x = (c * shift + rng.uniform(0, 1, size=n))[:, None]
    # exact H(X): breakpoints of the mixture, density = (#intervals covering)/m on each piece
    edges = np.unique(np.concatenate([np.arange(n_classes) * shift, np.arange(n_classes) * shift + 1]))
    h = 0.0
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        mid = (a + b) / 2
        cover = np.sum((np.arange(n_classes) * shift <= mid) & (mid < np.arange(n_classes) * shift + 1))
        if cover:
            p = cover / n_classes
            h -= (b - a) * p * np.log(p)
    labels = np.array([f"class_{v}" for v in c], dtype=object)
    return SyntheticData(
        name=f"label-{n_classes}class-shift{shift:g}", x=x, y=c[:, None].astype(float),
        mi=float(h), x_names=["x"], y_names=["label"], params={"shift": shift},
        y_labels=labels,
    )


GENERATORS = {
    "gaussian": gaussian,
    "student-t": student_t,
    "additive-uniform": additive_uniform,
    "independent": independent,
    "label": discrete_label,
}


def sample(
    kind: str = "gaussian",
    n: int = 5000,
    *,
    dim: int = 1,
    mi: float = 1.0,
    structure: str = "paired",
    rho: float = 0.5,
    dof: float = 3.0,
    eps: float = 0.1,
    classes: int = 4,
    transform: str | tuple[str, str] | None = None,
    seed: int = 0,
) -> SyntheticData:
    """One known-MI dataset by name (what ``mitool sample`` writes as CSV).

    ``kind``: gaussian (``dim`` x ``dim``, ``mi`` nats, ``structure``), student-t (``rho``,
    ``dof``), additive-uniform (``eps``), independent, label (``classes``). ``transform``:
    invertible per-column maps "XMAP,YMAP" (cube, exp, asinh, wiggly, halfcube).
    """
    if kind not in GENERATORS:
        raise UsageError(f"unknown dataset '{kind}'; choose from {', '.join(GENERATORS)}")
    _check_n(n)
    if kind == "gaussian":
        d = gaussian(n, dim, dim, mi=mi, structure=structure, seed=seed)
    elif kind == "student-t":
        d = student_t(n, dim, dim, rho=rho, dof=dof, seed=seed)
    elif kind == "additive-uniform":
        d = additive_uniform(n, eps=eps, seed=seed)
    elif kind == "independent":
        d = independent(n, dim, dim, seed=seed)
    else:
        d = discrete_label(n, n_classes=classes, seed=seed)
    if transform:
        parts = ([p.strip() for p in transform.split(",")] if isinstance(transform, str)
                 else list(transform))
        if len(parts) != 2:
            raise UsageError("{param} takes two maps, 'XMAP,YMAP' (e.g. cube,exp)",
                             parameter="transform")
        d = transformed(d, *parts)
    return d


def _check_n(n: int) -> None:
    if n < 2:
        raise UsageError("n must be at least 2")


# ----------------------------------------------------------------- conditional MI, I(X;Y|Z)

@dataclass
class ConditionalData:
    """X, Y, Z as one frame (columns x*, y*, z*) and the true I(X;Y|Z) in nats."""

    name: str
    frame: object  # pandas DataFrame
    cmi: float
    x_names: list[str]
    y_names: list[str]
    z_names: list[str]


def gaussian_cmi(cov: np.ndarray, dx: int, dy: int) -> float:
    """I(X;Y|Z) in nats of a joint Gaussian ordered X (dx), Y (dy), Z (the rest):
    ½ log(det Σ_XZ det Σ_YZ / (det Σ_Z det Σ_XYZ))."""
    d = cov.shape[0]
    ix, iy, iz = np.arange(dx), np.arange(dx, dx + dy), np.arange(dx + dy, d)

    def logdet(idx: np.ndarray) -> float:
        return float(np.linalg.slogdet(cov[np.ix_(idx, idx)])[1]) if idx.size else 0.0

    cmi = 0.5 * (logdet(np.r_[ix, iz]) + logdet(np.r_[iy, iz]) - logdet(iz)
                 - logdet(np.arange(d)))
    return cmi if abs(cmi) > 1e-12 else 0.0  # a chain's 1e-16 is an exact 0


def linear_gaussian(n: int, mix: np.ndarray, dx: int, dy: int, name: str = "linear",
                    seed: int = 0) -> ConditionalData:
    """Columns = u @ mix for standard normal u (n, m): X the first dx, Y the next dy, Z the
    rest; the truth from the covariance mixᵀ mix."""
    _check_n(n)
    rng = np.random.default_rng(seed)
    v = rng.standard_normal((n, mix.shape[0])) @ mix
    dz = mix.shape[1] - dx - dy
    xs, ys, zs = _names("x", dx), _names("y", dy), _names("z", dz)
    import pandas as pd

    frame = pd.DataFrame(v, columns=xs + ys + zs)
    return ConditionalData(name, frame, gaussian_cmi(mix.T @ mix, dx, dy), xs, ys, zs)


def gaussian_conditional(n: int, dx: int = 1, dy: int = 1, dz: int = 2, strength: float = 0.5,
                         seed: int = 0, structure_seed: int = 1) -> ConditionalData:
    """X and Y each driven by every Z column and, with ``strength``, by a shared latent
    beyond Z (so I(X;Y|Z) > 0 grows with it); random loadings fixed by ``structure_seed``."""
    rng = np.random.default_rng(structure_seed)
    m = dz + 1 + dx + dy  # latents: Z, shared, X's own noise, Y's own noise
    mix = np.zeros((m, dx + dy + dz))
    mix[:dz, dx + dy:] = np.eye(dz)  # Z = its latents
    mix[:dz, :dx + dy] = rng.normal(0.0, 0.6, size=(dz, dx + dy))  # Z -> X, Y
    mix[dz, :dx + dy] = strength  # the shared latent beyond Z
    mix[dz + 1:, :dx + dy] = np.eye(dx + dy)  # own noise
    return linear_gaussian(n, mix, dx, dy, f"gaussian {dx}x{dy}|{dz}", seed)


def chain(n: int, kind: str = "chain", seed: int = 0) -> ConditionalData:
    """One column each: ``chain`` X → Z → Y, ``fork`` X ← Z → Y (both I(X;Y|Z) = 0 while
    I(X;Y) > 0), ``collider`` X → Z ← Y (I(X;Y) = 0, I(X;Y|Z) = ½ log(4/3) ≈ 0.144)."""
    # columns x, y, z as linear maps of independent normals (u0, u1, u2)
    if kind == "chain":  # x = u0, z = x + u1, y = z + u2
        mix = np.array([[1.0, 1.0, 1.0], [0.0, 1.0, 1.0], [0.0, 1.0, 0.0]])
    elif kind == "fork":  # z = u0, x = z + u1, y = z + u2
        mix = np.array([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    elif kind == "collider":  # x = u0, y = u1, z = x + y + u2
        mix = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0], [0.0, 0.0, 1.0]])
    else:
        raise UsageError(f"unknown structure '{kind}'; choose chain, fork or collider")
    return linear_gaussian(n, mix, 1, 1, kind, seed)


def collider_with_cmi(n: int, cmi: float, seed: int = 0) -> ConditionalData:
    """A collider X → Z ← Y with z = x + y + s·u and s chosen so that I(X;Y|Z) = ``cmi``:
    the partial correlation of x and y given z is −1/(1 + s²)."""
    rho = math.sqrt(1.0 - math.exp(-2.0 * cmi))
    s = math.sqrt(1.0 / rho - 1.0)
    mix = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0], [0.0, 0.0, s]])
    return linear_gaussian(n, mix, 1, 1, f"collider {cmi}", seed)


def stratified(n: int, rhos: tuple[float, ...] = (0.0, 0.5, 0.8), probs: tuple[float, ...]
               = (0.5, 0.3, 0.2), continuous_z: bool = False, seed: int = 0) -> ConditionalData:
    """A discrete Z (levels "a", "b", ...) and, within level s, X and Y Gaussian with
    correlation rhos[s]: I(X;Y|Z) = Σ p(s)·(−½ log(1 − rho_s²)). With ``continuous_z`` a
    continuous Z column w is added, driving X and Y within each level (the truth is the
    same: x and y get w added, and their partial correlation given w is rho_s)."""
    _check_n(n)
    rng = np.random.default_rng(seed)
    levels = rng.choice(len(rhos), size=n, p=np.asarray(probs) / sum(probs))
    r = np.asarray(rhos)[levels]
    u, v = rng.standard_normal(n), rng.standard_normal(n)
    x, y = u, r * u + np.sqrt(1.0 - r**2) * v
    cols = {"x": x, "y": y, "g": np.array(list("abcdefghij"))[levels]}
    if continuous_z:
        w = rng.standard_normal(n)
        cols.update(x=x + w, y=y + 0.8 * w, w=w)
    truth = float(sum(p * -0.5 * math.log1p(-rho**2) for p, rho in zip(
        np.asarray(probs) / sum(probs), rhos, strict=True)))
    import pandas as pd

    return ConditionalData("stratified", pd.DataFrame(cols), truth, ["x"], ["y"],
                           ["g", "w"] if continuous_z else ["g"])


# ------------------------------------------------------------------------------ time series

@dataclass
class VarData:
    """A bivariate linear-Gaussian VAR(1), z(t) = A z(t-1) + e(t), e ~ N(0, Σ), z = (x, y),
    stationary from its first row, with the truths its covariance gives exactly
    (``var_truths``): transfer entropy both ways and lagged MI."""

    frame: Any  # pandas DataFrame: t, x, y
    a: np.ndarray  # (2, 2)
    noise: np.ndarray  # (2, 2) Σ
    name: str

    def te(self, direction: str = "xy", k: int = 1, l_: int = 1) -> float:
        """TE(X→Y) ("xy") or TE(Y→X) ("yx") in nats with history lengths k (source), l."""
        return var_te(self.a, self.noise, direction, k, l_)

    def lagged_mi(self, lag: int) -> float:
        """I(X(t-lag); Y(t)) in nats."""
        g = var_autocov(self.a, self.noise, max(abs(lag), 0))
        c = g[lag] if lag >= 0 else g[-lag].T  # Cov(z(t), z(t-lag))
        vx, vy = g[0][0, 0], g[0][1, 1]
        rho = c[1, 0] / np.sqrt(vx * vy)  # Cov(y(t), x(t-lag))
        return float(-0.5 * np.log(1 - rho ** 2))


def var_autocov(a: np.ndarray, noise: np.ndarray, max_lag: int) -> list[np.ndarray]:
    """Γ(h) = Cov(z(t), z(t-h)) for h = 0..max_lag: Γ(0) solves Γ = A Γ Aᵀ + Σ (the discrete
    Lyapunov equation), Γ(h) = A Γ(h-1)."""
    from scipy.linalg import solve_discrete_lyapunov

    g = [solve_discrete_lyapunov(a, noise)]
    for _ in range(max_lag):
        g.append(a @ g[-1])
    return g


def var_te(a: np.ndarray, noise: np.ndarray, direction: str, k: int, l_: int) -> float:
    """Gaussian TE = ½ ln(var(T(t) | T past) / var(T(t) | T past, S past)), the conditional
    variances from the joint covariance of (T(t), S(t-1..t-k), T(t-1..t-l))."""
    src, tgt = (0, 1) if direction == "xy" else (1, 0)
    depth = max(k, l_)
    g = var_autocov(a, noise, depth)

    def cov(i: int, h_i: int, j: int, h_j: int) -> float:  # Cov(z_i(t-h_i), z_j(t-h_j))
        h = h_j - h_i
        m = g[h] if h >= 0 else g[-h].T  # Cov(z(t), z(t-h)) for h >= 0
        return float(m[i, j])

    target = [(tgt, 0)]
    source = [(src, h) for h in range(1, k + 1)]
    past = [(tgt, h) for h in range(1, l_ + 1)]

    def cond_var(given: list[tuple[int, int]]) -> float:
        c_tt = cov(tgt, 0, tgt, 0)
        if not given:
            return c_tt
        c_tg = np.array([cov(tgt, 0, i, h) for i, h in given])
        c_gg = np.array([[cov(i, hi, j, hj) for j, hj in given] for i, hi in given])
        return float(c_tt - c_tg @ np.linalg.solve(c_gg, c_tg))

    return 0.5 * float(np.log(cond_var(target[1:] + past) / cond_var(past + source)))


def var1(n: int, a: Any = ((0.5, 0.0), (0.4, 0.5)), noise: Any = ((1.0, 0.0), (0.0, 1.0)),
         seed: int = 0) -> VarData:
    """n steps of a stationary VAR(1) (the default: X drives Y, nothing back, so TE(Y→X) = 0).
    The first row is drawn from the stationary law, so there is no burn-in to discard."""
    import pandas as pd

    _check_n(n)
    a_ = np.asarray(a, dtype=float)
    s_ = np.asarray(noise, dtype=float)
    if np.max(np.abs(np.linalg.eigvals(a_))) >= 1:
        raise ValueError("the VAR(1) matrix must have every eigenvalue inside the unit circle")
    rng = np.random.default_rng(seed)
    g0 = var_autocov(a_, s_, 0)[0]
    z = np.empty((n, 2))
    z[0] = rng.multivariate_normal(np.zeros(2), g0)
    e = rng.multivariate_normal(np.zeros(2), s_, size=n)
    for t in range(1, n):
        z[t] = a_ @ z[t - 1] + e[t]
    frame = pd.DataFrame({"t": np.arange(n), "x": z[:, 0], "y": z[:, 1]})
    return VarData(frame, a_, s_, f"VAR(1) A={a_.tolist()}")
