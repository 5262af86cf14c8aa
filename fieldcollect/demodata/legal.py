"""The living demo's letters, legal matter and repaired contact (issue 22): call
:func:`demo_legal` once on a business day after the first allocation (the demo's clock running). It
works through the services like a collections manager would: a demand letter delivered, a lawyer's
letter from the partner law firm, a litigation referral (which recalls the case from its agency) with
its costs and a hearing, and a debtor's new number found on a visit, verified."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from fieldcollect.cases.lifecycle import CaseStatus
from fieldcollect.cases.models import Case
from fieldcollect.core.errors import ApplicationError
from fieldcollect.core.models import Role, User
from fieldcollect.legal import services
from fieldcollect.legal.models import LegalReferral

PARTNER_FIRM = "上海明理律师事务所"
COURT = "上海市浦东新区人民法院"


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=timezone.get_default_timezone())


def demo_legal(*, day: date, seed: int = 0) -> dict[str, int]:
    """Letters, a legal referral and a repaired contact on ``day``; returns what was done. Contacts the
    compliance rules refuse that day are skipped (counted under ``refused``)."""
    done = {"letters": 0, "referrals": 0, "contacts": 0, "refused": 0}
    manager = User.objects.filter(role=Role.COLLECTIONS_MANAGER, is_active=True).order_by("pk").first()
    if manager is None:
        return done
    open_cases = (
        Case.objects.filter(closed_on__isnull=True)
        .exclude(pk__in=LegalReferral.objects.values("case_id"))
        .select_related("customer", "loan")
    )
    placed = list(
        open_cases.filter(
            status__in=[CaseStatus.PLACED, CaseStatus.ASSIGNED, CaseStatus.IN_PROGRESS]
        ).order_by("-dpd", "pk")[:6]
    )
    if not placed:
        return done
    pick = placed[seed % len(placed) :] + placed[: seed % len(placed)]
    # a demand letter, delivered two days later; a lawyer's letter from the partner firm
    for case, kind, hour in ((pick[0], "demand", 10), (pick[min(1, len(pick) - 1)], "lawyer", 11)):
        try:
            letter = services.letter_send(
                case=case,
                kind=kind,
                acting_user=manager,
                at=_at(day, hour),
                law_firm=PARTNER_FIRM if kind == "lawyer" else "",
                lawyer="王律师" if kind == "lawyer" else "",
                tracking_number=f"SF{case.pk:010d}",
            )
        except ApplicationError:
            done["refused"] += 1
            continue
        done["letters"] += 1
        if kind == "demand":
            services.letter_track(letter=letter, status="delivered", acting_user=manager, at=_at(day, 16))
    # the worst case goes to court: recalled from its agency, with its costs and a first hearing
    worst = pick[-1]
    try:
        referral = services.referral_create(
            case=worst,
            kind="litigation",
            forum=COURT,
            law_firm=PARTNER_FIRM,
            claim_fen=max(worst.overdue_fen, 1),
            acting_user=manager,
            referred_on=day,
        )
    except ApplicationError:
        referral = None
    if referral is not None:
        done["referrals"] += 1
        services.cost_add(
            referral=referral,
            kind="court_fee",
            amount_fen=max(5_000, worst.overdue_fen // 100),
            acting_user=manager,
            incurred_on=day,
        )
        services.cost_add(
            referral=referral, kind="lawyer_fee", amount_fen=300_000, acting_user=manager, incurred_on=day
        )
        services.referral_update(
            referral=referral,
            acting_user=manager,
            filed_on=day,
            forum_case_number=f"({day.year})沪0115民初{referral.pk:05d}号",
        )
        services.hearing_add(
            referral=referral, at=_at(day + timedelta(days=30), 9), place="第三法庭", acting_user=manager
        )
    # a debtor who could not be reached: a new number from a visit, verified with the customer's consent
    lost = pick[min(2, len(pick) - 1)]
    try:
        contact = services.alt_contact_add(
            case=lost,
            kind="phone",
            value=f"139{(seed * 7919 + lost.pk) % 10**8:08d}",
            source="visit",
            source_ref="demo",
            label="外访获得的新号码",
            acting_user=manager,
        )
    except ApplicationError:
        return done
    services.alt_contact_verify(
        contact=contact, verification="verified", consent="given", acting_user=manager
    )
    done["contacts"] += 1
    return done
