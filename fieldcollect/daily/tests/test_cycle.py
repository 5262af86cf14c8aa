"""The nightly cycle: published files, cases opened/updated/closed, reproducibility, crash safety."""

from __future__ import annotations

import json
from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from fieldcollect.analytics.dates import add_months
from fieldcollect.cases.models import Case
from fieldcollect.daily.cycle import OUTPUT_FILES, published_path, read_published
from fieldcollect.daily.services import run_daily
from fieldcollect.portfolio.models import DailyRun
from fieldcollect.portfolio.services import ingest_export
from fieldcollect.testing.demo_book import demo_export

pytestmark = pytest.mark.django_db
AS_OF = date(2026, 6, 30)


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    return demo_export(tmp_path_factory.mktemp("export"), n_loans=2000, seed=11, as_of=AS_OF)


def test_add_months():
    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)
    assert add_months(date(2024, 3, 30), -1) == date(2024, 2, 29)
    assert add_months(date(2026, 1, 15), -1) == date(2025, 12, 15)


def test_cycle_publishes_files_and_opens_cases(loaded):
    result = run_daily(as_of=AS_OF, progress=False)
    for name in OUTPUT_FILES:
        assert (published_path(AS_OF) / name).exists()
    status = read_published(AS_OF, "loan_status")
    assert status.columns[:6] == ["loan_id", "as_of", "dpd", "bucket", "overdue_fen", "outstanding_principal_fen"]
    delinquent = status.filter(pl.col("dpd") >= 1)
    assert Case.objects.filter(closed_on__isnull=True).count() == delinquent.height > 0
    case = Case.objects.filter(closed_on__isnull=True).order_by("-dpd").first()
    row = status.filter(pl.col("loan_id") == case.loan_id).row(0, named=True)
    assert (case.dpd, case.bucket, case.overdue_fen) == (row["dpd"], row["bucket"], row["overdue_fen"])
    assert result.summary["cases"]["opened"] == delinquent.height
    # roll rates: shares of each from-bucket add up to one
    roll = read_published(AS_OF, "roll_rates")
    sums = roll.group_by("from_bucket").agg(pl.col("share_loans").sum())
    assert all(abs(s - 1) < 1e-9 for s in sums["share_loans"])
    vint = read_published(AS_OF, "vintages")
    assert vint.height > 0 and vint["bad_rate"].is_between(0, 1).all() and vint["bad_loans"].sum() > 0
    # cumulative: within a cohort the bad rate by months on book never falls by more than noise of a shrinking base
    hist = read_published(AS_OF, "bucket_history")
    assert hist.filter(pl.col("lifted_on").is_null())["loan_id"].n_unique() == status.height
    summary = json.loads((published_path(AS_OF) / "summary.json").read_text())
    assert summary["loans"] == status.height and 0 < summary["balance_30plus_share"] < 0.2


def test_rerun_reproduces_outputs(loaded):
    run_daily(as_of=AS_OF, progress=False)
    first = {n: read_published(AS_OF, n) for n in ("loan_status", "roll_rates", "vintages", "bucket_history")}
    run_daily(as_of=AS_OF, progress=False)
    for name, frame in first.items():
        assert_frame_equal(read_published(AS_OF, name), frame)
    assert DailyRun.objects.filter(as_of=AS_OF).count() == 2


def test_next_day_updates_and_closes_cases_and_history(loaded, tmp_path):
    run_daily(as_of=AS_OF, progress=False)
    open_before = {c.loan_id: c for c in Case.objects.filter(closed_on__isnull=True)}
    # a later export: pay off every arrear of the first five delinquent loans on the next day
    status = read_published(AS_OF, "loan_status").filter(pl.col("dpd") >= 1).sort("loan_id").head(5)
    pays = pl.read_parquet(loaded / "payments.parquet")
    extra = pl.DataFrame({
        "payment_id": list(range(90_000_000, 90_000_000 + status.height)),
        "loan_id": status["loan_id"], "paid_on": [date(2026, 7, 1)] * status.height,
        "amount_fen": status["overdue_fen"],
    }).cast(pays.schema)  # type: ignore[arg-type]
    later = tmp_path / "later"
    later.mkdir()
    for name in ("customers", "loans", "installments", "agencies", "collectors"):
        (later / f"{name}.parquet").write_bytes((loaded / f"{name}.parquet").read_bytes())
    pl.concat([pays, extra]).write_parquet(later / "payments.parquet")
    ingest_export(source=later)
    nxt = date(2026, 7, 1)
    result = run_daily(as_of=nxt, progress=False)
    assert result.summary["cases"]["closed"] >= 1
    for loan_id in status["loan_id"]:
        case = Case.objects.filter(loan_id=loan_id).order_by("-id").first()
        assert case.closed_on == nxt and case.close_reason in {"cured", "paid"} and case.status == "closed"
    still_open = Case.objects.filter(closed_on__isnull=True).exclude(loan_id__in=status["loan_id"].to_list())
    some = still_open.filter(loan_id__in=list(open_before)).first()
    assert some.dpd >= open_before[some.loan_id].dpd
    hist = read_published(nxt, "bucket_history")
    lifted = hist.filter(pl.col("lifted_on") == nxt)
    assert set(status["loan_id"]) <= set(lifted["loan_id"])
    # the payments that cured the cases are recorded once, on their case, even when re-run
    from fieldcollect.cases.models import Payment

    recorded = Payment.objects.filter(reference__in=[f"store:{i}" for i in extra["payment_id"]])
    assert recorded.count() == status.height
    assert all(p.case is not None and p.case.loan_id == p.loan_id for p in recorded)
    recorded_before = Payment.objects.count()
    again = run_daily(as_of=nxt, progress=False)
    assert Payment.objects.filter(reference__in=[f"store:{i}" for i in extra["payment_id"]]).count() == status.height
    assert again.summary["cases"]["payments_recorded"] == 0 and Payment.objects.count() == recorded_before
    # a past date re-run does not roll the cases back
    run_daily(as_of=AS_OF, progress=False)
    case = Case.objects.filter(loan_id=status["loan_id"][0]).order_by("-id").first()
    assert case.closed_on == nxt


