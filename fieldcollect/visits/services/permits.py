"""Visit permits: each stop of a published day plan gets a signed permit (case, team, time window, the
compliance verdict at planning time, expiry) the collector's phone checks in against offline.

The token is ``Signer(salt=SALT).sign_object(payload)`` (Django signing: an HMAC with the project's
secret key, never stored in the repository); the payload repeats the row's fields, so the row can
make the same token again for ``/api/v1/field/today`` and a token whose fields differ from the row
is refused. At sync the server checks the token (:func:`permit_check`) and asks the compliance
engine again (:func:`permit_recheck`, through
:func:`fieldcollect.compliance.services.contact_decision`, the one entry point): a visit made under
the permit before a debtor flag was raised is recorded as such, not refused.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from django.core import signing
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldcollect.agencies.models import Collector
from fieldcollect.cases.models import Case
from fieldcollect.compliance import services as compliance_services
from fieldcollect.compliance.models import DebtorFlag
from fieldcollect.compliance.packs import RulePack
from fieldcollect.compliance.selectors import pack_for
from fieldcollect.compliance.services import RESTRICTIVE_FLAGS, ContactVerdict
from fieldcollect.core.errors import ApplicationError
from fieldcollect.visits.errors import VisitErrorCode as E
from fieldcollect.visits.models import Appointment, RoutePlan, RouteStop, VisitPermit
from fieldcollect.visits.services.common import aware, local_tz

SALT = "fieldcollect.visits.permit.v1"
# a check-in may be this early in the permit's window (the appointment rule of checkin_record)
EARLY = timedelta(minutes=30)
# a phone's clock may run this much ahead of the server's
CLOCK_SKEW = timedelta(minutes=5)
# the rule kinds that a debtor flag raised after the permit can trigger
FLAG_RULE_KINDS = frozenset({"pause", "third_party_cease"})


def permit_expiry(plan: RoutePlan) -> datetime:
    """The end of the plan's local day: the permit, and the phone's copy of the day, end there."""
    return aware(plan.date + timedelta(days=1), time(0, 0), local_tz())


def _window(stop: RouteStop, plan: RoutePlan) -> tuple[datetime, datetime]:
    if stop.window_start is not None and stop.window_end is not None:
        return stop.window_start, stop.window_end
    return plan.team.shift_start, plan.team.shift_end


def permits_issue(*, plan: RoutePlan, now: datetime | None = None) -> list[VisitPermit]:
    """A permit for every visited (non-skipped) stop of ``plan``, with the compliance verdict on the
    visit at the start of its window (a team of two, recorded, the appointment as it stands)."""
    now = now or timezone.now()
    team = plan.team
    members = list(Collector.objects.filter(pk__in=team.member_ids))
    qualified = compliance_services.collectors_qualified(members, on=plan.date)
    expires = permit_expiry(plan)
    stops = list(plan.stops.filter(skipped=False).select_related("case__customer", "case__loan", "appointment"))
    rows = []
    for stop in stops:
        start, end = _window(stop, plan)
        confirmed = stop.appointment is not None and stop.appointment.status == Appointment.Status.CONFIRMED
        verdict = compliance_services.contact_decision(
            case=stop.case, channel="visit", at=start, collectors=qualified, recording=True,
            appointment_confirmed=confirmed, request_id="permit", agency_id=team.agency_id)
        rows.append(VisitPermit(stop=stop, plan=plan, case_id=stop.case_id, team=team, window_start=start,
                                window_end=end, allowed=verdict.allowed, rule_ids=verdict.rule_ids,
                                pack=verdict.decision.pack, nonce=secrets.token_hex(8), issued_at=now,
                                expires_at=expires))
    return VisitPermit.objects.bulk_create(rows)


def _payload(permit: VisitPermit) -> dict[str, Any]:
    return {"p": permit.pk, "c": permit.case_id, "t": permit.team_id, "s": int(permit.window_start.timestamp()),
            "w": int(permit.window_end.timestamp()), "e": int(permit.expires_at.timestamp()),
            "a": bool(permit.allowed), "n": permit.nonce}


def permit_token(permit: VisitPermit) -> str:
    """The signed token of ``permit`` (the same every time it is asked)."""
    return signing.Signer(salt=SALT).sign_object(_payload(permit), compress=True)


def permit_check(*, token: str, case: Case, collector: Collector, at: datetime,
                 now: datetime | None = None) -> VisitPermit:
    """The permit of ``token`` if it lets ``collector`` visit ``case`` at ``at``: signature, case,
    the collector's team, window and expiry; else :class:`ApplicationError` with a ``permit.*`` code."""
    now = now or timezone.now()
    try:
        data = signing.Signer(salt=SALT).unsign_object(str(token or ""))
        permit = VisitPermit.objects.select_related("team").filter(pk=int(data["p"])).first()
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        permit = None
        data = {}
    if permit is None or data != _payload(permit):
        raise ApplicationError(_("The visit permit is not valid."), code=E.PERMIT_INVALID, status_code=403)
    if at >= permit.expires_at or now >= permit.expires_at + timedelta(days=1):
        raise ApplicationError(_("The visit permit has expired."), code=E.PERMIT_EXPIRED, status_code=403,
                               extra={"expires_at": permit.expires_at.isoformat()})
    if permit.case_id != case.pk:
        raise ApplicationError(_("The visit permit is for another case."), code=E.PERMIT_OTHER_CASE,
                               status_code=403)
    if collector.pk not in permit.team.member_ids:
        raise ApplicationError(_("The visit permit is for another team."), code=E.PERMIT_OTHER_TEAM,
                               status_code=403)
    if not permit.window_start - EARLY <= at <= permit.window_end:
        raise ApplicationError(
            _("The visit is outside the permit's time window (%(start)s to %(end)s).") % {
                "start": timezone.localtime(permit.window_start, local_tz()).strftime("%H:%M"),
                "end": timezone.localtime(permit.window_end, local_tz()).strftime("%H:%M")},
            code=E.PERMIT_OUTSIDE_WINDOW, status_code=403,
            extra={"window_start": permit.window_start.isoformat(), "window_end": permit.window_end.isoformat()})
    return permit


