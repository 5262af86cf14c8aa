"""Collection cases: one open case per delinquent loan, opened, updated and closed by the nightly
cycle and worked by the bank and its agencies."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q

from fieldcollect.cases.lifecycle import CaseStatus, CloseReason


class Case(models.Model):
    loan = models.ForeignKey("portfolio.Loan", on_delete=models.PROTECT, related_name="cases")
    customer = models.ForeignKey("portfolio.Customer", on_delete=models.PROTECT, related_name="cases")
    status = models.CharField(max_length=16, choices=CaseStatus.choices, default=CaseStatus.NEW, db_index=True)
    close_reason = models.CharField(max_length=16, choices=CloseReason.choices, blank=True, default="")
    opened_on = models.DateField()
    closed_on = models.DateField(null=True, blank=True)
    # collection data refreshed by each nightly cycle (Fineract's CollectionData)
    dpd = models.IntegerField(default=0, db_index=True)
    max_dpd = models.IntegerField(default=0)
    bucket = models.CharField(max_length=8, db_index=True, default="M0")
    overdue_fen = models.BigIntegerField(default=0, db_index=True)
    outstanding_principal_fen = models.BigIntegerField(default=0)
    city = models.CharField(max_length=30, db_index=True, default="")
    last_cycle_on = models.DateField(null=True, blank=True)
    # optimistic concurrency: every write increments it; a stale writer gets a conflict
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-dpd", "id"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["loan"], condition=Q(closed_on__isnull=True), name="one_open_case_per_loan"),
        ]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["status", "bucket"]),
            models.Index(fields=["city", "dpd"]),
        ]

    def __str__(self) -> str:
        return f"Case {self.pk} (loan {self.loan_id})"

    @property
    def is_open(self) -> bool:
        return self.closed_on is None
