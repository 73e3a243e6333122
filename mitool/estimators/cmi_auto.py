"""``auto-cmi``: the headline of I(X;Y|Z), chosen honestly between two estimates.

Neither conditional estimator is a bound (a maximum of them would only pick the larger
error), so ``auto-cmi`` reports one of them and says which and why
(``registry.cmi_prefers_knn``): the Frenzel–Pompe k-NN CMI (``ksg-cmi``) where it is at its
best — continuous X and Y, at most ``CMI_KSG_MAX_DIMS`` joint dimensions, at least
``CMI_KSG_MIN_ROWS`` rows, no heavy ties — and the Gaussian-copula CMI (``gcmi-cmi``)
elsewhere (many conditioning columns, few rows, discrete X or Y), where k-NN undershoots.
Both run and keep their own rows; the p-value and interval are the chosen one's.
"""

from __future__ import annotations

import time

from mitool.estimators.base import EstimatorResult, PreparedData, RunOptions
from mitool.estimators.caps import apply_cap, entropy_cap
from mitool.estimators.registry import cmi_prefers_knn, run_estimator

KNN, GAUSS = "ksg-cmi", "gcmi-cmi"


def run(name: str, data: PreparedData, opts: RunOptions) -> EstimatorResult:
    """Run both components with the options as given (``mitool.estimate`` reads k-NN CMI on
    normal scores by default) and report the preferred."""
    t0 = time.perf_counter()
    comps = {n: run_estimator(n, data, opts) for n in (GAUSS, KNN)}
    cap = entropy_cap(data)
    for part in comps.values():
        apply_cap(part, cap)
    why_not_knn = cmi_prefers_knn(data)
    if why_not_knn is None and comps[KNN].mi is not None:
        chosen = KNN
        why = (f"ksg-cmi: continuous X and Y, {data.n:,} rows and few joint dimensions, "
               "where k-NN CMI is nearly unbiased; neither estimate is a bound")
    else:
        chosen = GAUSS
        why = f"gcmi-cmi: {why_not_knn or comps[KNN].reason}; neither estimate is a bound"
    head = comps[chosen]
    if head.mi is None:
        return EstimatorResult(name, None, time.perf_counter() - t0, applicable=False,
                               reason=f"{chosen}: {head.reason}")
    details = {
        "chosen": chosen, "why": why,
        "components": {n: {"mi": r.mi, "mi_raw": r.details.get("mi_raw", r.mi),
                           "seconds": r.seconds, "applicable": r.applicable,
                           "reason": r.reason, "competes": n == chosen,
                           "method": r.details.get("method")}
                       for n, r in comps.items()},
        "mi_raw": head.details.get("mi_raw", head.mi),
    }
    return EstimatorResult(name, head.mi, time.perf_counter() - t0,
                           notes=[f"auto-cmi: {why}"], warnings=list(head.warnings),
                           details=details, components=comps)
