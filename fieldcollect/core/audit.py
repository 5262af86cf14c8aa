"""Write audit rows. Call inside the same ``transaction.atomic`` block as the change itself.

Entries are append-only and hash-chained (``core/audit_chain.py``): each insert, also through
``AuditEntry.objects.bulk_create``, locks the chain head until the transaction ends, so keep audited
transactions short. Reads of unmasked personal data and exports are audited the same way (action such
as ``pii.unmask`` or ``export.cases``, with the purpose and recipient in ``new``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from django.db import models

from fieldcollect.core.audit_chain import HASHED_FIELDS, Break, VerifyResult, verify_chain
from fieldcollect.core.models import AuditChainHead, AuditEntry, User


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


def audit_verify(*, using: str = "default", chunk_size: int = 5000,
                 progress: Callable[[int], None] | None = None) -> VerifyResult:
    """Check the whole chain against the stored hashes and the recorded head; ``progress`` is
    called with the number of entries read, every ``chunk_size`` entries."""
    head_row = AuditChainHead.objects.using(using).filter(pk=1).values_list("seq", "hash").first()
    fields = ["id", "hash", *HASHED_FIELDS]
    query = AuditEntry.objects.using(using).order_by("seq").values(*fields).iterator(chunk_size=chunk_size)

    def counted(it: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for n, row in enumerate(it, 1):
            if progress is not None and n % chunk_size == 0:
                progress(n)
            yield row

    rows = counted(query)

    def find_by_hash(value: str) -> int | None:
        return AuditEntry.objects.using(using).filter(hash=value).values_list("seq", flat=True).first()

    return verify_chain(rows, head=head_row, find_by_hash=find_by_hash)


def anchors_check(anchors: list[tuple[int, str]], *, using: str = "default") -> Break | None:
    """Compare entries with ``(seq, hash)`` pairs recorded earlier outside the database: a chain that
    verifies but was recomputed from some point on differs there. The first mismatch, else ``None``."""
    for seq, digest in sorted(anchors):
        row = AuditEntry.objects.using(using).filter(seq=seq).values_list("id", "hash").first()
        if row is None:
            return Break("deleted", seq, None, f"anchored entry seq {seq} is missing")
        if row[1] != digest:
            return Break("modified", seq, row[0], f"entry seq {seq} differs from the anchor recorded earlier "
                                                  "(the chain was recomputed from here or before)")
    return None
