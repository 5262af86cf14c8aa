"""Complaints: intake (customer link, hotline, regulator), SLA timers, assignment, investigation,
resolution with the customer's answer and the root cause. Every write is audited by the services."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from fieldcollect.core.records import by_user
from fieldcollect.privacy.fields import EncryptedCharField, EncryptedModel, EncryptedTextField


class Source(models.TextChoices):
    CUSTOMER_LINK = "customer_link", _("Customer (feedback link)")
    HOTLINE = "hotline", _("Hotline")
    REGULATOR = "regulator", _("Regulator referral")


class Category(models.TextChoices):
    HARASSMENT = "harassment", _("Harassment")
    DISCLOSURE = "disclosure", _("Disclosure to third parties")
    THREATS = "threats", _("Threats or abuse")
    WRONG_PERSON = "wrong_person", _("Wrong person")
    PRIVACY = "privacy", _("Privacy")
    FEES = "fees", _("Fees")
    DISPUTE = "dispute", _("Dispute")


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


SERIOUS = frozenset({Severity.HIGH, Severity.CRITICAL})


class Status(models.TextChoices):
    RECEIVED = "received", _("Received")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    INVESTIGATING = "investigating", _("Investigating")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = frozenset({Status.RECEIVED, Status.ACKNOWLEDGED, Status.INVESTIGATING})


class Finding(models.TextChoices):
    UPHELD = "upheld", _("Upheld")
    PARTLY_UPHELD = "partly_upheld", _("Partly upheld")
    NOT_UPHELD = "not_upheld", _("Not upheld")


class RootCause(models.TextChoices):
    COLLECTOR_CONDUCT = "collector_conduct", _("Collector conduct")
    AGENCY_PROCESS = "agency_process", _("Agency process")
    BANK_PROCESS = "bank_process", _("Bank process")
    DATA_ERROR = "data_error", _("Wrong or outdated data")
    SYSTEM = "system", _("System fault")
    MISUNDERSTANDING = "misunderstanding", _("Misunderstanding")
    NO_FAULT = "no_fault", _("No fault found")


class CustomerAnswer(models.TextChoices):
    PENDING = "", _("Not yet answered")
    ACCEPTED = "accepted", _("Accepted the resolution")
    REJECTED = "rejected", _("Rejected the resolution")
    NO_ANSWER = "no_answer", _("Did not answer")


class Complaint(EncryptedModel):
    reference = models.CharField(max_length=20, unique=True, blank=True, default="")
    source = models.CharField(max_length=16, choices=Source.choices)
    regulator_reference = models.CharField(max_length=64, blank=True, default="")
    customer = models.ForeignKey("portfolio.Customer", on_delete=models.PROTECT, related_name="complaints")
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="complaints")
    agency = models.ForeignKey("agencies.Agency", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="complaints")
    collector = models.ForeignKey("agencies.Collector", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="complaints")
    feedback = models.OneToOneField("visits.FeedbackRequest", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="complaint")
    category = models.CharField(max_length=16, choices=Category.choices, db_index=True)
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.MEDIUM, db_index=True)
    description = EncryptedTextField()
    contact_phone = EncryptedCharField(max_length=32, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED, db_index=True)
    received_at = models.DateTimeField(db_index=True)
    acknowledge_due_at = models.DateTimeField()
    resolve_due_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    acknowledge_breached_at = models.DateTimeField(null=True, blank=True,
                                                   help_text="When the breach was detected (nightly)")
    resolve_breached_at = models.DateTimeField(null=True, blank=True)
    assigned_to = by_user()
    assigned_at = models.DateTimeField(null=True, blank=True)
    pause_flag_id = models.BigIntegerField(null=True, blank=True, help_text="compliance.DebtorFlag pausing contact")
    paused_at = models.DateTimeField(null=True, blank=True)
    pause_lifted_at = models.DateTimeField(null=True, blank=True)
    agency_response = EncryptedTextField(blank=True, default="")
    agency_response_at = models.DateTimeField(null=True, blank=True)
    agency_response_by = by_user()
    finding = models.CharField(max_length=16, choices=Finding.choices, blank=True, default="")
    root_cause = models.CharField(max_length=20, choices=RootCause.choices, blank=True, default="")
    resolution = EncryptedTextField(blank=True, default="")
    remedy = EncryptedCharField(max_length=300, blank=True, default="")
    customer_answer = models.CharField(max_length=12, choices=CustomerAnswer.choices, blank=True, default="")
    customer_answer_note = EncryptedTextField(blank=True, default="")
    customer_answered_at = models.DateTimeField(null=True, blank=True)
    created_by = by_user()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-received_at", "-id"]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["agency", "received_at"]),
            models.Index(fields=["status", "resolve_due_at"]),
        ]

    def __str__(self) -> str:
        return self.reference or f"Complaint {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_serious(self) -> bool:
        return self.severity in SERIOUS


class InvestigationEntry(EncryptedModel):
    """A step of the investigation: a note, optionally linking a contact attempt or a visit report
    (whose evidence files are then listed on the complaint)."""

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="entries")
    note = EncryptedTextField(blank=True, default="")
    contact = models.ForeignKey("cases.ContactAttempt", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    visit_report = models.ForeignKey("visits.VisitReport", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    author = by_user()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Entry {self.pk} of complaint {self.complaint_id}"
