"""The nightly reconciliation of the same-day payments with the export (the book of record).

Called by the nightly recording of the export's payments
(:func:`fieldcollect.daily.services.record_case_payments`) *before* it inserts the new ones, with the
export's candidate payments ``(loan_id, paid_on, amount_fen, reference "store:<payment_id>")``:

1. each same-day payment not reconciled yet (applied, or missing on an earlier night) is paired with
   an export payment of the same loan and business date not recorded yet: first those with the same
   amount (**matched**), then the rest of that loan and day in order (**amount differs**: the export's
   amount is the book of record);
2. a paired payment row takes the export's reference and amount, so the nightly recording finds it
   already recorded and never counts the payment twice; the event keeps the channel's reference and
   amount, its status and the export's payment id;
3. a same-day payment dated on or before the business date that the export does not have is
   **missing** (it stays counted and is paired on a later night if the export brings it late);
   the export's payments that no channel reported are **extra** (counted by the recording itself).

The pairing is :func:`pair` (pure, polars); the two updates are written out in SQL
(:func:`_apply_sql`, one statement each from a temporary table: a night can reconcile 100,000
payments) and held equal to their ORM twin :func:`_apply_orm` by ``payments/tests/test_reconcile.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl
from django.db import connection, transaction

from fieldcollect.cases.models import Payment
from fieldcollect.core.rawsql import adapt, column, copy_rows, table
from fieldcollect.payments.models import PaymentEvent, Reconciliation

STORE_PREFIX = "store:"
PAIRS_TABLE = "fc_payment_pairs"
PAIR_COLUMNS = ("event_id", "payment_id", "store_reference", "store_payment_id", "store_amount_fen", "status")
OPEN = (PaymentEvent.Status.APPLIED, PaymentEvent.Status.MISSING)
DETAILS = 100  # differences kept per kind in the night's record

_EVENT_SCHEMA = {
    "event_id": pl.Int64,
    "payment_id": pl.Int64,
    "loan_id": pl.Int64,
    "paid_on": pl.Date,
    "amount_fen": pl.Int64,
}


@dataclass(frozen=True)
class Pairing:
    pairs: pl.DataFrame  # PAIR_COLUMNS
    missing: pl.DataFrame  # the unpaired events (event columns)


def pair(events: pl.DataFrame, store: pl.DataFrame) -> Pairing:
    """Pair same-day ``events`` (event_id, payment_id, loan_id, paid_on, amount_fen) with ``store``
    payments not recorded yet (loan_id, paid_on, amount_fen, reference), one to one: same loan, day and
    amount first, then same loan and day (amount differs); ties in event id and reference order."""
    store = store.select("loan_id", "paid_on", "amount_fen", "reference")
    ev = events.sort("event_id").with_columns(
        pl.int_range(pl.len()).over("loan_id", "paid_on", "amount_fen").alias("k")
    )
    st = store.sort("reference").with_columns(
        pl.int_range(pl.len()).over("loan_id", "paid_on", "amount_fen").alias("k")
    )
    exact = ev.join(
        st.select("loan_id", "paid_on", "amount_fen", "k", "reference"),
        on=["loan_id", "paid_on", "amount_fen", "k"],
        how="inner",
    )
    exact = exact.with_columns(
        pl.col("amount_fen").alias("store_amount_fen"),
        pl.lit(PaymentEvent.Status.MATCHED.value).alias("status"),
    )
    ev_left = ev.join(exact.select("event_id"), on="event_id", how="anti").drop("k")
    st_left = st.join(exact.select("reference"), on="reference", how="anti").drop("k")
    ev_left = ev_left.sort("event_id").with_columns(
        pl.int_range(pl.len()).over("loan_id", "paid_on").alias("k")
    )
    st_left = st_left.sort("reference").with_columns(
        pl.int_range(pl.len()).over("loan_id", "paid_on").alias("k")
    )
    differ = ev_left.join(
        st_left.select(
            "loan_id", "paid_on", "k", "reference", pl.col("amount_fen").alias("store_amount_fen")
        ),
        on=["loan_id", "paid_on", "k"],
        how="inner",
    )
    differ = differ.with_columns(pl.lit(PaymentEvent.Status.AMOUNT_DIFFERS.value).alias("status"))
    cols = [
        pl.col("event_id"),
        pl.col("payment_id"),
        pl.col("reference").alias("store_reference"),
        pl.col("reference")
        .str.strip_prefix(STORE_PREFIX)
        .cast(pl.Int64, strict=False)
        .alias("store_payment_id"),
        pl.col("store_amount_fen").cast(pl.Int64),
        pl.col("status"),
    ]
    pairs = pl.concat([exact.select(cols), differ.select(cols)])
    missing = ev_left.join(differ.select("event_id"), on="event_id", how="anti").drop("k")
    return Pairing(pairs=pairs, missing=missing)


def reconcile_store_payments(*, candidates: pl.DataFrame, as_of: date) -> dict[str, Any]:
    """Reconcile the same-day payments dated on or before ``as_of`` with the export's ``candidates``
    (see the module docstring). Call inside the nightly transaction, before the candidates are
    recorded; returns the night's counts (without ``extra``: :func:`reconciliation_record` adds it)."""
    rows = PaymentEvent.objects.filter(
        status__in=OPEN, payment__isnull=False, paid_on__lte=as_of
    ).values_list("pk", "payment_id", "loan_id", "paid_on", "amount_fen")
    events = pl.DataFrame(list(rows), schema=_EVENT_SCHEMA, orient="row")
    if events.height == 0:
        return {"matched": 0, "amount_differs": 0, "missing": 0, "details": {}}
    store = candidates.select("loan_id", "paid_on", "amount_fen", "reference").join(
        events.select("loan_id", "paid_on").unique(), on=["loan_id", "paid_on"], how="semi"
    )
    if store.height:  # those recorded on an earlier night are not candidates any more
        recorded: set[str] = set()
        loans = store["loan_id"].unique().to_list()
        for i in range(0, len(loans), 5_000):
            recorded |= set(
                Payment.objects.filter(
                    loan_id__in=loans[i : i + 5_000],
                    reference__startswith=STORE_PREFIX,
                    paid_on__gte=store["paid_on"].min(),
                ).values_list("reference", flat=True)
            )
        store = store.filter(~pl.col("reference").is_in(list(recorded)))
    pairing = pair(events, store)
    _apply(pairing.pairs, as_of=as_of)
    missing_ids = pairing.missing["event_id"].to_list()
    for i in range(0, len(missing_ids), 5_000):
        PaymentEvent.objects.filter(pk__in=missing_ids[i : i + 5_000]).update(
            status=PaymentEvent.Status.MISSING, reconciled_on=as_of
        )
    differ = pairing.pairs.filter(pl.col("status") == PaymentEvent.Status.AMOUNT_DIFFERS.value)
    details = {
        "missing": [_event_detail(pk) for pk in missing_ids[:DETAILS]],
        "amount_differs": [_event_detail(pk) for pk in differ["event_id"].head(DETAILS).to_list()],
    }
    return {
        "matched": pairing.pairs.height - differ.height,
        "amount_differs": differ.height,
        "missing": len(missing_ids),
        "details": details,
    }


