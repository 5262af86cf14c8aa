"""Fixtures for the plans app's database tests: two agencies, their people, bank approvers at two
authority levels, and a delinquent case whose figures follow the loan's exact schedule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest

from fieldcollect.agencies.models import Agency, Collector
from fieldcollect.analytics.dates import add_months
from fieldcollect.cases.models import Case
from fieldcollect.core.models import Role, User
from fieldcollect.plans import services
from fieldcollect.plans.models import ApproverGrant, AuthorityLevel
from fieldcollect.plans.schedule import build_schedule
from fieldcollect.portfolio.models import Customer, Loan
from fieldcollect.testing import factories as f


@dataclass
class PlanWorld:
    agency_a: Agency
    agency_b: Agency
    manager_a: User
    manager_b: User
    collector_user: User
    collector: Collector
    other_collector_user: User
    collector_user_b: User
    approver: User  # collections manager, lowest authority level
    approver2: User  # another one at the same level
    head: User  # granted the highest level
    case: Case
    case_b: Case


def make_plan_case(*, agency: Agency, manager: User, collector: Collector | None, cm: User,
                   principal_fen: int = 3_600_000, term: int = 24, months_ago: int = 7, unpaid: int = 2,
                   rate: str = "0.1800") -> Case:
    """A loan disbursed ``months_ago`` months (and a few days) ago whose last ``unpaid`` due instalments
    are unpaid; the case's outstanding and overdue amounts follow its exact schedule."""
    today = f.today()
    n = next(f._seq)
    disbursed = add_months(today, -months_ago) - timedelta(days=3)
    customer = Customer.objects.create(
        customer_id=n, name=f"张三{n}", id_number=f"31010119900101{n % 10000:04d}", mobile=f"139{n:08d}",
        province="上海", city="上海", district="浦东新区", address=f"世纪大道{n}号",
    )
    loan = Loan.objects.create(
        loan_id=n, customer=customer, product="消费贷", principal_fen=principal_fen, annual_rate=Decimal(rate),
        term_months=term, method=Loan.Method.EQUAL_INSTALMENT, disbursed_on=disbursed,
    )
    sched = build_schedule(principal_fen=principal_fen, annual_rate=Decimal(rate), term_months=term,
                           method="equal-instalment", start=disbursed)
    due = [i for i in sched.instalments if i.due_date < today]
    paid = due[: len(due) - unpaid]
    outstanding = principal_fen - sum(i.principal_fen for i in paid)
    overdue = sum(i.payment_fen for i in due[len(due) - unpaid:])
    dpd = (today - due[len(due) - unpaid].due_date).days if unpaid else 0
    case = Case.objects.create(
        loan=loan, customer=customer, opened_on=today - timedelta(days=dpd), dpd=dpd, max_dpd=dpd,
        bucket="M2" if dpd > 30 else "M1", overdue_fen=overdue, outstanding_principal_fen=outstanding, city="上海",
        last_cycle_on=today,
    )
    return f.place(case, agency=agency, cm=cm, collector=collector, manager=manager)


@pytest.fixture
def plan_world(db: None) -> PlanWorld:
    f.ensure_default_levels()
    two = f.make_two_agencies()
    agency_a, manager_a, agency_b, manager_b = two.agency_a, two.manager_a, two.agency_b, two.manager_b
    (cu, c), (cu2, _c2) = two.collectors_a
    cub, cb = two.collector_b
    approver = f.make_user(role=Role.COLLECTIONS_MANAGER)
    approver2 = f.make_user(role=Role.COLLECTIONS_MANAGER)
    head = f.make_user(role=Role.COLLECTIONS_MANAGER)
    ApproverGrant.objects.create(user=head, level=AuthorityLevel.objects.get(role="collections_manager"))
    case = make_plan_case(agency=agency_a, manager=manager_a, collector=c, cm=approver)
    case_b = make_plan_case(agency=agency_b, manager=manager_b, collector=cb, cm=approver)
    return PlanWorld(agency_a=agency_a, agency_b=agency_b, manager_a=manager_a, manager_b=manager_b,
                     collector_user=cu, collector=c, other_collector_user=cu2, collector_user_b=cub,
                     approver=approver, approver2=approver2, head=head, case=case, case_b=case_b)


@pytest.fixture(autouse=True)
def _fast_pdf():
    """A stand-in PDF renderer (the real one parses a CJK font for seconds; one test uses it)."""
    services.set_pdf_renderer(lambda data: b"%PDF-1.4 test " + data.agreement_no.encode())
    yield
    services.set_pdf_renderer(None)


def record_hardship(world: PlanWorld, *, income: int = 800_000, expenses: int = 500_000, case: Case | None = None):
    return services.hardship_record(case=case or world.case, acting_user=world.collector_user, reason="job_loss",
                                    monthly_income_fen=income, monthly_expenses_fen=expenses)


def today() -> date:
    return f.today()
