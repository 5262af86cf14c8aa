"""Reads for the visit pages.

What a user is shown of a route plan (stops, map points, GeoJSON, missed visits, check-ins) is limited
to the cases they may see (:func:`fieldcollect.cases.access.cases_visible_to`); a field collector also
sees the stops of the cases their team mate of that day holds (they visit together). A case recalled,
expired or ended with the agency's contract disappears from every plan, past ones included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from fieldcollect.agencies.models import Collector
from fieldcollect.cases.access import cases_held_by, cases_visible_to, collector_of, has_capability
from fieldcollect.cases.models import Case
from fieldcollect.core.models import Role, User
from fieldcollect.optimisation.coords import nav_urls
from fieldcollect.optimisation.routes import geojson_keep_visits
from fieldcollect.privacy.unmask import audited_customer_view
from fieldcollect.visits.maps import PALETTE, MapPoint, MapRoute, map_data, svg_map
from fieldcollect.visits.models import Appointment, CheckIn, RoutePlan, RouteStop, Shift, Team, VisitReport


def teams_on(*, agency_id: int, day: date) -> QuerySet[Team]:
    return Team.objects.filter(agency_id=agency_id, date=day).select_related("member_a", "member_b").order_by("pk")


def team_for_collector(*, collector_id: int, day: date) -> Team | None:
    return Team.objects.filter(date=day).filter(Q(member_a_id=collector_id) | Q(member_b_id=collector_id)).select_related(
        "member_a", "member_b").first()


def current_plan(*, team: Team) -> RoutePlan | None:
    return RoutePlan.objects.filter(team=team, date=team.date, superseded=False).order_by("-pk").first()


def plan_cases_visible(*, user: User, team: Team) -> QuerySet[Case]:
    """The cases of ``team``'s plans that ``user`` may see: :func:`cases_visible_to`, and for a member
    of the team also the cases their team mate holds (:func:`cases_held_by`)."""
    visible = Q(pk__in=cases_visible_to(user).values("pk"))
    collector_id = collector_of(user)
    if collector_id is not None and collector_id in team.member_ids and user.agency_id == team.agency_id:
        mate = next(m for m in team.member_ids if m != collector_id)
        visible |= Q(pk__in=cases_held_by(agency_id=team.agency_id, collector_id=mate).values("pk"))
    return Case.objects.filter(visible)


def plan_stops(*, plan: RoutePlan, user: User) -> list[RouteStop]:
    """The plan's stops on cases ``user`` may see (:func:`plan_cases_visible`)."""
    visible = plan_cases_visible(user=user, team=plan.team).values("pk")
    return list(plan.stops.filter(case_id__in=visible).select_related("case", "case__customer", "appointment")
                .order_by("skipped", "order", "pk"))


def plan_missed(*, plan: RoutePlan, stops: list[RouteStop]) -> list[str]:
    """The plan's missed appointments among ``stops`` (those the reader may see)."""
    shown = {s.visit_id for s in stops}
    return [v for v in plan.missed if v in shown]


def plan_geojson(*, plan: RoutePlan, user: User) -> dict[str, Any]:
    """The plan's stored GeoJSON with only the visits ``user`` may see (their points and route
    vertices; :func:`~fieldcollect.optimisation.routes.geojson_keep_visits`)."""
    return geojson_keep_visits(plan.geojson or {}, {s.visit_id for s in plan_stops(plan=plan, user=user)})


def plan_map(*, plans: list[RoutePlan], user: User, checkins: list[CheckIn] | None = None) -> SafeString:
    """The SVG map of ``plans`` (their stops ``user`` may see) and ``checkins``."""
    routes, points = plan_map_parts(plans=plans, user=user, checkins=checkins)
    return svg_map(routes=routes, points=points)


def plan_map_parts(*, plans: list[RoutePlan], user: User,
                   checkins: list[CheckIn] | None = None) -> tuple[list[MapRoute], list[MapPoint]]:
    routes: list[MapRoute] = []
    points: list[MapPoint] = []
    for k, plan in enumerate(plans):
        colour = PALETTE[k % len(PALETTE)]
        team = plan.team
        path = [(team.base_lat, team.base_lon)]
        for s in plan_stops(plan=plan, user=user):
            if s.skipped:
                points.append(MapPoint(lat=s.lat, lon=s.lon, label="–", css="stop skipped", title=s.visit_id,
                                       href=reverse("visits:case", args=[s.case_id])))
                continue
            path.append((s.lat, s.lon))
            when = s.planned_start.strftime("%H:%M") if s.planned_start else ""
            points.append(MapPoint(lat=s.lat, lon=s.lon, label=str(s.order),
                                   css="stop required" if s.required else "stop optional",
                                   title=f"{s.order}. {s.visit_id} {when}",
                                   href=reverse("visits:case", args=[s.case_id])))
        path.append((team.base_lat, team.base_lon))
        routes.append(MapRoute(points=tuple(path), colour=colour, title=f"team {team.pk}"))
        points.append(MapPoint(lat=team.base_lat, lon=team.base_lon, label="⌂", css="base", title=f"team {team.pk}"))
    for c in checkins or []:
        points.append(MapPoint(lat=c.lat, lon=c.lon, label="✓" if c.accepted else "!",
                               css="checkin ok" if c.accepted else "checkin flagged",
                               title=f"{c.collector.name} {c.at:%H:%M} {' '.join(c.flags)}",
                               href=reverse("visits:case", args=[c.case_id])))
    return routes, points


