"""``auto``: the headline a user gets by default, combined from estimators that fail differently.

The rule (benchmarked in docs/benchmarks.md, bmi 40 tasks):

- two discrete sides: the contingency-table MI with NSB entropies (``ksg``);
- otherwise the largest of
  * the learned critic's held-out bound (``gbm``, a boosted classifier with copula and
    mixture critics blended in): a lower bound on the truth up to its standard error,
    whatever the dependence (the neural ``smile`` held this place before issue 24: it
    reached the same answers more slowly, and is one flag away);
  * ``gcmi``: exact for Gaussian-copula dependence at any dimension, a lower bound for one
    continuous column against another, blind to dependence that is not linear in the
    normal scores;
  * ``gcmi-rot`` (continuous columns, a side with ≥ 2 of them): gcmi after a learned
    rotation of each side whose angle depends on the side's radius, read on rows the fit
    never saw; it sees dependence that such a map hides from every other component (the bmi
    spirals) and on Gaussian sides it cannot exceed the truth;
  * ``ksg`` up to ``registry.AUTO_KSG_DIMS`` joint dimensions, where its bias is small; beyond, it
    undershoots and costs more than it adds.

Each of them tends to *undershoot* where it fails (a bound below the truth, a Gaussian view
that misses a nonlinear dependence, k-NN's downward bias in dimension), so the largest is the
least wrong. Which estimators are components, and in what order, is in the registry
(``auto_rank``, ``in_auto``). The report keeps every component, says which one supplied the headline, and
warns when they disagree by more than their uncertainty.

Compute goes where it can change the answer: a component whose registry rule
(``worth_running``) says the cheap evidence leaves it nothing to add is skipped and the
report says why (the learned critic on one column against one where ksg competes).

p-value (``--permutations``): the competing components re-estimated on the same shuffles
are tested together by Westfall-Young's min-p; a component with its own test (the learned
critic, gcmi-rot) is combined with them by a weighted Bonferroni (``mitool.inference``).
"""

from __future__ import annotations

import dataclasses
import time

from mitool.estimators.base import EstimatorResult, PreparedData, RunOptions
from mitool.estimators.caps import apply_cap, entropy_cap
from mitool.estimators.registry import (
    auto_components,
    auto_skipped,
    get,
    learned,
    run_estimator,
)

DISAGREE_NATS = 0.1  # components further apart than this and their uncertainty: a warning


def _model_holds_up(gcmi: EstimatorResult, bound: EstimatorResult,
                    data: PreparedData) -> bool:
    """Whether gcmi's Gaussian model holds up on rows it was not fitted to: its held-out
    DV bound (gcmi-bound) falls short of it by no more than fitting a Gaussian critic costs,
    about dx*dy/(2 n_fit) nats (the held-out loss of the dx*dy estimated cross terms), so
    the copula behaves as a Gaussian one, where gcmi is exact. Where the model is wrong
    (derived columns, a label against features) the bound falls far below and gcmi stays
    out of the maximum; on bmi's 25x25 Gaussians the shortfall is the fitting cost."""
    if not bound.details.get("dims") or data.n < VOUCH_MIN_ROWS:
        return False
    estimate = float(gcmi.details.get("mi_raw", gcmi.mi))
    spread = float(bound.details.get("spread", 0.0))
    if spread > VOUCH_MAX_SPREAD_SHARE * abs(estimate) + VOUCH_MAX_SPREAD_NATS:
        # halves that disagree (0.39 and -6.90 nats on gauss-sq-cube, seed 2) make an
        # unstable bound, which vouches for nothing: its spread would excuse any gap
        return False
    dx, dy = bound.details["dims"]
    n_fit = data.n // 2
    allowance = 1.5 * dx * dy / (2.0 * n_fit) + 2.0 * spread + COPULA_SLACK
    return estimate - float(bound.details["mi_raw"]) <= allowance


COPULA_SLACK = 0.01  # nats beyond the fitting cost that the check forgives
# a bound whose two halves differ by more than this (share of gcmi's value plus nats) is
# too unstable to vouch (benchmarks/overshoot.py: gauss-sq-cube over 20 seeds)
VOUCH_MAX_SPREAD_SHARE = 0.1
VOUCH_MAX_SPREAD_NATS = 0.05
# below this many rows the bound's own noise (178 rows: halves 0.15 apart) makes the check
# too weak to vouch for anything
VOUCH_MIN_ROWS = 500


