"""CI gating: turn a report into pass/fail against thresholds (``--fail-below`` and friends).

A tripped gate is not an error: the report is still complete, and the CLI exits with its own
code (3, ``GATE_EXIT_CODE``) so a pipeline can tell "the data changed" from "mitool failed".
Thresholds are in the report's unit. With ``on="ci"`` the interval must lie inside the bounds:
``fail_below`` compares the interval's low end and ``fail_above`` its high end, so the gate
passes only when the data are *confidently* within the limits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mitool.errors import EstimationError, UsageError

GATE_EXIT_CODE = 3
DEFAULT_PERMUTATIONS = 200
DEFAULT_BOOTSTRAP = 200


@dataclass
class GateSpec:
    fail_below: float | None = None
    fail_above: float | None = None
    on: str = "estimate"  # estimate | ci
    fail_if_independent: float | None = None  # alpha

    @property
    def active(self) -> bool:
        return (
            self.fail_below is not None
            or self.fail_above is not None
            or self.fail_if_independent is not None
        )

    def validate(self) -> None:
        if self.on not in ("estimate", "ci"):
            raise UsageError(f"{{param}} must be 'estimate' or 'ci', not '{self.on}'",
                             parameter="on", function="GateSpec")
        if self.fail_if_independent is not None and not 0 < self.fail_if_independent < 1:
            raise UsageError("{param} takes a significance level in (0, 1), e.g. 0.05",
                             parameter="fail_if_independent", function="GateSpec")
        if (
            self.fail_below is not None
            and self.fail_above is not None
            and self.fail_below > self.fail_above
        ):
            raise UsageError("{param} is larger than --fail-above: no value could pass",
                             parameter="fail_below", function="GateSpec")


def evaluate_gate(spec: GateSpec, report: dict[str, Any]) -> dict[str, Any]:
    """Checks on the headline result of a report dict (values already in the report's unit)."""
    name = report.get("estimator")
    head = next((r for r in report["results"] if r["estimator"] == name), None)
    if head is None or head.get("mi") is None:
        raise EstimationError("no estimator produced a number, so the CI gate cannot be evaluated")
    unit = report["unit"]
    checks = []

    def value_for(bound: str) -> tuple[float, str]:
        if spec.on == "ci":
            v = head.get(bound)
            if v is None and bound == "ci_high" and head.get("ci_kind") == "lower bound only":
                raise UsageError(
                    f"--gate-on ci with --fail-above needs the interval's upper end, and "
                    f"{name}'s is a lower bound only ({head.get('ci_method', '')}); gate on "
                    "another estimator (e.g. -e gcmi or -e ksg) or use --gate-on estimate"
                )
            if v is None:
                raise EstimationError(f"{name} has no confidence interval to gate on")
            return v, f"{name} 95% CI {'low' if bound == 'ci_low' else 'high'} end"
        return head["mi"], f"{name} estimate"

    if spec.fail_below is not None:
        v, what = value_for("ci_low")
        checks.append({
            "check": "fail_below", "value": v, "threshold": spec.fail_below,
            "passed": v >= spec.fail_below,
            "message": f"{what} {v:.4g} {unit} {'>=' if v >= spec.fail_below else '<'} "
                       f"--fail-below {spec.fail_below:g}",
        })
    if spec.fail_above is not None:
        v, what = value_for("ci_high")
        checks.append({
            "check": "fail_above", "value": v, "threshold": spec.fail_above,
            "passed": v <= spec.fail_above,
            "message": f"{what} {v:.4g} {unit} {'<=' if v <= spec.fail_above else '>'} "
                       f"--fail-above {spec.fail_above:g}",
        })
    if spec.fail_if_independent is not None:
        p = head.get("p_value")
        if p is None:
            raise EstimationError(f"{name} has no permutation p-value to gate on")
        floor = head.get("p_value_floor")
        if floor is not None and floor > spec.fail_if_independent:
            perms = int(head.get("permutations") or 0)
            c = round(floor * (perms + 1), 9)  # the floor is c/(B+1)
            need = max(perms + 1, math.ceil(c / spec.fail_if_independent - 1e-9) - 1)
            raise UsageError(
                f"--fail-if-independent {spec.fail_if_independent:g} is below the smallest "
                f"p-value {name}'s test can give with {perms} permutations ({floor:.3g}"
                + (f": {len(head['fold_p_values'])} folds, each fold's p-value at least "
                   f"1/{perms + 1}, combined by Bonferroni" if head.get("fold_p_values")
                   else "") + f"), so it would always fail; use --permutations {need} or more")
        ok = p <= spec.fail_if_independent
        checks.append({
            "check": "fail_if_independent", "value": p, "threshold": spec.fail_if_independent,
            "passed": ok,
            "message": f"{name} permutation p-value {p:.3g} "
                       f"{'<=' if ok else '>'} alpha {spec.fail_if_independent:g}"
                       + ("" if ok else ": no evidence of dependence"),
        })
    return {
        "passed": all(c["passed"] for c in checks),
        "on": spec.on,
        "exit_code": 0 if all(c["passed"] for c in checks) else GATE_EXIT_CODE,
        "checks": checks,
    }
