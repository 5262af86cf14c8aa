"""The nightly cycle as a service: compute and publish the day, then open, update and close cases.

Case sync rules (for business date ``as_of``):

* a loan with dpd ≥ 1 and no open case gets a new case (status ``new``, opened on ``as_of``);
* every open case gets the day's dpd, bucket, overdue and outstanding amounts;
* an open case whose loan is back to dpd 0 is closed: ``paid`` when the loan is fully repaid,
  otherwise ``cured``.

Cases are synced only when ``as_of`` is not older than the newest synced day, so re-running a past
date reproduces its files without rolling the cases back.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, cast

import polars as pl
from django.db import connection, transaction

from fieldcollect.cases.services import (
    placements_end_for_closed_cases,
    placements_expire,
    placements_recall_for_ended_contracts,
)
from fieldcollect.complaints.services import complaints_after_nightly
from fieldcollect.core.audit import audit_log
from fieldcollect.core.models import User
from fieldcollect.daily.cycle import CycleResult, run_cycle
from fieldcollect.daily.guard import business_date_check, nightly_lock
from fieldcollect.earlywarning.services import early_warning_nightly
from fieldcollect.ingest.store import require_current
from fieldcollect.plans.services import plans_after_nightly
from fieldcollect.portfolio.models import DailyRun
from fieldcollect.portfolio.services import bulk_upsert
from fieldcollect.privacy.services import revocations_after_cycle

LOAN_COLUMNS = ("loan_id", "customer_id", "product", "principal_fen", "annual_rate", "term_months", "method",
                "disbursed_on", "jurisdiction")


def _executemany(sql: str, rows: list[tuple[Any, ...]], chunk: int = 5_000) -> None:
    with connection.cursor() as cursor:
        for i in range(0, len(rows), chunk):
            cursor.executemany(sql, rows[i: i + chunk])


def sync_cases(*, per_loan: pl.DataFrame, as_of: date, actor: User | None = None) -> dict[str, int]:
    """Open, update and close cases from the day's per-loan status. Call inside a transaction."""
    from decimal import Decimal

    with connection.cursor() as cursor:
        cursor.execute("SELECT loan_id FROM cases_case WHERE closed_on IS NULL")
        open_loans = {r[0] for r in cursor.fetchall()}
    delinquent = per_loan.filter(pl.col("dpd") >= 1)
    relevant_ids = set(delinquent["loan_id"].to_list()) | open_loans
    status = per_loan.filter(pl.col("loan_id").is_in(list(relevant_ids)))
    # make sure the loans exist in the database (customers were loaded at ingestion)
    version = require_current()
    new_loan_ids = set(delinquent["loan_id"].to_list()) - open_loans
    if new_loan_ids:
        loans = (version.scan("loans").filter(pl.col("loan_id").is_in(list(new_loan_ids)))
                 .select("loan_id", "customer_id", "product", "principal_fen", "annual_rate", "term_months",
                         "method", "disbursed_on").collect())
        bulk_upsert(table="portfolio_loan", columns=LOAN_COLUMNS, pk="loan_id", rows=(
            (r[0], r[1], r[2], r[3], Decimal(str(round(r[4], 4))), r[5], r[6], r[7], "CN") for r in loans.iter_rows()))
    rows = status.select("loan_id", "dpd", "bucket", "overdue_fen", "outstanding_principal_fen", "settled").rows()
    now = datetime.now(UTC)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS fc_cycle_status")
        cursor.execute(
            "CREATE TEMPORARY TABLE fc_cycle_status (loan_id BIGINT PRIMARY KEY, dpd INTEGER, bucket VARCHAR(8), "
            "overdue_fen BIGINT, outstanding_principal_fen BIGINT, settled BOOLEAN)")
    _executemany("INSERT INTO fc_cycle_status VALUES (%s, %s, %s, %s, %s, %s)", rows)
    counts: dict[str, int] = {}
    with connection.cursor() as cursor:
        # open new cases
        cursor.execute(
            """
            INSERT INTO cases_case (loan_id, customer_id, status, close_reason, opened_on, closed_on, dpd, max_dpd,
                                    bucket, overdue_fen, outstanding_principal_fen, city, last_cycle_on, version,
                                    updated_at)
            SELECT s.loan_id, l.customer_id, 'new', '', %s, NULL, s.dpd, s.dpd, s.bucket, s.overdue_fen,
                   s.outstanding_principal_fen, c.city, %s, 1, %s
            FROM fc_cycle_status s
            JOIN portfolio_loan l ON l.loan_id = s.loan_id
            JOIN portfolio_customer c ON c.customer_id = l.customer_id
            WHERE s.dpd >= 1 AND NOT EXISTS (
                SELECT 1 FROM cases_case k WHERE k.loan_id = s.loan_id AND k.closed_on IS NULL)
            """,
            [as_of, as_of, now],
        )
        counts["opened"] = cursor.rowcount
        # close cured or repaid cases
        cursor.execute(
            """
            UPDATE cases_case SET status = 'closed', closed_on = %s, last_cycle_on = %s, updated_at = %s,
                close_reason = CASE WHEN (SELECT s.settled FROM fc_cycle_status s WHERE s.loan_id = cases_case.loan_id)
                                    THEN 'paid' ELSE 'cured' END,
                dpd = 0, bucket = 'M0', overdue_fen = 0,
                outstanding_principal_fen = (SELECT s.outstanding_principal_fen FROM fc_cycle_status s
                                             WHERE s.loan_id = cases_case.loan_id),
                version = version + 1
            WHERE closed_on IS NULL AND EXISTS (
                SELECT 1 FROM fc_cycle_status s WHERE s.loan_id = cases_case.loan_id AND s.dpd = 0)
            """,
            [as_of, as_of, now],
        )
        counts["closed"] = cursor.rowcount
        # refresh the collection data of the other open cases
        cursor.execute(
            """
            UPDATE cases_case SET
                dpd = s.dpd, bucket = s.bucket, overdue_fen = s.overdue_fen,
                outstanding_principal_fen = s.outstanding_principal_fen,
                max_dpd = CASE WHEN s.dpd > cases_case.max_dpd THEN s.dpd ELSE cases_case.max_dpd END,
                last_cycle_on = %s, updated_at = %s
            FROM fc_cycle_status s
            WHERE s.loan_id = cases_case.loan_id AND cases_case.closed_on IS NULL AND cases_case.opened_on < %s
            """,
            [as_of, now, as_of],
        )
        counts["updated"] = cursor.rowcount
        cursor.execute("DROP TABLE fc_cycle_status")
    audit_log(actor=actor, action="cases.nightly_sync", object_type="DailyRun", object_id=as_of.isoformat(),
              new=counts)
    return counts