def component_options(opts: RunOptions) -> RunOptions:
    """The options auto's components run with: the user's, k-NN on plain standardized
    columns (the reference KSG; ``--transform`` applies to ksg's own row)."""
    return dataclasses.replace(opts, transform="standardize")


def run(name: str, data: PreparedData, opts: RunOptions) -> EstimatorResult:
    """The ``auto`` estimator: runs its components and reports the largest (see module).

    The components and their order come from the registry (``auto_components``); each runs
    with the user's settings, except k-NN ones on the plain (standardized) transform, as
    ``auto`` always did."""
    t0 = time.perf_counter()
    both_discrete = bool(data.x_discrete.all() and data.y_discrete.all())
    names = auto_components(data)
    skipped = auto_skipped(data)
    comps: dict[str, EstimatorResult] = {}
    # the cheap components first: under a time budget the learned critic trains in what
    # they leave (the report keeps the registry's order)
    for part in sorted(names, key=lambda n: n in learned()):
        comps[part] = run_estimator(part, data, component_options(opts))
    comps = {n: comps[n] for n in names}
    cap = entropy_cap(data)
    for part in comps.values():
        apply_cap(part, cap)
    usable = {n: r for n, r in comps.items() if r.applicable and r.mi is not None}
    if not usable:
        why = "; ".join(f"{n}: {r.reason}" for n, r in comps.items())
        return EstimatorResult("auto", None, time.perf_counter() - t0, applicable=False,
                               reason=f"no component applies ({why})")
    # only numbers that cannot overshoot compete for the maximum (the registry's rule)
    benched = {n: get(n).competes(data) for n in usable if get(n).competes is not None}
    benched = {n: why for n, why in benched.items() if why}
    for n in list(benched):  # a held-out bound of the same model may vouch for it
        check = get(n).checked_by
        if check in usable and _model_holds_up(usable[n], usable[check], data):
            del benched[n]
    competing = {n: r for n, r in usable.items() if n not in benched} or usable
    chosen = max(competing, key=lambda n: competing[n].mi)
    head = usable[chosen]
    ranking = sorted(competing, key=lambda n: -competing[n].mi)
    if both_discrete:
        why = "two discrete sides: the bias-corrected contingency-table MI"
    else:
        why = "largest of " + " > ".join(f"{n} {usable[n].mi:.3f}" for n in ranking) + (
            " (each below the truth in expectation, or where it is an estimate, one that "
            "cannot overshoot here)")
        if benched:
            why += "; not competing: " + "; ".join(f"{n} ({w})" for n, w in benched.items())
    warnings = [w for r in comps.values() for w in r.warnings if r is head]
    spread = head.details.get("spread") or 0.0
    low = [n for n in ranking if n != chosen
           and usable[n].mi < head.mi - DISAGREE_NATS - 2 * spread]
    high = [n for n in benched if usable[n].mi > head.mi + DISAGREE_NATS + 2 * spread]
    if high:
        warnings.append(
            "reported beside the headline but not in it: "
            + ", ".join(f"{n} {usable[n].mi:.3f} ({benched[n]})" for n in high))
    if low:
        hints = [get(n).falls_short for n in low if get(n).falls_short]
        warnings.append(
            f"components disagree: {chosen} {head.mi:.3f} nats against "
            + ", ".join(f"{n} {usable[n].mi:.3f}" for n in low) + "; " + "; ".join(hints)
        )
    details: dict = {
        "chosen": chosen,
        "why": why,
        "components": {
            n: {"mi": r.mi, "mi_raw": r.details.get("mi_raw", r.mi), "seconds": r.seconds,
                "applicable": r.applicable, "reason": r.reason,
                "competes": n in competing, **({"benched": benched[n]} if n in benched else {}),
                **({"spread": r.details["spread"]} if "spread" in r.details else {}),
                **({"method": r.details.get("method") or r.details.get("bound")})}
            for n, r in comps.items()
        },
        "mi_raw": head.details.get("mi_raw", head.mi),
        "skipped": skipped,
    }
    for key in ("spread", "n_heldout", "ceiling", "near_ceiling", "curve", "folds"):
        if key in head.details:
            details[key] = head.details[key]
    notes = [f"auto: {chosen} supplied the headline; {why}"]
    notes += [f"auto: {n} skipped: {w}" for n, w in skipped.items()]
    return EstimatorResult("auto", head.mi, time.perf_counter() - t0, notes=notes,
                           warnings=warnings, details=details, components=comps)
