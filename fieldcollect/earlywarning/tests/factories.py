"""A small synthetic book whose history teaches a clear lesson: customers who pay late tend to default.

600 loans of 12 monthly instalments (1,000 CNY principal + 100 CNY interest each), disbursed over the
two years before ``AS_OF``. 40 % of customers are "sloppy" (pay 5-25 days late); a sloppy loan stops
paying from a random instalment (3rd or later) with probability 0.35, a punctual one with 0.03.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from fieldcollect.analytics.dates import add_months

AS_OF = date(2026, 6, 30)
CITIES = ("成都市", "杭州市", "西安市")


def synthetic_tables(*, n: int = 600, seed: int = 3) -> dict[str, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    first = date(2024, 7, 1)
    span = (AS_OF - timedelta(days=60) - first).days
    loans, inst, pays = [], [], []
    pid = 0
    for i in range(1, n + 1):
        disbursed = first + timedelta(days=int(rng.integers(0, span)))
        sloppy = rng.random() < 0.4
        default_at = int(rng.integers(3, 13)) if rng.random() < (0.35 if sloppy else 0.03) else 99
        loans.append((i, i, "consumer" if i % 3 else "auto", 1_200_000, 0.12, 12, "equal_principal", disbursed))
        for k in range(1, 13):
            due = add_months(disbursed, k)
            inst.append((i, k, due, 100_000, 10_000))
            if k >= default_at:
                continue
            paid = due + timedelta(days=int(rng.integers(5, 26)) if sloppy else 0)
            if paid <= AS_OF:
                pid += 1
                pays.append((pid, i, paid, 110_000))
    return {
        "loans": pl.DataFrame(loans, schema={"loan_id": pl.Int64, "customer_id": pl.Int64, "product": pl.String,
                                             "principal_fen": pl.Int64, "annual_rate": pl.Float64,
                                             "term_months": pl.Int32, "method": pl.String,
                                             "disbursed_on": pl.Date}, orient="row"),
        "installments": pl.DataFrame(inst, schema={"loan_id": pl.Int64, "seq": pl.Int32, "due_date": pl.Date,
                                                   "principal_due_fen": pl.Int64, "interest_due_fen": pl.Int64},
                                     orient="row"),
        "payments": pl.DataFrame(pays, schema={"payment_id": pl.Int64, "loan_id": pl.Int64, "paid_on": pl.Date,
                                               "amount_fen": pl.Int64}, orient="row"),
        "customers": pl.DataFrame({"customer_id": list(range(1, n + 1)),
                                   "province": ["四川省"] * n, "city": [CITIES[i % 3] for i in range(n)],
                                   "district": ["区"] * n}),
    }


def publish_store(tables: dict[str, pl.DataFrame]) -> None:
    from fieldcollect.ingest.store import publish, write_version

    publish(write_version(tables))


def make_customers(tables: dict[str, pl.DataFrame], ids: list[int]) -> None:
    from fieldcollect.portfolio.models import Customer

    cities = dict(tables["customers"].select("customer_id", "city").iter_rows())
    Customer.objects.bulk_create([
        Customer(customer_id=c, name=f"客户{c}", id_number="110101199001011234", mobile=f"1380000{c:04d}",
                 province="四川省", city=cities[c], district="区", address="地址", timezone="Asia/Shanghai")
        for c in ids
    ])
