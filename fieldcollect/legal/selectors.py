"""Reads of the legal app: referrals and their dashboard (legal cost against amounts recovered), a
case's letters and alternate contacts (masked), and the contact-repair queue (失联修复)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from fieldcollect.cases.access import cases_visible_to
from fieldcollect.cases.models import Case, ContactAttempt, Outcome, Payment
from fieldcollect.compliance.models import DebtorFlag, FlagKind
from fieldcollect.core.models import User
from fieldcollect.legal.models import (
    AltContact,
    ContactKind,
    LegalCost,
    LegalReferral,
    Letter,
    LetterStatus,
    ReferralKind,
    Verification,
)
from fieldcollect.privacy.masking import mask_address, mask_mobile, mask_name


def referrals_list(*, status: str = "", kind: str = "") -> QuerySet[LegalReferral]:
    qs = LegalReferral.objects.select_related("case")
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-referred_on", "-id")


def referral_recovered_fen(referrals: list[LegalReferral]) -> dict[int, int]:
    """Per referral, the payments on its case from the day of the referral (one query)."""
    if not referrals:
        return {}
    by_case = {r.case_id: r for r in referrals}
    out: dict[int, int] = {r.pk: 0 for r in referrals}
    earliest = min(r.referred_on for r in referrals)
    for case_id, paid_on, amount in Payment.objects.filter(
        case_id__in=list(by_case), paid_on__gte=earliest
    ).values_list("case_id", "paid_on", "amount_fen"):
        r = by_case[case_id]
        if paid_on >= r.referred_on and (r.closed_on is None or paid_on <= r.closed_on + timedelta(days=30)):
            out[r.pk] += amount
    return out


def referral_costs_fen(referral_ids: list[int]) -> dict[int, int]:
    rows = (
        LegalCost.objects.filter(referral_id__in=referral_ids)
        .values("referral_id")
        .annotate(t=Sum("amount_fen"))
    )
    return {r["referral_id"]: int(r["t"] or 0) for r in rows}


@dataclass(frozen=True)
class DashboardRow:
    key: str
    label: str
    referrals: int
    claim_fen: int
    judgement_fen: int
    cost_fen: int
    recovered_fen: int

    @property
    def net_fen(self) -> int:
        return self.recovered_fen - self.cost_fen

    @property
    def recovery_per_cost(self) -> float | None:
        return self.recovered_fen / self.cost_fen if self.cost_fen else None


def legal_dashboard() -> dict[str, Any]:
    """Legal cost against amounts recovered, by kind of matter (litigation, arbitration, mediation) and
    in total; recovered = payments on the referred case from the referral's day (integer fen)."""
    referrals = list(LegalReferral.objects.all())
    costs = referral_costs_fen([r.pk for r in referrals])
    recovered = referral_recovered_fen(referrals)
    rows = []
    for kind, label in ReferralKind.choices:
        mine = [r for r in referrals if r.kind == kind]
        rows.append(
            DashboardRow(
                key=str(kind),
                label=str(label),
                referrals=len(mine),
                claim_fen=sum(r.claim_fen for r in mine),
                judgement_fen=sum(r.judgement_fen or 0 for r in mine),
                cost_fen=sum(costs.get(r.pk, 0) for r in mine),
                recovered_fen=sum(recovered.get(r.pk, 0) for r in mine),
            )
        )
    total = DashboardRow(
        key="total",
        label="",
        referrals=len(referrals),
        claim_fen=sum(r.claim_fen for r in rows),
        judgement_fen=sum(r.judgement_fen for r in rows),
        cost_fen=sum(r.cost_fen for r in rows),
        recovered_fen=sum(r.recovered_fen for r in rows),
    )
    return {"rows": rows, "total": total, "costs": costs, "recovered": recovered}


def letters_of_case(*, case_id: int) -> QuerySet[Letter]:
    return Letter.objects.filter(case_id=case_id).order_by("-sent_at", "-id")


def mask_contact_value(kind: str, value: str) -> str:
    if kind == ContactKind.PHONE:
        return mask_mobile(value)
    if kind == ContactKind.ADDRESS:
        return mask_address(value)
    return mask_name(value)


def alt_contact_rows(*, case: Case) -> QuerySet[AltContact]:
    """The debtor's alternate contacts (every case of the customer), newest first."""
    return AltContact.objects.filter(customer_id=case.customer_id).order_by("-created_at", "-id")


