"""Reads for settlement: placement cover periods, attributed payments, statements."""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet

from fieldcollect.cases.models import Payment, Placement
from fieldcollect.core.models import User
from fieldcollect.core.visibility import visible_by_agency
from fieldcollect.settlement.attribution import Cover, attribute, last_covered_day
from fieldcollect.settlement.models import Adjustment, PaymentReversal, Statement, StatementLine


def month_bounds(month: date) -> tuple[date, date]:
    first = month.replace(day=1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def covers_for(*, case_ids: Iterable[int]) -> list[Cover]:
    """Cover periods of every placement of the given cases."""
    ids = list(set(case_ids))
    out: list[Cover] = []
    for chunk_start in range(0, len(ids), 5000):
        chunk = ids[chunk_start:chunk_start + 5000]
        for pid, cid, ag, status, starts, ends, recalled, closed in Placement.objects.filter(
            case_id__in=chunk
        ).values_list("id", "case_id", "agency_id", "status", "starts_on", "ends_on", "recalled_on",
                      "case__closed_on"):
            out.append(Cover(placement_id=pid, case_id=cid, agency_id=ag, starts_on=starts,
                             last_day=last_covered_day(status=status, ends_on=ends, recalled_on=recalled,
                                                       closed_on=closed)))
    return out


@dataclass(frozen=True)
class AttributedPayment:
    payment: Payment
    placement: Placement


def attributed_payments(*, agency_id: int, start: date, end: date) -> list[AttributedPayment]:
    """Payments dated ``start..end`` attributed (by the rule in :mod:`.attribution`) to the agency's placements."""
    case_ids = set(
        Placement.objects.filter(agency_id=agency_id, starts_on__lte=end).values_list("case_id", flat=True)
    )
    if not case_ids:
        return []
    covers = covers_for(case_ids=case_ids)
    payments = {p.pk: p for p in Payment.objects.filter(case_id__in=case_ids, paid_on__gte=start, paid_on__lte=end)}
    hits = attribute(payments=[(p.pk, p.case_id or 0, p.paid_on) for p in payments.values()], covers=covers)
    mine = {pid: c.placement_id for pid, c in hits.items() if c.agency_id == agency_id}
    placements = Placement.objects.select_related("contract", "case").in_bulk(set(mine.values()))
    rows = [AttributedPayment(payment=payments[pid], placement=placements[plid]) for pid, plid in mine.items()]
    rows.sort(key=lambda r: (r.payment.paid_on, r.payment.pk))
    return rows


def statements_visible_to(user: User) -> QuerySet[Statement]:
    return visible_by_agency(Statement.objects.select_related("agency"), user)


def statement_lines(*, statement: Statement) -> QuerySet[StatementLine]:
    return statement.lines.select_related("placement", "payment").order_by("paid_on", "id")


@dataclass(frozen=True)
class Reconciliation:
    """Checks of a statement against its lines and the payments attributed to the agency."""

    lines_payments_fen: int
    lines_commission_fen: int
    lines_disputed_fen: int
    payments_match: bool
    commission_match: bool
    disputed_match: bool
    each_payment_once: bool
    missing_payment_ids: tuple[int, ...]
    extra_payment_ids: tuple[int, ...]
    differs_from_case_record: int
    adjustments_match: bool = True

    @property
    def ok(self) -> bool:
        return (self.payments_match and self.commission_match and self.disputed_match and self.each_payment_once
                and self.adjustments_match and not self.missing_payment_ids and not self.extra_payment_ids)


def reconcile(*, statement: Statement) -> Reconciliation:
    start, end = month_bounds(statement.month)
    lines = list(statement.lines.values_list("payment_id", "placement_id", "amount_fen", "commission_fen", "disputed"))
    pay_ids = [r[0] for r in lines]
    reversed_ids = set(PaymentReversal.objects.filter(reversed_on__lte=end).values_list("payment_id", flat=True))
    now = {r.payment.pk for r in attributed_payments(agency_id=statement.agency_id, start=start, end=end)
           } - reversed_ids
    adj = list(statement.adjustments.values_list("kind", "amount_fen"))
    recorded = dict(Payment.objects.filter(pk__in=pay_ids).values_list("pk", "placement_id"))
    lp = sum(r[2] for r in lines)
    lc = sum(r[3] for r in lines)
    ld = sum(r[3] for r in lines if r[4])
    return Reconciliation(
        lines_payments_fen=lp, lines_commission_fen=lc, lines_disputed_fen=ld,
        payments_match=lp == statement.payments_fen, commission_match=lc == statement.commission_fen,
        disputed_match=ld == statement.disputed_commission_fen,
        each_payment_once=len(set(pay_ids)) == len(pay_ids)
        and not StatementLine.objects.filter(payment_id__in=pay_ids).exclude(statement=statement).exists(),
        missing_payment_ids=tuple(sorted(now - set(pay_ids))),
        extra_payment_ids=tuple(sorted(set(pay_ids) - now)),
        differs_from_case_record=sum(1 for r in lines if recorded.get(r[0]) != r[1]),
        adjustments_match=sum(a for k, a in adj if k == Adjustment.Kind.PENALTY) == statement.penalties_fen
        and sum(a for k, a in adj if k == Adjustment.Kind.CLAWBACK) == statement.clawbacks_fen,
    )


def statement_adjustments(*, statement: Statement) -> QuerySet[Adjustment]:
    return statement.adjustments.order_by("kind", "occurred_on", "id")
