"""Monthly commission statements per agency: one line per attributed payment, exact in fen."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fieldcollect.core.records import by_user


class Statement(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ISSUED = "issued", _("Issued")

    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="statements")
    month = models.DateField(help_text="First day of the month settled")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    payments_fen = models.BigIntegerField(default=0)
    commission_fen = models.BigIntegerField(default=0)
    disputed_commission_fen = models.BigIntegerField(default=0)
    penalties_fen = models.BigIntegerField(default=0, help_text="Penalties under the contract's terms")
    clawbacks_fen = models.BigIntegerField(default=0, help_text="Commission taken back on reversed payments")
    line_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = by_user()
    issued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-month", "agency_id"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["agency", "month"], name="one_statement_per_agency_month"),
        ]

    def __str__(self) -> str:
        return f"Statement {self.agency_id} {self.month:%Y-%m}"

    @property
    def payable_fen(self) -> int:
        """What the bank owes the agency: commission less disputed lines, penalties and clawbacks
        (negative when the deductions exceed the commission: the agency owes the bank)."""
        return self.commission_fen - self.disputed_commission_fen - self.penalties_fen - self.clawbacks_fen


class StatementLine(models.Model):
    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="lines")
    payment = models.OneToOneField("cases.Payment", on_delete=models.PROTECT, related_name="+",
                                   help_text="A payment is on one statement line at most")
    placement = models.ForeignKey("cases.Placement", on_delete=models.PROTECT, related_name="+")
    case_id = models.BigIntegerField()
    paid_on = models.DateField()
    amount_fen = models.BigIntegerField()
    bucket = models.CharField(max_length=8)
    rate = models.DecimalField(max_digits=6, decimal_places=4)
    commission_fen = models.BigIntegerField()
    disputed = models.BooleanField(default=False)
    dispute_reason = models.CharField(max_length=300, blank=True, default="")
    disputed_by = by_user()

    class Meta:
        ordering: ClassVar[list[str]] = ["paid_on", "id"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(condition=Q(disputed=False) | ~Q(dispute_reason=""),
                                   name="disputed_line_has_reason"),
        ]

    def __str__(self) -> str:
        return f"Line {self.pk}: payment {self.payment_id} {self.commission_fen} fen"


class PaymentReversal(models.Model):
    """A payment reversed after it was recorded (returned transfer, charge-back, posting error): it
    earns no commission, and commission already settled on it is clawed back."""

    payment = models.OneToOneField("cases.Payment", on_delete=models.PROTECT, related_name="reversal")
    reversed_on = models.DateField(db_index=True)
    reason = models.CharField(max_length=300)
    recorded_by = by_user()
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-reversed_on", "-id"]

    def __str__(self) -> str:
        return f"Reversal of payment {self.payment_id} on {self.reversed_on}"


class Adjustment(models.Model):
    """A deduction on a statement: a penalty (from a penalty source, priced by the contract's terms) or
    a clawback (a reversed payment whose commission an earlier statement carried). Each source event
    is charged once across all statements."""

    class Kind(models.TextChoices):
        PENALTY = "penalty", _("Penalty")
        CLAWBACK = "clawback", _("Clawback")

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="adjustments")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    source = models.CharField(max_length=32, help_text="complaint, late_attestation, qa_finding, payment_reversal")
    source_ref = models.CharField(max_length=64, help_text="The event's id in its source")
    term = models.CharField(max_length=40, blank=True, default="", help_text="The contract term applied")
    case_id = models.BigIntegerField(null=True, blank=True)
    occurred_on = models.DateField()
    amount_fen = models.BigIntegerField(help_text="Deducted from the payable amount (positive)")
    detail = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        ordering: ClassVar[list[str]] = ["kind", "occurred_on", "id"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["kind", "source", "source_ref"], name="adjustment_charged_once"),
            models.CheckConstraint(condition=Q(amount_fen__gte=0), name="adjustment_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.source}:{self.source_ref} {self.amount_fen} fen"


class Invoice(models.Model):
    """The agency's invoice for an issued statement: issued, disputed (with a reason) or paid."""

    class Status(models.TextChoices):
        ISSUED = "issued", _("Issued")
        DISPUTED = "disputed", _("Disputed")
        PAID = "paid", _("Paid")

    statement = models.OneToOneField(Statement, on_delete=models.PROTECT, related_name="invoice")
    number = models.CharField(max_length=40, unique=True)
    amount_fen = models.BigIntegerField(help_text="The statement's payable amount when issued")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ISSUED)
    issued_on = models.DateField()
    issued_by = by_user()
    dispute_reason = models.CharField(max_length=300, blank=True, default="")
    paid_on = models.DateField(null=True, blank=True)
    payment_reference = models.CharField(max_length=64, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-issued_on", "-id"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(condition=~Q(status="disputed") | ~Q(dispute_reason=""),
                                   name="disputed_invoice_has_reason"),
            models.CheckConstraint(condition=~Q(status="paid") | Q(paid_on__isnull=False),
                                   name="paid_invoice_has_date"),
        ]

    def __str__(self) -> str:
        return f"Invoice {self.number} ({self.status})"


class ClaimReconciliation(models.Model):
    """An agency's claim file compared with a statement, line by line (kept with its findings)."""

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="claim_reconciliations")
    file_name = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    rows = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)
    differences = models.JSONField(default=list, help_text="One entry per line that differs")
    errors = models.JSONField(default=list, help_text="Rows refused: file, row, field, reason")
    claimed_fen = models.BigIntegerField(default=0)
    statement_fen = models.BigIntegerField(default=0)
    uploaded_by = by_user()
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return f"Claim file {self.file_name} for statement {self.statement_id}"
