from __future__ import annotations

from datetime import timedelta

import pytest

from fieldcollect.audit.models import AuditEntry
from fieldcollect.cases import services
from fieldcollect.cases.errors import CaseErrorCode as E
from fieldcollect.cases.lifecycle import CaseStatus as S
from fieldcollect.cases.models import Assignment, ContactAttempt, Placement, PromiseToPay, Task
from fieldcollect.core.errors import ApplicationError, ConflictError, PermissionDeniedError
from fieldcollect.core.models import Role
from fieldcollect.testing import factories as f

pytestmark = pytest.mark.django_db


def audit_actions(case_id):
    return list(AuditEntry.objects.filter(object_type="case", object_id=str(case_id)).values_list("action", flat=True))


def test_place_sets_agency_period_status_and_audits(world):
    case = f.make_case()
    cm = world.bank[Role.COLLECTIONS_MANAGER]
    p = services.case_place(case=case, agency=world.agency_a, acting_user=cm)
    case.refresh_from_db()
    assert case.status == S.PLACED
    assert case.agency_id == world.agency_a.pk
    assert case.placed_until == p.ends_on == f.today() + timedelta(days=60)
    assert case.version == 2
    assert p.contract is not None and p.bucket_at_placement == "M2"
    entry = AuditEntry.objects.get(object_type="case", object_id=str(case.pk), action="case.place")
    assert entry.actor == cm and entry.old is not None and entry.new is not None
    assert entry.old["status"] == "new" and entry.new["status"] == "placed"


@pytest.mark.parametrize(
    ("case_kw", "contract_kw", "code"),
    [
        ({"bucket": "M5"}, {}, E.BUCKET_NOT_ELIGIBLE),
        ({"city": "北京"}, {}, E.REGION_NOT_SERVED),
        ({}, {"dsa_valid_until": f.today() - timedelta(days=1)}, E.DSA_EXPIRED),
        ({}, {"ends_on": f.today() - timedelta(days=1)}, E.NO_CONTRACT),
    ],
)
def test_place_refuses_outside_the_contract(world, case_kw, contract_kw, code):
    agency = f.make_agency()
    f.make_contract(agency=agency, **contract_kw)
    case = f.make_case(**case_kw)
    with pytest.raises(ApplicationError) as exc:
        services.case_place(case=case, agency=agency, acting_user=world.bank[Role.COLLECTIONS_MANAGER])
    assert exc.value.code == code
    case.refresh_from_db()
    assert case.status == S.NEW and case.agency_id is None and not Placement.objects.filter(case=case).exists()


def test_place_respects_capacity(world):
    agency = f.make_agency()
    f.make_contract(agency=agency, capacity=1)
    cm = world.bank[Role.COLLECTIONS_MANAGER]
    services.case_place(case=f.make_case(), agency=agency, acting_user=cm)
    with pytest.raises(ApplicationError) as exc:
        services.case_place(case=f.make_case(), agency=agency, acting_user=cm)
    assert exc.value.code == E.CAPACITY_FULL


def test_place_twice_is_refused(world):
    with pytest.raises(ApplicationError) as exc:
        services.case_place(case=world.case_a1, agency=world.agency_b, acting_user=world.bank[Role.COLLECTIONS_MANAGER])
    assert exc.value.code == E.ALREADY_PLACED


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.RISK_ANALYST, Role.COMPLIANCE_OFFICER, Role.AGENCY_MANAGER])
def test_only_collections_manager_places(world, role):
    user = world.manager_a if role == Role.AGENCY_MANAGER else world.bank[role]
    with pytest.raises(PermissionDeniedError):
        services.case_place(case=world.case_new, agency=world.agency_a, acting_user=user)


def test_assign_and_reassign(world):
    case = world.case_a_unassigned
    a = services.case_assign(case=case, collector=world.collector_a1, acting_user=world.manager_a)
    case.refresh_from_db()
    assert case.status == S.ASSIGNED and case.collector_id == world.collector_a1.pk
    services.case_assign(case=case, collector=world.collector_a2, acting_user=world.manager_a)
    case.refresh_from_db()
    a.refresh_from_db()
    assert case.collector_id == world.collector_a2.pk
    assert a.ended_at is not None
    assert Assignment.objects.filter(case=case, ended_at__isnull=True).count() == 1


def test_assign_refuses_other_agency_collector_and_unqualified(world):
    with pytest.raises(ApplicationError) as exc:
        services.case_assign(case=world.case_a_unassigned, collector=world.collector_b, acting_user=world.manager_a)
    assert exc.value.code == E.COLLECTOR_OTHER_AGENCY
    with pytest.raises(ApplicationError) as exc:
        services.case_assign(case=world.case_b, collector=world.collector_b, acting_user=world.manager_a)
    assert exc.value.code == E.COLLECTOR_OTHER_AGENCY
    expired = f.make_collector(agency=world.agency_a, certified_until=f.today() - timedelta(days=1))
    with pytest.raises(ApplicationError) as exc:
        services.case_assign(case=world.case_a_unassigned, collector=expired, acting_user=world.manager_a)
    assert exc.value.code == E.COLLECTOR_NOT_QUALIFIED


