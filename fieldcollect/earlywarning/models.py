"""The nightly early-warning list (its top entries with reasons) and the pre-due reminders it drives.

Every current loan's score is in ``early_warning.parquet`` of the day's published run; the database
keeps the top of the list, which the pages show and the reminders follow.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from fieldcollect.core.records import NewestFirst, by_user


class WarningList(models.Model):
    """One nightly scoring of the current loans by the champion model."""

    as_of = models.DateField(db_index=True)
    purpose = models.CharField(max_length=64, default="early_warning")
    model_version = models.CharField(max_length=16)
    store_version = models.CharField(max_length=32, blank=True, default="")
    scored_loans = models.PositiveIntegerField(default=0)
    mean_probability = models.FloatField(default=0.0)
    score_psi = models.FloatField(null=True, blank=True)
    trained = models.CharField(max_length=16, blank=True, default="", help_text="why the model was (re)trained")
    summary = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-as_of", "-id"]

    def __str__(self) -> str:
        return f"Early warning {self.as_of} ({self.model_version})"


class WarningEntry(models.Model):
    """A loan on the list: its probability of reaching 30+ dpd within 3 months and why."""

    warning_list = models.ForeignKey(WarningList, on_delete=models.CASCADE, related_name="entries")
    rank = models.PositiveIntegerField()
    loan_id = models.BigIntegerField(db_index=True)
    customer_id = models.BigIntegerField(null=True, blank=True)
    city = models.CharField(max_length=30, blank=True, default="", db_index=True)
    product = models.CharField(max_length=50, blank=True, default="")
    bucket = models.CharField(max_length=8, default="M0")
    probability = models.FloatField()
    reasons_en = models.CharField(max_length=500, blank=True, default="")
    reasons_zh = models.CharField(max_length=500, blank=True, default="")
    reason_features = models.JSONField(default=list)
    next_due_on = models.DateField(null=True, blank=True)
    next_due_fen = models.BigIntegerField(default=0)
    outstanding_principal_fen = models.BigIntegerField(default=0)

    class Meta:
        ordering: ClassVar[list[str]] = ["warning_list", "rank"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["warning_list", "loan_id"], name="warning_entry_unique_loan"),
        ]

    def __str__(self) -> str:
        return f"#{self.rank} loan {self.loan_id} p={self.probability:.3f}"


class Reminder(models.Model):
    """A pre-due SMS reminder for a loan on the list, planned a few days before the due date."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        QUEUED = "queued", _("Queued")
        BLOCKED = "blocked", _("Blocked by compliance")
        EXPIRED = "expired", _("Expired")

    loan_id = models.BigIntegerField()
    customer = models.ForeignKey("portfolio.Customer", on_delete=models.PROTECT, related_name="+")
    entry = models.ForeignKey(WarningEntry, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    due_on = models.DateField()
    amount_fen = models.BigIntegerField()
    probability = models.FloatField()
    send_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PLANNED)
    message = models.ForeignKey("outbox.OutboxMessage", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    rule_ids = models.JSONField(default=list, blank=True)
    explanation = models.TextField(blank=True, default="")
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["send_at", "id"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["loan_id", "due_on"], name="reminder_once_per_due_date"),
        ]

    def __str__(self) -> str:
        return f"Reminder loan {self.loan_id} due {self.due_on} ({self.status})"


class StrategyRun(NewestFirst):
    """One treatment choice for the open delinquent cases under channel capacities."""

    as_of = models.DateField(db_index=True)
    created_by = by_user()
    cases = models.PositiveIntegerField(default=0)
    expected_value_fen = models.BigIntegerField(default=0)
    expected_uplift_fen = models.BigIntegerField(default=0, help_text="over doing nothing")
    expected_complaints = models.FloatField(default=0.0)
    summary = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"Strategy run {self.pk} ({self.as_of})"


class StrategyAssignment(models.Model):
    """The treatment chosen for one case, with its expected value and why."""

    run = models.ForeignKey(StrategyRun, on_delete=models.CASCADE, related_name="assignments")
    case_id = models.BigIntegerField(db_index=True)
    loan_id = models.BigIntegerField()
    city = models.CharField(max_length=30, blank=True, default="")
    bucket = models.CharField(max_length=8, blank=True, default="")
    amount_fen = models.BigIntegerField()
    treatment = models.CharField(max_length=16)
    probability = models.FloatField(help_text="probability of payment under the chosen treatment")
    value_fen = models.BigIntegerField()
    alternative = models.CharField(max_length=16, blank=True, default="")
    reason = models.CharField(max_length=16, blank=True, default="")
    text_en = models.CharField(max_length=300, blank=True, default="")
    text_zh = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        ordering: ClassVar[list[str]] = ["run", "-value_fen", "id"]

    def __str__(self) -> str:
        return f"case {self.case_id}: {self.treatment}"
