"""`make test` on a fresh machine: one script (scripts/ensure-system.sh) installs or starts what the
tests need, called by both `make test` and .ci/run; where it may not, it stops with the fixing command."""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "scripts" / "ensure-system.sh"


def _ensure(**env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "ENSURE_SYSTEM_CHECK_ONLY": "1", **env}  # a test installs and starts nothing
    return subprocess.run(["bash", str(SCRIPT)], env=full, capture_output=True, text=True, timeout=120)


def test_make_test_and_ci_set_up_the_machine_through_one_script() -> None:
    makefile = (REPO / "Makefile").read_text()
    prerequisites = re.search(r"^test:(.*)$", makefile, re.M)
    assert prerequisites is not None and prerequisites.group(1).split()[0] == "system"
    system = re.search(r"^system:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert system is not None and "scripts/ensure-system.sh" in system.group(1)
    ci = (REPO / ".ci" / "run").read_text()
    assert "scripts/ensure-system.sh" in ci and re.search(r"^make test$", ci, re.M)
    for text in (makefile, ci):  # the install and start logic lives in the script only
        code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
        assert "apt-get" not in code and "pg_ctlcluster" not in code and "redis-server" not in code


def test_a_missing_package_stops_at_once_with_the_command_that_fixes_it() -> None:
    run = _ensure(PYTHON="python3.99")
    assert run.returncode == 1
    assert "missing: python3.99 with venv" in run.stderr
    assert re.search(r"fix: (sudo )?apt-get install -y python3\.99 python3\.99-venv$", run.stderr, re.M)
    assert "PostgreSQL" not in run.stderr  # it stops at the first problem


def test_an_unreachable_database_names_the_fix() -> None:
    run = _ensure(PG_URL="postgres://postgres@127.0.0.1:1/test")
    assert run.returncode == 1
    assert "no PostgreSQL answers at postgres://postgres@127.0.0.1:1/test" in run.stderr
    assert "fix: make test PG_URL=postgres://USER:PASSWORD@HOST:PORT/DATABASE" in run.stderr


def test_on_a_ready_machine_it_only_checks() -> None:
    first, second = _ensure(), _ensure()
    assert first.returncode == 0, first.stderr
    assert second.stdout == first.stdout and second.stdout.startswith("ensure-system: ok (")


def test_pypdf_is_a_dev_dependency_since_a_test_reads_pdfs_with_it() -> None:
    users = [p for p in (REPO / "fieldcollect").rglob("test_*.py")
             if re.search(r"^\s*(from|import) pypdf\b", p.read_text(), re.M)]
    assert users, "no test imports pypdf any more: drop it from the dev dependencies"
    dev = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    assert any(re.match(r"pypdf\b", d) for d in dev)
