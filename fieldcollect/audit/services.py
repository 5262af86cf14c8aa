"""Write audit rows. Call inside the same ``transaction.atomic`` block as the change itself.

Entries are append-only and hash-chained (``audit/chain.py``): each insert, also through
``AuditEntry.objects.bulk_create``, locks the head of one of the parallel chains until the transaction
ends (on PostgreSQL another transaction takes another free chain), so keep audited transactions short. Reads of unmasked personal data and exports are audited the same way (action such
as ``pii.unmask`` or ``export.cases``, with the purpose and recipient in ``new``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import models, transaction

from fieldcollect.audit.models import AuditEntry

if TYPE_CHECKING:
    from fieldcollect.core.models import User

_M = TypeVar("_M", bound=models.Model)


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
    return AuditEntry.objects.create(actor=actor, actor_label=label, action=action, object_type=object_type,
                                     object_id=str(object_id), old=old, new=new)


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


@contextmanager
def locked_change(
    instance: _M,
    fields: list[str],
    *,
    actor: User | None,
    action: str,
    object_type: str,
    lock: Callable[[_M], _M] | None = None,
) -> Iterator[_M]:
    """The audited change of one row: in one transaction, lock the row (``lock``, default
    ``select_for_update`` by primary key), snapshot ``fields``, hand the locked row to the block, then
    write the audit row (``old`` and ``new`` snapshots); ``instance`` is refreshed afterwards. An error
    in the block rolls everything back and writes no audit row."""
    with transaction.atomic():
        if lock is not None:
            locked = lock(instance)
        else:
            locked = type(instance)._default_manager.select_for_update().get(pk=instance.pk)
        old = snapshot(locked, fields)
        yield locked
        audit_log(actor=actor, action=action, object_type=object_type, object_id=locked.pk, old=old,
                  new=snapshot(locked, fields))
    instance.refresh_from_db()
