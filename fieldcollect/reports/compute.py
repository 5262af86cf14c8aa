"""Pure computations behind the dashboards and the management report (no Django import).

Money is integer fen throughout; rates are floats in 0..1 (``None`` when the denominator is 0).

Definitions
-----------
- *Recovery curve of a placement cohort* (cohort = month a placement started): at day ``d`` after
  the start, payments attributed to the cohort's placements (settlement's attribution rule) dated
  within ``d`` days of their start ÷ overdue amount at placement, over the placements observed for
  at least ``d`` days on the as-of date (like a vintage curve: later points use fewer placements).
- *Recovery by channel*: each attributed payment is credited to the channel of the last contact the
  same agency made on the case on or before the payment day, at most ``window_days`` earlier
  (last-touch attribution); a payment with no such contact goes to ``"none"``.
- *Cost per yuan recovered*: commission on attributed payments ÷ those payments.
- *Promise kept rate*: kept ÷ (kept + broken) promises decided in the period.
- *Per 10,000 contacts*: count × 10,000 ÷ contacts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

__all__ = [
    "CurvePoint",
    "PaidRow",
    "PlacementRow",
    "channel_attribution",
    "cost_per_yuan",
    "leaderboard_order",
    "month_key",
    "months_back",
    "per_10k",
    "promise_rates",
    "ratio",
    "recovery_curves",
]

NO_CONTACT = "none"
DEFAULT_CHECKPOINTS = (0, 7, 14, 21, 30, 45, 60, 75, 90)


def ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def months_back(month: date, n: int) -> list[date]:
    """The ``n`` month starts up to and including ``month``'s, oldest first."""
    out = [month.replace(day=1)]
    while len(out) < n:
        out.append((out[-1] - timedelta(days=1)).replace(day=1))
    return out[::-1]


def per_10k(count: int, contacts: int) -> Decimal | None:
    """``count`` per 10,000 contacts, two decimals (``None`` without contacts)."""
    if contacts <= 0:
        return None
    return (Decimal(count) * 10_000 / Decimal(contacts)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def cost_per_yuan(commission_fen: int, recovered_fen: int) -> Decimal | None:
    """Commission paid per yuan recovered, four decimals (``None`` when nothing was recovered)."""
    if recovered_fen <= 0:
        return None
    return (Decimal(commission_fen) / Decimal(recovered_fen)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


# ------------------------------------------------------------------------------------ recovery curves
@dataclass(frozen=True)
class PlacementRow:
    placement_id: int
    agency_id: int
    starts_on: date
    overdue_fen: int


@dataclass(frozen=True)
class PaidRow:
    placement_id: int
    paid_on: date
    amount_fen: int


@dataclass(frozen=True)
class CurvePoint:
    cohort: str
    day: int
    placements: int
    overdue_fen: int
    recovered_fen: int
    rate: float | None


def recovery_curves(*, placements: Sequence[PlacementRow], paid: Iterable[PaidRow], as_of: date,
                    checkpoints: Sequence[int] = DEFAULT_CHECKPOINTS) -> list[CurvePoint]:
    """Cumulative recovery rate of each placement cohort at each checkpoint (see the module docstring).

    Placements starting after ``as_of`` and payments after ``as_of`` are ignored.
    """
    by_pl: dict[int, list[tuple[int, int]]] = defaultdict(list)
    starts = {p.placement_id: p.starts_on for p in placements}
    for r in paid:
        start = starts.get(r.placement_id)
        if start is None or r.paid_on > as_of or r.paid_on < start:
            continue
        by_pl[r.placement_id].append(((r.paid_on - start).days, r.amount_fen))
    cohorts: dict[str, list[PlacementRow]] = defaultdict(list)
    for p in placements:
        if p.starts_on <= as_of:
            cohorts[month_key(p.starts_on)].append(p)
    out: list[CurvePoint] = []
    for cohort in sorted(cohorts):
        rows = cohorts[cohort]
        for d in checkpoints:
            observed = [p for p in rows if (as_of - p.starts_on).days >= d]
            if not observed:
                break
            overdue = sum(p.overdue_fen for p in observed)
            recovered = sum(a for p in observed for day, a in by_pl.get(p.placement_id, ()) if day <= d)
            out.append(CurvePoint(cohort=cohort, day=d, placements=len(observed), overdue_fen=overdue,
                                  recovered_fen=recovered, rate=ratio(recovered, overdue)))
    return out


# ----------------------------------------------------------------------------------- channel credit
def channel_attribution(*, payments: Iterable[tuple[int, int, date, int]],
                        contacts: Iterable[tuple[int, int, date, str]],
                        window_days: int = 30) -> dict[tuple[int, str], dict[str, int]]:
    """Credit attributed payments to the last-touch channel.

    Parameters
    ----------
    payments
        ``(case_id, agency_id, paid_on, amount_fen)`` of payments attributed to ``agency_id``.
    contacts
        ``(case_id, agency_id, day, channel)`` contact attempts.
    window_days
        How far back a contact still earns the credit.

    Returns
    -------
    ``{(agency_id, channel): {"payments": n, "amount_fen": total}}``.
    """
    touches: dict[tuple[int, int], list[tuple[date, str]]] = defaultdict(list)
    for case_id, agency_id, day, channel in contacts:
        touches[(case_id, agency_id)].append((day, channel))
    for lst in touches.values():
        lst.sort()
    out: dict[tuple[int, str], dict[str, int]] = {}
    for case_id, agency_id, paid_on, amount in payments:
        channel = NO_CONTACT
        for day, ch in reversed(touches.get((case_id, agency_id), [])):
            if day <= paid_on:
                if (paid_on - day).days <= window_days:
                    channel = ch
                break
        slot = out.setdefault((agency_id, channel), {"payments": 0, "amount_fen": 0})
        slot["payments"] += 1
        slot["amount_fen"] += amount
    return out


# ----------------------------------------------------------------------------------------- promises
def promise_rates(rows: Iterable[tuple[int | None, date, str]]) -> dict[tuple[int | None, str], dict[str, Any]]:
    """Kept rate of decided promises ``(agency_id, resolved_on, status)`` by agency and month.

    Statuses other than ``kept`` and ``broken`` (open, cancelled) are not decisions and are skipped.
    """
    out: dict[tuple[int | None, str], dict[str, Any]] = {}
    for agency_id, resolved_on, status in rows:
        if status not in ("kept", "broken"):
            continue
        slot = out.setdefault((agency_id, month_key(resolved_on)), {"kept": 0, "broken": 0})
        slot[status] += 1
    for slot in out.values():
        slot["rate"] = ratio(slot["kept"], slot["kept"] + slot["broken"])
    return out


# -------------------------------------------------------------------------------------- leaderboard
def leaderboard_order(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rank agencies: higher actual ÷ expected first, then lower cost per yuan, then fewer complaints
    per 10,000 contacts; agencies without an A/E index (nothing finished) go last. Adds ``rank``."""

    def key(r: dict[str, Any]) -> tuple[Any, ...]:
        ae = r.get("ae_index")
        cost = r.get("cost_per_yuan")
        comp = r.get("complaints_per_10k")
        return (ae is None, -(ae or 0.0), cost is None, float(cost or 0), float(comp or 0), r.get("agency_id", 0))

    ranked = sorted(rows, key=key)
    return [{**r, "rank": i} for i, r in enumerate(ranked, start=1)]
