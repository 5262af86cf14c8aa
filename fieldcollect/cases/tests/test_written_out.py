"""The case statements written out by hand held equal to their ORM twins: the contact's case lock
(with the visibility check in the same statement) and the city drop-down's loose index scan. (The
case list page is held in test_selectors.py, the visibility condition in test_access.py.)"""

from __future__ import annotations

from datetime import timedelta

import pytest

from fieldcollect.agencies.models import AgencyContract
from fieldcollect.cases.access import cases_visible_to
from fieldcollect.cases.models import Case
from fieldcollect.cases.selectors import distinct_cities
from fieldcollect.cases.services import _lock_case_for_contact
from fieldcollect.core.errors import NotFoundError
from fieldcollect.core.models import Role
from fieldcollect.testing import factories as f

pytestmark = pytest.mark.django_db


def _values(obj, names):
    return {n: getattr(obj, n) for n in names}


def test_contact_lock_statement_matches_the_orm(world):
    cases = [world.case_a1, world.case_a2, world.case_a_unassigned, world.case_b, world.case_new]
    users = [*world.bank.values(), world.manager_a, world.manager_b, world.collector_user_a1, world.collector_user_b,
             f.make_user(role=""), f.make_user(role=Role.FIELD_COLLECTOR, agency=world.agency_a)]
    case_names = [fld.attname for fld in Case._meta.concrete_fields]

    def compare(label):
        found = 0
        for user in users:
            visible = cases_visible_to(user).select_related("customer", "loan")
            for case in cases:
                orm = visible.filter(pk=case.pk).first()
                try:
                    locked = _lock_case_for_contact(case=case, expected_version=None, visible_to=user)
                except NotFoundError:
                    locked = None
                assert (locked is None) == (orm is None), (label, user.role, case.pk)
                if orm is None:
                    continue
                found += 1
                assert _values(locked, case_names) == _values(orm, case_names)
                assert _values(locked.customer, ["customer_id", "timezone", "mobile"]) == \
                    _values(orm.customer, ["customer_id", "timezone", "mobile"])
                assert _values(locked.loan, ["loan_id", "jurisdiction"]) == _values(orm.loan, ["loan_id", "jurisdiction"])
        return found

    assert compare("contracts in force") > 20
    AgencyContract.objects.filter(agency=world.agency_a).update(status=AgencyContract.Status.TERMINATED)
    compare("agency A's contract terminated")
    Case.objects.filter(pk=world.case_b.pk).update(placed_until=f.today() - timedelta(days=1))
    compare("agency B's placement expired")
    # without a user: any case, visible or not
    assert _lock_case_for_contact(case=world.case_new, expected_version=None).pk == world.case_new.pk


def test_city_drop_down_matches_a_distinct_query():
    for city in ("上海", "杭州", "北京", "杭州", "", "上海", "广州"):
        f.make_case(city=city)
    # in the database's own order (its collation decides, for MIN as for ORDER BY)
    orm = list(Case.objects.exclude(city="").order_by("city").values_list("city", flat=True).distinct())
    assert distinct_cities() == orm and len(orm) == 4
    assert distinct_cities(limit=2) == orm[:2]
