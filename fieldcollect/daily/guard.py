"""What the nightly cycle checks before it changes anything: the business date, and one run at a time.

* The business date may not be after today in the bank's time zone (:mod:`fieldcollect.core.bank_time`), nor after
  the data date of the newest export ingested (:func:`latest_data_date`): a cycle for a day the data
  does not describe yet would open cases at 100 % 30+, expire every placement and block later days.
* Two nightly cycles never run at once: :func:`nightly_lock` takes a PostgreSQL advisory lock on
  PostgreSQL (held by the database session, so it spans processes and machines) and an exclusive
  ``flock`` on ``$FIELDCOLLECT_HOME/daily/.lock`` on SQLite (one data home, one machine). The second
  run is refused at once, it does not wait.

:func:`fieldcollect.daily.services.run_daily` applies both; the CLI, the jobs page and the job
handler call it (the jobs page also checks the date before queueing a job).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import polars as pl
from django.db import connection
from django.db.models import Max
from django.utils.translation import gettext as _

from fieldcollect.core.bank_time import bank_time_zone_name, bank_today
from fieldcollect.core.errors import ApplicationError, ConflictError
from fieldcollect.daily.errors import DailyErrorCode
from fieldcollect.home import daily_root
from fieldcollect.ingest.store import current_version
from fieldcollect.portfolio.models import IngestBatch

# pg_advisory_lock key of the nightly cycle (a constant: every process must use the same one)
ADVISORY_KEY = 0x6663_6E69_6768_7401  # "fcnight" + 1
LOCK_FILE = ".lock"


def latest_data_date() -> date | None:
    """The data date of the newest export ingested: the latest ``IngestBatch.data_date``; for a store
    loaded before data dates were recorded, the newest payment or disbursement date in the current
    store version. ``None`` when nothing was ingested."""
    recorded = IngestBatch.objects.aggregate(d=Max("data_date"))["d"]
    if recorded is not None:
        return recorded  # type: ignore[no-any-return]
    version = current_version()
    if version is None:
        return None
    dates: list[date] = []
    for table, column in (("payments", "paid_on"), ("loans", "disbursed_on")):
        if version.table_files(table):
            newest = version.scan(table).select(pl.col(column).max()).collect().item()
            if newest is not None:
                dates.append(newest)
    return max(dates, default=None)


def business_date_check(*, as_of: date) -> None:
    """Refuse a business date after today (bank time zone) or after the data of the newest export."""
    today = bank_today()
    if as_of > today:
        raise ApplicationError(
            _("The business date %(as_of)s is after today (%(today)s, %(tz)s): the nightly cycle runs for a "
              "day that has ended. Nothing was changed.") % {"as_of": as_of, "today": today, "tz": bank_time_zone_name()},
            code=DailyErrorCode.DATE_IN_FUTURE, extra={"as_of": as_of.isoformat(), "today": today.isoformat()})
    data_date = latest_data_date()
    if data_date is not None and as_of > data_date:
        raise ApplicationError(
            _("The business date %(as_of)s is after the data date of the newest export ingested (%(data)s): "
              "ingest the export of %(as_of)s first. Nothing was changed.") % {"as_of": as_of, "data": data_date},
            code=DailyErrorCode.DATE_AFTER_DATA, extra={"as_of": as_of.isoformat(), "data_date": data_date.isoformat()})


def _already_running() -> ConflictError:
    return ConflictError(_("Another nightly cycle is running: wait for it to finish, then run this one again. "
                           "Nothing was changed."), code=DailyErrorCode.ALREADY_RUNNING)


@contextmanager
def _advisory_lock() -> Iterator[None]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_KEY])
        (locked,) = cursor.fetchone()
    if not locked:
        raise _already_running()
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_KEY])


@contextmanager
def _file_lock() -> Iterator[None]:
    fd = os.open(daily_root() / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _already_running() from None
        yield  # the lock goes with the file descriptor (and with the process, if it dies)
    finally:
        os.close(fd)


@contextmanager
def nightly_lock() -> Iterator[None]:
    """Hold the nightly cycle's lock, or raise ``ConflictError`` at once if another run holds it."""
    lock = _advisory_lock if connection.vendor == "postgresql" else _file_lock
    with lock():
        yield
