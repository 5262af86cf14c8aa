"""Frame schemas of the core-banking export and of the nightly outputs: the data contract.

Identifiers are 64-bit integers; money is integer fen (1 CNY = 100 fen); dates are calendar dates.
"""

from __future__ import annotations

import polars as pl

CUSTOMERS: dict[str, pl.DataType] = {
    "customer_id": pl.Int64(),
    "name": pl.String(),
    "id_number": pl.String(),
    "mobile": pl.String(),
    "province": pl.String(),
    "city": pl.String(),
    "district": pl.String(),
    "address": pl.String(),
    "lat": pl.Float64(),
    "lon": pl.Float64(),
}
LOANS: dict[str, pl.DataType] = {
    "loan_id": pl.Int64(),
    "customer_id": pl.Int64(),
    "product": pl.String(),
    "principal_fen": pl.Int64(),
    "annual_rate": pl.Float64(),
    "term_months": pl.Int32(),
    "method": pl.String(),
    "disbursed_on": pl.Date(),
}
INSTALLMENTS: dict[str, pl.DataType] = {
    "loan_id": pl.Int64(),
    "seq": pl.Int32(),
    "due_date": pl.Date(),
    "principal_due_fen": pl.Int64(),
    "interest_due_fen": pl.Int64(),
}
PAYMENTS: dict[str, pl.DataType] = {
    "payment_id": pl.Int64(),
    "loan_id": pl.Int64(),
    "paid_on": pl.Date(),
    "amount_fen": pl.Int64(),
}
AGENCIES: dict[str, pl.DataType] = {
    "agency_id": pl.Int64(),
    "name": pl.String(),
    "name_en": pl.String(),
    "regions": pl.String(),  # cities served, separated by "|"
    "capacity": pl.Int64(),
    "eligible_buckets": pl.String(),  # e.g. "M1|M2|M3"
    "placement_days": pl.Int32(),
    "commission_tiers": pl.String(),  # JSON object: bucket -> rate, e.g. {"M1": 0.08}
    "min_amount_fen": pl.Int64(),
    "max_amount_fen": pl.Int64(),
    "dsa_valid_until": pl.Date(),
    "founded_year": pl.Int32(),
}
COLLECTORS: dict[str, pl.DataType] = {
    "collector_id": pl.Int64(),
    "agency_id": pl.Int64(),
    "name": pl.String(),
    "city": pl.String(),
    "base_lat": pl.Float64(),
    "base_lon": pl.Float64(),
    "certified_until": pl.Date(),
    "trained_until": pl.Date(),
}

EXPORT_TABLES: dict[str, dict[str, pl.DataType]] = {
    "customers": CUSTOMERS,
    "loans": LOANS,
    "installments": INSTALLMENTS,
    "payments": PAYMENTS,
    "agencies": AGENCIES,
    "collectors": COLLECTORS,
}
# primary keys of each export table
KEYS: dict[str, tuple[str, ...]] = {
    "customers": ("customer_id",),
    "loans": ("loan_id",),
    "installments": ("loan_id", "seq"),
    "payments": ("payment_id",),
    "agencies": ("agency_id",),
    "collectors": ("collector_id",),
}
# the columns the columnar store keeps for customers: pseudonymous, no name, ID number, mobile or address
STORE_CUSTOMER_COLUMNS = ("customer_id", "province", "city", "district")

LOAN_STATUS: dict[str, pl.DataType] = {
    "loan_id": pl.Int64(),
    "as_of": pl.Date(),
    "dpd": pl.Int32(),
    "bucket": pl.String(),
    "overdue_fen": pl.Int64(),
    "outstanding_principal_fen": pl.Int64(),
    "paid_total_fen": pl.Int64(),
    "first_unpaid_due": pl.Date(),
    "settled": pl.Boolean(),
}
