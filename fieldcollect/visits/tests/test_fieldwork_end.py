"""The end of a placement ends the agency's field work on the case (issue 17, item 3).

Recall, expiry of the placement period and end of the agency's contract (and the close of the case,
and the reassignment to another collector) go through ``cases.services.placement_end`` /
``visits.fieldwork.field_work_end``: the agency's appointments are cancelled with the reason, the
case's route stops leave the plans, its reminders are not sent, its coordinates leave the GeoJSON,
the maps and the day plan of the agency's manager and collectors, and check-in and visit report are
refused (404). Hard negatives: the other case of the same plan stays as it was, another agency's plan
is untouched, and the bank still sees the cancelled appointment with its reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from fieldcollect.agencies.models import AgencyContract
from fieldcollect.audit.models import AuditEntry
from fieldcollect.cases import services as case_services
from fieldcollect.cases.lifecycle import CloseReason
from fieldcollect.cases.models import Case, Placement
from fieldcollect.compliance.services import NOTICE_KIND
from fieldcollect.core.errors import NotFoundError
from fieldcollect.core.models import Role, User
from fieldcollect.optimisation.routes import geojson_keep_visits
from fieldcollect.outbox.models import OutboxMessage
from fieldcollect.outbox.services import FileAdapter, outbox_dispatch
from fieldcollect.testing import factories as f
from fieldcollect.visits import services
from fieldcollect.visits.models import Appointment, RoutePlan, RouteStop, Team
from fieldcollect.visits.tests.conftest import BASE, VisitWorld, at, place_case

pytestmark = pytest.mark.django_db

R = Appointment.CancelReason


@dataclass
class Planned:
    team: Team
    plan: RoutePlan
    a1: Appointment
    a2: Appointment
    cm: User


def _plan(vw: VisitWorld) -> Planned:
    """Team c1 + c2 on ``vw.day``; case1 and case2 (both c1's) with confirmed appointments in the plan."""
    team = services.team_create(member_a=vw.c1, member_b=vw.c2, day=vw.day, acting_user=vw.manager)
    appointments = []
    for case, hours in ((vw.case1, (10, 11)), (vw.case2, (14, 15))):
        a, _token = services.appointment_propose(case=case, acting_user=vw.user1,
                                                 windows=[(at(vw.day, hours[0]), at(vw.day, hours[1]))])
        appointments.append(services.appointment_confirm(appointment=a, window=0))
    plan = services.route_plan_build(team=team, acting_user=vw.manager, time_limit=1.0, max_iterations=200)
    assert {s.case_id for s in plan.stops.all() if not s.skipped} == {vw.case1.pk, vw.case2.pk}
    return Planned(team=team, plan=plan, a1=appointments[0], a2=appointments[1],
                   cm=f.make_user(role=Role.COLLECTIONS_MANAGER))


def _expire(case: Case) -> None:
    """The placement period ended yesterday (the agency already lost access; the nightly has not run)."""
    yesterday = timezone.localdate() - timedelta(days=1)
    Placement.objects.filter(case=case, status=Placement.Status.ACTIVE).update(ends_on=yesterday)
    Case.objects.filter(pk=case.pk).update(placed_until=yesterday)


def _end(how: str, vw: VisitWorld, p: Planned) -> str:
    """End the agency's work on case1 the way ``how`` says; return the expected cancel reason."""
    today = timezone.localdate()
    if how == "recall":
        case_services.case_recall(case=vw.case1, reason="客户投诉", acting_user=p.cm)
        return R.RECALLED
    if how == "expiry":  # the nightly cycle's step (daily.services.after_cycle → placements_expire)
        _expire(vw.case1)
        assert case_services.placements_expire(as_of=today) == 1
        return R.EXPIRED
    if how == "contract_end":  # the nightly cycle's step (daily.services.after_cycle → placements_recall_for_ended_contracts)
        AgencyContract.objects.filter(agency=vw.agency).update(status=AgencyContract.Status.TERMINATED)
        assert case_services.placements_recall_for_ended_contracts(as_of=today) == 2
        return R.CONTRACT_ENDED
    raise AssertionError(how)


def _coords(case: Case) -> list[float]:
    customer = case.customer
    assert customer.lon is not None and customer.lat is not None
    return [customer.lon, customer.lat]


def _all_coordinates(geojson: dict[str, Any]) -> list[list[float]]:
    out: list[list[float]] = []
    for feature in geojson["features"]:
        g = feature["geometry"]
        out.extend([g["coordinates"]] if g["type"] == "Point" else g["coordinates"])
    return out


def _visits(geojson: dict[str, Any]) -> set[str]:
    return {ft["properties"]["visit_id"] for ft in geojson["features"] if ft["properties"].get("kind") == "stop"}


@pytest.mark.parametrize("how", ["recall", "expiry", "contract_end"])
def test_the_end_of_a_placement_ends_the_field_work_on_the_case(client, vw, how):
    p = _plan(vw)
    # another agency's team, case and plan the same day: untouched by anything below
    other = f.make_agency()
    f.make_contract(agency=other)
    other_manager = f.make_user(role=Role.AGENCY_MANAGER, agency=other)
    o_user1, o1 = f.make_collector_user(agency=other)
    _o_user2, o2 = f.make_collector_user(agency=other)
    for c in (o1, o2):
        c.base_lat, c.base_lon = BASE
        c.save(update_fields=["base_lat", "base_lon"])
    other_case = place_case(agency=other, manager=other_manager, collector=o1, lat=31.2300, lon=121.4600, cm=p.cm)
    other_team = services.team_create(member_a=o1, member_b=o2, day=vw.day, acting_user=other_manager)
    oa, _token = services.appointment_propose(case=other_case, acting_user=o_user1,
                                              windows=[(at(vw.day, 11), at(vw.day, 12))])
    services.appointment_confirm(appointment=oa, window=0)
    other_plan = services.route_plan_build(team=other_team, acting_user=other_manager, time_limit=1.0,
                                           max_iterations=200)
    other_geojson = other_plan.geojson
    # the reminders of the day are queued (case1's included) before the placement ends
    reminder_time = at(vw.day, 10) - timedelta(hours=20)
    assert services.reminders_enqueue(now=reminder_time) == 3
    # a past plan of the team (its stops are the bank's record) that still names case1
    past = services.route_plan_build(team=p.team, acting_user=vw.manager, time_limit=1.0, max_iterations=200)
    RoutePlan.objects.filter(pk=past.pk).update(date=timezone.localdate() - timedelta(days=3), superseded=True)
    RoutePlan.objects.filter(pk=p.plan.pk).update(superseded=False)

    reason = _end(how, vw, p)

    # appointments cancelled with the reason; the other case's kept unless its placement ended too
    p.a1.refresh_from_db()
    assert p.a1.status == Appointment.Status.CANCELLED and p.a1.cancel_reason == reason
    assert p.a1.cancelled_at is not None
    p.a2.refresh_from_db()
    oa.refresh_from_db()
    assert oa.status == Appointment.Status.CONFIRMED
    if how == "contract_end":
        assert p.a2.status == Appointment.Status.CANCELLED and p.a2.cancel_reason == reason
    else:
        assert p.a2.status == Appointment.Status.CONFIRMED and p.a2.cancel_reason == ""
    # route stops removed from the current plan; the other stop (same plan) and the past plan intact
    assert not RouteStop.objects.filter(plan=p.plan, case=vw.case1).exists()
    assert RouteStop.objects.filter(plan=p.plan, case=vw.case2).exists() == (how != "contract_end")
    assert RouteStop.objects.filter(plan=past, case=vw.case1).exists()
    assert list(RouteStop.objects.filter(plan=other_plan).values_list("case_id", flat=True)) == [other_case.pk]
    other_plan.refresh_from_db()
    assert other_plan.geojson == other_geojson
    # reminders and links of case1 not sent: cancelled now, and none queued again
    mine = OutboxMessage.objects.filter(case=vw.case1).exclude(kind=NOTICE_KIND)  # the notice was sent before
    assert mine.filter(kind="reminder").exists()
    assert not mine.filter(status=OutboxMessage.Status.PENDING).exists()
    assert services.reminders_enqueue(now=reminder_time) == 0
    counts = outbox_dispatch(adapter=FileAdapter(), now=reminder_time, limit=1000)
    assert not mine.filter(status=OutboxMessage.Status.SENT).exists()
    assert OutboxMessage.objects.filter(case=other_case, kind="reminder", status=OutboxMessage.Status.SENT).exists()
    assert counts["sent"] >= 1
    # audit rows of the end, in the transaction of the recall
    end = AuditEntry.objects.get(action="fieldwork.end", object_id=str(vw.case1.pk))
    assert end.new["reason"] == reason and p.a1.pk in end.new["appointments_cancelled"]
    assert AuditEntry.objects.filter(action="appointment.cancel", object_id=str(p.a1.pk)).exists()
    assert AuditEntry.objects.filter(action="route_plan.stops_remove", object_id=str(p.plan.pk)).exists()

    # what the agency's manager and collectors are shown: no case1, no coordinates of its customer
    gone = f"case-{vw.case1.pk}"
    kept = f"case-{vw.case2.pk}"
    for user in (vw.manager, vw.user1, vw.user2):
        client.force_login(user)
        for plan in (p.plan, past):
            geo = client.get(f"/visits/plan/{plan.pk}.geojson")
            assert geo.status_code == 200
            data = geo.json()
            assert gone not in _visits(data) and gone not in json.dumps(data)
            assert _coords(vw.case1) not in _all_coordinates(data)
            if how != "contract_end":
                assert kept in _visits(data) and _coords(vw.case2) in _all_coordinates(data)
    client.force_login(vw.manager)
    page = client.get(f"/visits/map/?date={vw.day.isoformat()}").content.decode()
    assert gone not in page and (how == "contract_end" or kept in page)
    for user in (vw.user1, vw.user2):
        client.force_login(user)
        page = client.get(f"/visits/day/?date={vw.day.isoformat()}").content.decode()
        assert f'data-visit="{gone}"' not in page and gone not in page
        assert (f'data-visit="{kept}"' in page) == (how != "contract_end")
    # check-in and the visit report refused as "not found", pages and services alike
    client.force_login(vw.user1)
    assert client.get(f"/visits/case/{vw.case1.pk}/checkin").status_code == 404
    assert client.post(f"/visits/case/{vw.case1.pk}/checkin",
                       {"lat": "31.2400", "lon": "121.4900", "accuracy": "10"}).status_code == 404
    assert client.post(f"/visits/case/{vw.case1.pk}/report", {"recording": "on"}).status_code == 404
    assert client.get(f"/visits/case/{vw.case1.pk}/").status_code == 404
    with pytest.raises(NotFoundError):
        services.checkin_record(case=vw.case1, acting_user=vw.user1, lat=31.24, lon=121.49, accuracy_m=5)
    with pytest.raises(NotFoundError):
        services.report_start(case=vw.case1, acting_user=vw.user1, recording=True)
    # the bank's own view keeps the cancelled appointment with its reason, and the past plan whole
    client.force_login(p.cm)
    page = client.get(f"/visits/case/{vw.case1.pk}/").content.decode()
    assert f'data-appointment="{p.a1.pk}" data-status="cancelled"' in page
    assert f'data-cancel-reason="{reason}"' in page
    assert gone in _visits(client.get(f"/visits/plan/{past.pk}.geojson").json())
    # the other agency still sees its own plan whole
    client.force_login(other_manager)
    assert f"case-{other_case.pk}" in _visits(client.get(f"/visits/plan/{other_plan.pk}.geojson").json())


def test_a_reminder_of_an_expired_placement_is_refused_at_send_time(vw):
    """The placement period ended before the nightly cycle ran: the appointment still looks open, but
    no reminder is queued and a queued one is cancelled when the outbox is delivered."""
    p = _plan(vw)
    reminder_time = at(vw.day, 10) - timedelta(hours=20)
    assert services.reminders_enqueue(now=reminder_time) == 2
    _expire(vw.case1)
    p.a1.refresh_from_db()
    assert p.a1.status == Appointment.Status.CONFIRMED  # nothing ran yet
    counts = outbox_dispatch(adapter=FileAdapter(), now=reminder_time, limit=1000)
    assert counts["cancelled"] >= 1
    mine = OutboxMessage.objects.filter(case=vw.case1).exclude(kind=NOTICE_KIND)  # the notice was sent before
    assert mine.exists() and not mine.exclude(status=OutboxMessage.Status.CANCELLED).exists()
    assert OutboxMessage.objects.filter(case=vw.case2, kind="reminder", status=OutboxMessage.Status.SENT).exists()
    Appointment.objects.filter(pk=p.a1.pk).update(reminder_sent_at=None)
    assert services.reminders_enqueue(now=reminder_time) == 0
    # and a new plan of the day leaves the case out
    plan = services.route_plan_build(team=p.team, acting_user=vw.manager, time_limit=1.0, max_iterations=200)
    assert {s.case_id for s in plan.stops.all()} == {vw.case2.pk}


def test_closing_the_case_ends_the_field_work(vw):
    p = _plan(vw)
    case_services.case_transition(case=vw.case1, target="closed", close_reason=CloseReason.values[0],
                                  acting_user=p.cm)
    p.a1.refresh_from_db()
    p.a2.refresh_from_db()
    assert p.a1.status == Appointment.Status.CANCELLED and p.a1.cancel_reason == R.CASE_CLOSED
    assert p.a2.status == Appointment.Status.CONFIRMED
    assert list(RouteStop.objects.filter(plan=p.plan).values_list("case_id", flat=True)) == [vw.case2.pk]


def test_reassignment_cancels_the_previous_collectors_appointments(vw):
    """Decision: the previous collector's open appointments are cancelled (reason ``reassigned``) and
    their stops leave the plans; the new collector proposes again. The case stays with the agency."""
    p = _plan(vw)
    case_services.case_assign(case=vw.case1, collector=vw.c2, acting_user=vw.manager)
    p.a1.refresh_from_db()
    p.a2.refresh_from_db()
    assert p.a1.status == Appointment.Status.CANCELLED and p.a1.cancel_reason == R.REASSIGNED
    assert p.a2.status == Appointment.Status.CONFIRMED
    assert list(RouteStop.objects.filter(plan=p.plan).values_list("case_id", flat=True)) == [vw.case2.pk]
    assert not OutboxMessage.objects.filter(case=vw.case1, status=OutboxMessage.Status.PENDING).exists()
    # assigning the case again to its own collector ends nothing
    case_services.case_assign(case=vw.case2, collector=vw.c1, acting_user=vw.manager)
    p.a2.refresh_from_db()
    assert p.a2.status == Appointment.Status.CONFIRMED


def test_geojson_keep_visits_drops_points_and_route_vertices(vw):
    p = _plan(vw)
    data = p.plan.geojson
    gone, kept = f"case-{vw.case1.pk}", f"case-{vw.case2.pk}"
    out = geojson_keep_visits(data, {kept})
    assert _visits(out) == {kept}
    route = next(ft for ft in out["features"] if ft["properties"]["kind"] == "route")
    assert route["properties"]["stops"] == 1 and len(route["geometry"]["coordinates"]) == 3
    assert _coords(vw.case1) not in _all_coordinates(out) and _coords(vw.case2) in _all_coordinates(out)
    assert gone in json.dumps(data)  # the input is not changed
    # default deny: a line whose vertices do not match its stops keeps none of them
    broken = json.loads(json.dumps(data))
    next(ft for ft in broken["features"] if ft["properties"]["kind"] == "route")["geometry"]["coordinates"].pop(1)
    line = next(ft for ft in geojson_keep_visits(broken, {kept})["features"] if ft["properties"]["kind"] == "route")
    assert len(line["geometry"]["coordinates"]) == 2


def test_the_next_agency_does_not_see_the_previous_agencys_visits(client, vw):
    """The case recalled from agency A and placed with agency B: B's manager sees none of A's
    appointments; the bank sees them all, the cancelled one with its reason."""
    p = _plan(vw)
    case_services.case_recall(case=vw.case1, reason="改派机构", acting_user=p.cm)
    other = f.make_agency()
    f.make_contract(agency=other)
    other_manager = f.make_user(role=Role.AGENCY_MANAGER, agency=other)
    case_services.case_place(case=vw.case1, agency=other, acting_user=p.cm)
    client.force_login(other_manager)
    when = f"{vw.day.isoformat()} 10:00–11:00"  # a1's time as the appointments table shows it
    page = client.get(f"/visits/case/{vw.case1.pk}/")
    assert page.status_code == 200 and when not in page.content.decode()
    assert f'data-appointment="{p.a1.pk}"' not in page.content.decode()
    client.force_login(p.cm)
    client.cookies["django_language"] = "en"
    html = client.get(f"/visits/case/{vw.case1.pk}/").content.decode()
    assert when in html and f'data-appointment="{p.a1.pk}" data-status="cancelled"' in html
    assert "Case recalled from the agency" in html


def test_the_nightly_end_of_closed_cases_ends_their_field_work_set_based(vw):
    """``placements_end_for_closed_cases`` (set-based): the case the nightly cycle closed loses its
    appointment, its route stop and its agency, with the audit rows of the one-case path; the open
    case of the same plan keeps its own."""
    p = _plan(vw)
    today = timezone.localdate()
    Case.objects.filter(pk=vw.case1.pk).update(status="closed", closed_on=today, close_reason="cured")
    version = Case.objects.get(pk=vw.case1.pk).version
    assert case_services.placements_end_for_closed_cases(as_of=today, chunk=1) == 1
    p.a1.refresh_from_db()
    p.a2.refresh_from_db()
    assert p.a1.status == Appointment.Status.CANCELLED and p.a1.cancel_reason == R.CASE_CLOSED
    assert p.a2.status == Appointment.Status.CONFIRMED
    assert list(RouteStop.objects.filter(plan=p.plan).values_list("case_id", flat=True)) == [vw.case2.pk]
    case = Case.objects.get(pk=vw.case1.pk)
    assert case.agency_id is None and case.collector_id is None and case.version == version + 1
    end = AuditEntry.objects.get(action="fieldwork.end", object_id=str(vw.case1.pk))
    assert end.new["appointments_cancelled"] == [p.a1.pk] and end.new["reason"] == R.CASE_CLOSED
    closed = AuditEntry.objects.get(action="placement.end_closed", object_id=str(vw.case1.pk))
    assert closed.old["agency"] == vw.agency.pk and closed.new["agency"] is None
    assert closed.new["version"] == version + 1 and closed.new["as_of"] == today.isoformat()
    assert Placement.objects.get(case_id=vw.case1.pk).status == Placement.Status.ENDED
    assert Placement.objects.get(case_id=vw.case2.pk).status == Placement.Status.ACTIVE
    assert case_services.placements_end_for_closed_cases(as_of=today) == 0  # once
