"""Data-sharing records: exports handed to a recipient (with their fingerprint), deletion
attestations owed by an agency whose access to cases ended, and the sub-processors each agency
has registered. Data-sharing records are kept for :data:`RETENTION_DAYS` and then purged."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from fieldcollect.core.records import by_user

RETENTION_DAYS = 3 * 365 + 1  # three years (one leap day included)
ATTESTATION_DUE_DAYS = 14


class ExportRecord(models.Model):
    """One file handed to one recipient: what, for what purpose, and its fingerprint."""

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"

    fingerprint = models.CharField(max_length=16, unique=True, help_text="Export id embedded in the file")
    recipient = models.ForeignKey("core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recipient_label = models.CharField(max_length=150)
    agency = models.ForeignKey("agencies.Agency", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    purpose = models.CharField(max_length=200)
    name = models.CharField(max_length=100)
    fmt = models.CharField(max_length=8, choices=Format.choices)
    columns = models.JSONField(default=list)
    dropped_columns = models.JSONField(default=list, blank=True)
    rows = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Export {self.fingerprint} {self.name} → {self.recipient_label}"


class DeletionAttestation(models.Model):
    """A task for an agency: delete (and attest having deleted) the data of cases it no longer holds."""

    class Reason(models.TextChoices):
        RECALLED = "recalled", _("Placement recalled")
        EXPIRED = "expired", _("Placement expired")
        CONTRACT_ENDED = "contract_ended", _("Contract ended")
        CLOSED = "closed", _("Case closed")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ATTESTED = "attested", _("Attested")

    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    raised_on = models.DateField(db_index=True)
    due_on = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    attested_by = by_user()
    attested_at = models.DateTimeField(null=True, blank=True)
    statement = models.TextField(blank=True, default="")

    class Meta:
        ordering: ClassVar[list[str]] = ["due_on", "id"]
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["agency", "status", "due_on"])]

    def __str__(self) -> str:
        return f"Deletion attestation {self.pk} agency {self.agency_id} due {self.due_on}"


class AttestationItem(models.Model):
    """One ended placement covered by an attestation (each placement is covered once)."""

    attestation = models.ForeignKey(DeletionAttestation, on_delete=models.CASCADE, related_name="items")
    placement = models.OneToOneField("cases.Placement", on_delete=models.PROTECT, related_name="+")
    case_id_ref = models.BigIntegerField(help_text="Case id (kept for the agency's deletion work)")
    loan_id_ref = models.BigIntegerField()

    class Meta:
        ordering: ClassVar[list[str]] = ["id"]

    def __str__(self) -> str:
        return f"Attestation item {self.attestation_id}: placement {self.placement_id}"


class SubProcessor(models.Model):
    """A third party an agency lets process the bank's customer data (call centre, SMS gateway, cloud)."""

    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="sub_processor_entries")
    name = models.CharField(max_length=200)
    service = models.CharField(max_length=200, help_text="What it does with the data")
    location = models.CharField(max_length=100, help_text="Where the data is processed")
    data_categories = models.JSONField(default=list, help_text="Customer data fields it receives")
    registered_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    registered_by = by_user()

    class Meta:
        ordering: ClassVar[list[str]] = ["agency_id", "name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.agency_id})"
