"""Shared types of the estimators: the prepared data they read and the result they return."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mitool.estimators.config import NeuralConfig

if TYPE_CHECKING:  # pragma: no cover - numpy stays out of CLI start-up (the registry's help)
    import numpy as np

# (done, total, fields) -> None; the CLI turns it into a Rich progress bar on stderr (or
# plain lines in a log). fields["stage"] names the work; fields["message"], when present, is
# a one-off notice for the user (e.g. how long a big job will take), printed as it comes.
ProgressCallback = Callable[[int, int, dict], None]


@dataclass
class PreparedData:
    """X and Y after column selection, type handling and missing-value removal.

    Continuous columns hold float64 values as read (estimators standardise as they need);
    discrete columns hold integer codes 0..m-1 stored as float64 (see ``*_discrete``).
    """

    x: np.ndarray  # (n, dx) float64
    y: np.ndarray  # (n, dy) float64
    x_names: list[str]
    y_names: list[str]
    x_discrete: np.ndarray  # (dx,) bool
    y_discrete: np.ndarray  # (dy,) bool
    # facts about these rows worth computing once (repeated rows, tie handling), by name;
    # a subset or a shuffle is new data with an empty memo
    memo: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)
    # the conditioning columns of I(X;Y|Z) (``--z``); None: plain I(X;Y). A Z whose every
    # column was constant is (n, 0): conditioning on it changes nothing
    z: np.ndarray | None = None  # (n, dz) float64
    z_names: list[str] = field(default_factory=list)
    z_discrete: np.ndarray | None = None  # (dz,) bool

    @property
    def n(self) -> int:
        return int(self.x.shape[0])

    @property
    def conditional(self) -> bool:
        """Whether these columns ask for I(X;Y|Z) rather than I(X;Y)."""
        return self.z is not None

    def subset(self, rows: np.ndarray) -> PreparedData:
        """The same columns on a subset (or permutation) of the rows."""
        return PreparedData(
            self.x[rows], self.y[rows], self.x_names, self.y_names, self.x_discrete,
            self.y_discrete, z=None if self.z is None else self.z[rows], z_names=self.z_names,
            z_discrete=self.z_discrete,
        )

    def with_y(self, y: np.ndarray) -> PreparedData:
        """Same X (and Z), replaced Y rows (used by permutation tests)."""
        return PreparedData(
            self.x, y, self.x_names, self.y_names, self.x_discrete, self.y_discrete,
            z=self.z, z_names=self.z_names, z_discrete=self.z_discrete,
        )

    def with_x(self, x: np.ndarray) -> PreparedData:
        """Same Y and Z, replaced X rows (the local permutation test of I(X;Y|Z))."""
        return PreparedData(
            x, self.y, self.x_names, self.y_names, self.x_discrete, self.y_discrete,
            z=self.z, z_names=self.z_names, z_discrete=self.z_discrete,
        )


@dataclass
class EstimatorResult:
    """One estimator's answer: ``mi`` in ``unit`` (estimators compute in nats; ``mitool.estimate``
    converts every amount of information, details included, to the report's unit) or None.

    ``mi`` is None exactly when the estimator does not apply (``applicable`` False, with
    ``reason``). ``details`` holds estimator-specific fields that go into the JSON as-is.
    """

    estimator: str
    mi: float | None
    seconds: float
    applicable: bool = True
    reason: str | None = None
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    unit: str = "nats"
    # estimators made of others (auto): their full results, for inference (not in the JSON)
    components: dict[str, EstimatorResult] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class RunOptions:
    """What a runner may read, in one object: a new estimator needs no new parameter
    anywhere between the CLI and its module."""

    k: int = 3  # neighbours of the k-NN estimators
    seed: int = 0
    neural: NeuralConfig = field(default_factory=NeuralConfig)
    progress: ProgressCallback | None = None
    permutations: int = 0  # neural: the critic's own null draws are taken during the run
    transform: str = "standardize"  # k-NN: standardize | copula (the neural ones read neural)
    search: str = "auto"  # ksg's neighbour search: auto | grid | kdtree | brute
    # time.perf_counter() by which a learned critic must stop training (NeuralConfig.budget,
    # set by the use case from the time left; None: no limit)
    deadline: float | None = None