def _event_detail(pk: int) -> dict[str, Any]:
    e = PaymentEvent.objects.get(pk=pk)
    return {
        "event": e.pk,
        "channel": e.channel,
        "reference": e.reference,
        "loan_id": e.loan_id,
        "paid_on": e.paid_on.isoformat(),
        "amount_fen": e.amount_fen,
        "store_payment_id": e.store_payment_id,
        "store_amount_fen": e.store_amount_fen,
    }


def reconciliation_record(*, as_of: date, counts: dict[str, Any], extra: int) -> Reconciliation:
    """The night's record (one per business date; a re-run replaces it)."""
    rec, _created = Reconciliation.objects.update_or_create(
        as_of=as_of,
        defaults={
            "matched": counts.get("matched", 0),
            "amount_differs": counts.get("amount_differs", 0),
            "missing": counts.get("missing", 0),
            "extra": extra,
            "details": counts.get("details", {}),
        },
    )
    return rec


def _apply(pairs: pl.DataFrame, *, as_of: date) -> None:
    if pairs.height == 0:
        return
    if connection.vendor == "postgresql":
        _apply_sql(pairs, as_of=as_of)
    else:
        _apply_orm(pairs, as_of=as_of)


def _apply_orm(pairs: pl.DataFrame, *, as_of: date) -> None:
    """The ORM twin of :func:`_apply_sql` (one row at a time)."""
    with transaction.atomic():
        for event_id, payment_id, ref, store_id, store_amount, status in pairs.select(
            *PAIR_COLUMNS
        ).iter_rows():
            Payment.objects.filter(pk=payment_id).update(reference=ref, amount_fen=store_amount)
            PaymentEvent.objects.filter(pk=event_id).update(
                status=status, store_payment_id=store_id, store_amount_fen=store_amount, reconciled_on=as_of
            )


def _apply_sql(pairs: pl.DataFrame, *, as_of: date) -> None:
    """The paired payment rows take the export's reference and amount; the events their status."""
    pay, ev = table(Payment), table(PaymentEvent)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {PAIRS_TABLE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {PAIRS_TABLE} (event_id BIGINT, payment_id BIGINT, "
            "store_reference VARCHAR(64), store_payment_id BIGINT, store_amount_fen BIGINT, status VARCHAR(16))"
        )
    copy_rows(PAIRS_TABLE, PAIR_COLUMNS, pairs.select(*PAIR_COLUMNS).iter_rows())
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {PAIRS_TABLE}")
        cursor.execute(
            f"UPDATE {pay} SET {column(Payment, 'reference')} = t.store_reference, "
            f"{column(Payment, 'amount_fen')} = t.store_amount_fen "
            f"FROM {PAIRS_TABLE} t WHERE {pay}.{column(Payment, 'pk')} = t.payment_id"
        )
        cursor.execute(
            f"UPDATE {ev} SET {column(PaymentEvent, 'status')} = t.status, "
            f"{column(PaymentEvent, 'store_payment_id')} = t.store_payment_id, "
            f"{column(PaymentEvent, 'store_amount_fen')} = t.store_amount_fen, "
            f"{column(PaymentEvent, 'reconciled_on')} = %s "
            f"FROM {PAIRS_TABLE} t WHERE {ev}.{column(PaymentEvent, 'pk')} = t.event_id",
            adapt([as_of]),
        )
        cursor.execute(f"DROP TABLE {PAIRS_TABLE}")
