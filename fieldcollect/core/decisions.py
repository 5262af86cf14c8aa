"""The decision on a maker-checker request row (a contract version, a batch action): the rule of
:mod:`fieldcollect.core.maker_checker` asked for a user, its violations raised as the application's
errors (409 for the request's state, 403 for who decides), and the decision stored on the row. The
services lock the row, call :func:`check_decision` then :func:`record_decision`, and write their own
audit row in the same transaction."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from django.utils import timezone

from fieldcollect.core import maker_checker as mc
from fieldcollect.core.errors import ApplicationError, PermissionDeniedError
from fieldcollect.core.models import User


def check_decision(
    row: Any,
    *,
    decision: str,
    acting_user: User,
    checker_roles: Collection[str],
    messages: Mapping[mc.Violation, Callable[[], str]],
    code: str,
    invalid: Callable[[], ApplicationError],
) -> None:
    """Refuse ``acting_user`` taking ``decision`` on the locked request ``row`` (its ``state``, its maker
    ``made_by_id``): an unknown decision raises ``invalid()``; a violation the error with its domain's
    ``messages`` and ``code`` (the violations listed in ``extra``)."""
    try:
        found = mc.violations(
            state=row.state,
            decision=decision,
            maker_id=row.made_by_id,
            actor_id=acting_user.pk,
            actor_role=acting_user.role,
            checker_roles=checker_roles,
            actor_is_superuser=acting_user.is_superuser,
        )
    except ValueError:
        raise invalid() from None
    if not found:
        return
    message = messages[found[0]]()
    extra = {"violations": [v.value for v in found]}
    if found[0] is mc.Violation.NOT_PENDING:
        raise ApplicationError(message, code=code, extra=extra, status_code=409)
    raise PermissionDeniedError(message, code=code, extra=extra)


def record_decision(row: Any, *, decision: str, acting_user: User, note: str, note_length: int) -> str:
    """Store an allowed ``decision`` on the locked request ``row`` (its state, checker, time and note;
    a withdrawal has no checker) and return the state it had."""
    old = str(row.state)
    row.state = mc.next_state(decision).value
    row.checked_by = acting_user if decision != mc.Decision.WITHDRAW else None
    row.checked_at = timezone.now()
    row.decision_note = note.strip()[:note_length]
    row.save(update_fields=["state", "checked_by", "checked_at", "decision_note"])
    return old
