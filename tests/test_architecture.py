"""The import rules of docs/architecture.md, enforced by walking every module's imports.

Every ``import`` and ``from ... import`` statement counts, including the lazy ones inside
functions: a wing that imports another only at call time depends on it just the same.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mitool"

CORE = ("errors", "device", "seed", "atomic", "jsonout", "pvalues", "units", "durations",
        "normalize")
USE_CASES = ("estimation", "screening", "selection", "inference", "gate", "timeseries")

# wing -> the mitool wings it may import (itself always allowed)
ALLOWED: dict[str, set[str]] = {
    "core": {"core"},
    "data": {"core", "estimators.base"},
    "estimators": {"core"},
    "cluster": {"core"},
    "plotting": {"core", "estimators.base"},
    "use cases": {"core", "data", "estimators", "plotting", "use cases"},
    "cli": {"core", "data", "estimators", "cluster", "plotting", "use cases", "cli", "face"},
    "face": {"use cases", "cluster", "data", "core"},
}


def wing_of(module: str) -> str:
    """'mitool.estimators.ksg' -> 'estimators'; 'mitool.gate' -> 'use cases'; ..."""
    parts = module.split(".")
    assert parts[0] == "mitool", module
    if module == "mitool.__version__":  # the version string: every wing may report it
        return "core"
    if module == "mitool.__main__":  # python -m mitool runs the command line
        return "cli"
    if len(parts) == 1:
        return "face"
    top = parts[1]
    if top in CORE:
        return "core"
    if top in USE_CASES:
        return "use cases"
    return top


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def mitool_imports(path: Path) -> list[tuple[int, str]]:
    """(line, imported mitool module) for every import statement in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("mitool")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "mitool":  # from mitool import x: x is a module or a name
                found += [(node.lineno, f"mitool.{a.name}") for a in node.names]
            elif node.module.startswith("mitool."):
                found.append((node.lineno, node.module))
    return found


def allowed(importer: str, imported: str) -> bool:
    src, dst = wing_of(importer), wing_of(imported)
    if src == dst:
        return True
    permitted = ALLOWED[src]
    if dst in permitted:
        return True
    # a permission may name one module of a wing, e.g. 'estimators.base'
    return any(imported == f"mitool.{p}" or imported.startswith(f"mitool.{p}.")
               for p in permitted if "." in p)


FILES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_is_in_a_known_wing():
    wings = {wing_of(module_name(f)) for f in FILES}
    assert wings <= set(ALLOWED), wings - set(ALLOWED)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_imports_follow_the_architecture(path):
    importer = module_name(path)
    bad = [f"line {line}: {importer} imports {imported}"
           for line, imported in mitool_imports(path)
           if imported != "mitool" and not allowed(importer, imported)]
    assert not bad, "\n".join(bad)


def test_the_rule_catches_a_library_module_importing_the_cli():
    """The checker itself must be able to fail (a test that cannot fail is a defect)."""
    assert not allowed("mitool.estimators.ksg", "mitool.cli.output")
    assert not allowed("mitool.cluster.train", "mitool.cli")
    assert not allowed("mitool.data.columns", "mitool.estimation")
    assert not allowed("mitool.estimators.knn", "mitool.data.columns")
    assert not allowed("mitool.errors", "mitool.estimators.base")
    assert allowed("mitool.data.columns", "mitool.estimators.base")
    assert not allowed("mitool.data.columns", "mitool.estimators.ksg")
    assert allowed("mitool.cli.estimate", "mitool.estimation")


def _graph() -> dict[str, set[str]]:
    """module -> the mitool modules it imports (every statement, lazy ones included); an
    import of a package counts as an import of its ``__init__``."""
    known = {module_name(f) for f in FILES}
    graph: dict[str, set[str]] = {}
    for f in FILES:
        src = module_name(f)
        deps = set()
        for _, imported in mitool_imports(f):
            while imported not in known and "." in imported:  # from pkg import name
                imported = imported.rsplit(".", 1)[0]
            if imported in known and imported != src:
                deps.add(imported)
        graph[src] = deps
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle, or None (depth-first search with colours)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                return stack[stack.index(dep):] + [dep]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


# a package's face re-exports its parts; importing a part runs the face first, which is
# Python's own order, not a circle between two modules that need each other
FACES = {"mitool", "mitool.estimators", "mitool.cluster", "mitool.cli", "mitool.data",
         "mitool.estimators.neural"}


def test_the_import_graph_has_no_circle():
    graph = {m: {d for d in deps if d not in FACES} for m, deps in _graph().items()}
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_the_circle_check_can_fail():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_the_entry_points_take_config_objects():
    """mitool.estimate has at most 12 parameters: settings travel as the config objects that
    own them (TableOptions, KnnConfig, NeuralConfig, InferenceSpec, GateSpec)."""
    import inspect

    import mitool
    import mitool.cluster

    assert len(inspect.signature(mitool.estimate).parameters) <= 12
    assert len(inspect.signature(mitool.pairs).parameters) <= 15  # 15: given (issue 22)
    assert len(inspect.signature(mitool.select).parameters) <= 15
    assert len(inspect.signature(mitool.cluster.cluster).parameters) <= 12
