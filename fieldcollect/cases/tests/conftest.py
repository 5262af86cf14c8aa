from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from fieldcollect.agencies.models import Agency, Collector
from fieldcollect.caselibrary.models import CaseStory
from fieldcollect.cases.models import Case, ContactAttempt, Note, Payment, PromiseToPay, Task
from fieldcollect.complaints.models import Complaint
from fieldcollect.compliance.models import BlockedAttempt, DebtorFlag
from fieldcollect.core.models import Role, User
from fieldcollect.plans import services as plan_services
from fieldcollect.plans.tests.conftest import make_plan_case
from fieldcollect.settlement.models import Statement, StatementLine
from fieldcollect.testing import factories as f
from fieldcollect.visits.models import Appointment, CheckIn, Evidence, FeedbackRequest, VisitReport


@dataclass
class World:
    agency_a: Agency
    agency_b: Agency
    manager_a: User
    manager_b: User
    collector_user_a1: User
    collector_a1: Collector
    collector_user_a2: User
    collector_a2: Collector
    collector_user_b: User
    collector_b: Collector
    bank: dict[Role, User]
    case_a1: Case  # placed with A, assigned to collector a1
    case_a2: Case  # placed with A, assigned to collector a2
    case_a_unassigned: Case  # placed with A, not assigned
    case_b: Case  # placed with B, assigned to collector b
    case_new: Case  # not placed


@pytest.fixture
def world(db: None) -> World:
    two = f.make_two_agencies()
    agency_a, manager_a, agency_b, manager_b = two.agency_a, two.manager_a, two.agency_b, two.manager_b
    (cu_a1, c_a1), (cu_a2, c_a2) = two.collectors_a
    cu_b, c_b = two.collector_b
    bank = f.make_bank_users()
    cm = bank[Role.COLLECTIONS_MANAGER]

    def placed(agency: Agency, manager: User, collector: Collector | None) -> Case:
        return f.place(f.make_case(), agency=agency, cm=cm, collector=collector, manager=manager)

    return World(
        agency_a=agency_a, agency_b=agency_b, manager_a=manager_a, manager_b=manager_b,
        collector_user_a1=cu_a1, collector_a1=c_a1, collector_user_a2=cu_a2, collector_a2=c_a2,
        collector_user_b=cu_b, collector_b=c_b, bank=bank,
        case_a1=placed(agency_a, manager_a, c_a1), case_a2=placed(agency_a, manager_a, c_a2),
        case_a_unassigned=placed(agency_a, manager_a, None), case_b=placed(agency_b, manager_b, c_b),
        case_new=f.make_case(),
    )


# ---------------------------------------------------------------- the case hub: a case with every kind of fact

_n = itertools.count(1)


@dataclass
class HubWorld:
    case: Case
    agency_a: Agency
    collector: Collector
    users: dict[str, User]  # role label -> user


