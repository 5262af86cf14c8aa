"""A small world whose dashboard figures are worked out by hand in the tests.

Business date AS_OF = 2025-03-31. Agencies A (M2 commission 12 %) and B (M2 15 %).

- case1 (overdue 1,000.00) placed with A on 1 Feb: paid 300.00 on 5 Feb, 200.00 on 20 Feb, 100.00 on 10 Mar
- case2 (overdue 2,000.00) placed with A on 15 Feb: paid 500.00 on 1 Mar
- case3 (overdue 1,200.00) placed with B on 3 Mar: paid 600.00 on 10 Mar
- contacts: case1 by A phone 5 Mar, visit 8 Mar, SMS 12 Mar; case2 by A phone 20 Jan; case3 by B SMS 10 Mar
- promises decided: A Feb 2 broken; A Mar 3 kept + 1 broken; B Mar 1 kept + 1 cancelled
- blocked contacts: A Mar [CN-HOURS], [CN-HOURS, CN-FREQ]; B Mar [CN-FREQ]; A Feb [CN-HOURS]
- complaints (when the complaints app is installed): one about A (harassment) on 15 Mar
- today's visits: A plans 2 stops, check-ins: one clean, one outside the geofence; B plans 1 stop, one
  check-in not accepted (impossible speed, entered by hand)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from fieldcollect.agencies.models import Agency, Collector
from fieldcollect.cases import services as cs
from fieldcollect.cases.models import Case, ContactAttempt, PromiseToPay
from fieldcollect.core.models import Role, User
from fieldcollect.testing import factories as f

AS_OF = date(2025, 3, 31)
FAR = {"starts_on": date(2020, 1, 1), "ends_on": date(2099, 1, 1), "dsa_valid_until": date(2099, 1, 1)}
PASSWORD = "pw-test-123"


def local(day: date, hh: int = 10) -> datetime:
    return datetime.combine(day, time(hh, 0), tzinfo=timezone.get_current_timezone())


@dataclass
class ReportWorld:
    a: Agency
    b: Agency
    manager: User  # collections manager
    auditor: User
    mgr_a: User
    mgr_b: User
    collector_user: User
    col_a: Collector
    col_b: Collector
    case1: Case
    case2: Case
    case3: Case
    today: date


def _promise(case: Case, agency: Agency, status: str, resolved: date) -> None:
    PromiseToPay.objects.create(case=case, agency=agency, amount_fen=10_000, due_on=resolved,
                                promised_on=resolved - timedelta(days=5), status=status, resolved_on=resolved)


def build_world() -> ReportWorld:
    a = f.make_agency(name="甲催收公司", name_en="Agency A")
    b = f.make_agency(name="乙催收公司", name_en="Agency B")
    f.make_contract(agency=a, commission_tiers={"M2": "0.12"}, **FAR)
    f.make_contract(agency=b, commission_tiers={"M2": "0.15"}, **FAR)
    manager = f.make_user(role=Role.COLLECTIONS_MANAGER)
    mgr_a = f.make_user(role=Role.AGENCY_MANAGER, agency=a)
    mgr_b = f.make_user(role=Role.AGENCY_MANAGER, agency=b)
    collector_user, col_a = f.make_collector_user(agency=a)
    col_b = f.make_collector(agency=b)
    case1 = f.make_case(bucket="M2", overdue_fen=100_000)
    case2 = f.make_case(bucket="M2", overdue_fen=200_000)
    case3 = f.make_case(bucket="M2", overdue_fen=120_000)
    cs.case_place(case=case1, agency=a, acting_user=manager, starts_on=date(2025, 2, 1), days=60)
    cs.case_place(case=case2, agency=a, acting_user=manager, starts_on=date(2025, 2, 15), days=60)
    cs.case_place(case=case3, agency=b, acting_user=manager, starts_on=date(2025, 3, 3), days=60)
    for case, amount, day in ((case1, 30_000, date(2025, 2, 5)), (case1, 20_000, date(2025, 2, 20)),
                              (case1, 10_000, date(2025, 3, 10)), (case2, 50_000, date(2025, 3, 1)),
                              (case3, 60_000, date(2025, 3, 10))):
        cs.payment_record(case=case, amount_fen=amount, paid_on=day, acting_user=None)
    for case, agency, channel, day in ((case1, a, "phone", date(2025, 3, 5)), (case1, a, "visit", date(2025, 3, 8)),
                                       (case1, a, "sms", date(2025, 3, 12)), (case2, a, "phone", date(2025, 1, 20)),
                                       (case3, b, "sms", date(2025, 3, 10))):
        ContactAttempt.objects.create(case=case, agency=agency, channel=channel, at=local(day), outcome="promise")
    for status, day in (("broken", date(2025, 2, 10)), ("broken", date(2025, 2, 11)), ("kept", date(2025, 3, 2)),
                        ("kept", date(2025, 3, 3)), ("kept", date(2025, 3, 4)), ("broken", date(2025, 3, 5))):
        _promise(case1, a, status, day)
    _promise(case3, b, "kept", date(2025, 3, 20))
    _promise(case3, b, "cancelled", date(2025, 3, 21))

    from fieldcollect.compliance.models import BlockedAttempt

    for agency, rules, day in ((a, ["CN-HOURS"], date(2025, 3, 6)), (a, ["CN-HOURS", "CN-FREQ"], date(2025, 3, 7)),
                               (b, ["CN-FREQ"], date(2025, 3, 8)), (a, ["CN-HOURS"], date(2025, 2, 8))):
        BlockedAttempt.objects.create(at=local(day, 22), agency=agency, case=case1, channel="phone", party="debtor",
                                      rule_ids=rules)

    from django.apps import apps

    if apps.is_installed("fieldcollect.complaints"):  # one complaint about A in March
        from fieldcollect.complaints.services import complaint_create

        complaint_create(source="customer_link", customer=case1.customer, category="harassment",
                         description="催收员语气恶劣", acting_user=None, case=case1, agency=a,
                         received_at=local(date(2025, 3, 15)), now=local(date(2025, 3, 15)))

    from fieldcollect.visits.models import CheckIn, RoutePlan, RouteStop, Team

    today = timezone.localdate()
    for agency, collector, stops, checkins in (
        (a, col_a, [(case1, 31.24, 121.49), (case2, 31.22, 121.45)],
         [(case1, 31.2401, 121.4901, True, []), (case2, 31.30, 121.60, True, ["outside_geofence"])]),
        (b, col_b, [(case3, 31.20, 121.50)], [(case3, 31.2001, 121.5001, False, ["impossible_speed", "manual"])]),
    ):
        other = f.make_collector(agency=agency)
        team = Team.objects.create(agency=agency, city="上海", date=today, member_a=collector, member_b=other,
                                   base_lat=31.23, base_lon=121.47, shift_start=local(today, 9),
                                   shift_end=local(today, 18))
        plan = RoutePlan.objects.create(team=team, city="上海", date=today)
        for i, (case, lat, lon) in enumerate(stops, start=1):
            RouteStop.objects.create(plan=plan, order=i, visit_id=f"v{case.pk}", case=case, lat=lat, lon=lon,
                                     planned_start=local(today, 9 + i))
        for case, lat, lon, accepted, flags in checkins:
            CheckIn.objects.create(collector=collector, case=case, lat=lat, lon=lon, at=local(today, 11),
                                   accepted=accepted, flags=flags, distance_m=12.0)
    return ReportWorld(a=a, b=b, manager=manager, auditor=f.make_user(role=Role.AUDITOR), mgr_a=mgr_a, mgr_b=mgr_b,
                       collector_user=collector_user, col_a=col_a, col_b=col_b, case1=case1, case2=case2,
                       case3=case3, today=today)


@pytest.fixture
def rw(db: None, fc_home) -> ReportWorld:
    return build_world()


@pytest.fixture
def published(fc_home, tmp_path):
    """A small demo book published for AS_OF (the portfolio dashboard reads its files)."""
    from fieldcollect.testing.demo_book import publish_demo_book

    return publish_demo_book(tmp_path / "export", n_loans=400, seed=3, as_of=AS_OF)

