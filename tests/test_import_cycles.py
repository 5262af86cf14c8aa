"""No import cycles between fieldcollect's modules (issue 18): a module never imports, directly or
through others, a module that imports it back. Imports inside functions count (grimp reads every
import statement of a file, not only the module-level ones); imports under ``if TYPE_CHECKING:`` do
not (they never run). The layers themselves are import-linter contracts in pyproject.toml
(`lint-imports`, part of `make lint`)."""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Callable, Iterable
from pathlib import Path

import grimp
import pytest


def import_cycles(modules: Iterable[str], imported_by: Callable[[str], Iterable[str]]) -> list[list[str]]:
    """The import cycles of a graph: its strongly connected components of more than one module, and
    modules importing themselves (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for root in sorted(modules):
        if root in index:
            continue
        work: list[tuple[str, list[str]]] = [(root, sorted(imported_by(root)))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, todo = work[-1]
            if todo:
                nxt = todo.pop()
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, sorted(imported_by(nxt))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in imported_by(node):
                    cycles.append(sorted(component))
    return sorted(cycles)


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("fieldcollect", exclude_type_checking_imports=True, cache_dir=None)


def _describe(graph: grimp.ImportGraph, cycle: list[str]) -> str:
    members = set(cycle)
    lines = [" <-> ".join(cycle)]
    for importer in cycle:
        for imported in sorted(set(graph.find_modules_directly_imported_by(importer)) & members):
            where = [d["line_number"] for d in graph.get_import_details(importer=importer, imported=imported)]
            lines.append(f"    {importer} -> {imported} (line {', '.join(map(str, where))})")
    return "\n".join(lines)


def test_no_import_cycle_between_fieldcollect_modules(graph: grimp.ImportGraph) -> None:
    cycles = import_cycles(graph.modules, graph.find_modules_directly_imported_by)
    assert not cycles, "import cycles:\n" + "\n".join(_describe(graph, c) for c in cycles)


def test_imports_inside_functions_are_in_the_graph(graph: grimp.ImportGraph) -> None:
    # `fieldcollect demo` imports the nightly cycle inside the command function (after Django's set-up):
    # such an import must count, or a cycle hidden in a function body would pass
    details = graph.get_import_details(importer="fieldcollect.cli", imported="fieldcollect.daily.services")
    origin = importlib.util.find_spec("fieldcollect.cli").origin  # type: ignore[union-attr]
    lines = Path(str(origin)).read_text().splitlines()
    assert details and all(lines[d["line_number"] - 1].startswith("    from ") for d in details)


def test_the_cycle_finder_finds_cycles_and_only_cycles() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a", "e"}, "e": set(), "f": {"f"}, "g": {"h"}, "h": set()}
    assert import_cycles(edges, edges.__getitem__) == [["a", "b", "c"], ["f"]]
    acyclic = {"a": {"b", "c"}, "b": {"c"}, "c": set()}
    assert import_cycles(acyclic, acyclic.__getitem__) == []


# Imports of fieldcollect modules inside a function are allowed only where they defer work, never to
# dodge a cycle: in command modules (Typer's, and the file spark-submit runs: Django models import after
# `bootstrap.setup_django()`), in
# `AppConfig.ready`, and of the heavy libraries (LightGBM/scikit-learn, OR-Tools/PyVRP, Spark, static
# chart rendering) so that a page or command that does not use them does not pay for loading them.
DEFERRED_TARGETS = ("fieldcollect.scoring", "fieldcollect.optimisation", "fieldcollect.daily.spark_engine",
                    "fieldcollect.reports.static_charts")
# still inside functions, each moved by another change of issue 18 (empty: every one has moved)
PENDING: set[tuple[str, str]] = set()


def _function_level_imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for fn in ast.walk(ast.parse(path.read_text())):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(fn):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            found += [(node.lineno, n) for n in names if n.startswith("fieldcollect")]
    return found


def test_imports_inside_functions_only_defer_work() -> None:
    root = Path(__file__).resolve().parent.parent
    wrong = []
    for path in sorted((root / "fieldcollect").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        # command modules: cli.py, *_cli.py and daily/spark_submit.py (the file spark-submit runs)
        if "/tests/" in rel or "/migrations/" in rel or path.name in {"cli.py", "apps.py", "spark_submit.py"} \
                or path.name.endswith("_cli.py"):
            continue
        for line, module in _function_level_imports(path):
            if module.startswith(DEFERRED_TARGETS) or (rel, module) in PENDING:
                continue
            wrong.append(f"{rel}:{line} imports {module} inside a function")
    assert not wrong, "\n".join(wrong)