def alt_contacts_of_case(*, case: Case) -> list[dict[str, Any]]:
    """The debtor's alternate contacts (every case of the customer), masked."""
    return [{"obj": c, "masked": mask_contact_value(c.kind, str(c.value))} for c in alt_contact_rows(case=case)]


def referrals_of_case(*, case: Case) -> QuerySet[LegalReferral]:
    """The case's legal referrals, latest first (bank staff only: the caller checks)."""
    return LegalReferral.objects.filter(case=case).order_by("-referred_on", "-id")


UNREACHABLE_OUTCOMES = (Outcome.MOVED, Outcome.WRONG_ADDRESS, Outcome.WRONG_NUMBER)
QUEUE_LOOKBACK_DAYS = 90


def repair_queue(*, user: User, today: date, limit: int = 200) -> list[dict[str, Any]]:
    """The contact-repair queue: open cases ``user`` may see whose debtor looks unreachable — a recent
    contact ended "moved", "wrong address" or "wrong number" with no connected contact since, a letter
    came back, or a "no valid number" flag is active — with the alternate contacts awaiting
    verification. Newest signal first."""
    since = today - timedelta(days=QUEUE_LOOKBACK_DAYS)
    visible = cases_visible_to(user).filter(closed_on__isnull=True)
    reasons: defaultdict[int, set[str]] = defaultdict(set)
    last: dict[int, datetime] = {}
    bad = ContactAttempt.objects.filter(
        case__in=visible, outcome__in=UNREACHABLE_OUTCOMES, at__date__gte=since
    ).values_list("case_id", "outcome", "at")
    for case_id, outcome, at in bad:
        reasons[case_id].add(str(outcome))
        last[case_id] = max(last.get(case_id, at), at)
    if last:
        for case_id, at in ContactAttempt.objects.filter(case_id__in=list(last), connected=True).values_list(
            "case_id", "at"
        ):
            if case_id in last and at > last[case_id]:
                reasons.pop(case_id, None)
                last.pop(case_id, None)
    for case_id, returned_at in Letter.objects.filter(
        case__in=visible, status=LetterStatus.RETURNED
    ).values_list("case_id", "returned_at"):
        reasons[case_id].add("letter_returned")
        if returned_at is not None:
            last[case_id] = max(last.get(case_id, returned_at), returned_at)
    now = timezone.now()
    flagged = (
        DebtorFlag.objects.filter(flag=FlagKind.NO_VALID_NUMBER, starts_at__lte=now)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .values("customer_id")
    )
    for case_id in visible.filter(customer_id__in=flagged).values_list("pk", flat=True):
        reasons[case_id].add("no_valid_number")
    if not reasons:
        return []
    cases = {
        c.pk: c
        for c in Case.objects.filter(pk__in=list(reasons)).only(
            "id", "customer_id", "dpd", "overdue_fen", "agency_id", "city"
        )
    }
    pending: defaultdict[int, int] = defaultdict(int)
    total: defaultdict[int, int] = defaultdict(int)
    for customer_id, verification in AltContact.objects.filter(
        customer_id__in={c.customer_id for c in cases.values()}
    ).values_list("customer_id", "verification"):
        total[customer_id] += 1
        pending[customer_id] += int(verification == Verification.UNVERIFIED)
    rows: list[dict[str, Any]] = [
        {
            "case": cases[k],
            "reasons": sorted(v),
            "last": last.get(k),
            "alt_contacts": total[cases[k].customer_id],
            "pending": pending[cases[k].customer_id],
        }
        for k, v in reasons.items()
        if k in cases
    ]

    def order(row: dict[str, Any]) -> tuple[bool, float, int]:
        when = row["last"]
        return (when is None, -(when.timestamp() if when is not None else 0.0), row["case"].pk)

    rows.sort(key=order)
    return rows[:limit]


REASON_LABELS = {
    "moved": Outcome.MOVED.label,
    "wrong_address": Outcome.WRONG_ADDRESS.label,
    "wrong_number": Outcome.WRONG_NUMBER.label,
    "letter_returned": LetterStatus.RETURNED.label,
    "no_valid_number": FlagKind.NO_VALID_NUMBER.label,
}
