"""Units of information: mitool computes in nats; reports may ask for bits.

One place converts, so every amount in a report (the MI, its interval, null summaries,
training curves) is in the report's unit, and nothing else (counts, p-values) is touched.
"""

from __future__ import annotations

import math
from typing import Any

from mitool.errors import UsageError

UNITS = ("nats", "bits")
# keys of results/details that hold an amount of information (converted to the report's unit)
_INFO_KEYS = {
    "mi", "ci_low", "ci_high", "ceiling", "spread", "stderr", "null_mean", "null_p95",
    "null_mi", "train", "validation", "readout_mi", "bias", "statistic", "mi_raw", "dv", "nwj",
    "ci_runs", "smile", "infonce", "mi_plugin", "null_mi_raw", "ci_bias_allowance",
    "permutation_statistic", "full", "half", "shortfall", "shortfall_stderr",
}


def to_nats(value: float | None, unit: str) -> float | None:
    """The report's unit -> nats (one number)."""
    return value if unit == "nats" or value is None else value * math.log(2)


def to_unit(value: Any, unit: str) -> Any:
    """Nats -> the report's unit (bits divide by ln 2); lists convert element-wise."""
    if unit == "nats" or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [to_unit(v, unit) for v in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value / math.log(2)
    return value


def convert_result(r: Any, unit: str) -> Any:
    """``r`` (an ``EstimatorResult``) with its MI and every amount of information in ``details`` in ``unit`` (in place)."""
    if r.unit == unit:
        return r
    if r.unit != "nats":
        raise ValueError(f"can only convert from nats, not {r.unit}")
    r.mi = to_unit(r.mi, unit)
    r.details = _convert(r.details, unit)
    r.unit = unit
    return r


def _convert(obj: Any, unit: str) -> Any:
    if isinstance(obj, dict):
        return {
            k: (to_unit(v, unit) if k in _INFO_KEYS and not isinstance(v, dict) else _convert(v, unit))
            for k, v in obj.items()
        }
    if isinstance(obj, list):
        return [_convert(v, unit) for v in obj]
    return obj


def check_unit(unit: str) -> str:
    """``unit`` if mitool knows it, else a usage error naming the choices."""
    if unit not in UNITS:
        raise UsageError(f"unknown unit '{unit}'; choose nats or bits", parameter="unit")
    return unit
