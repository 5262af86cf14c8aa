"""The nightly cycle as a service: compute and publish the day, then open, update and close cases.

Case sync rules (for business date ``as_of``):

* a loan with dpd ≥ 1 and no open case gets a new case (status ``new``, opened on ``as_of``);
* every open case gets the day's dpd, bucket, overdue and outstanding amounts;
* an open case whose loan is back to dpd 0 is closed: ``paid`` when the loan is fully repaid,
  otherwise ``cured`` (only from a status the lifecycle lets become ``closed``,
  :mod:`fieldcollect.cases.lifecycle`).

Cases are synced only when ``as_of`` is not older than the newest synced day, so re-running a past
date reproduces its files without rolling the cases back.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import polars as pl
from django.db import connection, transaction
from django.db.models import Q

from fieldcollect.analytics.delinquency import DEFAULT_RANGES
from fieldcollect.audit.services import audit_log
from fieldcollect.cases.lifecycle import CASE_STATE_COLUMNS, CaseStatus, CloseReason, statuses_that_may_become
from fieldcollect.cases.models import Case, Payment, Placement
from fieldcollect.cases.services import (
    placements_end_for_closed_cases,
    placements_expire,
    placements_recall_for_ended_contracts,
)
from fieldcollect.complaints.services import complaints_after_nightly
from fieldcollect.core.models import User
from fieldcollect.core.rawsql import adapt, column, copy_rows, field, table
from fieldcollect.core.timing import Timings, step
from fieldcollect.daily.cycle import CycleResult, run_cycle
from fieldcollect.daily.guard import business_date_check, nightly_lock
from fieldcollect.earlywarning.services import early_warning_nightly
from fieldcollect.ingest.store import require_current
from fieldcollect.payments.reconcile import reconcile_store_payments, reconciliation_record
from fieldcollect.plans.services import plans_after_nightly
from fieldcollect.portfolio.models import Customer, DailyRun, Loan
from fieldcollect.portfolio.services import bulk_upsert
from fieldcollect.privacy.services import revocations_after_cycle

# the loan fields written from the store when a new case needs its loan row
LOAN_FIELDS = ("loan_id", "customer", "product", "principal_fen", "annual_rate", "term_months", "method",
               "disbursed_on", "jurisdiction")
# the day's per-loan status, loaded into a temporary table the case statements read
STATUS_TABLE = "fc_cycle_status"
STATUS_COLUMNS = ("loan_id", "dpd", "bucket", "overdue_fen", "outstanding_principal_fen", "settled")
# the store's payments of open cases, loaded into a temporary table before the new ones are recorded
PAYMENTS_TABLE = "fc_cycle_payments"
_CANDIDATE_SCHEMA = {"loan_id": pl.Int64, "case_id": pl.Int64, "paid_on": pl.Date, "amount_fen": pl.Int64,
                     "reference": pl.String}
CURED_BUCKET = DEFAULT_RANGES[0].classification  # the bucket of a loan at 0 days past due
STORE_REFERENCE = "store:"  # the reference prefix of the payments recorded from the store
# the steps of run_daily, in order, as named in its result's ``timings`` (seconds each); the budget of
# each is in docs/nightly-budget.md. A run that does not sync cases (a past date) has no sync steps.
CYCLE_STEPS = ("dpd_bucket_s", "aggregates_s", "publish_s")
SYNC_STEPS = ("cases_sync_s", "payments_recorded_s", "placements_ended_closed_s", "placements_expired_s",
              "offers_expired_s", "plans_watch_s", "promises_watch_s", "complaint_sla_breaches_s",
              "feedback_requests_s", "placements_recalled_contract_ended_s", "attestations_raised_s",
              "data_sharing_purge_s")
RECORD_STEPS = ("run_record_s",)
EARLY_WARNING_STEPS = ("early_warning_s",)


def _in(values: Sequence[Any]) -> str:
    return ", ".join(["%s"] * len(values))


def sync_cases(*, per_loan: pl.DataFrame, as_of: date, actor: User | None = None) -> dict[str, int]:
    """Open, update and close cases from the day's per-loan status. Call inside a transaction."""
    open_loans = set(Case.objects.filter(closed_on__isnull=True).order_by().values_list("loan_id", flat=True))
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
        bulk_upsert(model=Loan, columns=LOAN_FIELDS, rows=(
            (r[0], r[1], r[2], r[3], Decimal(str(round(r[4], 4))), r[5], r[6], r[7], "CN") for r in loans.iter_rows()))
    counts = cases_apply_status(rows=status.select(*STATUS_COLUMNS).rows(), as_of=as_of, now=datetime.now(UTC))
    audit_log(actor=actor, action="cases.nightly_sync", object_type="DailyRun", object_id=as_of.isoformat(),
              new=counts)
    return counts


