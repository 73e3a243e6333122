"""mitool: mutual-information estimation (neural and k-NN) and Invariant Information Clustering.

Heavy libraries (torch, pandas, scikit-learn) are imported lazily, inside the functions that
need them, so ``import mitool`` and ``mitool --help`` stay fast.

- ``mitool.estimate(data, x=..., y=...)``: I(X;Y) between two sets of columns of a table.
- ``mitool.pairs(data, target=...)``: screen many columns (locally or on Ray/Dask).
- ``mitool.lagged_mi``, ``mitool.lag_scan``, ``mitool.transfer_entropy``: time series.
- ``mitool.select(data, target=..., max_features=10)``: greedy forward feature selection by
  conditional MI.
- ``mitool.sample("gaussian", n=..., mi=...)``: a dataset with analytically known MI.
- ``mitool.cluster.cluster(folder, k=10)``: IIC on a folder of images (``mitool.cluster``
  is the clustering package).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> (module, attribute); attribute None means the module itself
_EXPORTS = {
    "estimate": ("mitool.estimation", "estimate"),
    "pairs": ("mitool.screening", "pairs"),
    "lagged_mi": ("mitool.timeseries", "lagged_mi"),
    "lag_scan": ("mitool.timeseries", "lag_scan"),
    "transfer_entropy": ("mitool.timeseries", "transfer_entropy"),
    "sample": ("mitool.data.synthetic", "sample"),
    "select": ("mitool.selection", "select"),
    "cluster": ("mitool.cluster", None),
    "synthetic": ("mitool.data.synthetic", None),
    "errors": ("mitool.errors", None),
}

__all__ = ["__version__", "cluster", "errors", "estimate", "lag_scan", "lagged_mi", "pairs",
           "sample", "select", "synthetic", "transfer_entropy"]


def __getattr__(name: str) -> Any:  # PEP 562 lazy exports
    if name in _EXPORTS:
        module, attr = _EXPORTS[name]
        mod = importlib.import_module(module)
        return mod if attr is None else getattr(mod, attr)
    raise AttributeError(f"module 'mitool' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