@dataclass
class CollectorDay:
    collector: Collector
    day: date
    team: Team | None
    plan: RoutePlan | None
    stops: list[RouteStop] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    map_svg: SafeString | None = None
    map_json: dict[str, Any] | None = None


def collector_day(*, user: User, collector: Collector, day: date) -> CollectorDay:
    team = team_for_collector(collector_id=collector.pk, day=day)
    plan = current_plan(team=team) if team else None
    out = CollectorDay(collector=collector, day=day, team=team, plan=plan)
    if plan is not None:
        out.stops = plan_stops(plan=plan, user=user)
        out.missed = plan_missed(plan=plan, stops=out.stops)
        routes, points = plan_map_parts(plans=[plan], user=user)
        out.map_svg = svg_map(routes=routes, points=points)
        out.map_json = map_data(routes=routes, points=points)
    return out


def label_stops(*, user: User, stops: list[RouteStop]) -> None:
    """Set ``address_label`` on each stop: the customer's address as :func:`customer_view` lets ``user``
    see it (in clear only for the collectors of a confirmed appointment, a day either side of it;
    masked to district level otherwise; the district alone, or nothing, when the contract withholds the
    address). A read in clear is audited."""
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
        # "Navigate" links (Amap, Baidu, Apple Maps, each in its own coordinate system) only where the
        # address is shown in clear; the label sent to the map app names no one
        s.nav = (nav_urls(s.lat, s.lon, _("Stop %(n)s") % {"n": s.order}).as_dict()  # type: ignore[attr-defined]
                 if s.address_clear else None)  # type: ignore[attr-defined]


def manager_day(*, user: User, agency_id: int, day: date, city: str = "") -> dict[str, Any]:
    teams = list(teams_on(agency_id=agency_id, day=day))
    if city:
        teams = [t for t in teams if t.city == city]
    plans = [p for p in (current_plan(team=t) for t in teams) if p is not None]
    checkins = list(CheckIn.objects.filter(collector__agency_id=agency_id, at__date=day,
                                           case_id__in=cases_visible_to(user).values("pk")).select_related(
        "collector", "case").order_by("at"))
    if city:
        checkins = [c for c in checkins if c.collector.city == city]
    routes, points = plan_map_parts(plans=plans, user=user, checkins=checkins)
    return {"teams": teams, "plans": plans, "checkins": checkins,
            "flagged": [c for c in checkins if not c.accepted or c.flags],
            "map_svg": svg_map(routes=routes, points=points), "map_json": map_data(routes=routes, points=points)}


def shifts_on(*, agency_id: int, day: date) -> QuerySet[Shift]:
    return Shift.objects.filter(collector__agency_id=agency_id, date=day).select_related("collector")


def own_field_work_q(user: User, *, agency_field: str = "collector__agency_id") -> Q:
    """Which field work (appointments, check-ins, visit reports, feedback on them) of a case ``user`` is
    shown: all of it for the bank, that of the user's own agency for an agency user (another agency
    that held the case before is none of theirs), none for anyone else. ``agency_field`` names the
    agency of a row."""
    if user.is_bank_user:
        return Q()
    if user.agency_id is not None and user.role in {Role.AGENCY_MANAGER, Role.FIELD_COLLECTOR}:
        return Q(**{agency_field: user.agency_id})
    return Q(pk__in=[])


def can_do_field_work(user: User) -> bool:
    """Whether ``user`` may propose visits, check in and write visit reports on the cases they hold: a
    field collector linked to a collector, with the contact capability (what the services check:
    :func:`fieldcollect.visits.services.common.collector_of` and ``case.contact``)."""
    return has_capability(user, "case.contact") and collector_of(user) is not None


def case_visits(*, case: Case, user: User) -> dict[str, Any]:
    """A case's appointments (with the reason of any cancellation), reports and check-ins: all of them
    for the bank, those of the user's own agency for an agency user (another agency that held the case
    before is none of theirs)."""
    own = own_field_work_q(user)
    appointments = Appointment.objects.filter(case=case).filter(own)
    reports = VisitReport.objects.filter(case=case).filter(own)
    checkins = CheckIn.objects.filter(case=case).filter(own)
    return {
        "appointments": list(appointments.order_by("-created_at")[:20]),
        "reports": list(reports.prefetch_related("evidence").order_by("-created_at")[:20]),
        "checkins": list(checkins.select_related("collector").order_by("-at")[:20]),
    }