def cases_apply_status(*, rows: list[tuple[Any, ...]], as_of: date, now: datetime) -> dict[str, int]:
    """The case statements of :func:`sync_cases` (see the module docstring), from the per-loan status
    ``rows`` (:data:`STATUS_COLUMNS`): ``{"opened", "closed", "updated"}``. Tables and columns are named
    from the models, statuses and close reasons passed as parameters from the lifecycle; a case is
    closed only from a status the lifecycle lets become ``closed``. ``daily/tests/test_case_sync.py``
    holds it equal to its ORM twin."""
    case, loan, customer = table(Case), table(Loan), table(Customer)

    def c(name: str, alias: str | None = None) -> str:
        return column(Case, name, alias)

    def own(name: str) -> str:  # a column of the row being updated, outside the FROM's aliases
        return f"{case}.{c(name)}"

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STATUS_TABLE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {STATUS_TABLE} (loan_id BIGINT PRIMARY KEY, dpd INTEGER, bucket VARCHAR(8), "
            "overdue_fen BIGINT, outstanding_principal_fen BIGINT, settled BOOLEAN)")
    copy_rows(STATUS_TABLE, STATUS_COLUMNS, rows)
    if connection.vendor == "postgresql":  # a temporary table has no statistics until analysed: plan the joins on its size
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {STATUS_TABLE}")
    counts: dict[str, int] = {}
    closable = statuses_that_may_become(CaseStatus.CLOSED)
    with connection.cursor() as cursor:
        # open new cases
        opened = ("loan", "customer", "status", "close_reason", "opened_on", "closed_on", "dpd", "max_dpd", "bucket",
                  "overdue_fen", "outstanding_principal_fen", "city", "last_cycle_on", "version", "updated_at")
        cursor.execute(
            f"""
            INSERT INTO {case} ({", ".join(c(n) for n in opened)})
            SELECT s.loan_id, {column(Loan, "customer", "l")}, %s, %s, %s, NULL, s.dpd, s.dpd, s.bucket, s.overdue_fen,
                   s.outstanding_principal_fen, {column(Customer, "city", "cu")}, %s, %s, %s
            FROM {STATUS_TABLE} s
            JOIN {loan} l ON {column(Loan, "pk", "l")} = s.loan_id
            JOIN {customer} cu ON {column(Customer, "pk", "cu")} = {column(Loan, "customer", "l")}
            WHERE s.dpd >= 1 AND NOT EXISTS (
                SELECT 1 FROM {case} k WHERE {c("loan", "k")} = s.loan_id AND {c("closed_on", "k")} IS NULL)
            """,
            adapt([CaseStatus.NEW.value, "", as_of, as_of, field(Case, "version").default, now]),
        )
        counts["opened"] = cursor.rowcount
        # close cured or repaid cases: the case's state columns (CASE_STATE_COLUMNS), then its collection data
        status_of_loan = f"FROM {STATUS_TABLE} s WHERE s.loan_id = {own('loan')}"
        closing: dict[str, tuple[str, list[Any]]] = {
            "status": ("%s", [CaseStatus.CLOSED.value]),
            "close_reason": (f"CASE WHEN (SELECT s.settled {status_of_loan}) THEN %s ELSE %s END",
                             [CloseReason.PAID.value, CloseReason.CURED.value]),
            "closed_on": ("%s", [as_of]),
            "version": (f"{c('version')} + 1", []),
            "updated_at": ("%s", [now]),
        }
        state = [n for n in CASE_STATE_COLUMNS if n in closing]
        sets = [f"{c(n)} = {closing[n][0]}" for n in state]
        cursor.execute(
            f"""
            UPDATE {case} SET {", ".join(sets)}, {c("last_cycle_on")} = %s,
                {c("dpd")} = 0, {c("bucket")} = %s, {c("overdue_fen")} = 0,
                {c("outstanding_principal_fen")} = (SELECT s.outstanding_principal_fen {status_of_loan})
            WHERE {c("closed_on")} IS NULL AND {c("status")} IN ({_in(closable)}) AND EXISTS (
                SELECT 1 {status_of_loan} AND s.dpd = 0)
            """,
            adapt([*(p for n in state for p in closing[n][1]), as_of, CURED_BUCKET, *closable]),
        )
        counts["closed"] = cursor.rowcount
        # refresh the collection data of the other open cases
        cursor.execute(
            f"""
            UPDATE {case} SET
                {c("dpd")} = s.dpd, {c("bucket")} = s.bucket, {c("overdue_fen")} = s.overdue_fen,
                {c("outstanding_principal_fen")} = s.outstanding_principal_fen,
                {c("max_dpd")} = CASE WHEN s.dpd > {own("max_dpd")} THEN s.dpd ELSE {own("max_dpd")} END,
                {c("last_cycle_on")} = %s, {c("updated_at")} = %s
            FROM {STATUS_TABLE} s
            WHERE s.loan_id = {own("loan")} AND {own("closed_on")} IS NULL AND {own("opened_on")} < %s
            """,
            adapt([as_of, now, as_of]),
        )
        counts["updated"] = cursor.rowcount
        cursor.execute(f"DROP TABLE {STATUS_TABLE}")
    return counts


