"""Small factories for case-management tests (plain functions, explicit defaults)."""

from __future__ import annotations

import importlib
import itertools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from fieldcollect.agencies.models import Agency, AgencyContract, Collector
from fieldcollect.cases import services as case_services
from fieldcollect.cases.models import Case
from fieldcollect.compliance.models import OutsourcingNotice
from fieldcollect.core.models import Role, User
from fieldcollect.outbox.models import OutboxMessage
from fieldcollect.plans.models import AuthorityLevel
from fieldcollect.portfolio.models import Customer, Loan

_seq = itertools.count(1000)


def today() -> date:
    return timezone.localdate()


SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: date, hh: int, mm: int = 0) -> datetime:
    """``day`` at ``hh``:``mm`` in Shanghai (the debtors' and the bank's zone in the tests)."""
    return datetime.combine(day, time(hh, mm), tzinfo=SHANGHAI)


def in_hours(hour: int = 10, day: date | None = None) -> datetime:
    """Today (bank's local day) at ``hour`` in Shanghai: inside every pack's contact hours, whatever
    the time the tests run (the compliance check refuses contacts at night)."""
    return at(day or today(), hour)


def make_agency(**kw: Any) -> Agency:
    n = next(_seq)
    defaults: dict[str, Any] = {
        "agency_id": n,
        "name": f"催收机构{n}",
        "name_en": f"Agency {n}",
        "status": Agency.Status.APPROVED,
        "regions": [],
        "capacity": 0,
        "eligible_buckets": [],
        "placement_days": 60,
        "dsa_valid_until": today() + timedelta(days=365),
    }
    defaults.update(kw)
    return Agency.objects.create(**defaults)


def make_contract(*, agency: Agency, **kw: Any) -> AgencyContract:
    defaults: dict[str, Any] = {
        "reference": f"C-{agency.pk}-{next(_seq)}",
        "starts_on": today() - timedelta(days=30),
        "ends_on": today() + timedelta(days=335),
        "regions": ["上海"],
        "capacity": 100,
        "eligible_buckets": ["M1", "M2", "M3"],
        "placement_days": 60,
        "max_retentions": 1,
        "commission_tiers": {"M1": "0.08", "M2": "0.12", "M3": "0.18"},
        "permitted_fields": ["name", "mobile", "city", "district", "address"],
        "dsa_signed_on": today() - timedelta(days=30),
        "dsa_valid_until": today() + timedelta(days=365),
    }
    defaults.update(kw)
    return AgencyContract.objects.create(agency=agency, **defaults)


def make_user(*, role: str, agency: Agency | None = None, username: str | None = None,
              password: str = "pw-test-123") -> User:
    user = User.objects.create_user(
        username=username or f"{role}-{next(_seq)}", password=password, role=role, agency=agency
    )
    return user


def make_collector(*, agency: Agency, user: User | None = None, **kw: Any) -> Collector:
    n = next(_seq)
    defaults: dict[str, Any] = {
        "collector_id": n,
        "name": f"催收员{n}",
        "city": "上海",
        "certified_until": today() + timedelta(days=200),
        "trained_until": today() + timedelta(days=200),
    }
    defaults.update(kw)
    return Collector.objects.create(agency=agency, user=user, **defaults)


def make_collector_user(*, agency: Agency) -> tuple[User, Collector]:
    user = make_user(role=Role.FIELD_COLLECTOR, agency=agency)
    return user, make_collector(agency=agency, user=user)


def make_contracted_agency(**kw: Any) -> tuple[Agency, User]:
    """An agency under contract (:func:`make_contract`) and its manager."""
    agency = make_agency(**kw)
    make_contract(agency=agency)
    return agency, make_user(role=Role.AGENCY_MANAGER, agency=agency)


@dataclass(frozen=True)
class TwoAgencies:
    """Two agencies under contract, each with its manager; A with two field collectors, B with one
    (each a (user, collector) pair)."""

    agency_a: Agency
    manager_a: User
    agency_b: Agency
    manager_b: User
    collectors_a: tuple[tuple[User, Collector], tuple[User, Collector]]
    collector_b: tuple[User, Collector]


def make_two_agencies() -> TwoAgencies:
    agency_a, manager_a = make_contracted_agency()
    agency_b, manager_b = make_contracted_agency()
    collectors_a = (make_collector_user(agency=agency_a), make_collector_user(agency=agency_a))
    return TwoAgencies(agency_a=agency_a, manager_a=manager_a, agency_b=agency_b, manager_b=manager_b,
                       collectors_a=collectors_a, collector_b=make_collector_user(agency=agency_b))


def make_bank_users() -> dict[Role, User]:
    """One user of each of the bank's roles that sees every agency."""
    roles = (Role.COLLECTIONS_MANAGER, Role.COMPLIANCE_OFFICER, Role.RISK_ANALYST, Role.AUDITOR)
    return {role: make_user(role=role) for role in roles}


