"""The demo-data generator's vectorised schedules equal build_schedule's, fen for fen."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import numpy as np

from fieldcollect.demodata import generator
from fieldcollect.plans.schedule import build_schedule

EPOCH = date(1970, 1, 1)


def test_generator_schedules_match_build_schedule() -> None:
    rng = np.random.default_rng(20260630)
    n = 400
    principal = rng.integers(50_000, 20_000_000, n).astype(np.int64)
    rate_bp = rng.integers(0, 3601, n).astype(np.int64)
    term = rng.choice([1, 3, 6, 12, 18, 24, 36, 60], n).astype(np.int64)
    equal_instalment = rng.random(n) < 0.7
    # start days include month ends (e.g. 2026-01-31) and leap days
    days = rng.integers((date(2023, 1, 1) - EPOCH).days, (date(2029, 1, 1) - EPOCH).days, n).astype(np.int32)
    days[:4] = [(d - EPOCH).days for d in (date(2026, 1, 31), date(2024, 2, 29), date(2027, 8, 31), date(2028, 1, 30))]
    sched = generator.schedule_arrays(principal, rate_bp, term, equal_instalment, days)
    idx = np.asarray(sched["idx"])
    lo = np.searchsorted(idx, np.arange(n))
    hi = np.searchsorted(idx, np.arange(n), side="right")
    for k in range(n):
        ours = build_schedule(
            principal_fen=int(principal[k]),
            annual_rate=Decimal(int(rate_bp[k])) / 10000,
            term_months=int(term[k]),
            method="equal-instalment" if equal_instalment[k] else "equal-principal",
            start=EPOCH + timedelta(days=int(days[k])),
        )
        theirs = list(zip(sched["principal"][lo[k]:hi[k]].tolist(), sched["interest"][lo[k]:hi[k]].tolist(),
                          sched["due"][lo[k]:hi[k]].tolist(), strict=True))
        assert [(i.principal_fen, i.interest_fen, (i.due_date - EPOCH).days) for i in ours.instalments] == theirs, k