def add_facts(case: Case, *, collector: Collector, collector_user: User, manager: User, cm: User) -> None:
    """One fact of every kind that is not made through the plan services (written directly: the test is
    about reading them)."""
    now = timezone.now()
    agency_id = case.agency_id
    k = next(_n)
    contact = ContactAttempt.objects.create(case=case, agency_id=agency_id, collector=collector, channel="phone",
                                            party="debtor", at=now - timedelta(days=9), connected=True,
                                            conversation=True, outcome="promise", recorded_by=collector_user)
    PromiseToPay.objects.create(case=case, contact=contact, agency_id=agency_id, amount_fen=50_000,
                                due_on=f.today() + timedelta(days=5), promised_on=f.today() - timedelta(days=9),
                                recorded_by=collector_user)
    Note.objects.create(case=case, author=manager, body="note")
    Task.objects.create(case=case, agency_id=agency_id, assignee=collector_user, title="call back", due_on=f.today(),
                        status=Task.Status.DONE, completed_at=now - timedelta(days=8), completed_by=collector_user)
    placement = case.placements.order_by("-id").first()
    payment = Payment.objects.create(loan=case.loan, case=case, placement=placement,
                                     paid_on=f.today() - timedelta(days=3), amount_fen=30_000,
                                     reference=f"hub-{k}")
    start = now - timedelta(days=7)
    appointment = Appointment.objects.create(
        case=case, collector=collector, windows=[[start.isoformat(), (start + timedelta(hours=1)).isoformat()]],
        chosen_start=start, chosen_end=start + timedelta(hours=1), status=Appointment.Status.CONFIRMED,
        expires_at=start, created_by=collector_user)
    checkin = CheckIn.objects.create(collector=collector, case=case, appointment=appointment, lat=31.2, lon=121.5,
                                     accuracy_m=10, at=start, distance_m=35, accepted=True)
    report = VisitReport.objects.create(case=case, collector=collector, appointment=appointment, checkin=checkin,
                                        recording=True, status=VisitReport.Status.CLOSED, outcome="promise",
                                        notes="met", closed_at=start + timedelta(minutes=40),
                                        created_by=collector_user)
    Evidence.objects.create(report=report, kind=Evidence.Kind.PHOTO, sha256=f"{k:064x}", size=2048,
                            content_type="image/jpeg", uploaded_by=collector_user)
    feedback = FeedbackRequest.objects.create(case=case, report=report, channel="visit", collector=collector,
                                              agency_id=agency_id, expires_at=now + timedelta(days=5),
                                              responded_at=now - timedelta(days=6), rating=2, polite=True)
    statement, _ = Statement.objects.get_or_create(agency_id=agency_id, month=f.today().replace(day=1))
    assert placement is not None
    StatementLine.objects.create(statement=statement, payment=payment, placement=placement, case_id=case.pk,
                                 paid_on=payment.paid_on, amount_fen=payment.amount_fen, bucket=case.bucket,
                                 rate="0.1200", commission_fen=3_600)
    Complaint.objects.create(reference=f"CP-HUB-{k}", source="customer_link", customer=case.customer, case=case,
                             agency_id=agency_id, collector=collector, feedback=feedback, category="fees",
                             severity="low", description="too many calls", received_at=now - timedelta(days=5),
                             acknowledge_due_at=now + timedelta(days=1), resolve_due_at=now + timedelta(days=15))
    DebtorFlag.objects.create(customer=case.customer, flag="dispute", starts_at=now - timedelta(days=4),
                              ends_at=now - timedelta(days=2), reason="disputed the amount", created_by=cm)
    BlockedAttempt.objects.create(at=now - timedelta(days=3), user=collector_user, agency_id=agency_id, case=case,
                                  customer=case.customer, channel="phone", party="debtor", path="page",
                                  rule_ids=["hours"], explanation="Outside contact hours",
                                  explanation_zh="不在联系时间内")
    CaseStory.objects.create(title=f"Story {k}", result="success", case=case, agency_id=agency_id,
                             what_was_tried="a visit", created_by=manager)


@pytest.fixture
def hw(db: None) -> Iterator[HubWorld]:
    plan_services.set_pdf_renderer(lambda data: b"%PDF-1.4 test " + data.agreement_no.encode())
    f.ensure_default_levels()
    two = f.make_two_agencies()
    agency_a, manager_a = two.agency_a, two.manager_a
    (cu, collector), (cu_other, _c2) = two.collectors_a
    cu_b, _cb = two.collector_b
    bank = f.make_bank_users()
    cm = bank[Role.COLLECTIONS_MANAGER]
    case = make_plan_case(agency=agency_a, manager=manager_a, collector=collector, cm=cm)
    add_facts(case, collector=collector, collector_user=cu, manager=manager_a, cm=cm)
    # a plan through its services: hardship, proposal, endorsement, approval, offer, the customer's acceptance
    plan_services.hardship_record(case=case, acting_user=cu, reason="job_loss", monthly_income_fen=800_000,
                                  monthly_expenses_fen=500_000)
    p = plan_services.plan_propose(case=case, acting_user=cu, kind="term_extension")
    p = plan_services.plan_endorse(proposal=p, acting_user=manager_a)
    p = plan_services.plan_decide(proposal=p, acting_user=cm, decision="approve")
    offer = plan_services.plan_offer(proposal=p, acting_user=cm)
    plan_services.plan_accept(token=offer.token)
    case.refresh_from_db()
    users = {str(role): u for role, u in bank.items()} | {
        "agency_manager": manager_a, "field_collector": cu, "other_collector_same_agency": cu_other,
        "other_agency_collector": cu_b, "other_agency_manager": two.manager_b}
    yield HubWorld(case=case, agency_a=agency_a, collector=collector, users=users)
    plan_services.set_pdf_renderer(None)
