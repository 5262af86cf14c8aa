from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.utils import timezone

from fieldcollect.agencies.models import Agency, Collector
from fieldcollect.cases.models import Case
from fieldcollect.core.models import Role, User
from fieldcollect.testing import factories as f
from fieldcollect.testing.factories import at
from fieldcollect.visits import services
from fieldcollect.visits.models import Appointment, RoutePlan, Team

BASE = (31.2304, 121.4737)  # People's Square


@dataclass
class VisitWorld:
    agency: Agency
    manager: User
    user1: User
    c1: Collector
    user2: User
    c2: Collector
    case1: Case
    case2: Case
    day: date


def place_case(*, agency: Agency, manager: User, collector: Collector, lat: float, lon: float, cm: User) -> Case:
    case = f.make_case()
    case.customer.lat, case.customer.lon = lat, lon
    case.customer.save(update_fields=["lat", "lon"])
    return f.place(case, agency=agency, cm=cm, collector=collector, manager=manager)


@pytest.fixture
def vw(db: None, tmp_path, monkeypatch) -> VisitWorld:
    monkeypatch.setenv("FIELDCOLLECT_HOME", str(tmp_path))
    agency, manager = f.make_contracted_agency()
    cm = f.make_user(role=Role.COLLECTIONS_MANAGER)
    user1, c1 = f.make_collector_user(agency=agency)
    user2, c2 = f.make_collector_user(agency=agency)
    for c, dx in ((c1, 0.0), (c2, 0.01)):
        c.base_lat, c.base_lon = BASE[0], BASE[1] + dx
        c.save(update_fields=["base_lat", "base_lon"])
    case1 = place_case(agency=agency, manager=manager, collector=c1, lat=31.2400, lon=121.4900, cm=cm)
    case2 = place_case(agency=agency, manager=manager, collector=c1, lat=31.2200, lon=121.4500, cm=cm)
    return VisitWorld(agency=agency, manager=manager, user1=user1, c1=c1, user2=user2, c2=c2, case1=case1,
                      case2=case2, day=timezone.localdate() + timedelta(days=2))



def plan_day(vw: VisitWorld, *, appointments: tuple[tuple[Case, tuple[int, int], bool], ...] | None = None):
    """A team of c1 and c2 on ``vw.day``, an appointment proposed for each of ``appointments`` (case, its
    window's hours, confirmed or not; by default case1 10–11 and case2 14–15, both confirmed) and the
    team's route plan: (team, plan)."""
    team = services.team_create(member_a=vw.c1, member_b=vw.c2, day=vw.day, acting_user=vw.manager)
    for case, hours, confirm in appointments or ((vw.case1, (10, 11), True), (vw.case2, (14, 15), True)):
        a, _t = services.appointment_propose(case=case, acting_user=vw.user1,
                                             windows=[(at(vw.day, hours[0]), at(vw.day, hours[1]))])
        if confirm:
            services.appointment_confirm(appointment=a, window=0)
    return team, services.route_plan_build(team=team, acting_user=vw.manager, time_limit=1.0, max_iterations=200)


def move_plan_to_today(team, plan) -> date:
    """The planned day moved to today and the confirmed appointments to the current hour of today (now is
    inside their windows, and the appointments are on the team's day whatever the time: the team mate sees
    the addresses in clear too, as at the door); today.

    Not "in two hours": after 22:00 in the bank's zone that is tomorrow, a day the team does not exist."""
    now = timezone.localtime()
    today = now.date()
    Team.objects.filter(pk=team.pk).update(date=today)
    RoutePlan.objects.filter(pk=plan.pk).update(date=today)
    start = now.replace(minute=0, second=0, microsecond=0)
    Appointment.objects.filter(status=Appointment.Status.CONFIRMED).update(chosen_start=start,
                                                                          chosen_end=start + timedelta(hours=1))
    return today
