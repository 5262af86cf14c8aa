"""Route plans: a team's day of visits planned and re-planned by :mod:`fieldcollect.optimisation.routes`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from fieldcollect.agencies.models import Agency
from fieldcollect.audit.services import audit_log
from fieldcollect.cases.access import cases_held_by
from fieldcollect.cases.models import Case
from fieldcollect.compliance.packs import RulePack
from fieldcollect.compliance.selectors import pack_for
from fieldcollect.core.errors import ApplicationError
from fieldcollect.core.models import Role, User
from fieldcollect.optimisation.routes import (
    DayPlan,
    DayPlanBuilder,
    TeamProgress,
    day_plan_geojson,
    plan_day,
    replan,
)
from fieldcollect.optimisation.travel import LatLon
from fieldcollect.visits.errors import VisitErrorCode as E
from fieldcollect.visits.models import Appointment, CheckIn, RoutePlan, RouteStop, Team
from fieldcollect.visits.services.common import appointment_windows, aware, local_tz, require_manager
from fieldcollect.visits.services.permits import permits_issue

SERVICE_MINUTES = 30
# expected recovery of a visit as a share of the overdue amount, by bucket (until scoring provides one)
VISIT_RECOVERY_RATE = {"M1": 0.30, "M2": 0.20, "M3": 0.15, "M4": 0.10, "M5": 0.08, "M6": 0.06, "M6+": 0.04}


def pack_requires(pack: RulePack, kind: str) -> bool:
    """Whether an enabled rule of ``kind`` (e.g. ``visit_recording``) is in the pack."""
    return any(r.kind == kind for r in pack.active_rules)


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
    permits = permits_issue(plan=plan)  # the plan is published: each visited stop gets its permit
    audit_log(actor=acting_user, action=f"route_plan.{reason}", object_type="route_plan", object_id=plan.pk,
              new={"team": team.pk, "date": team.date.isoformat(), "stops": len(planned),
                   "missed": plan.missed, "feasible": plan.feasible,
                   "permits": [p.pk for p in permits]})
    return plan


def route_plan_build(*, team: Team, acting_user: User | None, time_limit: float = 2.0,
                     max_iterations: int | None = None) -> RoutePlan:
    """Plan a team's day: confirmed appointments of its members' cases as required visits (hard
    windows); as optional visits with their expected recovery as prize, the proposed (not yet
    confirmed) appointments of the day, and, where the pack does not require a confirmed
    appointment, the members' other open cases."""
    if acting_user is not None and acting_user.role == Role.AGENCY_MANAGER:
        require_manager(acting_user, team.agency_id)
    day = team.date
    members = list(team.member_ids)
    tz = local_tz()
    lo, hi = aware(day, time(0, 0), tz), aware(day + timedelta(days=1), time(0, 0), tz)
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
        if vid in info or pack_requires(pack_for(case.loan.jurisdiction), "visit_appointment"):
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
        require_manager(acting_user, agency.pk)
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
                               code=E.ROUTE_PLAN_REPLAN_FAILED) from exc
    with transaction.atomic():
        return _save_plan(team=team, day_plan=new, info=info, acting_user=acting_user, reason=reason)
