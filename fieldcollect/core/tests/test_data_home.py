"""Tests never touch the user's data home: the run has its own temporary FIELDCOLLECT_HOME, set
before Django's settings load, whatever the caller exported (``make run`` leaves a demo in ./var
and the Makefile exports FIELDCOLLECT_HOME=./var)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from fieldcollect.core.tests import data_home
from fieldcollect.home import home_dir

REPO = Path(__file__).resolve().parents[3]


def test_the_run_uses_a_temporary_data_home() -> None:
    home = data_home.TEST_HOME
    assert os.environ["FIELDCOLLECT_HOME"] == str(home)
    assert home_dir() == home
    assert not home.is_relative_to(REPO)
    assert data_home.CALLER_HOME is None or Path(data_home.CALLER_HOME).resolve() != home
    if not os.environ.get("SECRET_KEY"):
        # the settings loaded with this home: they generated their key into it, not into the caller's
        assert (home / "keys" / "django_secret_key").read_text().strip() == settings.SECRET_KEY


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b"<dir>" for p in folder.rglob("*")}


def test_a_run_leaves_the_callers_data_home_alone(tmp_path) -> None:
    caller = tmp_path / "var"
    (caller / "store").mkdir(parents=True)
    (caller / "store" / "CURRENT").write_text("v1\n")  # as a demo store left by `make run`
    before = _tree(caller)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.pop("SECRET_KEY", None)
    env.pop("DATABASE_URL", None)
    env["FIELDCOLLECT_HOME"] = str(caller)
    test = f"{Path(__file__).relative_to(REPO)}::test_the_run_uses_a_temporary_data_home"
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:xdist", test], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"FIELDCOLLECT_HOME={caller} ignored" in run.stdout
    assert _tree(caller) == before
