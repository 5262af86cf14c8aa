"""Customer-level placement: all open cases of one customer go to one agency — in the allocation run
(one assignment unit, capacity per case, existing placement honoured, explained in both languages) and
in manual placement (refused unless a bank user overrides with a reason, audited)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import count

import pytest
from django.conf import settings
from django.utils import translation

from fieldcollect.agencies.models import Agency
from fieldcollect.allocation import services
from fieldcollect.allocation.models import AllocationDecision, AllocationHeld, HeldReason
from fieldcollect.audit.models import AuditEntry
from fieldcollect.cases import services as cs
from fieldcollect.cases.errors import CaseErrorCode
from fieldcollect.cases.models import Case, Placement
from fieldcollect.core.errors import ApplicationError
from fieldcollect.core.models import Role, User
from fieldcollect.portfolio.models import Customer, Loan
from fieldcollect.testing import factories as f
from fieldcollect.testing.clients import logged_in

pytestmark = pytest.mark.django_db
FAR = {"starts_on": date(2020, 1, 1), "ends_on": date(2099, 1, 1), "dsa_valid_until": date(2099, 1, 1)}
_loan_ids = count(900_000)


def another_loan(customer: Customer, **kw: object) -> Case:
    """A further open loan (case) of ``customer``."""
    loan = Loan.objects.create(
        loan_id=next(_loan_ids), customer=customer, product="消费贷", principal_fen=5_000_000,
        annual_rate=Decimal("0.1800"), term_months=12, method=Loan.Method.EQUAL_INSTALMENT,
        disbursed_on=f.today().replace(year=f.today().year - 1),
    )
    return f.make_case(loan=loan, customer=customer, **kw)


def same_name_and_phone(twin: Case, like: Case) -> None:
    """Give ``twin``'s customer (another customer id) the name and mobile of ``like``'s customer."""
    source = Customer.objects.get(pk=like.customer_id)
    target = Customer.objects.get(pk=twin.customer_id)
    target.name, target.mobile = source.name, source.mobile
    target.save()
    assert target.pk != source.pk


@dataclass
class Two:
    a: Agency  # cheaper commission (better value per case), room for 2
    b: Agency  # room for 10
    manager: User


@pytest.fixture
def two(db: None) -> Two:
    a = f.make_agency()
    b = f.make_agency()
    f.make_contract(agency=a, regions=["上海"], eligible_buckets=["M2"], capacity=2,
                    commission_tiers={"M2": "0.10"}, **FAR)
    f.make_contract(agency=b, regions=["上海"], eligible_buckets=["M2"], capacity=10,
                    commission_tiers={"M2": "0.20"}, **FAR)
    return Two(a=a, b=b, manager=f.make_user(role=Role.COLLECTIONS_MANAGER))


def decisions(run) -> dict[int, AllocationDecision]:
    return {d.case_id: d for d in AllocationDecision.objects.filter(run=run)}


def test_a_customers_three_loans_go_to_one_agency_and_capacity_counts_each(two):
    first = f.make_case(bucket="M2", overdue_fen=500_000)
    loans = [first, another_loan(first.customer, bucket="M2", overdue_fen=400_000),
             another_loan(first.customer, bucket="M2", overdue_fen=300_000)]
    run = services.allocation_run_create(as_of=f.today(), acting_user=two.manager)
    by_case = decisions(run)
    # A is worth more per case but holds two: the customer's three loans all go to B, none split
    assert {by_case[c.pk].agency_id for c in loans} == {two.b.pk}
    assert [by_case[c.pk].customer_cases for c in loans] == [3, 3, 3]
    assert by_case[first.pk].customer_value_fen == sum(by_case[c.pk].value_fen for c in loans)
    assert run.certified_optimal and run.n_placed == 3
    # two single-loan customers fit A exactly: capacity counts cases, not customers
    solo = [f.make_case(bucket="M2", overdue_fen=200_000) for _ in range(2)]
    run2 = services.allocation_run_create(as_of=f.today(), acting_user=two.manager)
    by_case2 = decisions(run2)
    assert {by_case2[c.pk].agency_id for c in solo} == {two.a.pk}
    assert {by_case2[c.pk].agency_id for c in loans} == {two.b.pk}
    services.allocation_run_apply(run=run2, acting_user=two.manager)
    assert set(Case.objects.filter(customer=first.customer).values_list("agency_id", flat=True)) == {two.b.pk}


def test_existing_placement_is_honoured_and_explained(two):
    held = f.make_case(bucket="M2")
    cs.case_place(case=held, agency=two.b, acting_user=two.manager)
    new = another_loan(held.customer, bucket="M2", overdue_fen=500_000)
    run = services.allocation_run_create(as_of=f.today(), acting_user=two.manager)
    d = decisions(run)[new.pk]
    assert d.agency_id == two.b.pk and d.follows_customer  # A has room and is worth more: still B
    # hard negative: another customer with the same name and mobile is not grouped (customer id decides)
    twin = f.make_case(bucket="M2", overdue_fen=500_000)
    same_name_and_phone(twin, held)
    run2 = services.allocation_run_create(as_of=f.today(), acting_user=two.manager)
    d2 = decisions(run2)
    assert d2[twin.pk].agency_id == two.a.pk and not d2[twin.pk].follows_customer
    assert d2[twin.pk].customer_cases == 1

    c = logged_in(two.manager)
    for lang, needle in (("en", "Customer-level placement: the customer's other open cases are with this agency"),
                         ("zh-hans", "客户级委案：该客户的其他未结案件在此机构")):
        c.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
        with translation.override(lang):
            body = c.get(f"/allocation/{run.pk}/").content.decode()
        assert needle in body.replace("&#x27;", "'"), lang


def test_the_customers_agency_cannot_take_the_case_the_run_says_why(two):
    held = f.make_case(bucket="M2")
    cs.case_place(case=held, agency=two.b, acting_user=two.manager)
    f.make_contract(agency=two.a, regions=["上海"], eligible_buckets=["M2", "M3"], capacity=2,
                    commission_tiers={"M2": "0.10"}, starts_on=f.today(), ends_on=date(2099, 1, 1),
                    dsa_valid_until=date(2099, 1, 1))
    new = another_loan(held.customer, bucket="M3")  # B does not take M3; A does, but the customer is B's
    run = services.allocation_run_create(as_of=f.today(), acting_user=two.manager)
    assert new.pk not in decisions(run)
    h = AllocationHeld.objects.get(run=run, case=new)
    assert (h.reason, h.customer_agency_id, run.n_held) == (HeldReason.CUSTOMER_AGENCY_UNAVAILABLE, two.b.pk, 1)
    c = logged_in(two.manager)
    body = c.get(f"/allocation/{run.pk}/").content.decode()
    assert 'id="held"' in body and f'href="/cases/{new.pk}/"' in body


def test_manual_placement_refuses_a_second_agency_unless_overridden_with_a_reason(two):
    first = f.make_case(bucket="M2")
    cs.case_place(case=first, agency=two.a, acting_user=two.manager)
    second = another_loan(first.customer, bucket="M2")
    with pytest.raises(ApplicationError) as e:
        cs.case_place(case=second, agency=two.b, acting_user=two.manager)
    assert e.value.code == CaseErrorCode.CUSTOMER_WITH_OTHER_AGENCY and e.value.extra["agencies"] == [two.a.pk]
    for reason in ("", "   "):  # an override without a reason is refused
        with pytest.raises(ApplicationError) as e:
            cs.case_place(case=second, agency=two.b, acting_user=two.manager, override_reason=reason)
        assert e.value.code == CaseErrorCode.OVERRIDE_REASON_REQUIRED
    with pytest.raises(ApplicationError) as e:  # the system cannot override
        cs.case_place(case=second, agency=two.b, acting_user=None, override_reason="nightly")
    assert e.value.code == CaseErrorCode.OVERRIDE_NOT_ALLOWED
    assert not Placement.objects.filter(case=second).exists()
    assert not AuditEntry.objects.filter(action="case.place_customer_override").exists()

    cs.case_place(case=second, agency=two.b, acting_user=two.manager, override_reason="A lacks a licence for this product")
    second.refresh_from_db()
    assert second.agency_id == two.b.pk
    entry = AuditEntry.objects.get(action="case.place_customer_override", object_id=str(second.pk))
    assert entry.actor_id == two.manager.pk
    assert entry.new["reason"] == "A lacks a licence for this product" and entry.new["other_agencies"] == [two.a.pk]
    # the same agency needs no override; a third loan now faces two agencies
    third = another_loan(first.customer, bucket="M2")
    with pytest.raises(ApplicationError) as e:
        cs.case_place(case=third, agency=two.a, acting_user=two.manager)
    assert e.value.code == CaseErrorCode.CUSTOMER_WITH_OTHER_AGENCY and e.value.extra["agencies"] == [two.b.pk]


def test_same_agency_and_other_customers_need_no_override(two):
    first = f.make_case(bucket="M2")
    cs.case_place(case=first, agency=two.a, acting_user=two.manager)
    cs.case_place(case=another_loan(first.customer, bucket="M2"), agency=two.a, acting_user=two.manager)
    twin = f.make_case(bucket="M2")  # hard negative: same name and mobile, another customer id
    same_name_and_phone(twin, first)
    cs.case_place(case=twin, agency=two.b, acting_user=two.manager)
    assert not AuditEntry.objects.filter(action="case.place_customer_override").exists()


def test_bulk_placement_skips_a_case_whose_customer_is_elsewhere(two):
    first = f.make_case(bucket="M2")
    cs.case_place(case=first, agency=two.a, acting_user=two.manager)
    second = another_loan(first.customer, bucket="M2")
    other = f.make_case(bucket="M2")
    placed = cs.cases_place_bulk(placements=[(second, two.b), (other, two.b)], starts_on=f.today(),
                                 acting_user=two.manager)
    assert placed == 1
    assert Case.objects.get(pk=second.pk).agency_id is None and Case.objects.get(pk=other.pk).agency_id == two.b.pk


def test_place_page_override(two):
    first = f.make_case(bucket="M2")
    cs.case_place(case=first, agency=two.a, acting_user=two.manager)
    second = another_loan(first.customer, bucket="M2")
    c = logged_in(two.manager)
    url = f"/cases/{second.pk}/place"
    c.post(url, {"agency": two.b.pk, "version": second.version})
    assert Case.objects.get(pk=second.pk).agency_id is None
    c.post(url, {"agency": two.b.pk, "version": second.version, "override_customer": "1", "override_reason": ""})
    assert Case.objects.get(pk=second.pk).agency_id is None
    c.post(url, {"agency": two.b.pk, "version": second.version, "override_customer": "1",
                 "override_reason": "debtor asked for the agency near home"})
    assert Case.objects.get(pk=second.pk).agency_id == two.b.pk
    assert AuditEntry.objects.filter(action="case.place_customer_override", object_id=str(second.pk)).count() == 1


def test_a_run_without_proof_shows_its_gap_and_is_not_called_optimal(db, settings, monkeypatch):
    import functools

    from fieldcollect.optimisation import allocation as opt

    only = f.make_agency()
    f.make_contract(agency=only, regions=["上海"], eligible_buckets=["M2"], capacity=3,
                    commission_tiers={"M2": "0.10"}, **FAR)
    manager = f.make_user(role=Role.COLLECTIONS_MANAGER)
    for overdue in (600_000, 500_000):  # two customers of two loans; room for three cases: the relaxation splits
        first = f.make_case(bucket="M2", overdue_fen=overdue)
        another_loan(first.customer, bucket="M2", overdue_fen=overdue)
    seen: dict[str, object] = {}

    def repair_only(*args, **kw):  # the bounded repair alone (as on a large run), recording the time limit
        seen.update(kw)
        return opt_solve(*args, **kw, exact_max_pairs=0)

    opt_solve = opt.solve
    settings.FIELDCOLLECT_ALLOCATION_TIME_LIMIT_S = 2.5
    monkeypatch.setattr(opt, "solve", repair_only)
    run = services.allocation_run_create(as_of=f.today(), acting_user=manager)
    assert seen["time_limit_s"] == 2.5
    assert run.n_placed == 2 and not run.certified_optimal  # one whole customer, no proof
    assert run.gap_fen > 0 and run.dual_fen == run.objective_fen + run.gap_fen
    entry = AuditEntry.objects.get(action="allocation.run", object_id=str(run.pk))
    assert entry.new["gap_fen"] == run.gap_fen and entry.new["solved_by"] == "repair"
    c = logged_in(manager)
    for lang, needle in (("en", "Gap to the proven bound"), ("zh-hans", "与已证明上界的差距")):
        c.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
        with translation.override(lang):
            body = c.get(f"/allocation/{run.pk}/").content.decode()
        assert 'id="kpi-gap"' in body and needle in body, lang
    # the exact step proves the same run optimal: gap 0
    monkeypatch.setattr(opt, "solve", functools.partial(opt_solve))
    proven = services.allocation_run_create(as_of=f.today(), acting_user=manager)
    assert proven.certified_optimal and proven.gap_fen == 0 and proven.objective_fen == run.objective_fen
