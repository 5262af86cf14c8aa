"""Write audit rows. Call inside the same ``transaction.atomic`` block as the change itself."""

from __future__ import annotations

from typing import Any

from django.db import models

from fieldcollect.core.models import AuditEntry, User


def audit_log(
    *,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: Any,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    actor_label: str = "",
) -> AuditEntry:
    label = actor_label or (actor.get_username() if actor is not None else "system")
    return AuditEntry.objects.create(
        actor=actor,
        actor_label=label,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        old=old,
        new=new,
    )


def snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    """JSON-safe values of ``fields`` for an audit row."""
    out: dict[str, Any] = {}
    for name in fields:
        value = getattr(instance, name)
        if isinstance(value, models.Model):
            value = value.pk
        elif value is not None and not isinstance(value, (int, float, str, bool, list, dict)):
            value = str(value)
        out[name] = value
    return out
