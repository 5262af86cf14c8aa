"""Which placement a payment belongs to (for commission, scorecards and recovery history).

The rule (one place, used by settlement, scorecards and the allocation's recovery history)
------------------------------------------------------------------------------------------
A placement *covers* the days from ``starts_on`` to its last day, inclusive:

- active: ``ends_on`` (the agency loses access after its placement period, even before the nightly
  recall runs);
- recalled (退案): ``min(ends_on, recalled_on)`` — **a payment received on the recall day counts for the
  recalled agency** (the agency worked the case that day and lost access only at the recall; bank
  systems date a payment by the day it is credited, and payments arranged by the agency are often
  credited the day they are made);
- ended because the case closed: ``min(ends_on, closed_on)``.

A payment dated ``d`` is attributed to the placement of its case that covers ``d``. When two cover
``d`` (the case was recalled on ``d`` and placed again the same day) the *earlier* placement wins: the
new agency earns commission from the day after it received the case. A payment covered by no
placement is the bank's own (no commission). So every payment is attributed at most once.

Note: :func:`fieldcollect.cases.services.payment_record` stores a ``Payment.placement`` at entry time
with the newest placement winning the same-day tie; settlement recomputes with this rule and its
reconciliation counts the payments where the two differ.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

__all__ = ["Cover", "attribute", "last_covered_day"]


@dataclass(frozen=True)
class Cover:
    """The days a placement covers."""

    placement_id: int
    case_id: int
    agency_id: int
    starts_on: date
    last_day: date


def last_covered_day(*, status: str, ends_on: date, recalled_on: date | None, closed_on: date | None) -> date:
    """Last day (inclusive) on which a payment counts for the placement (see the module docstring)."""
    last = ends_on
    if status == "recalled" and recalled_on is not None:
        last = min(last, recalled_on)
    elif status == "ended" and closed_on is not None:
        last = min(last, closed_on)
    return last


def attribute(*, payments: Iterable[tuple[int, int, date]], covers: Sequence[Cover]) -> dict[int, Cover]:
    """Attribute payments ``(payment_id, case_id, paid_on)`` to placements.

    Returns ``{payment_id: cover}`` for the payments covered by a placement (each at most once).
    """
    by_case: dict[int, list[Cover]] = {}
    for c in covers:
        by_case.setdefault(c.case_id, []).append(c)
    for lst in by_case.values():
        lst.sort(key=lambda c: (c.starts_on, c.placement_id))
    out: dict[int, Cover] = {}
    for payment_id, case_id, paid_on in payments:
        for c in by_case.get(case_id, ()):
            if c.starts_on <= paid_on <= c.last_day:
                out[payment_id] = c
                break
    return out