def record_case_payments(*, as_of: date) -> int:
    """Record in the database the store's payments (paid_on <= as_of) of loans whose case was open
    on their date, attributed to the placement covering that day (see ``settlement.attribution``).
    Idempotent: each store payment is recorded once (reference ``store:<payment_id>``)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, loan_id, opened_on, closed_on FROM cases_case WHERE closed_on IS NULL OR closed_on = %s",
            [as_of])
        cases = cursor.fetchall()
    if not cases:
        return 0
    frame = pl.DataFrame(cases, schema={"case_id": pl.Int64, "loan_id": pl.Int64, "opened_on": pl.Date,
                                        "closed_on": pl.Date}, orient="row")
    version = require_current()
    pays = (version.scan("payments")
            .filter(pl.col("loan_id").is_in(frame["loan_id"].implode()) & (pl.col("paid_on") <= as_of))
            .collect())
    rows = (pays.join(frame, on="loan_id")
            .filter((pl.col("paid_on") >= pl.col("opened_on"))
                    & (pl.col("closed_on").is_null() | (pl.col("paid_on") <= pl.col("closed_on"))))
            .select("loan_id", "case_id", "paid_on", "amount_fen",
                    pl.format("store:{}", "payment_id").alias("reference")))
    if rows.height == 0:
        return 0
    now = datetime.now(UTC)
    with connection.cursor() as cursor:
        cursor.execute("SELECT reference FROM cases_payment WHERE reference LIKE 'store:%%' AND paid_on >= %s",
                       [cast(date, rows["paid_on"].min())])
        known = {r[0] for r in cursor.fetchall()}
    new_rows = [(*r, "bank_transfer", now) for r in rows.iter_rows() if r[4] not in known]
    _executemany(
        "INSERT INTO cases_payment (loan_id, case_id, paid_on, amount_fen, reference, channel, created_at) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s)", new_rows)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE cases_payment SET placement_id = (
                SELECT p.id FROM cases_placement p
                WHERE p.case_id = cases_payment.case_id AND p.starts_on <= cases_payment.paid_on
                  AND cases_payment.paid_on <= CASE WHEN p.status = 'recalled' AND p.recalled_on IS NOT NULL
                                                         AND p.recalled_on < p.ends_on
                                                    THEN p.recalled_on ELSE p.ends_on END
                ORDER BY p.starts_on ASC, p.id ASC LIMIT 1)
            WHERE placement_id IS NULL AND reference LIKE 'store:%%' AND paid_on <= %s
            """,
            [as_of],
        )
    return len(new_rows)


