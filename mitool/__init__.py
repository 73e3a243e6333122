"""mitool: mutual-information estimation (neural and k-NN) and Invariant Information Clustering.

Heavy libraries (torch, pandas, scikit-learn) are imported lazily, inside the functions that
need them, so ``import mitool`` and ``mitool --help`` stay fast.

``mitool.estimate(...)`` and ``mitool.pairs(...)`` are the table APIs; image clustering is
``from mitool.cluster import cluster``.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "estimate", "pairs"]


def __getattr__(name: str) -> Any:  # PEP 562 lazy exports
    if name == "estimate":
        from mitool.estimation import estimate

        return estimate
    if name == "pairs":
        from mitool.screening import pairs

        return pairs
    raise AttributeError(f"module 'mitool' has no attribute {name!r}")
