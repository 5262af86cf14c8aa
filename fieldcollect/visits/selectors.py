"""Reads for the visit pages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.safestring import SafeString

from fieldcollect.agencies.models import Collector
from fieldcollect.cases.models import Case
from fieldcollect.core.models import User
from fieldcollect.visits.maps import PALETTE, MapPoint, MapRoute, svg_map
from fieldcollect.visits.models import Appointment, CheckIn, RoutePlan, RouteStop, Shift, Team, VisitReport


def teams_on(*, agency_id: int, day: date) -> QuerySet[Team]:
    return Team.objects.filter(agency_id=agency_id, date=day).select_related("member_a", "member_b").order_by("pk")


def team_for_collector(*, collector_id: int, day: date) -> Team | None:
    return Team.objects.filter(date=day).filter(Q(member_a_id=collector_id) | Q(member_b_id=collector_id)).select_related(
        "member_a", "member_b").first()


def current_plan(*, team: Team) -> RoutePlan | None:
    return RoutePlan.objects.filter(team=team, date=team.date, superseded=False).order_by("-pk").first()


def plan_stops(*, plan: RoutePlan) -> list[RouteStop]:
    return list(plan.stops.select_related("case", "case__customer", "appointment").order_by("skipped", "order", "pk"))


def plan_map(*, plans: list[RoutePlan], checkins: list[CheckIn] | None = None) -> SafeString:
    routes: list[MapRoute] = []
    points: list[MapPoint] = []
    for k, plan in enumerate(plans):
        colour = PALETTE[k % len(PALETTE)]
        team = plan.team
        path = [(team.base_lat, team.base_lon)]
        for s in plan_stops(plan=plan):
            if s.skipped:
                points.append(MapPoint(lat=s.lat, lon=s.lon, label="–", css="stop skipped", title=s.visit_id))
                continue
            path.append((s.lat, s.lon))
            when = s.planned_start.strftime("%H:%M") if s.planned_start else ""
            points.append(MapPoint(lat=s.lat, lon=s.lon, label=str(s.order),
                                   css="stop required" if s.required else "stop optional",
                                   title=f"{s.order}. {s.visit_id} {when}"))
        path.append((team.base_lat, team.base_lon))
        routes.append(MapRoute(points=tuple(path), colour=colour, title=f"team {team.pk}"))
        points.append(MapPoint(lat=team.base_lat, lon=team.base_lon, label="⌂", css="base", title=f"team {team.pk}"))
    for c in checkins or []:
        points.append(MapPoint(lat=c.lat, lon=c.lon, label="✓" if c.accepted else "!",
                               css="checkin ok" if c.accepted else "checkin flagged",
                               title=f"{c.collector.name} {c.at:%H:%M} {' '.join(c.flags)}"))
    return svg_map(routes=routes, points=points)


@dataclass
class CollectorDay:
    collector: Collector
    day: date
    team: Team | None
    plan: RoutePlan | None
    stops: list[RouteStop] = field(default_factory=list)
    map_svg: SafeString | None = None


def collector_day(*, collector: Collector, day: date) -> CollectorDay:
    team = team_for_collector(collector_id=collector.pk, day=day)
    plan = current_plan(team=team) if team else None
    out = CollectorDay(collector=collector, day=day, team=team, plan=plan)
    if plan is not None:
        out.stops = plan_stops(plan=plan)
        out.map_svg = plan_map(plans=[plan])
    return out


def label_stops(*, user: User, stops: list[RouteStop]) -> None:
    """Set ``address_label`` on each stop: the customer's address as :func:`customer_view` lets ``user``
    see it (in clear only for the collectors of a confirmed appointment, a day either side of it;
    masked to district level otherwise; the district alone, or nothing, when the contract withholds the
    address). A read in clear is audited."""
    from fieldcollect.privacy.unmask import audited_customer_view

    for s in stops:
        if s.skipped:
            continue
        view = audited_customer_view(user=user, case=s.case, channel="day_plan")
        address = view.fields.get("address", "")
        district = view.fields.get("district", "")
        # in clear: the district and the street address; masked: the address to district level
        s.address_label = f"{district} {address}".strip() if "address" in view.clear else (  # type: ignore[attr-defined]
            address or district)
        s.address_clear = "address" in view.clear  # type: ignore[attr-defined]


def manager_day(*, agency_id: int, day: date, city: str = "") -> dict[str, Any]:
    teams = list(teams_on(agency_id=agency_id, day=day))
    if city:
        teams = [t for t in teams if t.city == city]
    plans = [p for p in (current_plan(team=t) for t in teams) if p is not None]
    checkins = list(CheckIn.objects.filter(collector__agency_id=agency_id, at__date=day).select_related(
        "collector", "case").order_by("at"))
    if city:
        checkins = [c for c in checkins if c.collector.city == city]
    return {"teams": teams, "plans": plans, "checkins": checkins,
            "flagged": [c for c in checkins if not c.accepted or c.flags],
            "map_svg": plan_map(plans=plans, checkins=checkins)}


def shifts_on(*, agency_id: int, day: date) -> QuerySet[Shift]:
    return Shift.objects.filter(collector__agency_id=agency_id, date=day).select_related("collector")


def case_visits(*, case: Case) -> dict[str, Any]:
    return {
        "appointments": list(Appointment.objects.filter(case=case).order_by("-created_at")[:20]),
        "reports": list(VisitReport.objects.filter(case=case).prefetch_related("evidence").order_by("-created_at")[:20]),
        "checkins": list(CheckIn.objects.filter(case=case).select_related("collector").order_by("-at")[:20]),
    }