def after_cycle(*, as_of: date) -> dict[str, int]:
    """Case management after the cycle: payments recorded and attributed, placements of closed cases
    ended, expired placements recalled, offers expired, plans watched, promises decided (with grace)."""
    counts = {"payments_recorded": record_case_payments(as_of=as_of),
              "placements_ended_closed": placements_end_for_closed_cases(as_of=as_of),
              "placements_expired": placements_expire(as_of=as_of)}
    counts |= plans_after_nightly(as_of=as_of)
    counts |= complaints_after_nightly(as_of=as_of)
    counts["placements_recalled_contract_ended"] = placements_recall_for_ended_contracts(as_of=as_of)
    counts |= revocations_after_cycle(as_of=as_of)
    return counts


def run_daily(*, as_of: date, engine: str = "local", spark_master: str | None = None, actor: User | None = None,
              progress: bool = True, sync: bool = True, fail_after: str | None = None) -> CycleResult:
    """Run and publish the nightly cycle for ``as_of``; sync cases unless the date is in the past.

    Refused (``ApplicationError``, nothing changed) for a business date after today or after the data
    of the newest export, and while another nightly cycle runs (see :mod:`fieldcollect.daily.guard`)."""
    with nightly_lock():
        business_date_check(as_of=as_of)
        return _run_daily(as_of=as_of, engine=engine, spark_master=spark_master, actor=actor, progress=progress,
                          sync=sync, fail_after=fail_after)


def _run_daily(*, as_of: date, engine: str, spark_master: str | None, actor: User | None, progress: bool,
               sync: bool, fail_after: str | None) -> CycleResult:
    started = datetime.now(UTC)
    result = run_cycle(as_of=as_of, engine=engine, spark_master=spark_master, progress=progress,
                       fail_after=fail_after, keep_per_loan=True)
    newest = DailyRun.objects.filter(cases_synced=True).order_by("-as_of").first()
    do_sync = sync and (newest is None or as_of >= newest.as_of)
    assert result.per_loan is not None
    with transaction.atomic():
        counts: dict[str, int] = {}
        if do_sync:
            counts = sync_cases(per_loan=result.per_loan, as_of=as_of, actor=actor)
            counts |= after_cycle(as_of=as_of)
        summary = {k: v for k, v in result.summary.items() if k != "timings"} | {"cases": counts}
        DailyRun.objects.create(as_of=as_of, run_id=result.run_id, engine=engine, store_version=result.store_version,
                                started_at=started, finished_at=datetime.now(UTC), cases_synced=do_sync,
                                summary=summary)
        audit_log(actor=actor, action="daily.publish", object_type="DailyRun", object_id=result.run_id,
                  new={"as_of": as_of.isoformat(), "engine": engine, "cases": counts})
    result.summary["cases"] = counts
    if do_sync:  # outside the cases' transaction: training the model can take a while
        result.summary["early_warning"] = early_warning_nightly(as_of=as_of, actor=actor)
    result.per_loan = None
    return result