def record_case_payments(*, as_of: date) -> int:
    """Record in the database the store's payments (paid_on <= as_of) of loans whose case was open
    on their date, attributed to the placement covering that day (see ``settlement.attribution``).
    Idempotent: each store payment is recorded once (reference ``store:<payment_id>``).

    The payments reported the same day by the channels are reconciled first
    (:func:`fieldcollect.payments.reconcile.reconcile_store_payments`): a store payment paired with
    one is already recorded (its row took the store's reference), so it is never counted twice; the
    night's differences are kept (``payments.Reconciliation``)."""
    cases = list(Case.objects.filter(Q(closed_on__isnull=True) | Q(closed_on=as_of)).order_by()
                 .values_list("id", "loan_id", "opened_on", "closed_on"))
    if not cases:
        reconciliation_record(as_of=as_of, extra=0, counts=reconcile_store_payments(
            candidates=pl.DataFrame(schema=_CANDIDATE_SCHEMA), as_of=as_of))
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
                    pl.format(STORE_REFERENCE + "{}", "payment_id").alias("reference")))
    reconciled = reconcile_store_payments(candidates=rows, as_of=as_of)
    if rows.height == 0:
        reconciliation_record(as_of=as_of, counts=reconciled, extra=0)
        return 0
    # the candidates go into a temporary table and only those not recorded yet are inserted, in one
    # statement (the unique index on loan and non-empty reference answers each): no read of all the
    # store payments already recorded, whose number grows with the book's history
    pay = table(Payment)
    candidate = ("loan_id", "case_id", "paid_on", "amount_fen", "reference")
    written = ("loan", "case", "paid_on", "amount_fen", "reference", "channel", "created_at")
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {PAYMENTS_TABLE}")
        cursor.execute(f"CREATE TEMPORARY TABLE {PAYMENTS_TABLE} (loan_id BIGINT, case_id BIGINT, paid_on DATE, "
                       "amount_fen BIGINT, reference VARCHAR(64))")
    copy_rows(PAYMENTS_TABLE, candidate, rows.iter_rows())
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {PAYMENTS_TABLE}")
        cursor.execute(
            f"""
            INSERT INTO {pay} ({", ".join(column(Payment, n) for n in written)})
            SELECT t.loan_id, t.case_id, t.paid_on, t.amount_fen, t.reference, %s, %s FROM {PAYMENTS_TABLE} t
            WHERE NOT EXISTS (SELECT 1 FROM {pay} p
                              WHERE {column(Payment, "loan", "p")} = t.loan_id
                                AND {column(Payment, "reference", "p")} = t.reference
                                AND {column(Payment, "reference", "p")} <> '')
            """,
            adapt(["bank_transfer", datetime.now(UTC)]),
        )
        recorded = cursor.rowcount
        cursor.execute(f"DROP TABLE {PAYMENTS_TABLE}")
    reconciliation_record(as_of=as_of, counts=reconciled, extra=recorded)
    payments_attribute_placements(as_of=as_of)
    return recorded


