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