def test_assign_unplaced_case_refused(world):
    with pytest.raises(ApplicationError) as exc:
        services.case_assign(case=world.case_new, collector=world.collector_a1, acting_user=world.manager_a)
    assert exc.value.code == E.NOT_PLACED


def test_contact_moves_to_in_progress_and_records_agency_and_collector(world):
    case = world.case_a1
    c = services.contact_record(case=case, acting_user=world.collector_user_a1, channel="visit",
                                outcome="not_home", number="上海市浦东新区", notes="门口无人", at=f.in_hours(),
                                collectors=2, recording=True, appointment_confirmed=True)
    case.refresh_from_db()
    assert case.status == S.IN_PROGRESS
    assert c.agency_id == world.agency_a.pk and c.collector_id == world.collector_a1.pk
    assert "case.contact" in audit_actions(case.pk)


def test_contact_rejects_unknown_outcome(world):
    with pytest.raises(ApplicationError) as exc:
        services.contact_record(case=world.case_a1, acting_user=world.collector_user_a1, channel="phone",
                                outcome="bribed")
    assert exc.value.code == "contact.invalid_outcome"
    assert not ContactAttempt.objects.exists()


def test_promise_creates_promise_task_and_cancels_previous(world):
    case = world.case_a1
    user = world.collector_user_a1
    first = services.promise_record(case=case, acting_user=user, amount_fen=50_000,
                                    due_on=f.today() + timedelta(days=5))
    second = services.promise_record(case=case, acting_user=user, amount_fen=80_000,
                                     due_on=f.today() + timedelta(days=7))
    case.refresh_from_db()
    first.refresh_from_db()
    assert case.status == S.PROMISE
    assert first.status == PromiseToPay.Status.CANCELLED and second.status == PromiseToPay.Status.OPEN
    assert Task.objects.filter(case=case, kind=Task.Kind.CHECK_PROMISE, assignee=user).count() == 2


@pytest.mark.parametrize(("amount", "days", "code"), [(0, 3, E.INVALID_AMOUNT), (100, -1, E.INVALID_DATE)])
def test_promise_validation(world, amount, days, code):
    with pytest.raises(ApplicationError) as exc:
        services.promise_record(case=world.case_a1, acting_user=world.collector_user_a1, amount_fen=amount,
                                due_on=f.today() + timedelta(days=days))
    assert exc.value.code == code


def test_promise_kept_and_broken_from_payments(world):
    kept_case, broken_case = world.case_a1, world.case_a2
    services.promise_record(case=kept_case, acting_user=world.collector_user_a1, amount_fen=50_000,
                            due_on=f.today() + timedelta(days=3))
    services.promise_record(case=broken_case, acting_user=world.collector_user_a2, amount_fen=50_000,
                            due_on=f.today() + timedelta(days=3))
    services.payment_record(case=kept_case, amount_fen=50_000, paid_on=f.today() + timedelta(days=2),
                            acting_user=world.bank[Role.COLLECTIONS_MANAGER])
    services.payment_record(case=broken_case, amount_fen=10_000, paid_on=f.today() + timedelta(days=2),
                            acting_user=None)
    counts = services.promises_evaluate(as_of=f.today() + timedelta(days=4))
    assert counts == {"kept": 1, "broken": 1}
    broken_case.refresh_from_db()
    kept_case.refresh_from_db()
    assert broken_case.status == S.IN_PROGRESS
    assert kept_case.status == S.PROMISE
    assert kept_case.payments.get().placement.agency_id == world.agency_a.pk


def test_version_conflict_is_409_and_changes_nothing(world):
    case = world.case_a1
    stale = case.version
    services.contact_record(case=case, acting_user=world.collector_user_a1, channel="phone", outcome="no_answer",
                            expected_version=stale, at=f.in_hours())
    with pytest.raises(ConflictError) as exc:
        services.promise_record(case=case, acting_user=world.manager_a, amount_fen=1000,
                                due_on=f.today() + timedelta(days=1), expected_version=stale)
    assert exc.value.status_code == 409 and exc.value.code == E.CONFLICT
    assert exc.value.extra["current_version"] == stale + 1
    assert not PromiseToPay.objects.filter(case=case).exists()


