"""Contract versions: terms effective from a date after a second person's approval; the version in force
on a date decides access (permitted fields), placement and commission."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import RequestFactory

from fieldcollect.agencies import services
from fieldcollect.agencies.models import AgencyContract, AgencyContractVersion
from fieldcollect.agencies.selectors import contract_terms, version_in_force
from fieldcollect.audit.models import AuditEntry
from fieldcollect.cases import services as cs
from fieldcollect.cases.selectors import permitted_fields_of
from fieldcollect.core.errors import ApplicationError, PermissionDeniedError
from fieldcollect.core.models import Role
from fieldcollect.settlement.services import commission_rate_for
from fieldcollect.testing import factories as f
from fieldcollect.testing.clients import logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    agency = f.make_agency()
    contract = f.make_contract(agency=agency)
    return {
        "agency": agency,
        "contract": contract,
        "maker": f.make_user(role=Role.COLLECTIONS_MANAGER),
        "maker2": f.make_user(role=Role.COLLECTIONS_MANAGER),
        "checker": f.make_user(role=Role.COMPLIANCE_OFFICER),
        "auditor": f.make_user(role=Role.AUDITOR),
        "agency_mgr": f.make_user(role=Role.AGENCY_MANAGER, agency=agency),
        "other_mgr": f.make_user(role=Role.AGENCY_MANAGER, agency=f.make_agency()),
    }


def test_a_change_of_permitted_fields_takes_effect_on_its_date_not_before(world):
    w = world
    today = f.today()
    on = today + timedelta(days=5)
    fields_before = list(w["contract"].permitted_fields)
    assert "mobile" in fields_before
    v = services.contract_version_propose(
        contract=w["contract"],
        effective_from=on,
        acting_user=w["maker"],
        note="minimum necessary data",
        changes={"permitted_fields": [x for x in fields_before if x != "mobile"]},
    )
    assert v.number == 2 and v.state == "pending"
    # proposed, not approved: nothing changes, on any date
    assert "mobile" in contract_terms(agency=w["agency"], on=on).permitted_fields
    # the maker cannot approve it; nor can an agency manager or an auditor
    for who in ("maker", "agency_mgr", "auditor"):
        with pytest.raises(PermissionDeniedError):
            services.contract_version_decide(version=v, decision="approve", acting_user=w[who])
    services.contract_version_decide(version=v, decision="approve", acting_user=w["checker"], note="ok")
    assert v.state == "approved" and v.checked_by == w["checker"]
    # in force from its date, not before
    for day, has_mobile in (
        (today, True),
        (on - timedelta(days=1), True),
        (on, False),
        (on + timedelta(days=30), False),
    ):
        assert ("mobile" in contract_terms(agency=w["agency"], on=day).permitted_fields) is has_mobile, day
    # the access path of an agency user (what pages, API and exports filter on)
    user = w["agency_mgr"]
    assert "mobile" in permitted_fields_of(user, on=on - timedelta(days=1))
    assert "mobile" not in permitted_fields_of(user, on=on)
    # version 1 was made from the contract as signed, the history is kept
    assert list(w["contract"].versions.order_by("number").values_list("number", "state")) == [
        (1, "approved"),
        (2, "approved"),
    ]
    actions = set(
        AuditEntry.objects.filter(object_type="agency_contract", object_id=str(w["contract"].pk)).values_list(
            "action", flat=True
        )
    )
    assert actions == {"contract.version.propose", "contract.version.approve"}
    # a second decision on the same version is refused
    with pytest.raises(ApplicationError) as err:
        services.contract_version_decide(version=v, decision="reject", acting_user=w["maker2"])
    assert err.value.status_code == 409


def test_commission_and_capacity_follow_the_version_in_force(world):
    w = world
    today = f.today()
    on = today + timedelta(days=3)
    v = services.contract_version_propose(
        contract=w["contract"],
        effective_from=on,
        acting_user=w["maker"],
        note="new tariff",
        changes={"commission_tiers": {"M1": "0.08", "M2": "0.2", "M3": "0.18"}, "capacity": 5},
    )
    services.contract_version_decide(
        version=v, decision="approve", acting_user=w["maker2"]
    )  # another manager
    case = f.make_case(bucket="M2")
    placement = cs.case_place(case=case, agency=w["agency"], acting_user=w["maker"], starts_on=today)
    assert placement.contract_id == w["contract"].pk
    assert str(commission_rate_for(placement=placement, on=today)) == "0.12"
    assert str(commission_rate_for(placement=placement, on=on)) == "0.2"
    assert contract_terms(agency=w["agency"], on=today).capacity == 100
    assert contract_terms(agency=w["agency"], on=on).capacity == 5


def test_proposals_are_checked(world):
    w = world
    today = f.today()
    c = w["contract"]
    cases = [
        ({"permitted_fields": ["mobile", "salary"]}, today, "permitted_fields"),
        ({"eligible_buckets": ["M9"]}, today, "eligible_buckets"),
        ({"commission_tiers": {"M2": "1.5"}}, today, "commission_tiers"),
        ({"commission_tiers": {"M2": "abc"}}, today, "commission_tiers"),
        ({"penalty_terms": {"complaint": -1}}, today, "penalty_terms"),
        ({"penalty_terms": {"speeding": 100}}, today, "penalty_terms"),
        ({"capacity": 10}, today - timedelta(days=1), "effective_from"),
        ({"capacity": 10}, c.ends_on + timedelta(days=1), "effective_from"),
        ({"capacity": c.capacity}, today, "terms"),  # nothing changes
        ({"dsa_signed_on": today, "dsa_valid_until": today - timedelta(days=1)}, today, "dsa_valid_until"),
    ]
    for changes, day, field in cases:
        with pytest.raises(ApplicationError) as err:
            services.contract_version_propose(
                contract=c, effective_from=day, changes=changes, acting_user=w["maker"], note="x"
            )
        assert err.value.extra["field"] == field, changes
    with pytest.raises(ApplicationError):
        services.contract_version_propose(
            contract=c, effective_from=today, changes={"capacity": 1}, acting_user=w["maker"], note="  "
        )
    for who in ("checker", "agency_mgr", "auditor"):
        with pytest.raises(PermissionDeniedError):
            services.contract_version_propose(
                contract=c, effective_from=today, changes={"capacity": 1}, acting_user=w[who], note="x"
            )
    assert not AgencyContractVersion.objects.filter(contract=c, number__gt=1).exists()
    # withdraw: the maker only
    v = services.contract_version_propose(
        contract=c, effective_from=today, changes={"capacity": 1}, acting_user=w["maker"], note="x"
    )
    with pytest.raises(PermissionDeniedError):
        services.contract_version_decide(version=v, decision="withdraw", acting_user=w["maker2"])
    services.contract_version_decide(version=v, decision="withdraw", acting_user=w["maker"])
    assert v.state == "withdrawn" and contract_terms(agency=w["agency"], on=today).capacity == 100


def test_a_new_contract_is_in_force_only_once_approved(world):
    w = world
    today = f.today()
    agency = f.make_agency()
    c = services.contract_create(
        agency=agency,
        reference="K-1",
        starts_on=today,
        ends_on=today + timedelta(days=365),
        acting_user=w["maker"],
        terms={
            "regions": ["上海"],
            "capacity": 10,
            "eligible_buckets": ["M1"],
            "commission_tiers": {"M1": "0.1"},
            "permitted_fields": ["name", "city"],
            "dsa_valid_until": today + timedelta(days=365),
        },
    )
    assert c.status == AgencyContract.Status.DRAFT
    assert contract_terms(agency=agency, on=today) is None  # has a contract, none in force
    with pytest.raises(ApplicationError):
        services.contract_create(
            agency=agency, reference="K-1", starts_on=today, ends_on=today, acting_user=w["maker"], terms={}
        )
    v1 = c.versions.get()
    with pytest.raises(PermissionDeniedError):
        services.contract_version_decide(version=v1, decision="approve", acting_user=w["maker"])
    services.contract_version_decide(version=v1, decision="approve", acting_user=w["checker"])
    c.refresh_from_db()
    assert c.status == AgencyContract.Status.ACTIVE
    terms = contract_terms(agency=agency, on=today)
    assert terms is not None and terms.permitted_fields == ("name", "city") and terms.version_number == 1


def test_data_migration_writes_version_one(world):
    c = world["contract"]
    assert not c.versions.exists()
    mod = importlib.import_module("fieldcollect.agencies.migrations.0005_contract_versions_data")
    mod.first_versions(apps, None)
    mod.first_versions(apps, None)  # idempotent
    v = c.versions.get()
    assert (v.number, v.state, v.effective_from) == (1, "approved", c.starts_on)
    assert v.permitted_fields == c.permitted_fields and v.commission_tiers == c.commission_tiers
    assert version_in_force(contract=c, on=f.today()) == v


def test_contract_pages_maker_checker_and_isolation(world):
    w = world
    c = w["contract"]
    url = f"/agencies/contracts/{c.pk}/"
    maker, checker = logged_in(w["maker"]), logged_in(w["checker"])
    page = maker.get(url)
    assert page.status_code == 200 and 'id="propose"' in page.content.decode()
    on = (f.today() + timedelta(days=2)).isoformat()
    form = {
        "effective_from": on,
        "note": "drop the address",
        "regions": "上海",
        "eligible_buckets": ["M1", "M2", "M3"],
        "capacity": "100",
        "placement_days": "60",
        "max_retentions": "1",
        "commission_tiers": "M1=0.08\nM2=0.12\nM3=0.18",
        "permitted_fields": ["name", "mobile", "city", "district"],
        "penalty_terms": "complaint=1000",
        "sub_processors": "",
        "dsa_signed_on": "",
        "dsa_valid_until": (f.today() + timedelta(days=365)).isoformat(),
        "pia_completed_on": "",
        "pia_reference": "",
        "pia_summary": "",
    }
    bad = maker.post(f"{url}propose", {**form, "commission_tiers": "M2 0.12"})
    assert bad.status_code == 400 and "名称=值" in bad.content.decode()  # "Write commission_tiers as name=value"
    bad = maker.post(f"{url}propose", {**form, "effective_from": "2001-01-01"})
    assert bad.status_code == 400
    r = maker.post(f"{url}propose", form)
    assert r.status_code == 302
    v = c.versions.get(number=2)
    assert v.permitted_fields == ["name", "mobile", "city", "district"] and v.penalty_terms == {
        "complaint": 1000
    }
    decide = f"{url}versions/{v.pk}/decide"
    assert maker.post(decide, {"decision": "approve"}).status_code == 302  # refused with a message
    v.refresh_from_db()
    assert v.state == "pending"
    assert checker.post(decide, {"decision": "bogus"}).status_code == 400
    assert checker.post(decide, {"decision": "approve"}).status_code == 302
    v.refresh_from_db()
    assert v.state == "approved"
    # the agency's own manager reads its contract (no forms); another agency's manager gets 404
    own = logged_in(w["agency_mgr"]).get(url)
    assert own.status_code == 200 and 'id="propose"' not in own.content.decode()
    assert logged_in(w["other_mgr"]).get(url).status_code == 404
    assert logged_in(w["other_mgr"]).post(decide, {"decision": "approve"}).status_code == 404
    auditor = logged_in(w["auditor"])
    assert auditor.get(url).status_code == 200
    assert auditor.post(f"{url}propose", form).status_code == 403
    # a new contract through the page
    new = maker.post(
        f"/agencies/{w['agency'].pk}/contracts/new",
        {**form, "reference": "K-9", "starts_on": f.today().isoformat(), "ends_on": on},
    )
    assert new.status_code == 302 and AgencyContract.objects.get(reference="K-9").status == "draft"
    assert auditor.get(f"/agencies/{w['agency'].pk}/contracts/new").status_code == 403


def test_admin_is_read_only_for_contracts_and_versions(world):
    request = RequestFactory().get("/admin/")
    request.user = _superuser()
    for model in (AgencyContract, AgencyContractVersion):
        model_admin = admin.site._registry[model]
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)


def _superuser():
    u = f.make_user(role=Role.COLLECTIONS_MANAGER)
    u.is_superuser = True
    u.is_staff = True
    u.save()
    return u
