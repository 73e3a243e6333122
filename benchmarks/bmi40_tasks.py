"""Beyond Normal's 40 tasks: families and the tune/holdout split (pure Python, no bmi).

Shared by the generator (``benchmarks/bmi40_data.py``, bench environment) and the runner
(``benchmarks/bmi40.py``, mitool's environment). The task ids are bmi 0.1.3's
(``bmi.benchmark.BENCHMARK_TASKS``), in bmi's order.

The split. Tune on the families marked ``tune``, report the ``holdout`` ones untouched.
Rule used to draw it: tasks whose samples are the same draw up to a per-column monotone map
(e.g. "Normal CDF @ Multinormal 3 × 3 (2-pair)" and "Multinormal 3 × 3 (2-pair)" at the same
seed) are *identical* after mitool's Gaussian-copula transform, so they must sit in the same
half; the generator checks this (``rank_group`` in the manifest) and so does
``tests/test_bmi40.py``. In fact no two tasks that share a base draw are split at all. Both
halves have a high-dimensional Gaussian (dense 25×25 and 50×50 / sparse 25×25), a
heavy-tailed Student-t (multi-d, dof 1–3 / 1-D, dof 1) and a dependence that is not a
Gaussian copula (swiss roll / spirals and additive uniform noise).
"""

from __future__ import annotations

# (bmi task id, family), bmi's order
TASKS: tuple[tuple[str, str], ...] = (
    ("1v1-normal-0.75", "normal-1d"),
    ("normal_cdf-1v1-normal-0.75", "transformed-1d"),
    ("1v1-additive-0.1", "additive-noise"),
    ("1v1-additive-0.75", "additive-noise"),
    ("1v1-bimodal-0.75", "bimodal-1d"),
    ("wiggly-1v1-normal-0.75", "transformed-1d"),
    ("half_cube-1v1-normal-0.75", "transformed-1d"),
    ("student-identity-1-1-1", "student-1d"),
    ("asinh-student-identity-1-1-1", "student-1d"),
    ("swissroll_x-normal_cdf-1v1-normal-0.75", "swissroll"),
    ("multinormal-dense-2-2-0.5", "multinormal-dense"),
    ("multinormal-dense-3-3-0.5", "multinormal-dense"),
    ("multinormal-dense-5-5-0.5", "multinormal-dense"),
    ("multinormal-dense-25-25-0.5", "multinormal-dense"),
    ("multinormal-dense-50-50-0.5", "multinormal-dense"),
    ("multinormal-sparse-2-2-2-2.0", "multinormal-2pair"),
    ("multinormal-sparse-3-3-2-2.0", "multinormal-2pair"),
    ("multinormal-sparse-5-5-2-2.0", "multinormal-2pair"),
    ("multinormal-sparse-25-25-2-2.0", "multinormal-2pair"),
    ("student-identity-2-2-1", "student-t"),
    ("student-identity-2-2-2", "student-t"),
    ("student-identity-3-3-2", "student-t"),
    ("student-identity-3-3-3", "student-t"),
    ("student-identity-5-5-2", "student-t"),
    ("student-identity-5-5-3", "student-t"),
    ("normal_cdf-multinormal-sparse-3-3-2-2.0", "normal-cdf-2pair"),
    ("normal_cdf-multinormal-sparse-5-5-2-2.0", "normal-cdf-2pair"),
    ("normal_cdf-multinormal-sparse-25-25-2-2.0", "normal-cdf-2pair"),
    ("half_cube-multinormal-sparse-3-3-2-2.0", "half-cube-2pair"),
    ("half_cube-multinormal-sparse-5-5-2-2.0", "half-cube-2pair"),
    ("half_cube-multinormal-sparse-25-25-2-2.0", "half-cube-2pair"),
    ("spiral-multinormal-sparse-3-3-2-2.0", "spiral"),
    ("spiral-multinormal-sparse-5-5-2-2.0", "spiral"),
    ("spiral-multinormal-sparse-25-25-2-2.0", "spiral"),
    ("spiral-normal_cdf-multinormal-sparse-3-3-2-2.0", "spiral"),
    ("spiral-normal_cdf-multinormal-sparse-5-5-2-2.0", "spiral"),
    ("spiral-normal_cdf-multinormal-sparse-25-25-2-2.0", "spiral"),
    ("asinh-student-identity-2-2-1", "asinh-student"),
    ("asinh-student-identity-3-3-2", "asinh-student"),
    ("asinh-student-identity-5-5-2", "asinh-student"),
)

