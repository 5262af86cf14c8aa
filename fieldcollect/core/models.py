"""Users with one role each, and the audit trail every service writes in its own transaction."""

from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


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


class AuditEntry(models.Model):
    """Append-only record of a write: who did what to which object, with old and new values."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor_label = models.CharField(max_length=150, blank=True, default="")
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64, db_index=True)
    old = models.JSONField(null=True, blank=True)
    new = models.JSONField(null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["id"]
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action} {self.object_type}:{self.object_id}"


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

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user_id})"
