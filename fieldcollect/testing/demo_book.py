"""A seeded demo book for the tests that need a bank's export, its ingest or a published nightly run
(the demo generator's files, quietly: no progress bar)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from fieldcollect.daily.cycle import CycleResult
from fieldcollect.daily.services import run_daily
from fieldcollect.demodata.generator import write_demo_portfolio
from fieldcollect.portfolio.services import ingest_export


def demo_export(folder: Path, *, n_loans: int, seed: int, as_of: date) -> Path:
    """The demo export of ``n_loans`` loans (``seed``) as of ``as_of``, written to ``folder``."""
    write_demo_portfolio(folder, n_loans=n_loans, seed=seed, as_of=as_of, progress=False)
    return folder


def publish_demo_book(folder: Path, *, n_loans: int, seed: int, as_of: date) -> CycleResult:
    """The demo export (:func:`demo_export`) ingested and the nightly cycle run and published for
    ``as_of``: its result (the portfolio pages and dashboards read the published files)."""
    ingest_export(source=demo_export(folder, n_loans=n_loans, seed=seed, as_of=as_of))
    return run_daily(as_of=as_of, progress=False)
