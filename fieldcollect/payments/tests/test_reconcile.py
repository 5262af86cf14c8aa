"""The nightly reconciliation of the same-day payments with the export: matched, amount differs,
missing, extra; a payment is never counted twice, also when the night is run again; the written-out
updates held equal to their ORM twin."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
import pytest
from django.db import connection, transaction

from fieldcollect.cases.models import Payment
from fieldcollect.daily import services as daily
from fieldcollect.payments import channels, reconcile
from fieldcollect.payments.models import PaymentEvent, Reconciliation
from fieldcollect.payments.services import payments_post
from fieldcollect.testing import factories as f

pytestmark = pytest.mark.django_db


def _ev(rows: list[tuple[int, int, int, date, int]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=reconcile._EVENT_SCHEMA, orient="row")


def _st(rows: list[tuple[int, date, int, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"loan_id": pl.Int64, "paid_on": pl.Date, "amount_fen": pl.Int64, "reference": pl.String},
        orient="row",
    )


def test_pairing_is_one_to_one_exact_amounts_first():
    d = date(2026, 12, 7)
    events = _ev(
        [
            (1, 11, 100, d, 500),
            (2, 12, 100, d, 500),
            (3, 13, 100, d, 700),
            (4, 14, 200, d, 100),
            (5, 15, 300, d, 100),
            (6, 16, 100, d - timedelta(days=1), 500),
        ]
    )
    store = _st(
        [
            (100, d, 500, "store:9"),
            (100, d, 650, "store:8"),
            (100, d, 500, "store:7"),
            (200, d, 100, "store:6"),
            (400, d, 100, "store:5"),
        ]
    )
    p = reconcile.pair(events, store)
    got = {
        r["event_id"]: (r["store_payment_id"], r["store_amount_fen"], r["status"]) for r in p.pairs.to_dicts()
    }
    assert got == {
        1: (7, 500, "matched"),
        2: (9, 500, "matched"),
        3: (8, 650, "amount_differs"),
        4: (6, 100, "matched"),
    }
    assert sorted(p.missing["event_id"].to_list()) == [5, 6]  # another loan; another day


class FakeStore:
    def __init__(self, payments: list[tuple[int, int, date, int]]) -> None:
        self.payments = pl.DataFrame(
            payments,
            schema={"payment_id": pl.Int64, "loan_id": pl.Int64, "paid_on": pl.Date, "amount_fen": pl.Int64},
            orient="row",
        )

    def scan(self, name: str) -> pl.LazyFrame:
        assert name == "payments"
        return self.payments.lazy()


def _night(monkeypatch, store: list[tuple[int, int, date, int]], as_of: date) -> int:
    monkeypatch.setattr(daily, "require_current", lambda: FakeStore(store))
    with transaction.atomic():
        return daily.record_case_payments(as_of=as_of)


def _line(loan_id: int, ref: str, amount: int, at: datetime) -> dict[str, Any]:
    return {
        "reference": ref,
        "loan_id": loan_id,
        "amount_fen": amount,
        "paid_at": at.isoformat(),
        "channel": "unionpay",
    }


def test_nightly_reconciliation_reports_differences_and_never_counts_twice(monkeypatch):
    channels.channel_add(name="unionpay")
    today = f.today()
    at = datetime.now(UTC) - timedelta(minutes=5)
    a, b, c, d = (f.make_case() for _ in range(4))
    result = payments_post(
        lines=[
            (1, _line(a.loan_id, "A", 10_000, at)),
            (2, _line(b.loan_id, "B", 5_000, at)),
            (3, _line(c.loan_id, "C", 3_000, at)),
            (4, _line(a.loan_id, "A2", 10_000, at)),
        ]
    )
    assert result.applied == 4
    store = [
        (1, a.loan_id, today, 10_000),
        (2, b.loan_id, today, 5_200),
        (4, d.loan_id, today, 800),
        (5, a.loan_id, today, 10_000),
        (6, a.loan_id, today - timedelta(days=2), 10_000),
    ]
    recorded = _night(monkeypatch, store, today)
    assert recorded == 2  # the extras: d's payment and a's earlier one; the paired ones are the events' rows
    rec = Reconciliation.objects.get(as_of=today)
    assert (rec.matched, rec.amount_differs, rec.missing, rec.extra) == (2, 1, 1, 2)
    assert rec.details["missing"][0]["reference"] == "C"
    assert rec.details["amount_differs"][0] | {"event": 0} == {
        "event": 0,
        "channel": "unionpay",
        "reference": "B",
        "loan_id": b.loan_id,
        "paid_on": today.isoformat(),
        "amount_fen": 5_000,
        "store_payment_id": 2,
        "store_amount_fen": 5_200,
    }
    # each payment counted once; the export's amount is the book of record
    assert sorted(Payment.objects.filter(loan_id=a.loan_id).values_list("reference", "amount_fen")) == [
        ("store:1", 10_000),
        ("store:5", 10_000),
        ("store:6", 10_000),
    ]
    assert list(Payment.objects.filter(loan_id=b.loan_id).values_list("reference", "amount_fen")) == [
        ("store:2", 5_200)
    ]
    assert list(Payment.objects.filter(loan_id=c.loan_id).values_list("reference", "amount_fen")) == [
        ("unionpay:C", 3_000)
    ]
    assert list(Payment.objects.filter(loan_id=d.loan_id).values_list("reference", flat=True)) == ["store:4"]
    status = dict(PaymentEvent.objects.values_list("reference", "status"))
    assert status == {"A": "matched", "A2": "matched", "B": "amount_differs", "C": "missing"}
    assert PaymentEvent.objects.get(reference="B").amount_fen == 5_000  # what the channel said stays
    # the night again: nothing more recorded, nothing paired twice
    total = Payment.objects.count()
    assert _night(monkeypatch, store, today) == 0
    assert Payment.objects.count() == total
    # the export brings the missing payment late: paired, still one row
    store.append((7, c.loan_id, today, 3_000))
    assert _night(monkeypatch, store, today + timedelta(days=1)) == 0
    assert list(Payment.objects.filter(loan_id=c.loan_id).values_list("reference", flat=True)) == ["store:7"]
    assert PaymentEvent.objects.get(reference="C").status == "matched"
    # a channel retrying an already reconciled payment is still a duplicate
    again = payments_post(lines=[(1, _line(a.loan_id, "A", 10_000, at))])
    assert (again.applied, again.duplicates) == (0, 1)
    assert Payment.objects.filter(loan_id=a.loan_id).count() == 3


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the written-out updates run on PostgreSQL")
def test_written_out_updates_match_their_orm_twin():
    channels.channel_add(name="unionpay")
    today = f.today()
    at = datetime.now(UTC) - timedelta(minutes=5)
    cases = [f.make_case() for _ in range(4)]
    payments_post(lines=[(i, _line(c.loan_id, f"T{i}", 1_000 + i, at)) for i, c in enumerate(cases, 1)])
    events = PaymentEvent.objects.order_by("pk")
    pairs = pl.DataFrame(
        [
            (
                e.pk,
                e.payment_id,
                f"store:{90 + i}",
                90 + i,
                e.amount_fen + i % 2,
                "matched" if i % 2 == 0 else "amount_differs",
            )
            for i, e in enumerate(events[:3])
        ],
        schema=dict(
            zip(
                reconcile.PAIR_COLUMNS,
                (pl.Int64, pl.Int64, pl.String, pl.Int64, pl.Int64, pl.String),
                strict=True,
            )
        ),
        orient="row",
    )

    def state() -> list[tuple[Any, ...]]:
        return list(
            Payment.objects.order_by("pk").values_list("pk", "reference", "amount_fen", "placement_id")
        ) + list(
            PaymentEvent.objects.order_by("pk").values_list(
                "pk", "status", "store_payment_id", "store_amount_fen", "reconciled_on", "amount_fen"
            )
        )

    before = state()
    with transaction.atomic():
        reconcile._apply_sql(pairs, as_of=today)
        by_sql = state()
        transaction.set_rollback(True)
    assert state() == before
    reconcile._apply_orm(pairs, as_of=today)
    assert state() == by_sql != before
