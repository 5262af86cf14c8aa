"""The pure computations on tiny inputs, each value worked out by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from fieldcollect.reports import compute
from fieldcollect.reports.compute import PaidRow, PlacementRow


def test_recovery_curves_use_only_placements_observed_long_enough():
    placements = [PlacementRow(1, 7, date(2025, 2, 1), 100_000), PlacementRow(2, 7, date(2025, 2, 15), 200_000),
                  PlacementRow(3, 8, date(2025, 3, 3), 120_000), PlacementRow(4, 8, date(2025, 4, 2), 50_000)]
    paid = [PaidRow(1, date(2025, 2, 5), 30_000), PaidRow(1, date(2025, 2, 20), 20_000),
            PaidRow(1, date(2025, 3, 10), 10_000), PaidRow(2, date(2025, 3, 1), 50_000),
            PaidRow(3, date(2025, 3, 10), 60_000), PaidRow(3, date(2025, 4, 1), 99_999),  # after as_of
            PaidRow(9, date(2025, 3, 1), 1)]  # unknown placement
    pts = compute.recovery_curves(placements=placements, paid=paid, as_of=date(2025, 3, 31))
    got = {(p.cohort, p.day): (p.placements, p.overdue_fen, p.recovered_fen) for p in pts}
    assert got == {
        ("2025-02", 0): (2, 300_000, 0),
        ("2025-02", 7): (2, 300_000, 30_000),
        ("2025-02", 14): (2, 300_000, 80_000),
        ("2025-02", 21): (2, 300_000, 100_000),
        ("2025-02", 30): (2, 300_000, 100_000),
        ("2025-02", 45): (1, 100_000, 60_000),  # placement 2 is only 44 days old
        ("2025-03", 0): (1, 120_000, 0),
        ("2025-03", 7): (1, 120_000, 60_000),
        ("2025-03", 14): (1, 120_000, 60_000),
        ("2025-03", 21): (1, 120_000, 60_000),
    }
    rate = {(p.cohort, p.day): p.rate for p in pts}
    assert rate[("2025-02", 45)] == 0.6 and rate[("2025-03", 7)] == 0.5


def test_recovery_curves_empty():
    assert compute.recovery_curves(placements=[], paid=[], as_of=date(2025, 3, 31)) == []


def test_channel_attribution_last_touch_within_window():
    payments = [(1, 7, date(2025, 3, 10), 10_000), (2, 7, date(2025, 3, 1), 50_000), (3, 8, date(2025, 3, 10), 60_000),
                (3, 7, date(2025, 3, 10), 5)]  # case 3 with agency 7: agency 8's contact does not count
    contacts = [(1, 7, date(2025, 3, 5), "phone"), (1, 7, date(2025, 3, 8), "visit"), (1, 7, date(2025, 3, 12), "sms"),
                (2, 7, date(2025, 1, 20), "phone"),  # 40 days before: outside the 30-day window
                (3, 8, date(2025, 3, 10), "sms")]  # the same day counts
    got = compute.channel_attribution(payments=payments, contacts=contacts)
    assert got == {(7, "visit"): {"payments": 1, "amount_fen": 10_000},
                   (7, "none"): {"payments": 2, "amount_fen": 50_005},
                   (8, "sms"): {"payments": 1, "amount_fen": 60_000}}
    wide = compute.channel_attribution(payments=payments[1:2], contacts=contacts, window_days=40)
    assert wide == {(7, "phone"): {"payments": 1, "amount_fen": 50_000}}


def test_promise_rates_by_agency_and_month():
    rows = [(7, date(2025, 2, 10), "broken"), (7, date(2025, 2, 11), "broken"), (7, date(2025, 3, 2), "kept"),
            (7, date(2025, 3, 3), "kept"), (7, date(2025, 3, 4), "kept"), (7, date(2025, 3, 5), "broken"),
            (8, date(2025, 3, 20), "kept"), (8, date(2025, 3, 21), "cancelled"), (8, date(2025, 3, 22), "open")]
    got = compute.promise_rates(rows)
    assert got == {(7, "2025-02"): {"kept": 0, "broken": 2, "rate": 0.0},
                   (7, "2025-03"): {"kept": 3, "broken": 1, "rate": 0.75},
                   (8, "2025-03"): {"kept": 1, "broken": 0, "rate": 1.0}}


def test_ratios_and_rounding():
    assert compute.cost_per_yuan(16_200, 120_000) == Decimal("0.1350")
    assert compute.cost_per_yuan(1, 3) == Decimal("0.3333")
    assert compute.cost_per_yuan(5, 0) is None
    assert compute.per_10k(3, 4_000) == Decimal("7.50")
    assert compute.per_10k(1, 3) == Decimal("3333.33")
    assert compute.per_10k(1, 0) is None
    assert compute.ratio(1, 0) is None
    assert compute.months_back(date(2025, 3, 31), 3) == [date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)]
    assert compute.months_back(date(2025, 1, 15), 2) == [date(2024, 12, 1), date(2025, 1, 1)]


def test_leaderboard_order():
    rows = [{"agency_id": 1, "ae_index": None, "cost_per_yuan": Decimal("0.10"), "complaints_per_10k": None},
            {"agency_id": 2, "ae_index": 0.9, "cost_per_yuan": Decimal("0.20"), "complaints_per_10k": Decimal(1)},
            {"agency_id": 3, "ae_index": 1.2, "cost_per_yuan": None, "complaints_per_10k": Decimal(5)},
            {"agency_id": 4, "ae_index": 0.9, "cost_per_yuan": Decimal("0.15"), "complaints_per_10k": Decimal(9)}]
    ranked = compute.leaderboard_order(rows)
    assert [(r["agency_id"], r["rank"]) for r in ranked] == [(3, 1), (4, 2), (2, 3), (1, 4)]


def test_last_complete_month():
    from fieldcollect.reports.dashboards import last_complete_month

    assert last_complete_month(date(2025, 3, 31)) == date(2025, 3, 1)
    assert last_complete_month(date(2025, 3, 30)) == date(2025, 2, 1)
    assert last_complete_month(date(2025, 1, 5)) == date(2024, 12, 1)
    assert last_complete_month(date(2024, 2, 29)) == date(2024, 2, 1)
