"""Users with one role each, and the audit trail every service writes in its own transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import connections, models, router, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fieldcollect.core import rawsql
from fieldcollect.core.audit_chain import GENESIS, entry_hash
from fieldcollect.privacy.fields import EncryptedCharField, EncryptedModel


class Role(models.TextChoices):
    COLLECTIONS_MANAGER = "collections_manager", _("Collections manager")
    COMPLIANCE_OFFICER = "compliance_officer", _("Compliance officer")
    RISK_ANALYST = "risk_analyst", _("Risk analyst")
    AUDITOR = "auditor", _("Auditor")
    AGENCY_MANAGER = "agency_manager", _("Agency manager")
    FIELD_COLLECTOR = "field_collector", _("Field collector")


BANK_ROLES = frozenset({Role.COLLECTIONS_MANAGER, Role.COMPLIANCE_OFFICER, Role.RISK_ANALYST, Role.AUDITOR})
AGENCY_ROLES = frozenset({Role.AGENCY_MANAGER, Role.FIELD_COLLECTOR})


class User(AbstractUser):
    role = models.CharField(max_length=32, choices=Role.choices, blank=True, default="")
    agency = models.ForeignKey(
        "agencies.Agency", null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )

    @property
    def is_bank_user(self) -> bool:
        return self.role in BANK_ROLES or self.is_superuser

    @property
    def is_agency_user(self) -> bool:
        return self.role in AGENCY_ROLES


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

    Entries form a hash chain (``seq``, ``prev_hash``, ``hash``; see ``core/audit_chain.py``);
    ``fieldcollect audit verify`` checks it. On PostgreSQL a trigger also rejects UPDATE and DELETE.
    """

    chain = models.PositiveSmallIntegerField(default=1, help_text="Which of the parallel chains (1..K)")
    seq = models.BigIntegerField(help_text="Position in its chain: 1, 2, 3, ... without gaps")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
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
    with conn.cursor() as cur:
        if chains == 1:
            lock = " FOR UPDATE" if conn.features.has_select_for_update else ""
            cur.execute(f"SELECT id, seq, hash FROM core_auditchainhead WHERE id = 1{lock}")
            row = cur.fetchone()
        else:
            pick = ("SELECT id, seq, hash FROM core_auditchainhead WHERE id BETWEEN 1 AND %s "
                    "ORDER BY (id = %s) DESC, id LIMIT 1 FOR UPDATE SKIP LOCKED")
            cur.execute(pick, [chains, preferred])
            row = cur.fetchone()
            if row is None:  # heads missing (first use, flushed tables) or every chain busy
                cur.execute("SELECT id FROM core_auditchainhead WHERE id BETWEEN 1 AND %s", [chains])
                present = {int(r[0]) for r in cur.fetchall()}
                missing = [c for c in range(1, chains + 1) if c not in present]
                if missing:
                    heads = [AuditChainHead(pk=c, seq=s, hash=h) for c in missing for s, h in [_chain_start(c, using)]]
                    AuditChainHead.objects.using(using).bulk_create(heads, ignore_conflicts=True)
                    cur.execute(pick, [chains, preferred])
                    row = cur.fetchone()
                if row is None:  # all busy: wait for the preferred one
                    cur.execute("SELECT id, seq, hash FROM core_auditchainhead WHERE id = %s FOR UPDATE", [preferred])
                    row = cur.fetchone()
    if row is None:  # first entry, or the table was flushed (tests): start from the stored entries
        seq0, hash0 = _chain_start(1, using)
        AuditChainHead.objects.using(using).bulk_create([AuditChainHead(pk=1, seq=seq0, hash=hash0)],
                                                        ignore_conflicts=True)
        lock = " FOR UPDATE" if conn.features.has_select_for_update else ""
        with conn.cursor() as cur:
            cur.execute(f"SELECT id, seq, hash FROM core_auditchainhead WHERE id = 1{lock}")
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
    move = rawsql.Statement("UPDATE core_auditchainhead SET seq = %s, hash = %s WHERE id = %s", [seq, prev, chain],
                            f"audit chain head {chain}")
    if move_head:
        with conn.cursor() as cur:
            cur.execute(move.sql, move.params)
    return move


class ApiToken(models.Model):
    """A bearer token for the API. Only a SHA-256 digest of the secret is stored (the secret is
    256 random bits, so a fast digest is enough); tokens expire and can be revoked."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True, default="")
    prefix = models.CharField(max_length=12, help_text="First characters of the token, to recognise it")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    allowed_networks = models.JSONField(
        default=list, blank=True,
        help_text="Optional CIDR list (e.g. 203.0.113.0/24); when set, the token works only from these addresses")

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user_id})"


class AgencyApiNetworks(models.Model):
    """Optional IP allow-list for the API tokens of an agency's users (CIDR list). When set, a token of
    any user of the agency works only from these networks (in addition to the token's own list)."""

    agency = models.OneToOneField("agencies.Agency", on_delete=models.CASCADE, related_name="api_networks")
    networks = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.agency_id}: {', '.join(self.networks)}"


class TotpDevice(EncryptedModel):
    """A user's TOTP (RFC 6238) secret; ``confirmed_at`` is set once the user entered a valid code.
    ``last_step`` is the time step of the last accepted code, so that a code works only once."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="totp")
    secret = EncryptedCharField(max_length=64)  # encrypted at rest like personal data (privacy/fields.py)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_step = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"TOTP {self.user_id}{'' if self.confirmed_at else ' (not confirmed)'}"


class LoginFailure(models.Model):
    """A failed password or second-factor attempt, for throttling (rows older than the window are
    pruned on the next failure)."""

    username = models.CharField(max_length=150)
    ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["username", "at"]),
                                                 models.Index(fields=["ip", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username} {self.ip}"