@dataclass(frozen=True)
class Recheck:
    """The engine's verdict on the visit at sync, and the debtor flags raised after the permit."""

    verdict: ContactVerdict
    pack: RulePack
    flags_after: list[dict[str, Any]] = field(default_factory=list)

    @property
    def before_flag(self) -> bool:
        """A visit made under the permit before a flag was raised (recorded, shown in the report)."""
        return bool(self.flags_after)

    @property
    def refused(self) -> bool:
        """Blocked by more than the flags the permit could not know of: refused as any blocked contact."""
        if self.verdict.allowed:
            return False
        if not self.flags_after:
            return True
        return not all(self.pack.rule(rid).kind in FLAG_RULE_KINDS for rid in self.verdict.rule_ids)


def flags_after_permit(*, permit: VisitPermit, case: Case, at: datetime,
                       now: datetime | None = None) -> list[dict[str, Any]]:
    """The debtor's restrictive flags raised after ``permit`` was issued that are in force at the
    visit or now (the collector, offline, could not know of them)."""
    now = now or timezone.now()
    live = Q(ends_at__isnull=True) | Q(ends_at__gt=min(at, now))
    rows = (DebtorFlag.objects.filter(customer_id=case.customer_id, flag__in=list(RESTRICTIVE_FLAGS),
                                      created_at__gt=permit.issued_at).filter(live).order_by("created_at", "id"))
    return [{"flag_id": f.pk, "flag": f.flag, "raised_at": f.created_at.isoformat(),
             "starts_at": f.starts_at.isoformat()} for f in rows]


def permit_recheck(*, permit: VisitPermit, case: Case, at: datetime, now: datetime | None = None,
                   **visit: Any) -> Recheck:
    """Ask the compliance engine about the visit at ``at`` again (``visit`` may carry ``collectors``,
    ``recording``, ``appointment_confirmed``) and find the flags raised after the permit."""
    verdict = compliance_services.contact_decision(case=case, channel="visit", at=at, request_id="permit-sync",
                                                   agency_id=permit.team.agency_id, **visit)
    return Recheck(verdict=verdict, pack=pack_for(case.loan.jurisdiction), flags_after=flags_after_permit(permit=permit, case=case, at=at, now=now))
