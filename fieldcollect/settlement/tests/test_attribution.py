"""The attribution rule (pure: no database)."""

from __future__ import annotations

from datetime import date

from fieldcollect.settlement.attribution import Cover, attribute, last_covered_day

D = date(2025, 3, 1)


def d(day: int) -> date:
    return D.replace(day=day)


def test_last_covered_day_per_status():
    assert last_covered_day(status="active", ends_on=d(30), recalled_on=None, closed_on=None) == d(30)
    assert last_covered_day(status="recalled", ends_on=d(30), recalled_on=d(10), closed_on=None) == d(10)
    # recalled by the nightly cycle the day after expiry: the period end counts, not the recall day
    assert last_covered_day(status="recalled", ends_on=d(9), recalled_on=d(10), closed_on=None) == d(9)
    assert last_covered_day(status="ended", ends_on=d(30), recalled_on=None, closed_on=d(12)) == d(12)


def test_recall_day_payment_goes_to_the_outgoing_agency():
    old = Cover(placement_id=1, case_id=7, agency_id=100, starts_on=d(1), last_day=d(10))
    new = Cover(placement_id=2, case_id=7, agency_id=200, starts_on=d(10), last_day=d(31))
    got = attribute(payments=[(11, 7, d(9)), (12, 7, d(10)), (13, 7, d(11)), (14, 8, d(10))], covers=[new, old])
    assert got[11].agency_id == 100
    assert got[12].agency_id == 100  # recall day: the recalled agency, not the new one
    assert got[13].agency_id == 200
    assert 14 not in got  # another case, no placement: the bank's own


def test_payment_before_placement_or_after_cover_is_not_attributed():
    c = Cover(placement_id=1, case_id=7, agency_id=100, starts_on=d(5), last_day=d(10))
    got = attribute(payments=[(1, 7, d(4)), (2, 7, d(5)), (3, 7, d(10)), (4, 7, d(11))], covers=[c])
    assert sorted(got) == [2, 3]