def test_recall_removes_agency_access_and_ends_assignment(world):
    case = world.case_a1
    p = services.case_recall(case=case, reason="投诉", acting_user=world.bank[Role.COLLECTIONS_MANAGER])
    case.refresh_from_db()
    assert p.status == Placement.Status.RECALLED and p.recall_reason == "投诉"
    assert case.status == S.RECALLED and case.agency_id is None and case.collector_id is None
    assert not Assignment.objects.filter(case=case, ended_at__isnull=True).exists()
    # recalled cases can be placed again
    services.case_place(case=case, agency=world.agency_b, acting_user=world.bank[Role.COLLECTIONS_MANAGER])
    case.refresh_from_db()
    assert case.status == S.PLACED and case.agency_id == world.agency_b.pk


def test_retain_extends_once(world):
    case = world.case_a1
    cm = world.bank[Role.COLLECTIONS_MANAGER]
    before = case.placed_until
    services.placement_retain(case=case, acting_user=cm, days=30)
    case.refresh_from_db()
    assert case.placed_until == before + timedelta(days=30)
    with pytest.raises(ApplicationError) as exc:
        services.placement_retain(case=case, acting_user=cm)
    assert exc.value.code == E.RETENTION_LIMIT


def test_expired_placements_are_recalled(world):
    n = services.placements_expire(as_of=f.today() + timedelta(days=61))
    assert n == 4
    assert not Placement.objects.filter(status=Placement.Status.ACTIVE).exists()


def test_close_requires_reason_and_blocks_further_work(world):
    cm = world.bank[Role.COLLECTIONS_MANAGER]
    case = world.case_a1
    with pytest.raises(ApplicationError) as exc:
        services.case_transition(case=case, target=S.CLOSED, acting_user=cm)
    assert exc.value.code == E.INVALID_CLOSE_REASON
    services.case_transition(case=case, target=S.CLOSED, close_reason="settled", acting_user=cm)
    case.refresh_from_db()
    assert case.status == S.CLOSED and case.closed_on == f.today() and case.agency_id is None
    with pytest.raises(ApplicationError) as exc:
        services.contact_record(case=case, acting_user=cm, channel="phone", outcome="no_answer")
    assert exc.value.code == E.CLOSED


def test_invalid_transition_refused(world):
    cm = world.bank[Role.COLLECTIONS_MANAGER]
    with pytest.raises(ApplicationError) as exc:
        services.case_transition(case=world.case_new, target=S.PROMISE, acting_user=cm)
    assert exc.value.code == E.INVALID_TRANSITION
    world.case_new.refresh_from_db()
    assert world.case_new.status == S.NEW


def test_task_complete_once(world):
    task = services.task_create(case=world.case_a1, acting_user=world.collector_user_a1, title="回访",
                                due_on=f.today())
    services.task_complete(task=task, acting_user=world.collector_user_a1, result="已回访")
    task.refresh_from_db()
    assert task.status == Task.Status.DONE and task.completed_by == world.collector_user_a1
    with pytest.raises(ConflictError):
        services.task_complete(task=task, acting_user=world.collector_user_a1)


def test_auditor_cannot_write_notes_but_compliance_can(world):
    with pytest.raises(PermissionDeniedError):
        services.note_add(case=world.case_a1, acting_user=world.bank[Role.AUDITOR], body="x")
    n = services.note_add(case=world.case_a1, acting_user=world.bank[Role.COMPLIANCE_OFFICER], body="已核查")
    assert n.body == "已核查"


def test_after_nightly_ends_placements_of_closed_cases_and_expires(world):
    from fieldcollect.cases.models import Case

    # the nightly cycle closes a case with raw SQL, leaving its placement behind
    Case.objects.filter(pk=world.case_a1.pk).update(status="closed", closed_on=f.today(), close_reason="cured")
    counts = services.cases_after_nightly(as_of=f.today())
    assert counts["placements_ended_closed"] == 1 and counts["placements_expired"] == 0
    world.case_a1.refresh_from_db()
    assert world.case_a1.agency_id is None and world.case_a1.collector_id is None
    assert Placement.objects.get(case=world.case_a1).status == Placement.Status.ENDED
    from fieldcollect.audit.models import AuditEntry

    # no field work to end: the audit rows of the one-case path all the same
    end = AuditEntry.objects.get(action="fieldwork.end", object_id=str(world.case_a1.pk))
    assert end.new["appointments_cancelled"] == [] and end.new["reason"] == "case_closed"
    closed = AuditEntry.objects.get(action="placement.end_closed", object_id=str(world.case_a1.pk))
    assert closed.old["collector"] is not None and closed.new["collector"] is None
    assert services.cases_after_nightly(as_of=f.today())["placements_ended_closed"] == 0
    counts = services.cases_after_nightly(as_of=f.today() + timedelta(days=61))
    assert counts["placements_expired"] == 3
