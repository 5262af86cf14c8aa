"""Reads of one loan from the columnar store (the case timeline's schedule and payments)."""

from __future__ import annotations

from typing import Any

import polars as pl

from fieldcollect.ingest.store import current_version


def loan_history(loan_id: int) -> dict[str, list[dict[str, Any]]] | None:
    """The loan's instalments (with what is paid of each, payments applied oldest first, interest
    before principal) and its payments, or ``None`` when the store does not hold the loan."""
    version = current_version()
    if version is None:
        return None
    part = loan_id % version.partitions
    inst = (pl.scan_parquet(version.partition_file("installments", part)).filter(pl.col("loan_id") == loan_id)
            .sort("seq").collect())
    if inst.height == 0:
        return None
    pays = (pl.scan_parquet(version.partition_file("payments", part)).filter(pl.col("loan_id") == loan_id)
            .sort("paid_on", "payment_id").collect())
    remaining = int(pays["amount_fen"].sum()) if pays.height else 0
    installments = []
    for row in inst.iter_rows(named=True):
        due = row["principal_due_fen"] + row["interest_due_fen"]
        paid = min(due, remaining)
        remaining -= paid
        installments.append({"seq": row["seq"], "due_on": row["due_date"], "principal_fen": row["principal_due_fen"],
                             "interest_fen": row["interest_due_fen"], "amount_due_fen": due, "amount_paid_fen": paid})
    payments = [{"paid_on": r["paid_on"], "amount_fen": r["amount_fen"], "channel": "bank_transfer",
                 "payment_id": r["payment_id"]} for r in pays.iter_rows(named=True)]
    return {"installments": installments, "payments": payments}
