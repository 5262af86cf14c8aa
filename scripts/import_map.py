"""Print the import map of fieldcollect's top-level packages as a Mermaid graph (docs/architecture.md).

Drawn from the code with grimp (the graph import-linter checks): an arrow A --> B means some module of A
imports some module of B, tests and migrations left out. Run: .venv/bin/python scripts/import_map.py
"""

from __future__ import annotations

import collections

import grimp

LAYERS = [
    ("entry points", ["cli", "api"]),
    ("domain apps", ["accounts", "agencies", "allocation", "caselibrary", "cases", "complaints", "compliance",
                     "daily", "demodata", "earlywarning", "ingest", "ops", "outbox", "plans", "portfolio", "privacy",
                     "reports", "scorecards", "settlement", "visits"]),
    ("audit log", ["audit"]),
    ("core", ["core"]),
    ("pure libraries and leaves", ["analytics", "optimisation", "scoring", "home", "bootstrap"]),
]


def edges() -> dict[str, set[str]]:
    graph = grimp.build_graph("fieldcollect", exclude_type_checking_imports=True)
    out: dict[str, set[str]] = collections.defaultdict(set)
    for module in graph.modules:
        parts = module.split(".")
        if len(parts) < 2 or ".tests" in module or ".migrations" in module:
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            target = imported.split(".")
            if len(target) > 1 and target[0] == "fieldcollect" and target[1] != parts[1] and ".tests" not in imported:
                out[parts[1]].add(target[1])
    return out


def main() -> None:
    print("```mermaid")
    print("flowchart TB")
    for i, (title, members) in enumerate(LAYERS):
        print(f'  subgraph L{i}["{title}"]')
        print("    " + "\n    ".join(members))
        print("  end")
    print("  " + " --> ".join(f"L{i}" for i in range(len(LAYERS))))
    print("```")
    print()
    for source, targets in sorted(edges().items()):
        print(f"- `{source}` → " + ", ".join(f"`{t}`" for t in sorted(targets)))


if __name__ == "__main__":
    main()