def test_crash_while_publishing_keeps_previous_run(loaded):
    run_daily(as_of=AS_OF, progress=False)
    before = read_published(AS_OF, "loan_status")
    target = published_path(AS_OF).resolve()
    runs = DailyRun.objects.count()
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_daily(as_of=AS_OF, progress=False, fail_after="roll_rates")
    assert published_path(AS_OF).resolve() == target
    assert_frame_equal(read_published(AS_OF, "loan_status"), before)
    assert DailyRun.objects.count() == runs
    assert len(list((published_path(AS_OF).parent / ".runs").iterdir())) == 1


def test_vintages_count_first_30dpd_by_months_on_book():
    from fieldcollect.analytics.delinquency import NO_DATE, day_number
    from fieldcollect.daily.cycle import _vintages

    d0 = day_number(date(2026, 1, 10))
    frame = pl.DataFrame({
        "disbursed_day": [d0, d0, d0, d0],
        "principal_fen": [100, 100, 100, 700],
        # 30+ first reached in month 2 (2026-03-05) and month 5 (2026-05-20, after 4 months on 05-10); two never
        "first_30dpd_day": [day_number(date(2026, 3, 5)), day_number(date(2026, 5, 20)), NO_DATE, NO_DATE],
    })
    v = _vintages(frame, date(2026, 6, 30)).filter(pl.col("cohort") == "2026-01").sort("mob")
    assert v["mob"].to_list() == [1, 2, 3, 4, 5]
    assert v["bad_loans"].to_list() == [0, 1, 1, 1, 2]
    assert v["bad_rate_balance"].to_list() == [0.0, 0.1, 0.1, 0.1, 0.2]


def test_timings_name_every_step_once(loaded):
    """run_daily's timings: one entry per step, in order (docs/nightly-budget.md budgets each), kept
    in the run record; a past date (no case sync) has no sync step."""
    import time

    from fieldcollect.daily.services import CYCLE_STEPS, EARLY_WARNING_STEPS, RECORD_STEPS, SYNC_STEPS

    started = time.perf_counter()
    result = run_daily(as_of=AS_OF, progress=False)
    wall = time.perf_counter() - started
    steps = (*CYCLE_STEPS, *SYNC_STEPS, *RECORD_STEPS, *EARLY_WARNING_STEPS)
    assert tuple(result.timings) == steps
    assert all(v >= 0 for v in result.timings.values())
    assert sum(result.timings.values()) <= wall
    run = DailyRun.objects.get(run_id=result.run_id)
    assert set(run.summary["timings"]) == set(steps)  # (PostgreSQL's jsonb keeps no key order)
    past = run_daily(as_of=date(2026, 6, 29), progress=False)
    assert tuple(past.timings) == (*CYCLE_STEPS, *RECORD_STEPS)


def test_every_step_has_a_budget_in_the_docs():
    """docs/nightly-budget.md gives each step of run_daily's timings a budget row (and names no step
    that no longer exists)."""
    import re
    from pathlib import Path

    from fieldcollect.daily.services import CYCLE_STEPS, EARLY_WARNING_STEPS, RECORD_STEPS, SYNC_STEPS

    doc = (Path(__file__).resolve().parents[3] / "docs" / "nightly-budget.md").read_text()
    rows = set(re.findall(r"^\| `(\w+_s)` \|", doc, flags=re.MULTILINE))
    assert rows == {*CYCLE_STEPS, *SYNC_STEPS, *RECORD_STEPS, *EARLY_WARNING_STEPS}


def test_the_early_warning_step_can_be_left_out(loaded, monkeypatch):
    """The demo runs the early-warning step on chosen days only (``early_warning=False``)."""
    import fieldcollect.daily.services as daily_services

    calls: list[date] = []
    monkeypatch.setattr(daily_services, "early_warning_nightly",
                        lambda *, as_of, actor=None: calls.append(as_of) or {"listed": 0})
    day_before = date(2026, 6, 29)
    result = run_daily(as_of=day_before, progress=False, early_warning=False)
    assert calls == [] and "early_warning" not in result.summary
    assert result.summary["cases"]["opened"] > 0  # the cases were synced all the same
    result = run_daily(as_of=AS_OF, progress=False)
    assert calls == [AS_OF] and result.summary["early_warning"] == {"listed": 0}
