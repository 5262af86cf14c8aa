"""The whole demo for ``fieldcollect demo``: a synthetic book (:mod:`.generator`) ingested, nightly cycles,
contracts, one login per role and agency with first placements (:mod:`.setup`), allocation runs on the
following days, agency selection files (:mod:`.candidates`), and the logins file.

The generator is a pure library; this module and :mod:`.setup` and :mod:`.candidates` need Django set up
(the command does it before importing them).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from fieldcollect.allocation.services import run_allocation
from fieldcollect.daily.services import run_daily
from fieldcollect.demodata.candidates import demo_candidate_files
from fieldcollect.demodata.generator import write_demo_portfolio
from fieldcollect.demodata.setup import setup_demo_users_and_placements
from fieldcollect.home import home_dir
from fieldcollect.portfolio.services import ingest_export

Login = tuple[str, str, str, int | None, str]
"""username, password, role, agency id (``None`` for the bank), TOTP key (bank roles; else empty)."""


def build_demo(*, loans: int, seed: int, business: date, days: int, say: Callable[[str], None]) -> list[Login]:
    """Set up the demo in ``FIELDCOLLECT_HOME`` for ``days`` business days ending on ``business``; ``say``
    receives the progress lines. Returns the logins (also saved by :func:`save_logins`)."""
    # the export holds plaintext personal data: keep it outside the data home and delete it after ingestion
    with tempfile.TemporaryDirectory(prefix="fc-demo-export-") as tmp:
        export = Path(tmp) / "demo-export"
        write_demo_portfolio(export, n_loans=loans, seed=seed, as_of=business)
        say(ingest_export(source=export).message)
    logins: list[Login] = []
    for offset in range(days - 1, -1, -1):
        day = business - timedelta(days=offset)
        result = run_daily(as_of=day, progress=True)
        cases = {k: v for k, v in result.summary["cases"].items() if v}
        say(f"nightly cycle {day}: {result.summary['loans']:,} loans, "
            f"30+ share {result.summary['balance_30plus_share']:.2%}, {cases}")
        if not logins:
            # first day: contracts, one login per role and agency, first placements and assignments
            logins = setup_demo_users_and_placements(as_of=day)
        else:
            run = run_allocation(as_of=day, holdout_share=0.1, seed=seed, apply=True)
            say(f"  allocation run {run.pk}: {run.n_placed} of {run.n_cases} open unplaced cases placed "
                f"(holdout {run.n_holdout}, optimal: {run.certified_optimal})")
    demo_candidate_files(as_of=business, seed=seed)
    return logins


def save_logins(logins: list[Login]) -> Path:
    """Write the logins to ``$FIELDCOLLECT_HOME/demo_logins.tsv`` (owner-only) and return its path."""
    lines = [f"{username}\t{password}\t{role}\t{agency_id or ''}\t{totp_key}"
             for username, password, role, agency_id, totp_key in logins]
    logins_file = home_dir() / "demo_logins.tsv"
    logins_file.write_text("username\tpassword\trole\tagency_id\ttotp_key\n" + "\n".join(lines) + "\n")
    logins_file.chmod(0o600)
    return logins_file
