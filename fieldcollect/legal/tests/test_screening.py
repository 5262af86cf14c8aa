"""The placement screen in the allocation and in case management: deceased, bankrupt, disputed and
complaint-paused debtors and debtors under a legal referral are not placed; the run says why. Hard
negatives: a lifted flag, a resolved complaint, a closed referral, a flag that starts later, a flag
that does not screen (cease) and another customer's flag do not screen."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from fieldcollect.allocation import services as allocation
from fieldcollect.allocation.models import AllocationDecision, AllocationScreened
from fieldcollect.cases import services as cs
from fieldcollect.cases.errors import CaseErrorCode
from fieldcollect.cases.models import Case, Placement
from fieldcollect.complaints import services as complaints
from fieldcollect.complaints.models import Source
from fieldcollect.compliance import services as compliance
from fieldcollect.core.errors import ApplicationError
from fieldcollect.core.models import Role
from fieldcollect.legal import services as legal
from fieldcollect.legal.screening import ScreenReason, screen_cases
from fieldcollect.testing import factories as f
from fieldcollect.testing.clients import logged_in

pytestmark = pytest.mark.django_db
FAR = {"starts_on": date(2020, 1, 1), "ends_on": date(2099, 1, 1), "dsa_valid_until": date(2099, 1, 1)}


def _flag(case: Case, flag: str, **kw):
    return compliance.flag_add(
        customer=case.customer,
        flag=flag,
        reason="test",
        acting_user=None,
        starts_at=kw.pop("starts_at", timezone.now() - timedelta(hours=1)),
        **kw,
    )


@pytest.fixture
def book(db):
    agency = f.make_agency()
    f.make_contract(agency=agency, regions=["上海"], eligible_buckets=["M2"], capacity=100, **FAR)
    manager = f.make_user(role=Role.COLLECTIONS_MANAGER)
    officer = f.make_user(role=Role.COMPLIANCE_OFFICER)
    c = {
        name: f.make_case(bucket="M2")
        for name in (
            "plain",
            "deceased",
            "bankrupt",
            "disputed",
            "paused",
            "referred",
            "lifted",
            "resolved",
            "closed_referral",
            "later",
            "cease",
            "two",
        )
    }
    _flag(c["deceased"], "deceased")
    _flag(c["bankrupt"], "bankrupt")
    _flag(c["disputed"], "dispute")
    _flag(c["two"], "deceased")
    _flag(c["two"], "dispute")
    _, done = (
        complaints.complaint_create(source=Source.HOTLINE, customer=c[name].customer, case=c[name],
                                    category="threats", description="威胁", acting_user=officer)
        for name in ("paused", "resolved")
    )
    complaints.complaint_resolve(
        complaint=done,
        acting_user=officer,
        finding="upheld",
        root_cause="collector_conduct",
        resolution="已道歉",
    )
    legal.referral_create(
        case=c["referred"],
        kind="litigation",
        forum="上海市浦东新区人民法院",
        claim_fen=120_000,
        acting_user=manager,
    )
    closed = legal.referral_create(
        case=c["closed_referral"], kind="mediation", forum="调解中心", claim_fen=50_000, acting_user=manager
    )
    legal.referral_update(referral=closed, acting_user=manager, outcome="mediated", status="closed")
    flag = _flag(c["lifted"], "bankrupt")
    compliance.flag_lift(flag=flag, acting_user=None, reason="discharged in error")
    _flag(c["later"], "deceased", starts_at=timezone.now() + timedelta(days=2))
    _flag(c["cease"], "cease")
    return agency, manager, c


SCREENED = {
    "deceased": [ScreenReason.DECEASED],
    "bankrupt": [ScreenReason.BANKRUPT],
    "disputed": [ScreenReason.DISPUTED],
    "paused": [ScreenReason.COMPLAINT_PAUSED],
    "referred": [ScreenReason.LEGAL_REFERRAL],
    "two": [ScreenReason.DECEASED, ScreenReason.DISPUTED],
}


def test_screen_reasons_and_hard_negatives(book):
    _agency, _manager, c = book
    got = screen_cases(cases=[(x.pk, x.customer_id) for x in c.values()])
    assert got == {c[k].pk: v for k, v in SCREENED.items()}
    # the deceased flag that starts in two days screens from then on
    later = c["later"]
    assert screen_cases(cases=[(later.pk, later.customer_id)], at=timezone.now() + timedelta(days=3)) == {
        later.pk: [ScreenReason.DECEASED]
    }


def test_allocation_does_not_place_screened_debtors_and_says_why(book):
    _agency, manager, c = book
    run = allocation.allocation_run_create(as_of=f.today(), acting_user=manager)
    placed = set(AllocationDecision.objects.filter(run=run).values_list("case_id", flat=True))
    screened = {s.case_id: s.reasons for s in AllocationScreened.objects.filter(run=run)}
    assert screened == {c[k].pk: v for k, v in SCREENED.items() if k != "referred"} | {
        c["referred"].pk: [ScreenReason.LEGAL_REFERRAL]
    }
    assert run.n_screened == len(SCREENED)
    assert not placed & set(screened)
    # every case the screen lets through is placed (capacity is ample)
    free = {"plain", "lifted", "resolved", "closed_referral", "later", "cease"}
    assert {c[k].pk for k in free} <= placed
    # the explanation on the run page, in words
    client = logged_in(manager)
    client.cookies["django_language"] = "en"
    page = client.get(f"/allocation/{run.pk}/").content.decode()
    assert 'id="screened"' in page and "Under a legal referral" in page and "Deceased" in page
    # applying places none of them, even if the debtor was flagged after the run
    _flag(c["plain"], "deceased")
    allocation.allocation_run_apply(run=run, acting_user=manager)
    assert not Placement.objects.filter(case=c["plain"], status="active").exists()
    assert Placement.objects.filter(case=c["cease"], status="active").exists()


def test_single_placement_refused_with_the_reason(book):
    agency, manager, c = book
    with pytest.raises(ApplicationError) as exc:
        cs.case_place(case=c["bankrupt"], agency=agency, acting_user=manager)
    assert exc.value.code == CaseErrorCode.PLACEMENT_SCREENED
    assert exc.value.extra["reasons"] == ["bankrupt"]
    assert not Placement.objects.filter(case=c["bankrupt"]).exists()
    assert cs.case_place(case=c["lifted"], agency=agency, acting_user=manager).status == "active"
