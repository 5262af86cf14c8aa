"""Shared fixtures: every test gets its own data home and fast password hashing
(:mod:`fieldcollect.testing.passwords`); the browser tests get ``browser``
(:mod:`fieldcollect.testing.browser`).

The whole run uses a temporary data home set before Django's settings load, whatever
``FIELDCOLLECT_HOME`` says (``fieldcollect.core.tests.data_home``, loaded by pyproject's ``addopts``);
``fc_home`` gives one test a fresh home of its own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

DATA_HOME_PLUGIN = "fieldcollect.core.tests.data_home"
# the real-browser fixture and helpers, and fast password hashing, for every app's tests
pytest_plugins = ["fieldcollect.testing.browser", "fieldcollect.testing.passwords"]


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin(DATA_HOME_PLUGIN):
        raise pytest.UsageError(
            f"the tests need the plugin {DATA_HOME_PLUGIN} (a temporary FIELDCOLLECT_HOME, set before Django's "
            f"settings load); it is in pyproject's addopts: run `pytest -p {DATA_HOME_PLUGIN} ...` if you override them"
        )


@pytest.fixture
def fc_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("FIELDCOLLECT_HOME", str(home))
    return home
