"""pytest plugin: every test run gets its own temporary data home, whatever the caller's environment says.

Loaded by ``-p fieldcollect.core.tests.data_home`` in pyproject's ``addopts``. pytest imports ``-p``
plugins before pytest-django loads the Django settings, and the settings read ``FIELDCOLLECT_HOME``
when they load (the SQLite file, the generated ``SECRET_KEY``). So ``FIELDCOLLECT_HOME`` is replaced
here, at import, by a new temporary folder: the Makefile exports ``FIELDCOLLECT_HOME=./var`` and
``make run`` leaves the demo there, and no test may read or write the user's data home.

Each process of a run (the controller and each pytest-xdist worker) gets its own folder; it is
deleted when that process ends. Child processes started by tests inherit it. Tests that need a
fresh home of their own still use the ``fc_home`` fixture.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

CALLER_HOME = os.environ.get("FIELDCOLLECT_HOME")
"""What the caller had exported (ignored; kept for the report header and the test)."""

TEST_HOME = Path(tempfile.mkdtemp(prefix="fc-test-home-")).resolve()
"""The data home of this test process."""

os.environ["FIELDCOLLECT_HOME"] = str(TEST_HOME)


def pytest_report_header(config: pytest.Config) -> str:
    ignored = f" (FIELDCOLLECT_HOME={CALLER_HOME} ignored)" if CALLER_HOME else ""
    return f"data home: {TEST_HOME}, temporary{ignored}"


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(TEST_HOME, ignore_errors=True)
