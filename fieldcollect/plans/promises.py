"""Promises to pay (承诺还款) and the watch of a restructured plan, decided from payments (pure).

Promise to pay
    A promise of ``amount_fen`` by ``promised_date``, recorded on ``created_on``. Payments made from
    ``created_on`` up to and including ``promised_date + grace_days`` count towards it. It is

    * **kept** as soon as those payments reach the amount (``kept_on`` is the day they did);
    * **pending** while the deadline (promised date + grace) has not passed (``as_of`` ≤ deadline);
    * **partial** after the deadline if something, but not enough, was paid;
    * **broken** after the deadline if nothing was paid.

    Partial and broken are both "not kept" and trigger the next action. The kept rate counts resolved
    promises only: kept / (kept + partial + broken).

Plan watch
    Payments are applied to the plan's instalments in order (waterfall). Instalment k is met when the
    payments made up to its due date + grace cover everything scheduled up to and including k. The
    first instalment not met once its grace has passed breaks the plan (``broken_on`` = the day after
    the grace period). A plan whose payments cover the whole schedule is completed.

All amounts are integer fen; dates are business dates (``as_of``), never the wall clock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Protocol

__all__ = [
    "DueInstalment",
    "KeptRate",
    "Payment",
    "PlanStatus",
    "PlanWatch",
    "Promise",
    "PromiseOutcome",
    "PromiseStatus",
    "evaluate_promise",
    "evaluate_promises",
    "instalments_paid_on",
    "kept_rate_by_agency",
    "kept_rate_by_collector",
    "kept_rates",
    "overall_kept_rate",
    "watch_plan",
]

_RATE_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class Payment:
    """A payment received (through the bank's designated channels)."""

    paid_on: date
    amount_fen: int

    def __post_init__(self) -> None:
        if isinstance(self.amount_fen, bool) or not isinstance(self.amount_fen, int) or self.amount_fen < 0:
            raise ValueError(f"payment amount must be a non-negative integer of fen, got {self.amount_fen!r}")


class PromiseStatus(StrEnum):
    PENDING = "pending"
    KEPT = "kept"
    PARTIAL = "partial"
    BROKEN = "broken"


@dataclass(frozen=True)
class Promise:
    """A promise to pay ``amount_fen`` by ``promised_date``, made on ``created_on``."""

    amount_fen: int
    promised_date: date
    created_on: date
    collector_id: str | None = None
    agency_id: str | None = None
    case_id: str | None = None
    promise_id: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.amount_fen, bool) or not isinstance(self.amount_fen, int) or self.amount_fen <= 0:
            raise ValueError(f"a promise needs a positive amount in fen, got {self.amount_fen!r}")
        if self.promised_date < self.created_on:
            raise ValueError("the promised date cannot be before the day the promise was made")

    def deadline(self, grace_days: int) -> date:
        """Last day on which a payment still counts."""
        return self.promised_date + timedelta(days=grace_days)


@dataclass(frozen=True)
class PromiseOutcome:
    """The state of one promise on ``as_of``."""

    promise: Promise
    status: PromiseStatus
    as_of: date
    paid_fen: int
    kept_on: date | None
    deadline: date

    @property
    def shortfall_fen(self) -> int:
        return max(self.promise.amount_fen - self.paid_fen, 0)

    @property
    def is_resolved(self) -> bool:
        return self.status is not PromiseStatus.PENDING

    @property
    def is_broken(self) -> bool:
        """Not kept once the grace period has passed (partial or broken): triggers the next action."""
        return self.status in (PromiseStatus.PARTIAL, PromiseStatus.BROKEN)

    @property
    def resolved_on(self) -> date | None:
        """The day the outcome became final (kept: the paying day; otherwise the day after the deadline)."""
        if self.status is PromiseStatus.KEPT:
            return self.kept_on
        if self.is_broken:
            return self.deadline + timedelta(days=1)
        return None


