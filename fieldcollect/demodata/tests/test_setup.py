from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import authenticate

from fieldcollect.cases.models import Case, Placement
from fieldcollect.core.models import Role, User
from fieldcollect.demodata.setup import setup_demo_users_and_placements
from fieldcollect.testing import factories as f

pytestmark = pytest.mark.django_db


def test_demo_setup_users_placements_assignments():
    as_of = f.today()
    a = f.make_agency(regions=["上海"], eligible_buckets=["M2"], capacity=3)
    b = f.make_agency(regions=["上海", "北京"], eligible_buckets=["M2", "M3"], capacity=10)
    expired = f.make_agency(regions=["上海"], dsa_valid_until=as_of - timedelta(days=1))
    f.make_collector(agency=a)
    cases = [f.make_case() for _ in range(8)] + [f.make_case(city="北京", bucket="M3")] + [f.make_case(city="广州")]
    logins = setup_demo_users_and_placements(as_of=as_of)

    roles = {(role, agency_id) for _, _, role, agency_id, _ in logins}
    for r in (Role.COLLECTIONS_MANAGER, Role.COMPLIANCE_OFFICER, Role.RISK_ANALYST, Role.AUDITOR):
        assert (r, None) in roles
    for ag in (a, b, expired):
        assert (Role.AGENCY_MANAGER, ag.pk) in roles and (Role.FIELD_COLLECTOR, ag.pk) in roles
    username, password, _, _, key = logins[0]
    assert authenticate(username=username, password=password) is not None
    assert len({pw for _, pw, _, _, _ in logins}) == len(logins)
    # bank logins come with an enrolled authenticator key, agency logins without
    from fieldcollect.accounts.totp import confirmed_device

    for name, _, role, agency_id, key in logins:
        device = confirmed_device(User.objects.get(username=name))
        if agency_id is None:
            assert device is not None and device.secret == key and len(key) == 32
        else:
            assert device is None and key == ""

    placed = {c.pk: c.agency_id for c in Case.objects.filter(pk__in=[c.pk for c in cases])}
    assert sum(1 for v in placed.values() if v == a.pk) == 3  # capacity
    assert placed[cases[8].pk] == b.pk  # only b serves 北京 M3
    assert placed[cases[9].pk] is None  # nobody serves 广州
    assert expired.pk not in placed.values()  # DSA expired
    assert Placement.objects.filter(status="active").count() == 9
    # the demo collector of each agency holds cases and can see them
    from fieldcollect.cases.access import cases_visible_to

    col = User.objects.get(username=f"agency{a.pk}_collector")
    assert cases_visible_to(col).count() == 3
    # running again resets passwords and places nothing twice
    again = setup_demo_users_and_placements(as_of=as_of)
    assert {u for u, *_ in again} == {u for u, *_ in logins}
    assert Placement.objects.filter(status="active").count() == 9
