"""The nightly cycle's tests: a module's seeded demo export (its own ``export`` fixture, written once a
module with :func:`fieldcollect.testing.demo_book.demo_export`) ingested for each test."""

from __future__ import annotations

from pathlib import Path

import pytest

from fieldcollect.portfolio.services import ingest_export


@pytest.fixture
def loaded(fc_home: Path, export: Path, db: None) -> Path:
    ingest_export(source=export)
    return export