def evaluate_promise(
    *, promise: Promise, payments: Iterable[Payment], as_of: date, grace_days: int = 0
) -> PromiseOutcome:
    """Decide whether ``promise`` is kept, pending, partial or broken on ``as_of``.

    Parameters
    ----------
    promise
        The promise.
    payments
        Payments of the customer (any order; those outside the window are ignored).
    as_of
        Business date of the evaluation; payments after it are ignored.
    grace_days
        Days after the promised date during which payments still count.
    """
    if grace_days < 0:
        raise ValueError("grace_days must not be negative")
    deadline = promise.deadline(grace_days)
    window_end = min(deadline, as_of)
    paid = 0
    kept_on: date | None = None
    for p in sorted(payments, key=lambda p: p.paid_on):
        if p.paid_on < promise.created_on or p.paid_on > window_end:
            continue
        paid += p.amount_fen
        if kept_on is None and paid >= promise.amount_fen:
            kept_on = p.paid_on
    if kept_on is not None:
        status = PromiseStatus.KEPT
    elif as_of <= deadline:
        status = PromiseStatus.PENDING
    elif paid > 0:
        status = PromiseStatus.PARTIAL
    else:
        status = PromiseStatus.BROKEN
    return PromiseOutcome(promise=promise, status=status, as_of=as_of, paid_fen=paid, kept_on=kept_on, deadline=deadline)


def evaluate_promises(
    *, promises: Iterable[tuple[Promise, Iterable[Payment]]], as_of: date, grace_days: int = 0
) -> list[PromiseOutcome]:
    """Evaluate many ``(promise, payments of its case)`` pairs."""
    return [evaluate_promise(promise=p, payments=pays, as_of=as_of, grace_days=grace_days) for p, pays in promises]


@dataclass(frozen=True)
class KeptRate:
    """Promise-keeping figures of one group (collector, agency, ...)."""

    kept: int
    partial: int
    broken: int
    pending: int
    promised_fen: int
    paid_fen: int

    @property
    def resolved(self) -> int:
        return self.kept + self.partial + self.broken

    @property
    def rate(self) -> Decimal | None:
        """Kept / resolved (4 decimals), None when nothing is resolved yet."""
        if self.resolved == 0:
            return None
        return (Decimal(self.kept) / Decimal(self.resolved)).quantize(_RATE_PLACES, rounding=ROUND_HALF_UP)

    @property
    def amount_rate(self) -> Decimal | None:
        """Paid (capped at each promise's amount) / promised, over resolved promises."""
        if self.promised_fen == 0:
            return None
        return (Decimal(self.paid_fen) / Decimal(self.promised_fen)).quantize(_RATE_PLACES, rounding=ROUND_HALF_UP)


