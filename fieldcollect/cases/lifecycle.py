"""The case lifecycle, declared once: statuses, close reasons, the allowed transitions and the
columns that hold a case's state."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseStatus(models.TextChoices):
    NEW = "new", _("New")
    PLACED = "placed", _("Placed")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    PROMISE = "promise", _("Promise to pay")
    RESTRUCTURED = "restructured", _("Restructured")
    RECALLED = "recalled", _("Recalled")
    CLOSED = "closed", _("Closed")


class CloseReason(models.TextChoices):
    CURED = "cured", _("Cured (paid up to date)")
    PAID = "paid", _("Paid in full")
    SETTLED = "settled", _("Settled")
    WRITTEN_OFF = "written_off", _("Written off")
    LEGAL = "legal", _("Referred to legal")


S = CaseStatus
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.PLACED, S.ASSIGNED, S.IN_PROGRESS, S.RESTRUCTURED, S.CLOSED}),
    S.PLACED: frozenset({S.ASSIGNED, S.IN_PROGRESS, S.PROMISE, S.RESTRUCTURED, S.RECALLED, S.CLOSED}),
    S.ASSIGNED: frozenset({S.IN_PROGRESS, S.PROMISE, S.RESTRUCTURED, S.RECALLED, S.ASSIGNED, S.CLOSED}),
    S.IN_PROGRESS: frozenset({S.PROMISE, S.RESTRUCTURED, S.RECALLED, S.ASSIGNED, S.CLOSED}),
    S.PROMISE: frozenset({S.IN_PROGRESS, S.PROMISE, S.RESTRUCTURED, S.RECALLED, S.CLOSED}),
    S.RESTRUCTURED: frozenset({S.IN_PROGRESS, S.RECALLED, S.CLOSED}),
    S.RECALLED: frozenset({S.PLACED, S.NEW, S.CLOSED}),
    S.CLOSED: frozenset({S.NEW}),  # re-opened when the loan falls behind again
}


def can_transition(current: str, target: str) -> bool:
    return target in ALLOWED_TRANSITIONS.get(current, frozenset())


def statuses_that_may_become(target: str) -> tuple[str, ...]:
    """Every status from which a case may move to ``target`` (for statements that move many cases at
    once: the nightly sync closes only cases in one of these)."""
    return tuple(s.value for s in CaseStatus if can_transition(s.value, target))


# the fields that hold a case's state: what the lifecycle, placements and assignments change, what
# their audit rows show as old/new, what every writer of a case saves (with ``updated_at``)
CASE_STATE_FIELDS = ("status", "close_reason", "closed_on", "agency", "placed_until", "collector", "version")
CASE_STATE_COLUMNS = (*CASE_STATE_FIELDS, "updated_at")
