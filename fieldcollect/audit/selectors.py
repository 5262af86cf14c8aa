"""Reads of the audit log for the auditor's search page and its CSV export."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet

from fieldcollect.audit.models import AuditEntry
from fieldcollect.core.bank_time import bank_time_zone
from fieldcollect.core.models import Role, User

SEARCH_ROLES = frozenset({Role.AUDITOR, Role.COMPLIANCE_OFFICER})
PAGE_SIZE = 100
EXPORT_MAX = 100_000


def can_search_audit(user: User) -> bool:
    """The bank's auditors and compliance officers (and superusers) search and export the audit log."""
    return bool(user.is_authenticated and user.is_active and (user.is_superuser or user.role in SEARCH_ROLES))


@dataclass(frozen=True)
class AuditFilters:
    """What the auditor looks for: ``actor`` (user name, exact), ``object_type`` and ``object_id``
    (exact), ``action`` (exact, or a prefix ending with a dot: ``case.``), days ``since``..``until``
    (the bank's days, both included)."""

    actor: str = ""
    object_type: str = ""
    object_id: str = ""
    action: str = ""
    since: date | None = None
    until: date | None = None

    def as_dict(self) -> dict[str, str]:
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in self.__dict__.items() if v}


def audit_search(filters: AuditFilters) -> QuerySet[AuditEntry]:
    """Entries matching ``filters``, newest first (one indexed query each: ``at``, ``action``,
    ``(object_type, object_id)``)."""
    qs = AuditEntry.objects.all()
    if filters.actor:
        qs = qs.filter(actor_label=filters.actor)
    if filters.object_type:
        qs = qs.filter(object_type=filters.object_type)
    if filters.object_id:
        qs = qs.filter(object_id=filters.object_id)
    if filters.action:
        qs = (
            qs.filter(action__startswith=filters.action)
            if filters.action.endswith(".")
            else qs.filter(action=filters.action)
        )
    tz = bank_time_zone()
    if filters.since is not None:
        qs = qs.filter(at__gte=datetime.combine(filters.since, time(0), tzinfo=tz))
    if filters.until is not None:
        qs = qs.filter(at__lt=datetime.combine(filters.until + timedelta(days=1), time(0), tzinfo=tz))
    return qs.order_by("-at", "-id")


EXPORT_COLUMNS = ("chain", "seq", "at", "actor", "action", "object_type", "object_id", "old", "new", "hash")


def audit_rows(filters: AuditFilters, *, limit: int = EXPORT_MAX) -> Iterator[list[str]]:
    """The matching entries as CSV rows (:data:`EXPORT_COLUMNS`), at most ``limit``, read in chunks."""
    for e in audit_search(filters)[:limit].iterator(chunk_size=2_000):
        yield [
            str(e.chain),
            str(e.seq),
            e.at.astimezone(bank_time_zone()).isoformat(),
            e.actor_label,
            e.action,
            e.object_type,
            e.object_id,
            json.dumps(e.old, ensure_ascii=False, default=str) if e.old is not None else "",
            json.dumps(e.new, ensure_ascii=False, default=str) if e.new is not None else "",
            e.hash,
        ]
