"""The whole demo for ``fieldcollect demo``: a synthetic book (:mod:`.generator`) ingested; then, for every
business day of the period, the day of a working collections department (:mod:`.operation`: field
teams, visits, calls, promises, plans, complaints, statements, stories — through the services) and the
nightly cycle; contracts, one login per role and agency with first placements (:mod:`.setup`) on the
first day (dated a week before, their notices before outsourcing sent then), allocation runs on the following days, agency selection files (:mod:`.candidates`), and the
logins file.

The generator is a pure library; this module and :mod:`.setup`, :mod:`.operation` and
:mod:`.candidates` need Django set up (the command does it before importing them).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

from fieldcollect.allocation.services import run_allocation
from fieldcollect.daily.services import run_daily
from fieldcollect.demodata.candidates import demo_candidate_files
from fieldcollect.demodata.generator import write_demo_portfolio
from fieldcollect.demodata.operation import Department, business_days, local
from fieldcollect.demodata.setup import setup_demo_users_and_placements
from fieldcollect.earlywarning.services import early_warning_nightly
from fieldcollect.home import home_dir
from fieldcollect.portfolio.services import ingest_export

Login = tuple[str, str, str, int | None, str]
"""username, password, role, agency id (``None`` for the bank), TOTP key (bank roles; else empty)."""


@contextmanager
def _stage(name: str, times: dict[str, list[float]]) -> Iterator[None]:
    """Add the wall-clock and CPU seconds of the block to ``times[name]``."""
    started, cpu = time.perf_counter(), time.process_time()
    yield
    spent = times.setdefault(name, [0.0, 0.0])
    spent[0] += time.perf_counter() - started
    spent[1] += time.process_time() - cpu


# the first placements were made a week before the period (the department was already working): their
# notices before outsourcing went out the next morning, so the agencies' contacts start on the first day
FIRST_PLACEMENTS_DAYS_BEFORE = 7

# the early-warning list is made on the Fridays of the last weeks and on the last day (training the
# model is the slowest step of the demo: it is trained once)
EARLY_WARNING_WEEKS = 4


def build_demo(*, loans: int, seed: int, business: date, days: int, say: Callable[[str], None]) -> list[Login]:
    """Set up the demo in ``FIELDCOLLECT_HOME`` for ``days`` business days (Monday to Friday) ending on
    ``business``; ``say`` receives the progress lines and the time of each stage. Returns the logins
    (also saved by :func:`save_logins`)."""
    period = business_days(business, days)
    times: dict[str, list[float]] = {}
    dept = Department(seed=seed, next_payment_id=1, critical_at=max(2, min(11, days // 4)))
    logins: list[Login] = []
    with dept.clock.running():
        dept.at(period[0], 7, 0)
        # the export holds plaintext personal data: keep it outside the data home and delete it after ingestion
        with _stage("book", times), tempfile.TemporaryDirectory(prefix="fc-demo-export-") as tmp:
            export = Path(tmp) / "demo-export"
            counts = write_demo_portfolio(export, n_loans=loans, seed=seed, as_of=period[-1])
            dept.next_payment_id = counts["payments"] + 1
            say(ingest_export(source=export).message)
        say(f"book: {times['book'][0]:.1f} s")
        for index, day in enumerate(period):
            last = index == len(period) - 1
            if index > 0:
                with _stage("operation", times):
                    dept.play_day(day, index=index, last=last)
                with _stage("payments", times):
                    dept.ingest_payments(day, force=last)
            dept.at(day, 22, 0)
            with _stage("nightly", times):
                result = run_daily(as_of=day, progress=False, early_warning=False)
            if last or (day.weekday() == 4 and index >= len(period) - 5 * EARLY_WARNING_WEEKS):
                with _stage("early warning", times):
                    warning = early_warning_nightly(as_of=day, now=local(day, 22, 30))
                if "listed" in warning:
                    say(f"  early warning {day}: {warning['listed']} listed"
                        f"{', model trained' if warning.get('trained') else ''}")
                else:
                    say(f"  early warning {day}: {warning.get('skipped') or warning.get('error')}")
            cases = {k: v for k, v in result.summary["cases"].items() if v}
            say(f"nightly cycle {day}: {result.summary['loans']:,} loans, "
                f"30+ share {result.summary['balance_30plus_share']:.2%}, {cases}")
            dept.at(day, 23, 0)
            if index == 0:
                with _stage("setup", times):
                    # first day: contracts, one login per role and agency, first placements and assignments
                    placed_on = day - timedelta(days=FIRST_PLACEMENTS_DAYS_BEFORE)
                    logins = setup_demo_users_and_placements(as_of=day, placed_on=placed_on)
                    dept.start()
                    # the outbox of those days sent the notices; then back to tonight
                    dept.send_notices(first=placed_on + timedelta(days=1), last=day)
                    dept.at(day, 23, 0)
            else:
                with _stage("allocation", times):
                    run = run_allocation(as_of=day, holdout_share=0.1, seed=seed, apply=True)
                say(f"  allocation run {run.pk}: {run.n_placed} of {run.n_cases} open unplaced cases placed "
                    f"(holdout {run.n_holdout}, optimal: {run.certified_optimal})")
        with _stage("selection files", times):
            demo_candidate_files(as_of=period[-1], seed=seed)
    say(f"operation of {len(period)} business days ({period[0]} to {period[-1]}): {dept.summary()}")
    say("time by stage (wall / CPU): " + ", ".join(f"{k} {w:.1f} / {c:.1f} s" for k, (w, c) in times.items()))
    return logins


def save_logins(logins: list[Login]) -> Path:
    """Write the logins to ``$FIELDCOLLECT_HOME/demo_logins.tsv`` (owner-only) and return its path."""
    lines = [f"{username}\t{password}\t{role}\t{agency_id or ''}\t{totp_key}"
             for username, password, role, agency_id, totp_key in logins]
    logins_file = home_dir() / "demo_logins.tsv"
    logins_file.write_text("username\tpassword\trole\tagency_id\ttotp_key\n" + "\n".join(lines) + "\n")
    logins_file.chmod(0o600)
    return logins_file
