"""Nothing outside the repository: no code, test or benchmark reads a shared folder beside the
clone (a user who clones the project has none), and the data copied in is complete and unchanged."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SKIP_DIRS = {".git", ".venv", "venv", "var", "staticfiles", "node_modules", "build", "dist", "__pycache__",
             ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis"}
SCRIPTS = {"Makefile", "run", "pyproject.toml"}  # .ci/run and the build files beside the Python code

OUTSIDE = re.compile(
    r"\.\./+shared"  # ../shared
    r"|shared\W{0,4}[/\\,]\W{0,4}data"  # shared/data, "shared" / "data", "shared", "data"
    r"|\bparents?\b[^\n]{0,12}/\s*[\"']shared[\"']"  # .parent / "shared", .parents[3] / "shared"
)


def outside_references(text: str) -> list[str]:
    """Lines of ``text`` that point at a shared data folder outside the repository."""
    return [line.strip() for line in text.splitlines() if OUTSIDE.search(line)]


def _files(*, names: set[str] | None = None, suffix: str = "") -> list[Path]:
    found = []
    for root, dirs, files in os.walk(REPO):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info")
                   and not (Path(root) / d / "pyvenv.cfg").exists()]
        found += [Path(root) / f for f in files if (names is not None and f in names) or (suffix and f.endswith(suffix))]
    return sorted(found)


@pytest.mark.parametrize("line", [
    'SHARED_DATA = Path(__file__).resolve().parent.parent / "shared" / "data"',
    'SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data"',
    'return Path(__file__).resolve().parents[3] / "shared" / "data" / "vrptw"',
    'DATA = ROOT.parent / "shared" / "data" / "credit"',
    'folder = ROOT.parent / "shared"',
    "Runs every instance in ``<repo>/../shared/data/vrptw/solomon/instances``",
    "data = os.path.join(root, '..', 'shared', 'data')",
    "cat ../shared/data/README.md",
])
def test_references_outside_are_recognised(line: str) -> None:
    assert outside_references(line) == [line]


@pytest.mark.parametrize("line", [
    '"""One contact attempt by the bank or any agency (the shared contact ledger)."""',
    "# full collections (shorter pauses under load; shared pages stay shared after the fork)",
    'database of pytest-django is in memory and shared-cache in-memory SQLite is not how the product runs.',
    'world = iso.world  # the fixture, shared',
    'DATA = ROOT / "bench" / "data" / "credit"',
    '"""Drop a dead worker\'s live gauges from the shared Prometheus folder."""',
])
def test_ordinary_uses_of_the_word_are_allowed(line: str) -> None:
    assert outside_references(line) == []


def test_no_file_in_the_repository_reads_a_shared_folder_beside_it() -> None:
    files = [*_files(suffix=".py"), *_files(suffix=".sh"), *_files(names=SCRIPTS)]
    assert len(files) > 100 and Path(__file__) in files
    me = Path(__file__)
    offending = {str(f.relative_to(REPO)): refs for f in files if f != me
                 and (refs := outside_references(f.read_text(encoding="utf-8", errors="replace")))}
    assert offending == {}


def test_copied_data_is_complete_and_unchanged() -> None:
    sums = _files(names={"SHA256SUMS"})
    assert {str(s.parent.relative_to(REPO)) for s in sums} >= {
        "bench/data/credit",
        "fieldcollect/optimisation/solomon_data",
        "fieldcollect/optimisation/tests/data/solomon_solutions",
    }
    for listing in sums:
        folder = listing.parent
        listed = {}
        for line in listing.read_text().splitlines():
            digest, name = line.split(maxsplit=1)
            listed[name.removeprefix("*").removeprefix("./")] = digest
        present = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()} - {"SHA256SUMS", "README.md"}
        assert present == set(listed), folder
        assert (folder / "README.md").is_file(), f"{folder}: sources and licences go in a README.md beside the data"
        for name, digest in listed.items():
            assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, folder / name
