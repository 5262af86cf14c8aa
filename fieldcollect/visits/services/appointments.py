"""Appointments with the customer: the collector's proposed windows (checked as a visit by the
compliance rules), the customer's signed link, confirmation or other time, cancellation and reminders."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from fieldcollect.audit.services import audit_log
from fieldcollect.cases.access import require_capability
from fieldcollect.cases.models import Case
from fieldcollect.compliance import services as compliance_services
from fieldcollect.compliance.engine import zone
from fieldcollect.compliance.services import ContactVerdict
from fieldcollect.core.bank_time import bank_time_zone_name
from fieldcollect.core.errors import ApplicationError, ConflictError
from fieldcollect.core.models import User
from fieldcollect.outbox.models import OutboxMessage
from fieldcollect.outbox.services import outbox_enqueue
from fieldcollect.visits import links
from fieldcollect.visits.errors import VisitErrorCode as E
from fieldcollect.visits.fieldwork import appointment_live
from fieldcollect.visits.models import Appointment, RoutePlan, RouteStop
from fieldcollect.visits.services.common import appointment_windows, public_url
from fieldcollect.visits.services.route_plans import route_plan_replan

MAX_WINDOW = timedelta(hours=4)
LINK_TTL = timedelta(days=7)


def window_refusal(*, case: Case, start: datetime, end: datetime, now: datetime | None = None,
                   agency_id: int | None = None) -> tuple[ContactVerdict, datetime] | None:
    """Raise on a window that is empty, too long or past; return the pack's refusal of a visit in it
    (contact hours, pauses, the notice before outsourcing of ``agency_id``, the agency whose collector
    visits...) with the refused time, or ``None`` when allowed. The team, recording and confirmation
    rules are checked at the visit itself."""
    now = now or timezone.now()
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise ApplicationError(_("Times must carry a time zone."), code=E.APPOINTMENT_NAIVE)
    if end <= start:
        raise ApplicationError(_("A window must end after it starts."), code=E.APPOINTMENT_EMPTY_WINDOW)
    if end - start > MAX_WINDOW:
        raise ApplicationError(_("A window may last at most 4 hours."), code=E.APPOINTMENT_WINDOW_TOO_LONG)
    if start <= now:
        raise ApplicationError(_("A window must be in the future."), code=E.APPOINTMENT_PAST_WINDOW)
    # contact hours are one interval a day and a window lasts at most 4 h: checking both ends suffices
    for i, at in enumerate((start, end - timedelta(minutes=1))):
        verdict = compliance_services.contact_decision(
            case=case, channel="visit", at=at, collectors=2, recording=True, appointment_confirmed=True,
            request_id=f"window-{i}", agency_id=agency_id)
        if not verdict.allowed:
            return verdict, at
    return None


def window_check(*, case: Case, start: datetime, end: datetime, now: datetime | None = None,
                 acting_user: User | None = None, path: str = "appointment", agency_id: int | None = None) -> None:
    """Refuse a visit window (see :func:`window_refusal`). A compliance refusal is stored as a blocked
    attempt of ``acting_user`` (``None``: the system, or the customer through their link) and raised
    as any refused contact (:class:`~fieldcollect.compliance.services.ContactBlockedError`, 422
    ``compliance.blocked``). Do not call it inside a transaction that the refusal rolls back."""
    refusal = window_refusal(case=case, start=start, end=end, now=now, agency_id=agency_id)
    if refusal is not None:
        compliance_services.contact_refuse(verdict=refusal[0], case=case, acting_user=acting_user, channel="visit",
                                           at=refusal[1], path=path)


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
        raise ApplicationError(_("Propose one to three windows."), code=E.APPOINTMENT_WINDOW_COUNT)
    if case.collector_id is None:
        raise ApplicationError(_("The case has no collector."), code=E.APPOINTMENT_NO_COLLECTOR)
    ordered = sorted(windows)
    for start, end in ordered:
        window_check(case=case, start=start, end=end, now=now, acting_user=acting_user, path="appointment",
                     agency_id=case.collector.agency_id if case.collector is not None else None)
    expires = min(ordered[-1][0], now + LINK_TTL)
    mobile = case.customer.mobile or ""
    sms = compliance_services.sms_decision(case=case, at=now)
    if not sms.allowed and (sms.next_allowed_at is None or sms.next_allowed_at >= expires):
        row = compliance_services.blocked_attempt_record(verdict=sms, case=case, acting_user=acting_user,
                                                         channel="sms", party="debtor", number=mobile, at=now,
                                                         path="appointment_link")
        refused = compliance_services.blocked_error(sms, blocked=row, code=E.APPOINTMENT_SMS_BLOCKED)
        # the proposal is refused (400), with the explanation, rule ids, next_allowed_at and
        # blocked_attempt_id of the refused text message
        raise ApplicationError(refused.message, code=refused.code, extra=refused.extra)
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
        raise ConflictError(_("This appointment has already been answered."), code=E.APPOINTMENT_ANSWERED,
                            extra={"status": locked.status})
    if now > locked.expires_at:
        locked.status = Appointment.Status.EXPIRED
        locked.save(update_fields=["status"])
        raise ApplicationError(_("This link has expired."), code=E.APPOINTMENT_EXPIRED)
    return locked


def appointment_confirm(*, appointment: Appointment, window: int, now: datetime | None = None) -> Appointment:
    """The customer confirms proposed window number ``window`` (re-checked against the rules)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _require_proposed(appointment, now)
        options = appointment_windows(locked)
        if not 0 <= window < len(options):
            raise ApplicationError(_("Choose one of the proposed times."), code=E.APPOINTMENT_INVALID_WINDOW)
        start, end = options[window]
        refusal = window_refusal(case=locked.case, start=start, end=end, now=now,
                                 agency_id=locked.collector.agency_id)
        if refusal is None:
            return _confirm(locked, start, end, now, by_customer=False)
    # stored outside the transaction (the refusal rolls it back); the customer acted: no user
    compliance_services.contact_refuse(verdict=refusal[0], case=locked.case, acting_user=None, channel="visit",
                                       at=refusal[1], path="appointment_confirm")


def appointment_suggest(*, appointment: Appointment, start: datetime, duration: timedelta = timedelta(hours=1),
                        now: datetime | None = None) -> Appointment:
    """The customer picks another time; it must pass the same rules as the collector's windows."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _require_proposed(appointment, now)
        if start.date() > (now + timedelta(days=30)).date():
            raise ApplicationError(_("Choose a time within the next 30 days."), code=E.APPOINTMENT_TOO_FAR)
        refusal = window_refusal(case=locked.case, start=start, end=start + duration, now=now,
                                 agency_id=locked.collector.agency_id)
        if refusal is None:
            return _confirm(locked, start, start + duration, now, by_customer=True)
    compliance_services.contact_refuse(verdict=refusal[0], case=locked.case, acting_user=None, channel="visit",
                                       at=refusal[1], path="appointment_suggest")


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
            raise ConflictError(_("The appointment is no longer open."), code=E.APPOINTMENT_NOT_OPEN)
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