def kept_rates(
    outcomes: Iterable[PromiseOutcome], *, key: Callable[[PromiseOutcome], str | None]
) -> dict[str, KeptRate]:
    """Kept rates grouped by ``key`` (outcomes whose key is None are left out)."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for o in outcomes:
        k = key(o)
        if k is None:
            continue
        c = counts[k]
        c[o.status.value] += 1
        if o.is_resolved:
            c["promised"] += o.promise.amount_fen
            c["paid"] += min(o.paid_fen, o.promise.amount_fen)
    return {
        k: KeptRate(
            kept=c["kept"],
            partial=c["partial"],
            broken=c["broken"],
            pending=c["pending"],
            promised_fen=c["promised"],
            paid_fen=c["paid"],
        )
        for k, c in sorted(counts.items())
    }


def kept_rate_by_collector(outcomes: Iterable[PromiseOutcome]) -> dict[str, KeptRate]:
    return kept_rates(outcomes, key=lambda o: o.promise.collector_id)


def kept_rate_by_agency(outcomes: Iterable[PromiseOutcome]) -> dict[str, KeptRate]:
    return kept_rates(outcomes, key=lambda o: o.promise.agency_id)


def overall_kept_rate(outcomes: Iterable[PromiseOutcome]) -> KeptRate:
    return kept_rates(outcomes, key=lambda o: "all").get("all", KeptRate(0, 0, 0, 0, 0, 0))


# --------------------------------------------------------------------------------------------------
# Plan watch
# --------------------------------------------------------------------------------------------------


class DueInstalment(Protocol):
    """What the watch needs of an instalment (``schedule.Instalment`` or a stored row)."""

    @property
    def seq(self) -> int: ...
    @property
    def due_date(self) -> date: ...
    @property
    def payment_fen(self) -> int: ...


class PlanStatus(StrEnum):
    PERFORMING = "performing"
    BROKEN = "broken"
    COMPLETED = "completed"


@dataclass(frozen=True)
class PlanWatch:
    """The state of a restructured plan on ``as_of``.

    Attributes
    ----------
    status
        performing, broken or completed.
    first_missed_seq, first_missed_due
        The instalment that broke the plan (None unless broken).
    broken_on
        The first day the plan counts as broken (the day after that instalment's grace period).
    paid_fen
        Payments counted (from the plan's start up to ``as_of``).
    due_fen
        Everything scheduled with a due date on or before ``as_of``.
    next_seq, next_due, next_amount_fen
        The next instalment not yet fully covered (None when completed).
    """

    status: PlanStatus
    as_of: date
    paid_fen: int
    due_fen: int
    first_missed_seq: int | None = None
    first_missed_due: date | None = None
    broken_on: date | None = None
    next_seq: int | None = None
    next_due: date | None = None
    next_amount_fen: int | None = None

    @property
    def arrears_fen(self) -> int:
        return max(self.due_fen - self.paid_fen, 0)


def watch_plan(
    *,
    instalments: Sequence[DueInstalment],
    payments: Iterable[Payment],
    as_of: date,
    grace_days: int = 0,
    start: date | None = None,
) -> PlanWatch:
    """Check a restructured plan's instalments against payments (see the module docstring).

    Parameters
    ----------
    instalments
        The plan's instalments in due-date order.
    payments
        The customer's payments; those before ``start`` or after ``as_of`` are ignored.
    as_of
        Business date.
    grace_days
        Days after a due date during which a late payment still meets the instalment.
    start
        The plan's start (acceptance) date; payments before it do not count.
    """
    if grace_days < 0:
        raise ValueError("grace_days must not be negative")
    rows = sorted(instalments, key=lambda i: (i.due_date, i.seq))
    pays = sorted(
        (p for p in payments if p.paid_on <= as_of and (start is None or p.paid_on >= start)),
        key=lambda p: p.paid_on,
    )
    total_paid = sum(p.amount_fen for p in pays)
    due_by_as_of = sum(i.payment_fen for i in rows if i.due_date <= as_of)
    total_scheduled = sum(i.payment_fen for i in rows)

    def paid_until(day: date) -> int:
        return sum(p.amount_fen for p in pays if p.paid_on <= day)

    cumulative = 0
    for inst in rows:
        cumulative += inst.payment_fen
        deadline = inst.due_date + timedelta(days=grace_days)
        if as_of <= deadline:
            break
        if paid_until(deadline) < cumulative:
            return PlanWatch(
                status=PlanStatus.BROKEN,
                as_of=as_of,
                paid_fen=total_paid,
                due_fen=due_by_as_of,
                first_missed_seq=inst.seq,
                first_missed_due=inst.due_date,
                broken_on=deadline + timedelta(days=1),
            )
    if rows and total_paid >= total_scheduled:
        return PlanWatch(status=PlanStatus.COMPLETED, as_of=as_of, paid_fen=total_paid, due_fen=due_by_as_of)
    cumulative = 0
    nxt: DueInstalment | None = None
    for inst in rows:
        cumulative += inst.payment_fen
        if cumulative > total_paid:
            nxt = inst
            break
    return PlanWatch(
        status=PlanStatus.PERFORMING,
        as_of=as_of,
        paid_fen=total_paid,
        due_fen=due_by_as_of,
        next_seq=None if nxt is None else nxt.seq,
        next_due=None if nxt is None else nxt.due_date,
        next_amount_fen=None if nxt is None else cumulative - total_paid,
    )


def instalments_paid_on(
    *, instalments: Sequence[DueInstalment], payments: Iterable[Payment], start: date | None = None,
    as_of: date | None = None,
) -> dict[int, date | None]:
    """The day each instalment of a plan was paid, by the plan watch's waterfall: payments (from
    ``start``, up to ``as_of``) are applied to the instalments in due-date order, and instalment k is
    paid on the day the payments reach everything scheduled up to and including k (``None``: not yet).
    Early payments pay later instalments in advance."""
    rows = sorted(instalments, key=lambda i: (i.due_date, i.seq))
    pays = sorted((p for p in payments if (start is None or p.paid_on >= start)
                   and (as_of is None or p.paid_on <= as_of)), key=lambda p: p.paid_on)
    out: dict[int, date | None] = {}
    paid, k, cumulative = 0, 0, 0
    for inst in rows:
        cumulative += inst.payment_fen
        while paid < cumulative and k < len(pays):
            paid += pays[k].amount_fen
            k += 1
        out[inst.seq] = pays[k - 1].paid_on if paid >= cumulative and k > 0 else (
            None if cumulative > 0 else (start or None))
    return out
