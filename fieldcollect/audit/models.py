"""The audit log: append-only entries in parallel hash chains (``chain.py``), each chain's head, and
the chain append every audited write goes through (written in the transaction of the change)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any, ClassVar

from django.conf import settings
from django.db import connections, models, router, transaction
from django.utils import timezone

from fieldcollect.audit.chain import GENESIS, entry_hash
from fieldcollect.core import rawsql


class AppendOnlyError(RuntimeError):
    """Audit entries are never changed or removed."""


class AuditQuerySet(models.QuerySet["AuditEntry"]):
    """Inserts go through the hash chain; updates and deletes are refused."""

    def bulk_create(self, objs: Iterable[AuditEntry], *args: Any, **kwargs: Any) -> list[AuditEntry]:
        objs = list(objs)
        if not objs:
            return objs
        with transaction.atomic(using=self.db, savepoint=False):
            chain_append(objs, using=self.db)
            return super().bulk_create(objs, *args, **kwargs)

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("audit entries cannot be updated")

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise AppendOnlyError("audit entries cannot be updated")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit entries cannot be deleted")

    def _raw_delete(self, using: Any) -> int:
        raise AppendOnlyError("audit entries cannot be deleted")


class AuditEntry(models.Model):
    """Append-only record: who did what to which object, with old and new values.

    Entries form a hash chain (``seq``, ``prev_hash``, ``hash``; see ``audit/chain.py``);
    ``fieldcollect audit verify`` checks it. On PostgreSQL a trigger also rejects UPDATE and DELETE.
    """

    chain = models.PositiveSmallIntegerField(default=1, help_text="Which of the parallel chains (1..K)")
    seq = models.BigIntegerField(help_text="Position in its chain: 1, 2, 3, ... without gaps")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor_label = models.CharField(max_length=150, blank=True, default="")
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)  # looked up with object_type: the index below
    old = models.JSONField(null=True, blank=True)
    new = models.JSONField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditQuerySet.as_manager()

    class Meta:
        db_table = "core_auditentry"  # the table it had in ``core``: the entries moved with no copy
        ordering: ClassVar[list[str]] = ["chain", "seq"]
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["object_type", "object_id"])]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_chain_seq_unique")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("audit entries cannot be updated")
        using = kwargs.get("using") or router.db_for_write(AuditEntry)
        # every audited write comes here: an INSERT built once (core/rawsql.py), no model signals
        with transaction.atomic(using=using, savepoint=False):
            head = chain_append([self], using=using, move_head=False)
            rawsql.insert(self, using=using, along=[head])  # the head moves in the same statement

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit entries cannot be deleted")

    def chain_fields(self) -> dict[str, Any]:
        return {"chain": self.chain, "seq": self.seq, "at": self.at, "actor_id": self.actor_id, "actor_label": self.actor_label,
                "action": self.action, "object_type": self.object_type, "object_id": self.object_id,
                "old": self.old, "new": self.new, "prev_hash": self.prev_hash}


class AuditChainHead(models.Model):
    """One row per chain (pk = chain number): seq and hash of its last appended entry. An appender locks
    a head (SELECT ... FOR UPDATE) so that the entries of a chain follow one another; it also reveals
    entries cut off the end."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS)

    class Meta:
        db_table = "core_auditchainhead"  # the table it had in ``core``

    def __str__(self) -> str:
        return f"audit head {self.seq} {self.hash[:12]}"


def audit_chain_count(using: str) -> int:
    """How many parallel chains appenders use: K on PostgreSQL (``AUDIT_CHAINS``, default 8), one where
    writes are serialised anyway (SQLite)."""
    if not connections[using].features.has_select_for_update_skip_locked:
        return 1
    return max(1, int(getattr(settings, "AUDIT_CHAINS", 8)))


def _chain_start(chain: int, using: str) -> tuple[int, str]:
    last = (AuditEntry.objects.using(using).filter(chain=chain).order_by("-seq")
            .values_list("seq", "hash").first())
    return (int(last[0]), str(last[1])) if last is not None else (0, GENESIS)


