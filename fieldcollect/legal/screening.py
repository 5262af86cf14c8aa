"""The placement screen, the one rule of which debtors may not be placed with an agency: a debtor who is
deceased, bankrupt, disputing the debt, paused by a serious complaint (the flags of
:mod:`fieldcollect.compliance.models`, active at the moment of the placement) or under an active legal
referral (:class:`fieldcollect.legal.models.LegalReferral`).

Used by the allocation (:func:`fieldcollect.allocation.selectors.eligible_pairs`, whose run keeps the
screened cases with their reasons) and by case management's placement services (a single placement is
refused with the reasons, a bulk placement skips the screened cases under the row locks). Two queries
whatever the number of cases.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fieldcollect.compliance.models import DebtorFlag, FlagKind
from fieldcollect.legal.models import REFERRAL_ACTIVE, LegalReferral


class ScreenReason(models.TextChoices):
    DECEASED = "deceased", _("Deceased")
    BANKRUPT = "bankrupt", _("Bankrupt")
    DISPUTED = "disputed", _("Disputes the debt")
    COMPLAINT_PAUSED = "complaint_paused", _("Contact paused by a complaint")
    LEGAL_REFERRAL = "legal_referral", _("Under a legal referral")


FLAG_REASONS: dict[str, str] = {
    FlagKind.DECEASED: ScreenReason.DECEASED,
    FlagKind.BANKRUPT: ScreenReason.BANKRUPT,
    FlagKind.DISPUTE: ScreenReason.DISPUTED,
    FlagKind.COMPLAINT: ScreenReason.COMPLAINT_PAUSED,
}
ORDER = {r: k for k, r in enumerate(ScreenReason.values)}
# above this many customers the active flags and referrals are read whole (few rows) rather than by id
_FILTER_LIMIT = 2_000


def screen_customers(*, customer_ids: Iterable[int], at: datetime | None = None) -> dict[int, list[str]]:
    """The screen reasons of each customer that may not be placed at ``at`` (now by default); customers
    without a reason are absent. A flag counts while ``starts_at <= at < ends_at`` (a lifted flag, e.g.
    the pause of a complaint that was resolved, has ended)."""
    when = at or timezone.now()
    wanted = set(customer_ids)
    if not wanted:
        return {}
    flags = DebtorFlag.objects.filter(flag__in=list(FLAG_REASONS), starts_at__lte=when).filter(
        Q(ends_at__isnull=True) | Q(ends_at__gt=when)
    )
    referrals = LegalReferral.objects.filter(status__in=REFERRAL_ACTIVE)
    if len(wanted) <= _FILTER_LIMIT:
        flags = flags.filter(customer_id__in=wanted)
        referrals = referrals.filter(customer_id__in=wanted)
    out: defaultdict[int, set[str]] = defaultdict(set)
    for customer_id, flag in flags.values_list("customer_id", "flag"):
        if customer_id in wanted:
            out[customer_id].add(FLAG_REASONS[flag])
    for customer_id in referrals.values_list("customer_id", flat=True):
        if customer_id in wanted:
            out[customer_id].add(ScreenReason.LEGAL_REFERRAL)
    return {c: sorted(r, key=ORDER.__getitem__) for c, r in out.items()}


def screen_cases(*, cases: Iterable[tuple[int, int]], at: datetime | None = None) -> dict[int, list[str]]:
    """The screen reasons of each ``(case_id, customer_id)`` that may not be placed, by case id."""
    pairs = list(cases)
    by_customer = screen_customers(customer_ids={c for _k, c in pairs}, at=at)
    return {k: by_customer[c] for k, c in pairs if c in by_customer}


def reason_labels(reasons: Iterable[str]) -> list[str]:
    """The translated labels of screen reasons (unknown codes as they are)."""
    labels = dict(ScreenReason.choices)
    return [str(labels.get(r, r)) for r in reasons]
