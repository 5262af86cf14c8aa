"""Who sees which case: own vs other agency, own vs other collector, every role."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fieldcollect.cases import services
from fieldcollect.cases.access import access_case_by_id, access_task_by_id, cases_visible_to
from fieldcollect.cases.tests import factories as f
from fieldcollect.core.errors import NotFoundError, PermissionDeniedError
from fieldcollect.core.models import Role

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
