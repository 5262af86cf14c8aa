"""Who sees which case: own vs other agency, own vs other collector, every role."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fieldcollect.cases import services
from fieldcollect.cases.access import access_case_by_id, access_task_by_id, cases_visible_to
from fieldcollect.core.errors import NotFoundError, PermissionDeniedError
from fieldcollect.core.models import Role
from fieldcollect.testing import factories as f

pytestmark = pytest.mark.django_db


def visible_ids(user, **kw):
    return set(cases_visible_to(user, **kw).values_list("pk", flat=True))


@pytest.mark.parametrize("role", [Role.COLLECTIONS_MANAGER, Role.COMPLIANCE_OFFICER, Role.RISK_ANALYST, Role.AUDITOR])
def test_bank_roles_see_every_case(world, role):
    user = world.bank[role]
    everything = {world.case_a1.pk, world.case_a2.pk, world.case_a_unassigned.pk, world.case_b.pk, world.case_new.pk}
    assert visible_ids(user) == everything
    assert access_case_by_id(world.case_b.pk, user).pk == world.case_b.pk


@pytest.mark.parametrize("role", [Role.RISK_ANALYST, Role.AUDITOR])
def test_read_only_bank_roles_cannot_write(world, role):
    with pytest.raises(PermissionDeniedError):
        access_case_by_id(world.case_a1.pk, world.bank[role], for_write=True)


def test_agency_manager_sees_only_own_agency_placements(world):
    assert visible_ids(world.manager_a) == {world.case_a1.pk, world.case_a2.pk, world.case_a_unassigned.pk}
    assert visible_ids(world.manager_b) == {world.case_b.pk}
    assert access_case_by_id(world.case_a2.pk, world.manager_a, for_write=True).pk == world.case_a2.pk
    for case in (world.case_b, world.case_new):
        with pytest.raises(NotFoundError) as exc:
            access_case_by_id(case.pk, world.manager_a)
        assert exc.value.status_code == 404 and exc.value.code == "case.not_found"


def test_collector_sees_only_own_assigned_cases(world):
    assert visible_ids(world.collector_user_a1) == {world.case_a1.pk}
    assert visible_ids(world.collector_user_a2) == {world.case_a2.pk}
    assert visible_ids(world.collector_user_b) == {world.case_b.pk}
    for case in (world.case_a2, world.case_a_unassigned, world.case_b, world.case_new):
        with pytest.raises(NotFoundError):
            access_case_by_id(case.pk, world.collector_user_a1)


def test_recall_and_expiry_remove_access_at_once(world):
    services.case_recall(case=world.case_a1, reason="test", acting_user=world.bank[Role.COLLECTIONS_MANAGER])
    with pytest.raises(NotFoundError):
        access_case_by_id(world.case_a1.pk, world.manager_a)
    with pytest.raises(NotFoundError):
        access_case_by_id(world.case_a1.pk, world.collector_user_a1)
    later = f.today() + timedelta(days=61)
    assert visible_ids(world.manager_a, today=later) == set()
    assert visible_ids(world.collector_user_a2, today=later) == set()


def test_reassignment_moves_visibility(world):
    services.case_assign(case=world.case_a1, collector=world.collector_a2, acting_user=world.manager_a)
    assert world.case_a1.pk not in visible_ids(world.collector_user_a1)
    assert world.case_a1.pk in visible_ids(world.collector_user_a2)


def test_users_without_role_or_agency_see_nothing(world):
    assert visible_ids(f.make_user(role="")) == set()
    assert visible_ids(f.make_user(role=Role.AGENCY_MANAGER, agency=None)) == set()
    # a collector user not linked to a Collector row
    assert visible_ids(f.make_user(role=Role.FIELD_COLLECTOR, agency=world.agency_a)) == set()


def test_collector_cannot_assign(world):
    case = access_case_by_id(world.case_a1.pk, world.collector_user_a1)
    with pytest.raises(PermissionDeniedError):
        services.case_assign(case=case, collector=world.collector_a1, acting_user=world.collector_user_a1)


def test_tasks_follow_case_visibility(world):
    t_a = services.task_create(case=world.case_a1, acting_user=world.collector_user_a1, title="a", due_on=f.today())
    t_b = services.task_create(case=world.case_b, acting_user=world.collector_user_b, title="b", due_on=f.today())
    assert access_task_by_id(t_a.pk, world.collector_user_a1).pk == t_a.pk
    assert access_task_by_id(t_a.pk, world.manager_a).pk == t_a.pk
    assert access_task_by_id(t_b.pk, world.bank[Role.COLLECTIONS_MANAGER]).pk == t_b.pk
    for user in (world.collector_user_a2, world.manager_a, world.collector_user_b):
        with pytest.raises(NotFoundError):
            access_task_by_id(t_a.pk if user != world.manager_a else t_b.pk, user)


def raw_visible_ids(user, **kw):
    """The cases the hand-written SQL condition (visible_case_condition) lets through."""
    from django.db import connection

    from fieldcollect.cases.access import visible_case_condition

    cond = visible_case_condition(user, alias="c", **kw)
    if cond is None:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT c."id" FROM "cases_case" c WHERE {cond[0]}', cond[1])
        return {row[0] for row in cursor.fetchall()}


def test_hand_written_visibility_condition_matches_the_queryset(world):
    """The SQL condition the contact lock uses selects exactly the rows of cases_visible_to, for every
    role, on days inside and outside placements and contracts, with contracts ended and with none."""
    from fieldcollect.agencies.models import AgencyContract

    no_contract = f.make_agency()  # an agency with its terms on the agency itself: no contract rows
    manager_nc = f.make_user(role=Role.AGENCY_MANAGER, agency=no_contract)
    cm = world.bank[Role.COLLECTIONS_MANAGER]
    services.case_place(case=f.make_case(), agency=no_contract, acting_user=cm, check_capacity=False)
    users = [*world.bank.values(), world.manager_a, world.manager_b, world.collector_user_a1,
             world.collector_user_a2, world.collector_user_b, manager_nc, f.make_user(role=""),
             f.make_user(role=Role.AGENCY_MANAGER, agency=None),
             f.make_user(role=Role.FIELD_COLLECTOR, agency=world.agency_a)]
    inactive = f.make_user(role=Role.AGENCY_MANAGER, agency=world.agency_a)
    inactive.is_active = False
    users.append(inactive)
    days = [f.today() + timedelta(days=d) for d in (-400, -1, 0, 30, 61, 400)]

    def compare(label):
        for user in users:
            for day in days:
                assert raw_visible_ids(user, today=day) == visible_ids(user, today=day), (label, user.role, day)

    compare("contracts in force")
    assert visible_ids(world.manager_a) and visible_ids(manager_nc)  # the comparison is not between empty sets
    AgencyContract.objects.filter(agency=world.agency_a).update(status=AgencyContract.Status.TERMINATED)
    compare("agency A's contract terminated")
    assert not visible_ids(world.manager_a)
