"""API tokens, agency network allow-lists, second factors (TOTP) and failed log-ins. They moved here
from ``core`` (issue 18) and keep their tables; ``User`` and ``Role`` stay in ``core.models``
(``AUTH_USER_MODEL`` is ``core.User``)."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone

from fieldcollect.privacy.fields import EncryptedCharField, EncryptedModel


class ApiToken(models.Model):
    """A bearer token for the API. Only a SHA-256 digest of the secret is stored (the secret is
    256 random bits, so a fast digest is enough); tokens expire and can be revoked."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
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
        db_table = "core_apitoken"  # the table it had in ``core``
        ordering: ClassVar[list[str]] = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user_id})"


class AgencyApiNetworks(models.Model):
    """Optional IP allow-list for the API tokens of an agency's users (CIDR list). When set, a token of
    any user of the agency works only from these networks (in addition to the token's own list)."""

    agency = models.OneToOneField("agencies.Agency", on_delete=models.CASCADE, related_name="api_networks")
    networks = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)


    class Meta:
        db_table = "core_agencyapinetworks"  # the table it had in ``core``

    def __str__(self) -> str:
        return f"{self.agency_id}: {', '.join(self.networks)}"


class TotpDevice(EncryptedModel):
    """A user's TOTP (RFC 6238) secret; ``confirmed_at`` is set once the user entered a valid code.
    ``last_step`` is the time step of the last accepted code, so that a code works only once."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp")
    secret = EncryptedCharField(max_length=64)  # encrypted at rest like personal data (privacy/fields.py)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_step = models.BigIntegerField(default=0)


    class Meta:
        db_table = "core_totpdevice"  # the table it had in ``core``

    def __str__(self) -> str:
        return f"TOTP {self.user_id}{'' if self.confirmed_at else ' (not confirmed)'}"


class LoginFailure(models.Model):
    """A failed password or second-factor attempt, for throttling (rows older than the window are
    pruned on the next failure)."""

    username = models.CharField(max_length=150)
    ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "core_loginfailure"  # the table it had in ``core``
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["username", "at"]),
                                                 models.Index(fields=["ip", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username} {self.ip}"
