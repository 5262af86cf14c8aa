"""Writes on field visits. Keyword-only functions; each runs in one transaction and writes its audit
row in it. Permission to see a case is checked by the caller (``access_case_by_id``); the role
checks for acting are made here.

Compliance: appointment windows and the visit itself go through the compliance engine
(:mod:`fieldcollect.compliance.engine`) with the pack of the loan's jurisdiction; a refusal carries
the rule's explanation in the current language.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import IO, Any, NoReturn

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from fieldcollect.agencies.models import Agency, Collector
from fieldcollect.cases import services as case_services
from fieldcollect.cases.access import cases_held_by, cases_visible_to, require_capability
from fieldcollect.cases.models import Case, ContactAttempt, Task
from fieldcollect.compliance import selectors as compliance_selectors
from fieldcollect.compliance import services as compliance_services
from fieldcollect.compliance.engine import ContactRequest, Decision, LedgerEntry, check, zone
from fieldcollect.compliance.packs import RulePack, load_pack
from fieldcollect.core.audit import audit_log, snapshot
from fieldcollect.core.bank_time import bank_time_zone_name
from fieldcollect.core.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError
from fieldcollect.core.models import Role, User
from fieldcollect.optimisation.routes import (
    DayPlan,
    DayPlanBuilder,
    TeamProgress,
    day_plan_geojson,
    plan_day,
    replan,
)
from fieldcollect.optimisation.travel import LatLon, haversine_m
from fieldcollect.visits import links
from fieldcollect.visits.evidence import (
    EvidenceIntake,
    StagedEvidence,
    evidence_chunks,
    evidence_path,
    evidence_root,  # noqa: F401 (re-exported: ops.backup reads the evidence folder through it)
)
from fieldcollect.visits.fieldwork import appointment_live
from fieldcollect.visits.models import (
    Appointment,
    CheckIn,
    Evidence,
    FeedbackRequest,
    OutboxMessage,
    RoutePlan,
    RouteStop,
    Shift,
    Team,
    VisitOutcome,
    VisitReport,
)
from fieldcollect.visits.outbox import outbox_enqueue

GEOFENCE_M = 200.0
MAX_SPEED_KMH = 150.0
MAX_WINDOW = timedelta(hours=4)
LINK_TTL = timedelta(days=7)
FEEDBACK_TTL = timedelta(days=14)
SERVICE_MINUTES = 30
DEFAULT_SHIFT = (time(9, 0), time(18, 0))
# expected recovery of a visit as a share of the overdue amount, by bucket (until scoring provides one)
VISIT_RECOVERY_RATE = {"M1": 0.30, "M2": 0.20, "M3": 0.15, "M4": 0.10, "M5": 0.08, "M6": 0.06, "M6+": 0.04}
_CHANNELS = {"phone": "call", "sms": "sms", "visit": "visit", "letter": "letter", "email": "email", "wechat": "sms"}


def geofence_m() -> float:
    return float(getattr(settings, "VISITS_GEOFENCE_M", os.environ.get("VISITS_GEOFENCE_M", GEOFENCE_M)))


def public_url(path: str) -> str:
    base = str(getattr(settings, "VISITS_PUBLIC_URL", "") or os.environ.get("VISITS_PUBLIC_URL", "")
               or "http://127.0.0.1:8000")
    return base.rstrip("/") + path


# ---------------------------------------------------------------- compliance

@lru_cache(maxsize=8)
def pack_for(jurisdiction: str) -> RulePack:
    return load_pack(jurisdiction or "CN")


def _pack(case: Case) -> RulePack:
    return pack_for(case.loan.jurisdiction)


def pack_requires(pack: RulePack, kind: str) -> bool:
    """Whether an enabled rule of ``kind`` (e.g. ``visit_recording``) is in the pack."""
    return any(r.kind == kind for r in pack.active_rules)


def _ledger(case: Case) -> list[LedgerEntry]:
    rows = ContactAttempt.objects.filter(case__customer_id=case.customer_id).only(
        "channel", "party", "at", "number", "connected", "conversation", "agency_id", "row_binding")
    return [
        LedgerEntry(debtor_id=str(case.customer_id), channel=_CHANNELS.get(r.channel, "call"),
                    party="debtor" if r.party == "debtor" else "third_party", at=r.at,
                    phone=r.number or None, connected=r.connected or r.conversation, conversation=r.conversation,
                    agency_id=str(r.agency_id) if r.agency_id else None)
        for r in rows
    ]


def _lang() -> str:
    return translation.get_language() or settings.LANGUAGE_CODE


def compliance_error(decision: Decision, *, code: str) -> ApplicationError:
    text = " ".join(decision.explain(_lang()))
    extra: dict[str, Any] = {"rule_ids": list(decision.rule_ids), "pack": decision.pack}
    if decision.next_allowed_at is not None:
        extra["next_allowed_at"] = decision.next_allowed_at.isoformat()
    return ApplicationError(_("Not allowed by the compliance rules: %(why)s") % {"why": text}, code=code, extra=extra)


def visit_decision(*, case: Case, at: datetime, collectors: int, recording: bool,
                   appointment_confirmed: bool, request_id: str = "visit") -> Decision:
    """The compliance engine's decision on a field visit to ``case``'s customer at ``at``."""
    request = ContactRequest(
        request_id=request_id, debtor_id=str(case.customer_id), tz=case.customer.timezone or bank_time_zone_name(),
        channel="visit", party="debtor", at=at, collectors=collectors, recording=recording,
        appointment_confirmed=appointment_confirmed,
    )
    return check(request=request, ledger=_ledger(case),
                 flags=compliance_selectors.debtor_flags(customer_ids=[case.customer_id]), pack=_pack(case))


def window_refusal(*, case: Case, start: datetime, end: datetime,
                   now: datetime | None = None) -> tuple[Decision, datetime] | None:
    """Raise on a window that is empty, too long or past; return the pack's refusal of a visit in it
    (contact hours, pauses...) with the refused time, or ``None`` when allowed. The team, recording
    and confirmation rules are checked at the visit itself."""
    now = now or timezone.now()
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise ApplicationError(_("Times must carry a time zone."), code="appointment.naive")
    if end <= start:
        raise ApplicationError(_("A window must end after it starts."), code="appointment.empty_window")
    if end - start > MAX_WINDOW:
        raise ApplicationError(_("A window may last at most 4 hours."), code="appointment.window_too_long")
    if start <= now:
        raise ApplicationError(_("A window must be in the future."), code="appointment.past_window")
    # contact hours are one interval a day and a window lasts at most 4 h: checking both ends suffices
    for i, at in enumerate((start, end - timedelta(minutes=1))):
        decision = visit_decision(case=case, at=at, collectors=2, recording=True, appointment_confirmed=True,
                                  request_id=f"window-{i}")
        if not decision.allowed:
            return decision, at
    return None


def _refuse(*, decision: Decision, case: Case, acting_user: User | None, channel: str, at: datetime, path: str,
            code: str, number: str = "") -> NoReturn:
    """Store a refused contact as a blocked attempt (own transaction: call it outside the refused one)
    and raise the refusal, explained in the current language (HTTP 422)."""
    verdict = compliance_services.ContactVerdict(decision=decision, lang=_lang())
    row = compliance_services.blocked_attempt_record(verdict=verdict, case=case, acting_user=acting_user,
                                                     channel=channel, party="debtor", number=number, at=at,
                                                     path=path)
    refused = compliance_services.blocked_error(verdict, blocked=row, code=code)
    # a plain ApplicationError (400) as before, with the explanation, rule ids, next_allowed_at and
    # blocked_attempt_id of the contact refusal
    raise ApplicationError(refused.message, code=code, extra=refused.extra)


def window_check(*, case: Case, start: datetime, end: datetime, now: datetime | None = None,
                 acting_user: User | None = None, path: str = "appointment") -> None:
    """Refuse a visit window (see :func:`window_refusal`). A compliance refusal is stored as a blocked
    attempt of ``acting_user`` (``None``: the system, or the customer through their link) and raised
    as :class:`ApplicationError` (code ``appointment.not_compliant``, ``extra`` as a contact refusal's).
    Do not call it inside a transaction that the refusal rolls back."""
    refusal = window_refusal(case=case, start=start, end=end, now=now)
    if refusal is not None:
        _refuse(decision=refusal[0], case=case, acting_user=acting_user, channel="visit", at=refusal[1], path=path,
                code="appointment.not_compliant")


# ---------------------------------------------------------------- helpers

def _collector_of(user: User) -> Collector:
    collector = Collector.objects.filter(user=user).first() if user.role == Role.FIELD_COLLECTOR else None
    if collector is None:
        raise PermissionDeniedError(_("Only a field collector can do this."), code="visits.not_collector")
    return collector


def _require_visible(case: Case, user: User) -> None:
    """404 (never 403) for a case ``user`` may not see (:func:`cases_visible_to`), e.g. recalled."""
    if not cases_visible_to(user).filter(pk=case.pk).exists():
        raise NotFoundError(_("Case not found."), code="case.not_found", extra={"case_id": case.pk})


def _require_manager(user: User, agency_id: int) -> None:
    if user.is_superuser:
        return
    if user.role != Role.AGENCY_MANAGER or user.agency_id != agency_id:
        raise PermissionDeniedError(_("Only the agency's manager can do this."), code="visits.not_manager")


def _local_tz() -> Any:
    return timezone.get_default_timezone()


def _aware(day: date, at: time, tz: Any = None) -> datetime:
    return datetime.combine(day, at, tzinfo=tz or _local_tz())


# ---------------------------------------------------------------- shifts and teams

def shift_set(*, collector: Collector, day: date, start: time, end: time, acting_user: User,
              base: str = Shift.Base.OFFICE, base_lat: float | None = None, base_lon: float | None = None) -> Shift:
    """Record (or replace) a collector's shift on ``day``."""
    _require_manager(acting_user, collector.agency_id)
    if end <= start:
        raise ApplicationError(_("A shift must end after it starts."), code="shift.invalid")
    with transaction.atomic():
        shift, _created = Shift.objects.update_or_create(
            collector=collector, date=day,
            defaults={"start": start, "end": end, "base": base,
                      "base_lat": base_lat if base_lat is not None else collector.base_lat,
                      "base_lon": base_lon if base_lon is not None else collector.base_lon},
        )
        audit_log(actor=acting_user, action="shift.set", object_type="shift", object_id=shift.pk,
                  new=snapshot(shift, ["collector", "date", "start", "end", "base"]))
    return shift


def _member_base(collector: Collector, shift: Shift | None) -> tuple[float, float] | None:
    if shift is not None and shift.base_lat is not None and shift.base_lon is not None:
        return shift.base_lat, shift.base_lon
    if collector.base_lat is not None and collector.base_lon is not None:
        return collector.base_lat, collector.base_lon
    return None


def team_create(*, member_a: Collector, member_b: Collector, day: date, acting_user: User | None,
                paired_by: str = Team.PairedBy.MANAGER) -> Team:
    """Pair two collectors for ``day``: same agency and city, both certified and trained, neither
    already in a team that day. The team starts from the midpoint of their bases and works the
    overlap of their shifts (09:00–18:00 without shifts)."""
    if acting_user is not None:
        _require_manager(acting_user, member_a.agency_id)
    if member_a.pk == member_b.pk:
        raise ApplicationError(_("A team needs two different collectors."), code="team.same_person")
    if member_a.agency_id != member_b.agency_id:
        raise ApplicationError(_("Both collectors must belong to the same agency."), code="team.other_agency")
    if member_a.city != member_b.city:
        raise ApplicationError(_("Both collectors must work in the same city."), code="team.other_city")
    for c in (member_a, member_b):
        if not c.qualified_on(day):
            raise ApplicationError(_("%(name)s is not certified and trained on that day.") % {"name": c.name},
                                   code="team.not_qualified")
    shifts = {s.collector_id: s for s in Shift.objects.filter(collector__in=[member_a, member_b], date=day)}
    bases = [_member_base(c, shifts.get(c.pk)) for c in (member_a, member_b)]
    known = [b for b in bases if b is not None]
    if not known:
        raise ApplicationError(_("Neither collector has a base position."), code="team.no_base")
    lat = sum(b[0] for b in known) / len(known)
    lon = sum(b[1] for b in known) / len(known)
    starts = [shifts[c].start if c in shifts else DEFAULT_SHIFT[0] for c in (member_a.pk, member_b.pk)]
    ends = [shifts[c].end if c in shifts else DEFAULT_SHIFT[1] for c in (member_a.pk, member_b.pk)]
    start, end = max(starts), min(ends)
    if end <= start:
        raise ApplicationError(_("Their shifts do not overlap."), code="team.no_overlap")
    with transaction.atomic():
        pair = [member_a.pk, member_b.pk]
        busy = Team.objects.select_for_update().filter(date=day).filter(
            Q(member_a_id__in=pair) | Q(member_b_id__in=pair)).exists()
        if busy:
            raise ConflictError(_("One of them is already in a team that day."), code="team.busy")
        team = Team.objects.create(
            agency_id=member_a.agency_id, city=member_a.city, date=day, member_a=member_a, member_b=member_b,
            paired_by=paired_by, base_lat=lat, base_lon=lon, shift_start=_aware(day, start),
            shift_end=_aware(day, end), created_by=acting_user,
        )
        audit_log(actor=acting_user, action="team.create", object_type="team", object_id=team.pk,
                  new=snapshot(team, ["date", "city", "member_a", "member_b", "paired_by"]))
    return team


def teams_pair_automatically(*, agency: Agency, day: date, acting_user: User | None) -> list[Team]:
    """Pair the agency's qualified collectors with a shift on ``day`` who are not in a team yet: per
    city, each with the nearest remaining colleague (bases), in collector order."""
    if acting_user is not None:
        _require_manager(acting_user, agency.pk)
    taken = set(Team.objects.filter(date=day, agency=agency).values_list("member_a_id", flat=True))
    taken |= set(Team.objects.filter(date=day, agency=agency).values_list("member_b_id", flat=True))
    shifts = {s.collector_id: s for s in Shift.objects.filter(date=day, collector__agency=agency)}
    pool = [c for c in Collector.objects.filter(agency=agency, active=True, pk__in=list(shifts)).order_by("pk")
            if c.pk not in taken and c.qualified_on(day) and _member_base(c, shifts.get(c.pk)) is not None]
    teams: list[Team] = []
    by_city: dict[str, list[Collector]] = {}
    for c in pool:
        by_city.setdefault(c.city, []).append(c)

    def base_of(c: Collector) -> LatLon:
        b = _member_base(c, shifts.get(c.pk))
        assert b is not None  # the pool only holds collectors with a base
        return LatLon(*b)

    for members in by_city.values():
        while len(members) >= 2:
            first = members.pop(0)
            origin = base_of(first)
            second = min(members, key=lambda c, o=origin: haversine_m(o, base_of(c)))  # type: ignore[misc]
            members.remove(second)
            try:
                teams.append(team_create(member_a=first, member_b=second, day=day, acting_user=None,
                                         paired_by=Team.PairedBy.AUTO))
            except ApplicationError:
                continue
    if acting_user is not None and teams:
        audit_log(actor=acting_user, action="team.pair_auto", object_type="agency", object_id=agency.pk,
                  new={"date": day.isoformat(), "teams": [t.pk for t in teams]})
    return teams


def team_of(*, collector_id: int, day: date) -> Team | None:
    return Team.objects.filter(date=day).filter(member_a_id=collector_id).first() or Team.objects.filter(
        date=day, member_b_id=collector_id).first()


# ---------------------------------------------------------------- appointments

def _appointment_link(appointment: Appointment) -> str:
    token = links.make_token(purpose="appointment", object_id=appointment.pk, nonce=appointment.nonce,
                             expires_at=appointment.expires_at)
    appointment.token_hash = links.token_hash(token)
    appointment.save(update_fields=["token_hash"])
    return token


def appointment_propose(*, case: Case, acting_user: User, windows: Sequence[tuple[datetime, datetime]],
                        now: datetime | None = None) -> tuple[Appointment, str]:
    """The case's collector proposes 1–3 windows; every window must pass :func:`window_check` (a
    refused one is stored as a blocked attempt of ``acting_user``). Earlier open proposals of the case
    are cancelled. Returns the appointment and the customer's link token.

    The link goes to the customer by SMS, which the compliance engine checks at the send time in the
    debtor's local time (:func:`fieldcollect.compliance.services.sms_decision`). Allowed: queued in the
    outbox now. Refused with a ``next_allowed_at`` before the link expires (e.g. proposed before 08:00):
    the appointment is made, the refusal stored as a blocked attempt (path ``appointment_link``) and
    the link held; :func:`appointment_links_send_held` (run with the reminders by ``visits_outbox``)
    sends it, with a fresh token, once allowed. Refused for good (pause, cease...): nothing is made,
    the blocked attempt is stored and :class:`ApplicationError` (code ``appointment.sms_blocked``) is raised.
    """
    require_capability(acting_user, "case.contact")
    now = now or timezone.now()
    if not 1 <= len(windows) <= 3:
        raise ApplicationError(_("Propose one to three windows."), code="appointment.window_count")
    if case.collector_id is None:
        raise ApplicationError(_("The case has no collector."), code="appointment.no_collector")
    ordered = sorted(windows)
    for start, end in ordered:
        window_check(case=case, start=start, end=end, now=now, acting_user=acting_user, path="appointment")
    expires = min(ordered[-1][0], now + LINK_TTL)
    mobile = case.customer.mobile or ""
    sms = compliance_services.sms_decision(case=case, at=now)
    if not sms.allowed and (sms.next_allowed_at is None or sms.next_allowed_at >= expires):
        _refuse(decision=sms.decision, case=case, acting_user=acting_user, channel="sms", at=now,
                path="appointment_link", code="appointment.sms_blocked", number=mobile)
    with transaction.atomic():
        Appointment.objects.filter(case=case, status=Appointment.Status.PROPOSED).update(
            status=Appointment.Status.CANCELLED)
        appointment = Appointment.objects.create(
            case=case, collector_id=case.collector_id,
            windows=[[s.isoformat(), e.isoformat()] for s, e in ordered],
            nonce=links.new_nonce(), expires_at=expires, created_by=acting_user,
        )
        token = _appointment_link(appointment)
        held = None
        if sms.allowed:
            _appointment_sms(appointment, token)
        else:
            held = compliance_services.blocked_attempt_record(
                verdict=sms, case=case, acting_user=acting_user, channel="sms", party="debtor", number=mobile,
                at=now, path="appointment_link")
        audit_log(actor=acting_user, action="appointment.propose", object_type="appointment", object_id=appointment.pk,
                  new={"case": case.pk, "windows": appointment.windows, "expires_at": expires.isoformat(),
                       "link_sms": "queued" if held is None else "held",
                       **({"blocked_attempt": held.pk, "rule_ids": list(held.rule_ids),
                           "sms_next_allowed_at": sms.next_allowed_at.isoformat() if sms.next_allowed_at else None}
                          if held is not None else {})})
    return appointment, token


def _appointment_sms(appointment: Appointment, token: str) -> None:
    url = public_url(reverse("visits:customer", args=[token]))
    with translation.override("zh-hans"):
        body = _("The bank's collection team would like to visit you. Please confirm a time: %(url)s") % {"url": url}
    outbox_enqueue(to=appointment.case.customer.mobile, body=body, kind="appointment_link", case_id=appointment.case_id,
                   appointment_id=appointment.pk)


def appointment_links_send_held(*, now: datetime | None = None) -> int:
    """Queue the appointment links held by the compliance check (see :func:`appointment_propose`) that
    may go now: each with a fresh token (the held one stops working). A link still refused stays held
    (its refusal is stored once per ``next_allowed_at``). Returns the number queued."""
    now = now or timezone.now()
    sent_link = OutboxMessage.objects.filter(kind="appointment_link", case_id=OuterRef("case_id"),
                                             created_at__gte=OuterRef("created_at"))
    held = (Appointment.objects.select_related("case__customer", "case__loan", "collector")
            .filter(status=Appointment.Status.PROPOSED, expires_at__gt=now).filter(~Exists(sent_link))
            .order_by("pk"))
    count = 0
    today = timezone.localdate(now)
    for appointment in held:
        if not appointment_live(appointment=appointment, today=today):
            continue  # the agency's field work on the case has ended (the nightly cycle cancels it)
        case = appointment.case
        sms = compliance_services.sms_decision(case=case, at=now)
        if not sms.allowed:
            compliance_services.blocked_attempt_record(
                verdict=sms, case=case, acting_user=None, channel="sms", party="debtor",
                number=case.customer.mobile or "", at=now, path="appointment_link", once=True)
            continue
        with transaction.atomic():
            locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
            if locked.status != Appointment.Status.PROPOSED:
                continue
            locked.case = case
            locked.nonce = links.new_nonce()  # the held token stops working
            locked.save(update_fields=["nonce"])
            _appointment_sms(locked, _appointment_link(locked))
            audit_log(actor=None, action="appointment.link_sent", object_type="appointment", object_id=locked.pk,
                      new={"case": case.pk, "held_since": appointment.created_at.isoformat()})
        count += 1
    return count


def appointment_from_token(token: str, *, now: datetime | None = None) -> Appointment:
    """The appointment a customer's link opens.

    Raises ``LinkInvalid`` (tampered, or superseded by a newer link) or ``LinkExpired`` (and marks a
    still-proposed appointment expired).
    """
    now = now or timezone.now()
    try:
        payload = links.read_token(token, purpose="appointment", now=now)
    except links.LinkExpired:
        # genuine but old: mark it expired if it still waits for an answer
        try:
            from django.core import signing

            data = signing.TimestampSigner(salt=links.SALTS["appointment"]).unsign_object(token)
            Appointment.objects.filter(pk=int(data["i"]), token_hash=links.token_hash(token),
                                       status=Appointment.Status.PROPOSED).update(status=Appointment.Status.EXPIRED)
        except (signing.BadSignature, KeyError, TypeError, ValueError):
            pass
        raise
    appointment = Appointment.objects.select_related("case", "case__customer", "case__loan").filter(
        pk=payload.object_id).first()
    if appointment is None or appointment.nonce != payload.nonce or appointment.token_hash != links.token_hash(token):
        raise links.LinkInvalid("no such appointment, or the link was replaced")
    return appointment


def _require_proposed(appointment: Appointment, now: datetime) -> Appointment:
    locked = Appointment.objects.select_for_update().select_related("case", "case__customer", "case__loan").get(
        pk=appointment.pk)
    if locked.status != Appointment.Status.PROPOSED:
        raise ConflictError(_("This appointment has already been answered."), code="appointment.answered",
                            extra={"status": locked.status})
    if now > locked.expires_at:
        locked.status = Appointment.Status.EXPIRED
        locked.save(update_fields=["status"])
        raise ApplicationError(_("This link has expired."), code="appointment.expired")
    return locked


def appointment_windows(appointment: Appointment) -> list[tuple[datetime, datetime]]:
    return [(datetime.fromisoformat(s), datetime.fromisoformat(e)) for s, e in appointment.windows]


def appointment_confirm(*, appointment: Appointment, window: int, now: datetime | None = None) -> Appointment:
    """The customer confirms proposed window number ``window`` (re-checked against the rules)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _require_proposed(appointment, now)
        options = appointment_windows(locked)
        if not 0 <= window < len(options):
            raise ApplicationError(_("Choose one of the proposed times."), code="appointment.invalid_window")
        start, end = options[window]
        refusal = window_refusal(case=locked.case, start=start, end=end, now=now)
        if refusal is None:
            return _confirm(locked, start, end, now, by_customer=False)
    # stored outside the transaction (the refusal rolls it back); the customer acted: no user
    _refuse(decision=refusal[0], case=locked.case, acting_user=None, channel="visit", at=refusal[1],
            path="appointment_confirm", code="appointment.not_compliant")


def appointment_suggest(*, appointment: Appointment, start: datetime, duration: timedelta = timedelta(hours=1),
                        now: datetime | None = None) -> Appointment:
    """The customer picks another time; it must pass the same rules as the collector's windows."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _require_proposed(appointment, now)
        if start.date() > (now + timedelta(days=30)).date():
            raise ApplicationError(_("Choose a time within the next 30 days."), code="appointment.too_far")
        refusal = window_refusal(case=locked.case, start=start, end=start + duration, now=now)
        if refusal is None:
            return _confirm(locked, start, start + duration, now, by_customer=True)
    _refuse(decision=refusal[0], case=locked.case, acting_user=None, channel="visit", at=refusal[1],
            path="appointment_suggest", code="appointment.not_compliant")


def _confirm(locked: Appointment, start: datetime, end: datetime, now: datetime, *, by_customer: bool) -> Appointment:
    locked.status = Appointment.Status.CONFIRMED
    locked.chosen_start, locked.chosen_end = start, end
    locked.chosen_by_customer = by_customer
    locked.responded_at = now
    locked.save(update_fields=["status", "chosen_start", "chosen_end", "chosen_by_customer", "responded_at"])
    audit_log(actor=None, actor_label="customer", action="appointment.confirm", object_type="appointment",
              object_id=locked.pk, old={"status": "proposed"},
              new={"status": "confirmed", "start": start.isoformat(), "end": end.isoformat(),
                   "chosen_by_customer": by_customer})
    return locked


def appointment_decline(*, appointment: Appointment, reason: str = "", now: datetime | None = None) -> Appointment:
    now = now or timezone.now()
    with transaction.atomic():
        locked = _require_proposed(appointment, now)
        locked.status = Appointment.Status.DECLINED
        locked.responded_at = now
        locked.decline_reason = reason.strip()[:200]
        locked.save(update_fields=["status", "responded_at", "decline_reason"])
        audit_log(actor=None, actor_label="customer", action="appointment.decline", object_type="appointment",
                  object_id=locked.pk, old={"status": "proposed"},
                  new={"status": "declined", "reason_chars": len(locked.decline_reason)})
    return locked


def appointment_cancel(*, appointment: Appointment, acting_user: User, reason: str = "",
                       now: datetime | None = None, time_limit: float = 2.0,
                       max_iterations: int | None = None) -> RoutePlan | None:
    """Cancel an appointment; when it is in a current route plan, re-plan that team's day.
    Returns the new plan (``None`` when no plan was affected)."""
    require_capability(acting_user, "case.contact")
    now = now or timezone.now()
    with transaction.atomic():
        locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if locked.status not in (Appointment.Status.PROPOSED, Appointment.Status.CONFIRMED):
            raise ConflictError(_("The appointment is no longer open."), code="appointment.not_open")
        old = locked.status
        locked.status = Appointment.Status.CANCELLED
        locked.cancel_reason = Appointment.CancelReason.STAFF
        locked.cancelled_at = now
        locked.save(update_fields=["status", "cancel_reason", "cancelled_at"])
        audit_log(actor=acting_user, action="appointment.cancel", object_type="appointment", object_id=locked.pk,
                  old={"status": old}, new={"status": "cancelled", "reason_chars": len(reason[:200])})
    stop = RouteStop.objects.filter(appointment=locked, plan__superseded=False).select_related("plan").first()
    if stop is None:
        return None
    return route_plan_replan(plan=stop.plan, now=now, cancelled=[stop.visit_id], acting_user=acting_user,
                             reason="cancellation", time_limit=time_limit, max_iterations=max_iterations)


def reminders_enqueue(*, now: datetime | None = None, ahead: timedelta = timedelta(hours=24)) -> int:
    """Queue an SMS reminder for each confirmed appointment starting within ``ahead``; once each.
    Held appointment links are sent first (:func:`appointment_links_send_held`; not counted).

    Each reminder goes through the compliance check for an SMS at ``now`` (the send time) in the
    debtor's local time. A refused reminder is not queued: its refusal is stored as a blocked attempt
    (path ``visit_reminder``; once per ``next_allowed_at``) and the reminder stays due, so a later run
    queues it once allowed (before 08:00: at the first run after; under a pause: never, until the
    visit starts). Returns the number of reminders queued.
    """
    now = now or timezone.now()
    appointment_links_send_held(now=now)
    count = 0
    due = Appointment.objects.select_related("case__customer", "case__loan", "collector").filter(
        status=Appointment.Status.CONFIRMED, reminder_sent_at__isnull=True, chosen_start__gt=now,
        chosen_start__lte=now + ahead)
    today = timezone.localdate(now)
    for appointment in due:
        assert appointment.chosen_start is not None
        if not appointment_live(appointment=appointment, today=today):
            continue  # the agency's field work on the case has ended: no reminder
        case = appointment.case
        customer = case.customer
        sms = compliance_services.sms_decision(case=case, at=now)
        if not sms.allowed:
            compliance_services.blocked_attempt_record(
                verdict=sms, case=case, acting_user=None, channel="sms", party="debtor",
                number=customer.mobile or "", at=now, path="visit_reminder", once=True)
            continue
        with transaction.atomic():
            local = appointment.chosen_start.astimezone(zone(customer.timezone or bank_time_zone_name()))
            with translation.override("zh-hans"):
                body = _("Reminder: the bank's collection team will visit you at %(time)s.") % {
                    "time": local.strftime("%Y-%m-%d %H:%M")}
            outbox_enqueue(to=customer.mobile, body=body, kind="reminder", case_id=appointment.case_id,
                           appointment_id=appointment.pk)
            Appointment.objects.filter(pk=appointment.pk).update(reminder_sent_at=now)
            audit_log(actor=None, action="appointment.reminder", object_type="appointment", object_id=appointment.pk)
        count += 1
    return count


# ---------------------------------------------------------------- route plans

def _expected_recovery_fen(case: Case) -> int:
    return int(case.overdue_fen * VISIT_RECOVERY_RATE.get(case.bucket, 0.05))


def _visit_id(case_id: int) -> str:
    return f"case-{case_id}"


def _save_plan(*, team: Team, day_plan: DayPlan, info: dict[str, dict[str, Any]], acting_user: User | None,
               reason: str) -> RoutePlan:
    tp = day_plan.team(f"team-{team.pk}") if any(t.team_id == f"team-{team.pk}" for t in day_plan.teams) else None
    RoutePlan.objects.filter(team=team, date=team.date, superseded=False).update(superseded=True)
    plan = RoutePlan.objects.create(
        team=team, city=team.city, date=team.date, reason=reason,
        depart=tp.depart if tp else None, back=tp.back if tp else None,
        travel_seconds=tp.travel_seconds if tp else 0, travel_metres=tp.travel_metres if tp else 0,
        missed=list(day_plan.missed_appointments), feasible=day_plan.feasible,
        runtime_seconds=day_plan.runtime_seconds, geojson=day_plan_geojson(day_plan), created_by=acting_user,
    )
    rows: list[RouteStop] = []
    planned = set()
    for order, s in enumerate(tp.stops if tp else (), start=1):
        planned.add(s.visit_id)
        meta = info[s.visit_id]
        rows.append(RouteStop(plan=plan, order=order, visit_id=s.visit_id, case_id=meta["case_id"],
                              appointment_id=meta["appointment_id"], required=s.confirmed, lat=s.position.lat,
                              lon=s.position.lon, window_start=s.window_start, window_end=s.window_end,
                              service_minutes=meta["service"], prize_fen=meta["prize_fen"], planned_arrival=s.arrival,
                              planned_start=s.start, planned_departure=s.departure))
    for visit in day_plan.problem.visits:
        if visit.visit_id in planned:
            continue
        meta = info[visit.visit_id]
        rows.append(RouteStop(plan=plan, order=0, visit_id=visit.visit_id, case_id=meta["case_id"],
                              appointment_id=meta["appointment_id"], required=visit.confirmed, skipped=True,
                              lat=visit.position.lat, lon=visit.position.lon, window_start=visit.window_start,
                              window_end=visit.window_end, service_minutes=meta["service"],
                              prize_fen=visit.prize_fen))
    RouteStop.objects.bulk_create(rows)
    audit_log(actor=acting_user, action=f"route_plan.{reason}", object_type="route_plan", object_id=plan.pk,
              new={"team": team.pk, "date": team.date.isoformat(), "stops": len(planned),
                   "missed": plan.missed, "feasible": plan.feasible})
    return plan


def route_plan_build(*, team: Team, acting_user: User | None, time_limit: float = 2.0,
                     max_iterations: int | None = None) -> RoutePlan:
    """Plan a team's day: confirmed appointments of its members' cases as required visits (hard
    windows); as optional visits with their expected recovery as prize, the proposed (not yet
    confirmed) appointments of the day, and, where the pack does not require a confirmed
    appointment, the members' other open cases."""
    if acting_user is not None and acting_user.role == Role.AGENCY_MANAGER:
        _require_manager(acting_user, team.agency_id)
    day = team.date
    members = list(team.member_ids)
    tz = _local_tz()
    lo, hi = _aware(day, time(0, 0), tz), _aware(day + timedelta(days=1), time(0, 0), tz)
    builder = DayPlanBuilder(city=team.city, day=day)
    builder.add_team(team_id=f"team-{team.pk}", base=LatLon(team.base_lat, team.base_lon),
                     shift_start=team.shift_start, shift_end=team.shift_end)
    info: dict[str, dict[str, Any]] = {}
    held = cases_held_by(agency_id=team.agency_id, today=day).filter(collector_id__in=members).values("pk")
    confirmed = Appointment.objects.select_related("case__customer", "case__loan").filter(
        status=Appointment.Status.CONFIRMED, chosen_start__gte=lo, chosen_start__lt=hi, case__collector_id__in=members,
        case__closed_on__isnull=True, case_id__in=held)
    for a in confirmed:
        c = a.case.customer
        if c.lat is None or c.lon is None or a.chosen_start is None or a.chosen_end is None:
            continue
        vid = _visit_id(a.case_id)
        if vid in info:
            continue
        builder.add_appointment(visit_id=vid, position=LatLon(c.lat, c.lon), window_start=a.chosen_start,
                                window_end=a.chosen_end, service=timedelta(minutes=SERVICE_MINUTES))
        info[vid] = {"case_id": a.case_id, "appointment_id": a.pk, "service": SERVICE_MINUTES, "prize_fen": 0}
    for a in Appointment.objects.select_related("case__customer").filter(
            status=Appointment.Status.PROPOSED, case__collector_id__in=members, case__closed_on__isnull=True,
            case_id__in=held):
        inside = [(s, e) for s, e in appointment_windows(a) if lo <= s < hi]
        c = a.case.customer
        vid = _visit_id(a.case_id)
        if not inside or c.lat is None or c.lon is None or vid in info:
            continue
        prize = _expected_recovery_fen(a.case)
        builder.add_optional_visit(visit_id=vid, position=LatLon(c.lat, c.lon), prize_fen=prize,
                                   window_start=inside[0][0], window_end=inside[-1][1],
                                   service=timedelta(minutes=SERVICE_MINUTES))
        info[vid] = {"case_id": a.case_id, "appointment_id": a.pk, "service": SERVICE_MINUTES, "prize_fen": prize}
    open_cases = Case.objects.select_related("customer", "loan").filter(
        collector_id__in=members, closed_on__isnull=True, customer__lat__isnull=False, customer__lon__isnull=False,
        pk__in=held)
    for case in open_cases:
        vid = _visit_id(case.pk)
        if vid in info or pack_requires(_pack(case), "visit_appointment"):
            continue
        prize = _expected_recovery_fen(case)
        assert case.customer.lat is not None and case.customer.lon is not None
        builder.add_optional_visit(visit_id=vid, position=LatLon(case.customer.lat, case.customer.lon),
                                   prize_fen=prize, service=timedelta(minutes=SERVICE_MINUTES))
        info[vid] = {"case_id": case.pk, "appointment_id": None, "service": SERVICE_MINUTES, "prize_fen": prize}
    day_plan = plan_day(builder.build(), time_limit=time_limit, seed=0, max_iterations=max_iterations)
    with transaction.atomic():
        return _save_plan(team=team, day_plan=day_plan, info=info, acting_user=acting_user, reason="planned")


def route_plans_build(*, agency: Agency, city: str, day: date, acting_user: User | None,
                      time_limit: float = 2.0, max_iterations: int | None = None) -> list[RoutePlan]:
    """Plan every team of the agency in ``city`` on ``day``."""
    if acting_user is not None:
        _require_manager(acting_user, agency.pk)
    return [route_plan_build(team=t, acting_user=acting_user, time_limit=time_limit, max_iterations=max_iterations)
            for t in Team.objects.filter(agency=agency, city=city, date=day).order_by("pk")]


def route_plan_replan(*, plan: RoutePlan, now: datetime, acting_user: User | None, cancelled: Iterable[str] = (),
                      reason: str = "replanned", time_limit: float = 2.0,
                      max_iterations: int | None = None) -> RoutePlan:
    """Re-plan the rest of a team's day from its stored plan: visits already checked in are done,
    ``cancelled`` visits are dropped, the team starts from its last accepted check-in (free after the
    service time) or from its base at ``now`` (:func:`fieldcollect.optimisation.routes.replan`)."""
    team = plan.team
    # only the cases the team's agency still holds on the day (a case recalled since is not visited)
    held = cases_held_by(agency_id=team.agency_id, today=plan.date).values("pk")
    stops = list(plan.stops.filter(case_id__in=held))
    builder = DayPlanBuilder(city=plan.city, day=plan.date)
    team_id = f"team-{team.pk}"
    builder.add_team(team_id=team_id, base=LatLon(team.base_lat, team.base_lon),
                     shift_start=team.shift_start, shift_end=team.shift_end)
    info: dict[str, dict[str, Any]] = {}
    for s in stops:
        if s.visit_id in info or (s.required and s.skipped):
            continue  # an appointment already missed stays missed
        if s.required and s.window_start is not None and s.window_end is not None:
            builder.add_appointment(visit_id=s.visit_id, position=LatLon(s.lat, s.lon), window_start=s.window_start,
                                    window_end=s.window_end, service=timedelta(minutes=s.service_minutes))
        else:
            builder.add_optional_visit(visit_id=s.visit_id, position=LatLon(s.lat, s.lon), prize_fen=s.prize_fen,
                                       window_start=s.window_start, window_end=s.window_end,
                                       service=timedelta(minutes=s.service_minutes))
        info[s.visit_id] = {"case_id": s.case_id, "appointment_id": s.appointment_id,
                            "service": s.service_minutes, "prize_fen": s.prize_fen}
    checkins = list(CheckIn.objects.filter(collector_id__in=list(team.member_ids), accepted=True,
                                           at__gte=team.shift_start, at__lte=now).order_by("at"))
    done = tuple(sorted({_visit_id(c.case_id) for c in checkins} & set(info)))
    progress: list[TeamProgress] = []
    if checkins:
        last = checkins[-1]
        progress.append(TeamProgress(team_id=team_id, position=LatLon(last.lat, last.lon),
                                     at=max(now, last.at + timedelta(minutes=SERVICE_MINUTES)), done=done))
    current = DayPlan(problem=builder.build(), teams=(), skipped=(), missed_appointments=(), runtime_seconds=0.0,
                      violations=())
    gone = [c for c in cancelled if c in info]
    try:
        new = replan(current, now=now, progress=progress, cancelled=gone, time_limit=time_limit, seed=0,
                     max_iterations=max_iterations)
    except ValueError as exc:
        raise ApplicationError(_("The day cannot be re-planned: %(why)s") % {"why": str(exc)},
                               code="route_plan.replan_failed") from exc
    with transaction.atomic():
        return _save_plan(team=team, day_plan=new, info=info, acting_user=acting_user, reason=reason)


# ---------------------------------------------------------------- check-in

def checkin_record(*, case: Case, acting_user: User, lat: float, lon: float, accuracy_m: float,
                   at: datetime | None = None, manual: bool = False,
                   appointment: Appointment | None = None) -> CheckIn:
    """Record where the collector is at a visit and verify it.

    Accepted only inside the geofence around the customer's address (:func:`geofence_m`, 200 m by
    default) and without a spoofing sign: an impossible speed since the collector's previous
    check-in, or coordinates exactly equal to an earlier check-in. Outside the confirmed
    appointment's window (30 min early allowed), poor accuracy and manual entry are flagged only.
    """
    collector = _collector_of(acting_user)
    require_capability(acting_user, "case.contact")
    _require_visible(case, acting_user)
    at = at or timezone.now()
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or accuracy_m < 0:
        raise ApplicationError(_("Invalid position."), code="checkin.invalid_position")
    flags: list[str] = []
    customer = case.customer
    distance: float | None = None
    fence = geofence_m()
    if customer.lat is None or customer.lon is None:
        flags.append(CheckIn.Flag.OUTSIDE_GEOFENCE)
    else:
        distance = haversine_m(LatLon(lat, lon), LatLon(customer.lat, customer.lon))
        if distance > fence:
            flags.append(CheckIn.Flag.OUTSIDE_GEOFENCE)
    if accuracy_m > fence:
        flags.append(CheckIn.Flag.POOR_ACCURACY)
    previous = CheckIn.objects.filter(collector=collector, at__lte=at).order_by("-at", "-id").first()
    if previous is not None:
        metres = haversine_m(LatLon(lat, lon), LatLon(previous.lat, previous.lon))
        seconds = (at - previous.at).total_seconds()
        if metres > 1000 and (seconds <= 0 or metres / seconds * 3.6 > MAX_SPEED_KMH):
            flags.append(CheckIn.Flag.IMPOSSIBLE_SPEED)
    if CheckIn.objects.filter(collector=collector, lat=lat, lon=lon).exists():
        flags.append(CheckIn.Flag.REPEATED_COORDINATES)
    if appointment is None:
        local_day = at.astimezone(_local_tz()).date()
        appointment = Appointment.objects.filter(
            case=case, status=Appointment.Status.CONFIRMED,
            chosen_start__date=local_day).order_by("chosen_start").first()
    if (appointment is None or appointment.status != Appointment.Status.CONFIRMED or appointment.chosen_start is None
            or appointment.chosen_end is None
            or not appointment.chosen_start - timedelta(minutes=30) <= at <= appointment.chosen_end):
        flags.append(CheckIn.Flag.OUTSIDE_WINDOW)
    if manual:
        flags.append(CheckIn.Flag.MANUAL)
    blocking = {CheckIn.Flag.OUTSIDE_GEOFENCE, CheckIn.Flag.IMPOSSIBLE_SPEED, CheckIn.Flag.REPEATED_COORDINATES}
    accepted = not blocking.intersection(flags)
    with transaction.atomic():
        checkin = CheckIn.objects.create(
            collector=collector, case=case, appointment=appointment, lat=lat, lon=lon, accuracy_m=accuracy_m, at=at,
            distance_m=distance, accepted=accepted, flags=[str(f) for f in flags],
        )
        audit_log(actor=acting_user, action="checkin.record", object_type="checkin", object_id=checkin.pk,
                  new={"case": case.pk, "lat": lat, "lon": lon, "accuracy_m": accuracy_m, "accepted": accepted,
                       "flags": checkin.flags, "distance_m": distance})
    return checkin


# ---------------------------------------------------------------- visit reports

def report_start(*, case: Case, acting_user: User, recording: bool, at: datetime | None = None) -> VisitReport:
    """Start a visit: the compliance engine must allow it now (team of two certified collectors,
    recording on, confirmed appointment, contact hours, pauses)."""
    require_capability(acting_user, "case.contact")
    collector = _collector_of(acting_user)
    _require_visible(case, acting_user)
    at = at or timezone.now()
    local_day = at.astimezone(_local_tz()).date()
    team = team_of(collector_id=collector.pk, day=local_day)
    qualified = 1 if collector.qualified_on(local_day) else 0
    if team is not None:
        qualified = sum(1 for c in (team.member_a, team.member_b) if c.qualified_on(local_day))
    appointment = Appointment.objects.filter(
        case=case, status=Appointment.Status.CONFIRMED, chosen_start__lte=at + timedelta(minutes=30),
        chosen_end__gte=at - timedelta(hours=2)).order_by("-chosen_start").first()
    decision = visit_decision(case=case, at=at, collectors=qualified, recording=recording,
                              appointment_confirmed=appointment is not None)
    if not decision.allowed:
        compliance_services.blocked_attempt_record(
            verdict=compliance_services.ContactVerdict(decision=decision, lang=_lang()), case=case,
            acting_user=acting_user, channel="visit", party="debtor", number="", at=at, path="visit")
        raise compliance_error(decision, code="visit.not_compliant")
    checkin = CheckIn.objects.filter(case=case, collector=collector, accepted=True,
                                     at__gte=at - timedelta(hours=3)).order_by("-at").first()
    with transaction.atomic():
        report = VisitReport.objects.create(case=case, collector=collector, team=team, appointment=appointment,
                                            checkin=checkin, recording=recording, created_by=acting_user)
        audit_log(actor=acting_user, action="visit.start", object_type="visit_report", object_id=report.pk,
                  new={"case": case.pk, "team": team.pk if team else None,
                       "appointment": appointment.pk if appointment else None, "recording": recording})
    return report


def evidence_check_can_add(*, report: VisitReport, acting_user: User) -> None:
    """Refuse before any byte of the upload is read: only the collector who started the open visit."""
    if report.created_by_id != acting_user.pk and not acting_user.is_superuser:
        raise PermissionDeniedError(_("Only the collector who started the visit can add evidence."),
                                    code="visit.not_owner")
    if report.status != VisitReport.Status.OPEN:
        raise ConflictError(_("The report is closed."), code="visit.closed")


def evidence_add(*, report: VisitReport, acting_user: User, stream: IO[bytes], name: str = "") -> Evidence:
    """Store an evidence file read from ``stream``: the kind from its content, encrypted at rest under
    ``$FIELDCOLLECT_HOME/evidence/<sha256>`` (see :mod:`fieldcollect.visits.evidence`)."""
    evidence_check_can_add(report=report, acting_user=acting_user)
    staged = EvidenceIntake().read_from(stream)
    return evidence_add_staged(report=report, acting_user=acting_user, staged=staged, name=name)


def evidence_add_staged(*, report: VisitReport, acting_user: User, staged: StagedEvidence,
                        name: str = "") -> Evidence:
    """Record an upload already sealed by an :class:`EvidenceIntake` (the upload handler's)."""
    try:
        evidence_check_can_add(report=report, acting_user=acting_user)
    except ApplicationError:
        staged.discard()
        raise
    target = evidence_path(staged.sha256)
    if target.exists():
        staged.discard()  # the same content is stored already
    else:
        os.replace(staged.tmp_path, target)
        target.chmod(0o440)
    with transaction.atomic():
        evidence = Evidence.objects.create(report=report, kind=staged.kind, sha256=staged.sha256, size=staged.size,
                                           content_type=staged.mime, original_name=name[:200],
                                           uploaded_by=acting_user)
        audit_log(actor=acting_user, action="evidence.add", object_type="visit_report", object_id=report.pk,
                  new={"evidence": evidence.pk, "kind": staged.kind, "sha256": staged.sha256, "size": staged.size,
                       "content_type": staged.mime})
    return evidence


def evidence_open(*, evidence: Evidence, acting_user: User) -> Iterator[bytes]:
    """The decrypted content of an evidence file for a user the caller checked may see the case
    (``access_case_by_id``): the read is audited as ``pii.unmask`` first, then streamed."""
    chunks = evidence_chunks(sha256=evidence.sha256)
    first = next(chunks)  # fails here (404/409/tampered) before anything is audited or sent
    with transaction.atomic():
        audit_log(actor=acting_user, action="pii.unmask", object_type="Customer",
                  object_id=evidence.report.case.customer_id,
                  new={"case_id": evidence.report.case_id, "purpose": "evidence", "fields": ["evidence"],
                       "evidence": evidence.pk, "sha256": evidence.sha256})

    def stream() -> Iterator[bytes]:
        yield first
        yield from chunks

    return stream()


def missing_evidence(*, report: VisitReport) -> str | None:
    """The explanation of the pack rule whose evidence is missing, else ``None``."""
    pack = _pack(report.case)
    for rule in pack.active_rules:
        if rule.kind == "visit_recording" and not report.evidence.filter(
                kind__in=[Evidence.Kind.AUDIO, Evidence.Kind.VIDEO]).exists():
            return rule.explain(_lang())
    return None


_CONVERSATION = {VisitOutcome.PAID, VisitOutcome.PROMISE, VisitOutcome.HARDSHIP, VisitOutcome.REFUSED,
                 VisitOutcome.DISPUTE}
_FOLLOW_UP: dict[str, tuple[str, str, int]] = {
    VisitOutcome.PAID: (Task.Kind.FOLLOW_UP, gettext_noop("Confirm that the payment arrived"), 2),
    VisitOutcome.HARDSHIP: (Task.Kind.FOLLOW_UP, gettext_noop("Record the hardship and propose a repayment plan"), 1),
    VisitOutcome.REFUSED: (Task.Kind.CALL_BACK, gettext_noop("Call back after the refused visit"), 3),
    VisitOutcome.NOT_HOME: (Task.Kind.VISIT, gettext_noop("Book another visit (customer not at home)"), 2),
    VisitOutcome.MOVED: (Task.Kind.FOLLOW_UP, gettext_noop("Find the customer's new address"), 3),
    VisitOutcome.WRONG_ADDRESS: (Task.Kind.FOLLOW_UP, gettext_noop("Verify the customer's address"), 2),
    VisitOutcome.DISPUTE: (Task.Kind.FOLLOW_UP, gettext_noop("Send the dispute for verification"), 1),
    VisitOutcome.THIRD_PARTY_MET: (Task.Kind.CALL_BACK, gettext_noop("Contact the customer directly"), 2),
}


def report_close(*, report: VisitReport, acting_user: User, outcome: str, notes: str = "",
                 customer_situation: str = "", promise_amount_fen: int | None = None,
                 promise_due_on: date | None = None, now: datetime | None = None) -> tuple[VisitReport, str]:
    """Close a visit report: refused without the evidence the pack requires. Records the visit as a
    contact, a promise through case management, a follow-up task, and a feedback request (signed
    link queued to the customer). Returns the report and the feedback token."""
    require_capability(acting_user, "case.contact")
    now = now or timezone.now()
    if outcome not in VisitOutcome.values:
        raise ApplicationError(_("Choose an outcome."), code="visit.invalid_outcome")
    if report.created_by_id != acting_user.pk and not acting_user.is_superuser:
        raise PermissionDeniedError(_("Only the collector who started the visit can close it."), code="visit.not_owner")
    why = missing_evidence(report=report)
    if why is not None:
        raise ApplicationError(_("The report cannot be closed without the required evidence: %(why)s") % {"why": why},
                               code="visit.evidence_missing")
    if outcome == VisitOutcome.PROMISE and (not promise_amount_fen or promise_due_on is None):
        raise ApplicationError(_("A promise needs an amount and a date."), code="visit.promise_incomplete")
    case = report.case
    today = now.astimezone(_local_tz()).date()
    with transaction.atomic():
        locked = VisitReport.objects.select_for_update().get(pk=report.pk)
        if locked.status != VisitReport.Status.OPEN:
            raise ConflictError(_("The report is closed."), code="visit.closed")
        contact = case_services.contact_record(
            case=case, acting_user=acting_user, channel="visit", outcome=outcome,
            party="third_party" if outcome == VisitOutcome.THIRD_PARTY_MET else "debtor",
            number=case.customer.address[:32], at=now, conversation=outcome in _CONVERSATION,
            notes=notes, prechecked=True)  # the visit was checked when it started (report_start)
        promise = None
        if outcome == VisitOutcome.PROMISE:
            assert promise_amount_fen is not None and promise_due_on is not None
            promise = case_services.promise_record(case=case, acting_user=acting_user, amount_fen=promise_amount_fen,
                                                   due_on=promise_due_on, contact=contact)
        elif outcome in _FOLLOW_UP:
            kind, title, days = _FOLLOW_UP[outcome]
            case_services.task_create(case=case, acting_user=acting_user, title=_(title), kind=kind,
                                      due_on=today + timedelta(days=days))
        locked.status = VisitReport.Status.CLOSED
        locked.outcome = outcome
        locked.notes = notes
        locked.customer_situation = customer_situation
        locked.contact = contact
        locked.promise = promise
        locked.closed_at = now
        locked.save(update_fields=["status", "outcome", "notes", "customer_situation", "contact", "promise",
                                   "closed_at"])
        feedback, token = _feedback_issue(case=case, report=locked, contact=contact, collector=report.collector,
                                          now=now)
        audit_log(actor=acting_user, action="visit.close", object_type="visit_report", object_id=locked.pk,
                  old={"status": "open"},
                  new={"status": "closed", "outcome": outcome, "contact": contact.pk,
                       "promise": promise.pk if promise else None, "feedback": feedback.pk,
                       "evidence": list(locked.evidence.values_list("sha256", flat=True))})
    report.refresh_from_db()
    return locked, token


def feedback_from_token(token: str, *, now: datetime | None = None) -> FeedbackRequest:
    payload = links.read_token(token, purpose="feedback", now=now)
    feedback = FeedbackRequest.objects.filter(pk=payload.object_id).first()
    if feedback is None or feedback.nonce != payload.nonce or feedback.token_hash != links.token_hash(token):
        raise links.LinkInvalid("no such feedback request")
    return feedback


def _feedback_issue(*, case: Case, now: datetime, report: VisitReport | None = None,
                    contact: ContactAttempt | None = None,
                    collector: Collector | None = None) -> tuple[FeedbackRequest, str]:
    """Create a feedback request and queue its signed link to the customer (zh-Hans SMS). Call inside
    the caller's transaction."""
    collector = collector or (contact.collector if contact is not None else None)
    agency_id = collector.agency_id if collector is not None else (contact.agency_id if contact else None)
    channel = "visit" if report is not None else (contact.channel if contact is not None else "visit")
    feedback = FeedbackRequest.objects.create(case=case, report=report, contact=contact, channel=channel,
                                              collector=collector, agency_id=agency_id, nonce=links.new_nonce(),
                                              expires_at=now + FEEDBACK_TTL)
    token = links.make_token(purpose="feedback", object_id=feedback.pk, nonce=feedback.nonce,
                             expires_at=feedback.expires_at)
    feedback.token_hash = links.token_hash(token)
    feedback.save(update_fields=["token_hash"])
    url = public_url(reverse("visits:feedback", args=[token]))
    with translation.override("zh-hans"):
        if report is not None:
            body = _("Thank you for receiving our visit. Tell the bank how it went: %(url)s") % {"url": url}
        else:
            body = _("You recently spoke with the bank's collection team. Tell the bank how it went: %(url)s") % {
                "url": url}
    outbox_enqueue(to=case.customer.mobile, body=body, kind="feedback", case_id=case.pk)
    return feedback, token


def feedback_reissue(*, feedback: FeedbackRequest, now: datetime | None = None) -> str:
    """A new link for ``feedback`` valid :data:`FEEDBACK_TTL` from now (the older links stop working);
    used to let the customer answer a complaint's resolution. Call inside the caller's transaction."""
    now = now or timezone.now()
    locked = FeedbackRequest.objects.select_for_update().get(pk=feedback.pk)
    locked.nonce = links.new_nonce()
    locked.expires_at = max(locked.expires_at, now + FEEDBACK_TTL)
    token = links.make_token(purpose="feedback", object_id=locked.pk, nonce=locked.nonce, expires_at=locked.expires_at)
    locked.token_hash = links.token_hash(token)
    locked.save(update_fields=["nonce", "expires_at", "token_hash"])
    audit_log(actor=None, action="feedback.reissue", object_type="feedback", object_id=locked.pk,
              new={"expires_at": locked.expires_at.isoformat()})
    return token


FEEDBACK_MIN_GAP = timedelta(days=7)


def feedback_requests_for_conversations(*, as_of: date, now: datetime | None = None) -> int:
    """Nightly: ask for feedback on the day's conversations with debtors (phone, SMS, WeChat, ...).

    One request per conversation at most, for conversations with the debtor on ``as_of`` (bank's local
    day) that are not visits (a closed visit report asks by itself); a customer asked in the last
    :data:`FEEDBACK_MIN_GAP` days, or asked twice the same night, is not asked again. Idempotent.
    Returns the number of requests made.
    """
    now = now or timezone.now()
    tz = _local_tz()
    start = datetime.combine(as_of, time(0), tzinfo=tz)
    end = start + timedelta(days=1)
    rows = list(ContactAttempt.objects.filter(
        at__gte=start, at__lt=end, conversation=True, party="debtor", feedback_request__isnull=True,
    ).exclude(channel="visit").select_related("case__customer", "collector").order_by("at", "id"))
    if not rows:
        return 0
    recent = set(FeedbackRequest.objects.filter(
        created_at__gte=now - FEEDBACK_MIN_GAP, case__customer_id__in={r.case.customer_id for r in rows},
    ).values_list("case__customer_id", flat=True))
    made = 0
    with transaction.atomic():
        for contact in rows:
            customer_id = contact.case.customer_id
            if customer_id in recent or not contact.case.customer.mobile:
                continue
            recent.add(customer_id)
            _feedback_issue(case=contact.case, contact=contact, now=now)
            made += 1
        if made:
            audit_log(actor=None, action="feedback.request_conversations", object_type="daily",
                      object_id=as_of.isoformat(), new={"requests": made})
    return made


def feedback_respond(*, feedback: FeedbackRequest, rating: int, comment: str = "", polite: bool | None = None,
                     clear: bool | None = None, privacy_respected: bool | None = None,
                     felt_threatened: bool | None = None, now: datetime | None = None) -> FeedbackRequest:
    """Record the customer's answer once (a second answer is a conflict)."""
    if not 1 <= rating <= 5:
        raise ApplicationError(_("Choose a rating from 1 to 5."), code="feedback.rating")
    with transaction.atomic():
        locked = FeedbackRequest.objects.select_for_update().get(pk=feedback.pk)
        if locked.responded_at is not None:
            raise ConflictError(_("Thank you, your feedback was already received."), code="feedback.answered")
        locked.rating = rating
        locked.polite = polite
        locked.clear = clear
        locked.privacy_respected = privacy_respected
        locked.felt_threatened = felt_threatened
        locked.comment = comment.strip()[:2000]
        locked.responded_at = now or timezone.now()
        locked.save(update_fields=["rating", "polite", "clear", "privacy_respected", "felt_threatened", "comment",
                                   "responded_at"])
        audit_log(actor=None, actor_label="customer", action="feedback.respond", object_type="feedback",
                  object_id=locked.pk,
                  new={"rating": rating, "polite": polite, "clear": clear, "privacy_respected": privacy_respected,
                       "felt_threatened": felt_threatened})
    return locked
