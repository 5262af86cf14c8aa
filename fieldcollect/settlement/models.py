"""Monthly commission statements per agency: one line per attributed payment, exact in fen."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


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
    line_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey("core.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
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
        return self.commission_fen - self.disputed_commission_fen


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
    disputed_by = models.ForeignKey("core.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering: ClassVar[list[str]] = ["paid_on", "id"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(condition=Q(disputed=False) | ~Q(dispute_reason=""),
                                   name="disputed_line_has_reason"),
        ]

    def __str__(self) -> str:
        return f"Line {self.pk}: payment {self.payment_id} {self.commission_fen} fen"