def payments_attribute_placements(*, as_of: date) -> None:
    """Give each store payment (paid on or before ``as_of``) without a placement the placement of its
    case that covers its date, the earliest started when two do (the rule of
    :mod:`fieldcollect.settlement.attribution`; ``daily/tests/test_case_sync.py`` holds the statement to
    :func:`~fieldcollect.settlement.attribution.attribute`)."""
    pay, p = table(Payment), Placement

    def own(name: str) -> str:
        return f"{pay}.{column(Payment, name)}"

    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {pay} SET {column(Payment, "placement")} = (
                SELECT {column(p, "pk", "p")} FROM {table(p)} p
                WHERE {column(p, "case", "p")} = {own("case")} AND {column(p, "starts_on", "p")} <= {own("paid_on")}
                  AND {own("paid_on")} <= CASE WHEN {column(p, "status", "p")} = %s
                                                    AND {column(p, "recalled_on", "p")} IS NOT NULL
                                                    AND {column(p, "recalled_on", "p")} < {column(p, "ends_on", "p")}
                                               THEN {column(p, "recalled_on", "p")} ELSE {column(p, "ends_on", "p")} END
                ORDER BY {column(p, "starts_on", "p")} ASC, {column(p, "pk", "p")} ASC LIMIT 1)
            WHERE {own("placement")} IS NULL AND {own("reference")} LIKE %s AND {own("paid_on")} <= %s
            """,
            adapt([Placement.Status.RECALLED.value, STORE_REFERENCE + "%", as_of]),
        )


def after_cycle(*, as_of: date, timings: Timings | None = None) -> dict[str, int]:
    """Case management after the cycle: payments recorded and attributed, placements of closed cases
    ended, expired placements recalled, offers expired, plans watched, promises decided (with grace),
    complaint SLA breaches and feedback requests, placements of ended contracts recalled, deletion
    attestations raised, data-sharing records purged. Each step's time in ``timings`` when given."""
    counts: dict[str, int] = {}
    with step(timings, "payments_recorded_s"):
        counts["payments_recorded"] = record_case_payments(as_of=as_of)
    with step(timings, "placements_ended_closed_s"):
        counts["placements_ended_closed"] = placements_end_for_closed_cases(as_of=as_of)
    with step(timings, "placements_expired_s"):
        counts["placements_expired"] = placements_expire(as_of=as_of)
    counts |= plans_after_nightly(as_of=as_of, timings=timings)
    counts |= complaints_after_nightly(as_of=as_of, timings=timings)
    with step(timings, "placements_recalled_contract_ended_s"):
        counts["placements_recalled_contract_ended"] = placements_recall_for_ended_contracts(as_of=as_of)
    counts |= revocations_after_cycle(as_of=as_of, timings=timings)
    return counts


def run_daily(*, as_of: date, engine: str = "local", spark_master: str | None = None, actor: User | None = None,
              progress: bool = True, sync: bool = True, fail_after: str | None = None,
              early_warning: bool = True) -> CycleResult:
    """Run and publish the nightly cycle for ``as_of``; sync cases unless the date is in the past.
    ``early_warning=False`` leaves out the early-warning step (the demo runs it on chosen days only).

    Refused (``ApplicationError``, nothing changed) for a business date after today or after the data
    of the newest export, and while another nightly cycle runs (see :mod:`fieldcollect.daily.guard`)."""
    with nightly_lock():
        business_date_check(as_of=as_of)
        return _run_daily(as_of=as_of, engine=engine, spark_master=spark_master, actor=actor, progress=progress,
                          sync=sync, fail_after=fail_after, early_warning=early_warning)


def _run_daily(*, as_of: date, engine: str, spark_master: str | None, actor: User | None, progress: bool,
               sync: bool, fail_after: str | None, early_warning: bool) -> CycleResult:
    started = datetime.now(UTC)
    result = run_cycle(as_of=as_of, engine=engine, spark_master=spark_master, progress=progress,
                       fail_after=fail_after, keep_per_loan=STATUS_COLUMNS)
    timings = result.timings  # the cycle's steps so far; every later step adds its own (one entry each)
    newest = DailyRun.objects.filter(cases_synced=True).order_by("-as_of").first()
    do_sync = sync and (newest is None or as_of >= newest.as_of)
    assert result.per_loan is not None
    with transaction.atomic():
        counts: dict[str, int] = {}
        if do_sync:
            with step(timings, "cases_sync_s"):
                counts = sync_cases(per_loan=result.per_loan, as_of=as_of, actor=actor)
            counts |= after_cycle(as_of=as_of, timings=timings)
        result.per_loan = None  # every loan's row is not needed after the sync: freed before early warning
        with step(timings, "run_record_s"):
            summary = {k: v for k, v in result.summary.items() if k != "timings"} | {"cases": counts}
            run = DailyRun.objects.create(as_of=as_of, run_id=result.run_id, engine=engine,
                                          store_version=result.store_version, started_at=started,
                                          finished_at=datetime.now(UTC), cases_synced=do_sync, summary=summary)
            audit_log(actor=actor, action="daily.publish", object_type="DailyRun", object_id=result.run_id,
                      new={"as_of": as_of.isoformat(), "engine": engine, "cases": counts})
            commit = time.perf_counter()
    timings["run_record_s"] += time.perf_counter() - commit  # the commit of the cases' transaction
    result.summary["cases"] = counts
    if do_sync and early_warning:  # outside the cases' transaction: training the model can take a while
        with step(timings, "early_warning_s"):
            result.summary["early_warning"] = early_warning_nightly(as_of=as_of, actor=actor)
    result.summary["timings"] = timings
    # the run record keeps every step's time (the operations page and /metrics read it)
    DailyRun.objects.filter(pk=run.pk).update(summary=summary | {"timings": timings})
    return result
