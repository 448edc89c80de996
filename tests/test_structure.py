"""The package's structure: no import cycles, the math apart from the estimators, old paths.

The import graph is read from the source (every ``import``, at module level or inside a
function: an import deferred into a function to dodge a cycle is still a cycle).
"""

from __future__ import annotations

import ast
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import scratchml

PACKAGE = Path(scratchml.__file__).resolve().parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that module ``name`` imports (submodules where named)."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join([*base, *([node.module] if node.module else [])])
            else:
                origin = node.module or ""
            targets = [
                f"{origin}.{alias.name}" if f"{origin}.{alias.name}" in modules else origin
                for alias in node.names
            ]
        else:
            continue
        found.update(t for t in targets if t in modules and t != name)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_package_has_no_import_cycle():
    graph = _graph()
    assert len(graph) > 50  # the walk found the package
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_math_imports_no_estimator_sweep_or_plotting():
    graph = _graph()
    forbidden = ("scratchml.estimators", "scratchml.sweep", "scratchml.viz", "scratchml.bench",
                 "scratchml._training", "scratchml.speed", "scratchml.stacks")  # fmt: skip
    for name, imported in graph.items():
        if name == "scratchml.nn" or name.startswith("scratchml.nn."):
            bad = sorted(m for m in imported if m.startswith(forbidden))
            assert not bad, f"{name} imports {bad}"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("scratchml.base", "scratchml.estimators.base"),
        ("scratchml.linear", "scratchml.estimators.linear"),
        ("scratchml.io", "scratchml.estimators.saving"),
        ("scratchml.nn.model", "scratchml.estimators.network"),
        ("scratchml.nn.estimators", "scratchml.estimators.mlp"),
    ],
)
def test_an_old_module_path_imports_with_one_warning(old, new):
    # A fresh interpreter: the warning comes once, at the first import of the old path.
    code = (
        "import importlib, warnings\n"
        "warnings.simplefilter('always')\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        f"    old = importlib.import_module({old!r})\n"
        f"    again = importlib.import_module({old!r})\n"
        f"new = importlib.import_module({new!r})\n"
        "assert old is new and again is new\n"
        "moved = [w for w in caught if issubclass(w.category, FutureWarning)]\n"
        "assert len(moved) == 1, [str(w.message) for w in caught]\n"
        f"assert {new!r} in str(moved[0].message)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_estimators_old_attribute_path_warns_once():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from scratchml.nn import MLPClassifier, MLPRegressor  # noqa: F401
        from scratchml.nn import MLPClassifier as again  # noqa: N813
    moved = [w for w in caught if "scratchml.nn.MLPClassifier moved" in str(w.message)]
    assert len(moved) <= 1  # once per process (another test may have had it first)
    assert again is scratchml.MLPClassifier


def test_the_package_ships_its_type_information():
    assert (PACKAGE / "py.typed").is_file()