NOTICE_DAYS_AGO = 30
"""How long before today :func:`place` dates the notice before outsourcing it marks sent (longer than
any pack's waiting days, and before the contacts the tests back-date)."""


def notice_sent(case: Case, *, agency: Agency, at: datetime | None = None) -> OutsourcingNotice:
    """Mark the notice before outsourcing naming ``agency`` to ``case``'s debtor sent at ``at``
    (default :data:`NOTICE_DAYS_AGO` days ago, 10:00): the one the placement queued, through the outbox
    row it made (``sent_at`` is what the rule reads), or, when none was queued (a placement made
    before, or by hand), one made now. Returns the notice."""
    when = at or in_hours(10, today() - timedelta(days=NOTICE_DAYS_AGO))
    notice = OutsourcingNotice.objects.filter(customer_id=case.customer_id, agency=agency).order_by("pk").first()
    if notice is None:
        message = OutboxMessage.objects.create(channel="sms", to=str(case.customer.mobile or "")[:40],
                                               body=f"notice {agency.name}", kind="outsourcing_notice", case=case)
        notice = OutsourcingNotice.objects.create(customer_id=case.customer_id, agency=agency, case=case,
                                                  message=message)
    OutboxMessage.objects.filter(pk=notice.message_id).update(status=OutboxMessage.Status.SENT, sent_at=when)
    return notice


def place(case: Case, *, agency: Agency, cm: User, collector: Collector | None = None,
          manager: User | None = None, notice: bool | datetime = True) -> Case:
    """``case`` placed with ``agency`` by the collections manager ``cm`` and, with a ``collector``,
    assigned to them by the agency's ``manager`` (through the services); read again.

    The notice before outsourcing that the placement queued is marked sent :data:`NOTICE_DAYS_AGO`
    days ago (``notice=True``), at ``notice`` (a time), or left pending (``False``: the agency's
    contacts are then refused, as in production until the outbox sends it)."""
    case_services.case_place(case=case, agency=agency, acting_user=cm)
    if notice is not False:
        notice_sent(case, agency=agency, at=None if notice is True else notice)
    if collector is not None:
        assert manager is not None
        case_services.case_assign(case=case, collector=collector, acting_user=manager)
    case.refresh_from_db()
    return case


def build_customer(n: int, **kw: Any) -> Customer:
    """Customer ``n`` of a book in Shanghai, not saved (``customer_id`` ``n`` unless given; the number
    ``n`` also names them and their address): for :func:`make_case` and for bulk inserts."""
    defaults: dict[str, Any] = {
        "customer_id": n, "name": f"客户{n}", "id_number": f"3101011990010{n:05d}"[:18], "mobile": f"138{n:08d}",
        "province": "上海", "city": "上海", "district": "浦东新区", "address": f"世纪大道{n}号",
    }
    defaults.update(kw)
    return Customer(**defaults)


def build_loan(loan_id: int, **kw: Any) -> Loan:
    """A 50,000 CNY consumer loan at 18 % over 12 months disbursed 300 days ago, not saved (give its
    ``customer`` or ``customer_id``)."""
    defaults: dict[str, Any] = {
        "loan_id": loan_id, "product": "消费贷", "principal_fen": 5_000_000, "annual_rate": Decimal("0.1800"),
        "term_months": 12, "method": Loan.Method.EQUAL_INSTALMENT, "disbursed_on": today() - timedelta(days=300),
    }
    defaults.update(kw)
    return Loan(**defaults)


def build_case(**kw: Any) -> Case:
    """An open M2 case (40 days past due, 1,200 CNY overdue) in Shanghai, not saved (give its ``loan``
    and ``customer``, or their ids)."""
    defaults: dict[str, Any] = {
        "opened_on": today() - timedelta(days=40),
        "dpd": 40,
        "max_dpd": 40,
        "bucket": "M2",
        "overdue_fen": 120_000,
        "outstanding_principal_fen": 3_000_000,
        "city": "上海",
        "last_cycle_on": today(),
    }
    defaults.update(kw)
    return Case(**defaults)


def make_case(**kw: Any) -> Case:
    n = next(_seq)
    city = kw.pop("city", "上海")
    customer = build_customer(n, city=city)
    customer.save(force_insert=True)
    loan = build_loan(n, customer=customer)
    loan.save(force_insert=True)
    fields: dict[str, Any] = {"loan": loan, "customer": customer, "city": city}
    fields.update(kw)  # a case of another loan or customer (made all the same)
    case = build_case(**fields)
    case.save(force_insert=True)
    return case


def ensure_default_levels() -> None:
    """The seeded authority matrix (a transactional test's flush removes migration data)."""
    seed = importlib.import_module("fieldcollect.plans.migrations.0002_default_authority_matrix")
    for role, name, rank, share, amount, months in seed.DEFAULT_LEVELS:
        AuthorityLevel.objects.get_or_create(role=role, defaults={
            "name": name, "rank": rank, "max_waiver_share": share, "max_waiver_fen": amount,
            "max_term_extension_months": months})
