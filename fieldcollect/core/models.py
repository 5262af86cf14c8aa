"""Users with one role each. Their API tokens, second factors and failed log-ins are the ``accounts``
app's; the audit log is its own app (``fieldcollect.audit``). ``User`` stays here because it is the
project's ``AUTH_USER_MODEL`` (``core.User``) since the first migration (docs/architecture.md)."""

from __future__ import annotations

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