# family -> (split, what it tests)
FAMILIES: dict[str, tuple[str, str]] = {
    "normal-1d": ("tune", "bivariate normal, rho 0.75"),
    "transformed-1d": ("tune", "normal CDF, wiggly, half-cube maps of the bivariate normal"),
    "bimodal-1d": ("tune", "bivariate normal pushed to bimodal Gaussian-mixture marginals"),
    "swissroll": ("tune", "uniformised bivariate normal, X embedded as a 2-D swiss roll"),
    "multinormal-dense": ("tune", "Gaussian, all correlations 0.5: 2×2 … 50×50"),
    "student-t": ("tune", "multivariate Student-t, identity dispersion (shared scale): 2×2 … 5×5, dof 1–3"),
    "asinh-student": ("tune", "asinh of the Student-t tasks 2×2 dof 1, 3×3 dof 2, 5×5 dof 2"),
    "additive-noise": ("holdout", "X ~ U(0,1), Y = X + U(−ε, ε), ε = 0.1 and 0.75"),
    "student-1d": ("holdout", "Student-t 1×1 dof 1 (Cauchy-like) and its asinh"),
    "multinormal-2pair": ("holdout", "Gaussian, 2 interacting pairs (bmi's 'sparse'): 2×2 … 25×25"),
    "normal-cdf-2pair": ("holdout", "normal CDF of the 2-pair Gaussians 3×3, 5×5, 25×25"),
    "half-cube-2pair": ("holdout", "half-cube map of the 2-pair Gaussians 3×3, 5×5, 25×25"),
    "spiral": ("holdout", "spiral rotation of the 2-pair Gaussians (and of their normal CDF)"),
}

SPLITS = ("tune", "holdout", "all")

# Tasks built (in bmi's task_list.py) on the same base sampler: at one seed their samples are
# functions of the same draw. Those marked with a per-column monotone map are identical after
# a rank (copula) transform; the generator confirms it from the ranks (``rank_group``). A
# group must not straddle the split.
SAME_DRAW: tuple[tuple[str, ...], ...] = (
    ("1v1-normal-0.75", "normal_cdf-1v1-normal-0.75", "1v1-bimodal-0.75",
     "wiggly-1v1-normal-0.75", "half_cube-1v1-normal-0.75",
     "swissroll_x-normal_cdf-1v1-normal-0.75"),
    ("student-identity-1-1-1", "asinh-student-identity-1-1-1"),
    ("student-identity-2-2-1", "asinh-student-identity-2-2-1"),
    ("student-identity-3-3-2", "asinh-student-identity-3-3-2"),
    ("student-identity-5-5-2", "asinh-student-identity-5-5-2"),
) + tuple(
    (f"multinormal-sparse-{d}-{d}-2-2.0", f"normal_cdf-multinormal-sparse-{d}-{d}-2-2.0",
     f"half_cube-multinormal-sparse-{d}-{d}-2-2.0", f"spiral-multinormal-sparse-{d}-{d}-2-2.0",
     f"spiral-normal_cdf-multinormal-sparse-{d}-{d}-2-2.0")
    for d in (3, 5, 25)
)

TASK_FAMILY: dict[str, str] = dict(TASKS)


def family_of(task_id: str) -> str:
    """The family of a bmi task id; KeyError for a task this table does not know."""
    return TASK_FAMILY[task_id]


def same_draw(task_id: str) -> tuple[str, ...]:
    """The tasks sharing ``task_id``'s base draw (itself alone if none)."""
    return next((g for g in SAME_DRAW if task_id in g), (task_id,))


def split_of(family: str) -> str:
    """'tune' or 'holdout' for a family; 'unassigned' for a family this table does not know."""
    return FAMILIES.get(family, ("unassigned", ""))[0]