class HeadSql:
    """The hand-written statements of the chain heads, with table and column names from the model's
    metadata (``audit/tests/test_chain_head_sql.py`` holds each equal to its ORM twin):

    * ``one``: the head of chain 1 (SQLite: one chain; ``lock`` adds ``FOR UPDATE`` where supported);
    * ``pick``: the first head among chains 1..K that no other transaction holds, the preferred chain
      first (params: K, preferred);
    * ``present``: the chain numbers 1..K that have a head (params: K);
    * ``wait``: the head of one chain, waiting for its lock (params: chain);
    * ``move``: the head's new seq and hash (params: seq, hash, chain).
    """

    def __init__(self) -> None:
        t = rawsql.table(AuditChainHead)
        pk, seq, digest = (rawsql.column(AuditChainHead, n) for n in ("pk", "seq", "hash"))
        head = f"SELECT {pk}, {seq}, {digest} FROM {t}"
        self.one = f"{head} WHERE {pk} = 1"
        self.pick = (f"{head} WHERE {pk} BETWEEN 1 AND %s ORDER BY ({pk} = %s) DESC, {pk} LIMIT 1 "
                     "FOR UPDATE SKIP LOCKED")
        self.present = f"SELECT {pk} FROM {t} WHERE {pk} BETWEEN 1 AND %s"
        self.wait = f"{head} WHERE {pk} = %s FOR UPDATE"
        self.move = f"UPDATE {t} SET {seq} = %s, {digest} = %s WHERE {pk} = %s"


@functools.cache
def head_sql() -> HeadSql:
    """The chain heads' statements, built once."""
    return HeadSql()


def chain_append(entries: list[AuditEntry], *, using: str, move_head: bool = True) -> rawsql.Statement:
    """Give ``entries`` their place in a chain (caller holds a transaction and inserts them next).

    Locks the head of a chain no other transaction holds (``FOR UPDATE SKIP LOCKED``, preferring the
    chain this connection used last, so that one transaction's entries stay in one chain), then moves
    that head: two small statements, written as plain SQL because this runs on every audited write.
    With ``move_head=False`` the caller runs the returned UPDATE of the head itself (with the insert:
    ``rawsql.insert(..., along=[statement])``)."""
    conn = connections[using]
    chains = audit_chain_count(using)
    preferred = int(getattr(conn, "_fc_audit_chain", 1))
    if preferred > chains:
        preferred = 1
    row = None
    sql = head_sql()
    lock = " FOR UPDATE" if conn.features.has_select_for_update else ""
    with conn.cursor() as cur:
        if chains == 1:
            cur.execute(sql.one + lock)
            row = cur.fetchone()
        else:
            cur.execute(sql.pick, [chains, preferred])
            row = cur.fetchone()
            if row is None:  # heads missing (first use, flushed tables) or every chain busy
                cur.execute(sql.present, [chains])
                present = {int(r[0]) for r in cur.fetchall()}
                missing = [c for c in range(1, chains + 1) if c not in present]
                if missing:
                    heads = [AuditChainHead(pk=c, seq=s, hash=h) for c in missing for s, h in [_chain_start(c, using)]]
                    AuditChainHead.objects.using(using).bulk_create(heads, ignore_conflicts=True)
                    cur.execute(sql.pick, [chains, preferred])
                    row = cur.fetchone()
                if row is None:  # all busy: wait for the preferred one
                    cur.execute(sql.wait, [preferred])
                    row = cur.fetchone()
    if row is None:  # first entry, or the table was flushed (tests): start from the stored entries
        seq0, hash0 = _chain_start(1, using)
        AuditChainHead.objects.using(using).bulk_create([AuditChainHead(pk=1, seq=seq0, hash=hash0)],
                                                        ignore_conflicts=True)
        with conn.cursor() as cur:
            cur.execute(sql.one + lock)
            row = cur.fetchone()
    chain, seq, prev = int(row[0]), int(row[1]), str(row[2])
    conn._fc_audit_chain = chain  # type: ignore[attr-defined]
    for entry in entries:
        if entry.at is None:
            entry.at = timezone.now()
        seq += 1
        entry.chain = chain
        entry.seq = seq
        entry.prev_hash = prev
        entry.hash = entry_hash(entry.chain_fields())
        prev = entry.hash
    move = rawsql.Statement(sql.move, [seq, prev, chain], f"audit chain head {chain}")
    if move_head:
        with conn.cursor() as cur:
            cur.execute(move.sql, move.params)
    return move
