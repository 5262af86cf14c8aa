"""The end of an agency's field work on a case, in one place.

Every path that ends a placement (recall, expiry of the placement period, end of the agency's
contract, closing of the case; :func:`fieldcollect.cases.services.placement_end`) and the
reassignment of a case to another collector of the agency (:func:`fieldcollect.cases.services.case_assign`)
call :func:`field_work_end` inside their own transaction, which

* cancels the agency's (or the previous collector's) open appointments of the case, keeping them with
  the reason (:class:`~fieldcollect.visits.models.Appointment.CancelReason`) for the bank's history;
* removes the case's stops from the route plans of the agency's (or that collector's) teams from the
  end day on, and its points and route vertices from their stored GeoJSON (plans of earlier days are
  the bank's record; agency users see them only through
  :func:`~fieldcollect.cases.access.cases_visible_to`);
* cancels the pending outbox messages of those appointments (links, reminders); and
  :func:`appointment_message_live` refuses at send time a message whose appointment is no longer
  live (e.g. a placement period that ended before the nightly cycle ran).

Reassignment (a decision): the previous collector's open appointments are cancelled (reason
``reassigned``), not handed over. The customer agreed to a visit by the collector who proposed it, and
the new collector gets no visit window (and no clear address) that the customer did not confirm to
them; the new collector proposes again.

This module reads and writes models only (no services), so the case services can call it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from fieldcollect.audit.services import audit_log
from fieldcollect.cases.access import cases_held_by
from fieldcollect.cases.models import Case
from fieldcollect.core.models import User
from fieldcollect.optimisation.routes import geojson_keep_visits
from fieldcollect.outbox.models import OutboxMessage
from fieldcollect.visits.models import Appointment, RoutePlan, RouteStop

OPEN_APPOINTMENT = (Appointment.Status.PROPOSED, Appointment.Status.CONFIRMED)


def appointment_live(*, appointment: Appointment, today: date | None = None) -> bool:
    """The appointment is open and its collector still holds the case (:func:`cases_held_by`)."""
    if appointment.status not in OPEN_APPOINTMENT:
        return False
    return cases_held_by(agency_id=appointment.collector.agency_id, collector_id=appointment.collector_id,
                         today=today).filter(pk=appointment.case_id).exists()


def appointment_message_live(*, message: OutboxMessage, today: date | None = None) -> bool:
    """Whether an outbox message may still go: one made for an appointment (its link, its reminder)
    only while that appointment is live (:func:`appointment_live`); any other message is not concerned."""
    if message.appointment_id is None:
        return True
    appointment = Appointment.objects.select_related("collector").filter(pk=message.appointment_id).first()
    return appointment is not None and appointment_live(appointment=appointment, today=today)


def field_work_end_record(*, agency_id: int, reason: str, collector_id: int | None = None,
                          appointments: list[int] | None = None, route_plans: list[int] | None = None,
                          messages: int = 0) -> dict[str, Any]:
    """What :func:`field_work_end` did, as its audit row (``fieldwork.end``) and its return value say it."""
    return {"agency": agency_id, "collector": collector_id, "reason": reason,
            "appointments_cancelled": appointments or [], "route_plans_changed": route_plans or [],
            "messages_cancelled": messages}


def cases_with_field_work(*, agency_of: dict[int, int], on: date) -> set[int]:
    """Of the cases ``agency_of`` (case id → agency id), those with field work :func:`field_work_end`
    would end for that agency: an open appointment of one of its collectors, or a stop on one of its
    route plans dated ``on`` or later. Two queries, whatever the number of cases."""
    if not agency_of:
        return set()
    ids = list(agency_of)
    found = {(c, a) for c, a in Appointment.objects.filter(case_id__in=ids, status__in=OPEN_APPOINTMENT)
             .values_list("case_id", "collector__agency_id")}
    found |= {(c, a) for c, a in RouteStop.objects.filter(case_id__in=ids, plan__date__gte=on)
              .values_list("case_id", "plan__team__agency_id")}
    return {c for c, a in found if agency_of.get(c) == a}


def field_work_end(*, case: Case, agency_id: int, reason: str, acting_user: User | None,
                   collector_id: int | None = None, on: date | None = None,
                   now: datetime | None = None) -> dict[str, Any]:
    """End the field work of ``agency_id`` (or only of its collector ``collector_id``) on ``case``:
    appointments cancelled with ``reason`` (an ``Appointment.CancelReason``), route stops removed from
    the plans dated ``on`` or later, pending appointment messages cancelled; one audit row per
    appointment and per plan changed, and one for the case. Call it inside the transaction that ends
    the placement or the assignment. Returns what was done (ids and counts)."""
    if reason not in Appointment.CancelReason.values:
        raise ValueError(f"unknown cancel reason {reason!r}")
    now = now or timezone.now()
    day = on or timezone.localdate(now)
    with transaction.atomic():
        appointments = Appointment.objects.select_for_update().filter(
            case_id=case.pk, status__in=OPEN_APPOINTMENT, collector__agency_id=agency_id)
        if collector_id is not None:
            appointments = appointments.filter(collector_id=collector_id)
        cancelled = list(appointments.order_by("pk").values_list("pk", "status"))
        if cancelled:
            Appointment.objects.filter(pk__in=[pk for pk, _s in cancelled]).update(
                status=Appointment.Status.CANCELLED, cancel_reason=reason, cancelled_at=now)
            for pk, old in cancelled:
                audit_log(actor=acting_user, action="appointment.cancel", object_type="appointment", object_id=pk,
                          old={"status": old}, new={"status": "cancelled", "reason": reason})
        stops = RouteStop.objects.filter(case_id=case.pk, plan__team__agency_id=agency_id, plan__date__gte=day)
        if collector_id is not None:
            stops = stops.filter(Q(plan__team__member_a_id=collector_id) | Q(plan__team__member_b_id=collector_id))
        plan_ids = set(stops.values_list("plan_id", flat=True))
        changed: list[int] = []
        for plan in RoutePlan.objects.select_for_update().filter(pk__in=plan_ids).order_by("pk"):
            gone = list(RouteStop.objects.filter(plan=plan, case_id=case.pk).values_list("visit_id", flat=True))
            RouteStop.objects.filter(plan=plan, case_id=case.pk).delete()
            keep = set(RouteStop.objects.filter(plan=plan).values_list("visit_id", flat=True))
            plan.geojson = geojson_keep_visits(plan.geojson or {}, keep)
            plan.missed = [v for v in plan.missed if v in keep]
            plan.save(update_fields=["geojson", "missed"])
            audit_log(actor=acting_user, action="route_plan.stops_remove", object_type="route_plan",
                      object_id=plan.pk, new={"case": case.pk, "visits": sorted(set(gone)), "reason": reason})
            changed.append(plan.pk)
        messages = OutboxMessage.objects.filter(
            appointment_id__in=[pk for pk, _s in cancelled], status=OutboxMessage.Status.PENDING,
        ).update(status=OutboxMessage.Status.CANCELLED, last_error=f"cancelled: field work ended ({reason})")
        done = field_work_end_record(agency_id=agency_id, collector_id=collector_id, reason=reason,
                                     appointments=[pk for pk, _s in cancelled], route_plans=changed,
                                     messages=messages)
        audit_log(actor=acting_user, action="fieldwork.end", object_type="case", object_id=case.pk, new=done)
    return done
