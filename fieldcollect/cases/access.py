"""Who may see and do what with a case. Every view and API endpoint fetches cases through
:func:`access_case_by_id` (or scopes lists with :func:`cases_visible_to`), so none can forget the check.

Visibility
    bank roles (and superusers) see every case; an agency manager sees the cases its agency holds in
    an active, unexpired placement while the agency has a contract in force; a field collector sees
    only those cases assigned to them. Any
    other case is "not found" (404), never "forbidden", so ids of other agencies' cases leak nothing.
Capabilities
    what a role may do to a case it can see (:data:`CAPABILITIES`); a missing capability is 403.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldcollect.agencies.in_force import agency_may_hold_q, agency_may_hold_sql
from fieldcollect.cases.errors import CaseErrorCode
from fieldcollect.cases.models import Case, Task
from fieldcollect.core.denials import require_role
from fieldcollect.core.errors import CommonErrorCode, NotFoundError, PermissionDeniedError
from fieldcollect.core.models import Role, User
from fieldcollect.core.rawsql import column

# capability -> roles that have it (superusers have all)
CAPABILITIES: dict[str, frozenset[str]] = {
    "case.view": frozenset(Role.values),
    "case.place": frozenset({Role.COLLECTIONS_MANAGER}),
    "case.recall": frozenset({Role.COLLECTIONS_MANAGER}),
    "case.transition": frozenset({Role.COLLECTIONS_MANAGER}),
    "case.assign": frozenset({Role.AGENCY_MANAGER}),
    "case.contact": frozenset({Role.COLLECTIONS_MANAGER, Role.AGENCY_MANAGER, Role.FIELD_COLLECTOR}),
    "case.promise": frozenset({Role.COLLECTIONS_MANAGER, Role.AGENCY_MANAGER, Role.FIELD_COLLECTOR}),
    "case.task": frozenset({Role.COLLECTIONS_MANAGER, Role.AGENCY_MANAGER, Role.FIELD_COLLECTOR}),
    "case.note": frozenset(
        {Role.COLLECTIONS_MANAGER, Role.COMPLIANCE_OFFICER, Role.AGENCY_MANAGER, Role.FIELD_COLLECTOR}
    ),
    "payment.record": frozenset({Role.COLLECTIONS_MANAGER}),
    "agency.view": frozenset({Role.COLLECTIONS_MANAGER, Role.COMPLIANCE_OFFICER, Role.RISK_ANALYST, Role.AUDITOR}),
}
WRITE_CAPABILITIES = frozenset(c for c in CAPABILITIES if c not in {"case.view", "agency.view"})


def has_capability(user: User, capability: str) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return user.role in CAPABILITIES.get(capability, frozenset())


def require_capability(user: User, capability: str) -> None:
    require_role(has_capability(user, capability), {"capability": capability})


def collector_of(user: User) -> int | None:
    """The Collector id linked to a field-collector user (``None`` when there is none)."""
    if user.role != Role.FIELD_COLLECTOR:
        return None
    collector = getattr(user, "collector", None)
    return collector.pk if collector is not None else None


def cases_held_by(*, agency_id: int, collector_id: int | None = None, today: date | None = None) -> QuerySet[Case]:
    """The cases ``agency_id`` holds on ``today`` (an active, unexpired placement while the agency has a
    contract in force), or, with ``collector_id``, those of them assigned to that collector: what the
    agency's manager and that collector see (:func:`cases_visible_to`). Field work (appointments, route
    stops, reminders) is done only on these cases."""
    day = today or timezone.localdate()
    qs = Case.objects.filter(agency_may_hold_q(day=day), agency_id=agency_id, placed_until__gte=day)
    if collector_id is not None:
        qs = qs.filter(collector_id=collector_id)
    return qs


def cases_visible_to(user: User, *, today: date | None = None) -> QuerySet[Case]:
    """Every case ``user`` may see, as a queryset to filter further (never evaluated here)."""
    qs = Case.objects.all()
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if user.is_bank_user:
        return qs
    if user.agency_id is None:
        return qs.none()
    if user.role == Role.AGENCY_MANAGER:
        return cases_held_by(agency_id=user.agency_id, today=today)
    if user.role == Role.FIELD_COLLECTOR:
        collector_id = collector_of(user)
        if collector_id is None:
            return qs.none()
        return cases_held_by(agency_id=user.agency_id, collector_id=collector_id, today=today)
    return qs.none()


def visible_case_condition(user: User, *, alias: str, today: date | None = None) -> tuple[str, list[Any]] | None:
    """:func:`cases_visible_to` as an SQL condition on the case table aliased ``alias`` (for the few
    statements written by hand: :mod:`fieldcollect.core.rawsql`): ``(sql, params)``, ``("TRUE", [])``
    for every case, ``None`` for none. A test holds the two to the same rows for every role."""
    day = today or timezone.localdate()
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_bank_user:
        return "TRUE", []
    if user.agency_id is None or user.role not in {Role.AGENCY_MANAGER, Role.FIELD_COLLECTOR}:
        return None
    # the contracts get their own alias: a case table aliased "k" must not be shadowed in the subquery
    held, held_params = agency_may_hold_sql(agency_column=column(Case, "agency", alias), day=day,
                                            alias=f"{alias}_contract")
    sql = f'{column(Case, "agency", alias)} = %s AND {column(Case, "placed_until", alias)} >= %s AND {held}'
    params: list[Any] = [user.agency_id, day, *held_params]
    if user.role == Role.FIELD_COLLECTOR:
        collector_id = collector_of(user)
        if collector_id is None:
            return None
        sql += f' AND {column(Case, "collector", alias)} = %s'
        params.append(collector_id)
    return sql, params


CASE_RELATED = ("loan", "customer", "agency", "collector")


def access_case_by_id(case_id: int, user: User, *, for_write: bool = False,
                      capability: str | None = None, today: date | None = None,
                      related: tuple[str, ...] = CASE_RELATED) -> Case:
    """Fetch a case the user may see, or raise :class:`NotFoundError` (404).

    With ``for_write=True`` the user must also hold ``capability`` (or, when none is named, at least one
    write capability), else :class:`PermissionDeniedError` (403). The row lock and the version check
    are the service's job. ``related`` names the rows fetched with the case (``()`` when the caller
    only hands the case to a service that locks and reads it again: no customer decrypted twice).
    """
    qs = cases_visible_to(user, today=today)
    if related:
        qs = qs.select_related(*related)
    case = qs.filter(pk=case_id).first()
    if case is None:
        raise NotFoundError(_("Case not found."), code=CaseErrorCode.NOT_FOUND, extra={"case_id": case_id})
    if for_write:
        if capability is not None:
            require_capability(user, capability)
        elif not any(has_capability(user, c) for c in WRITE_CAPABILITIES):
            raise PermissionDeniedError(_("Your role is read-only."), code=CommonErrorCode.READ_ONLY)
    return case


def tasks_visible_to(user: User, *, today: date | None = None) -> QuerySet[Task]:
    """Tasks the user may see: a collections manager all; an agency manager those of its agency on
    cases it still holds; anyone else the tasks given to them on cases they can still see."""
    qs = Task.objects.all()
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if user.is_superuser or user.role == Role.COLLECTIONS_MANAGER:
        return qs
    if user.is_bank_user:
        return qs.filter(assignee=user)
    visible = cases_visible_to(user, today=today).values("pk")
    if user.role == Role.AGENCY_MANAGER and user.agency_id is not None:
        return qs.filter(agency_id=user.agency_id, case_id__in=visible)
    return qs.filter(assignee=user, case_id__in=visible)


def access_task_by_id(task_id: int, user: User, *, today: date | None = None) -> Task:
    task = tasks_visible_to(user, today=today).select_related("case").filter(pk=task_id).first()
    if task is None:
        raise NotFoundError(_("Task not found."), code=CaseErrorCode.TASK_NOT_FOUND, extra={"task_id": task_id})
    return task
