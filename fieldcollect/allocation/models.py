"""Allocation runs: which open cases went (or would go) to which agency, and why."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from fieldcollect.core.records import NewestFirst, by_user
from fieldcollect.legal.screening import reason_labels


class AllocationRun(NewestFirst):
    """One solve of the allocation problem for a business date (draft until applied)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        APPLIED = "applied", _("Applied")

    as_of = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    holdout_share = models.DecimalField(max_digits=5, decimal_places=4, default=0)
    seed = models.BigIntegerField(default=0)
    max_share = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True,
                                    help_text="Concentration limit: most any agency may take of the placed cases")
    cost_per_case_fen = models.BigIntegerField(default=0, help_text="Handling cost of a placement")
    n_cases = models.PositiveIntegerField(default=0)
    n_agencies = models.PositiveIntegerField(default=0)
    n_pairs = models.PositiveIntegerField(default=0)
    n_excluded = models.PositiveIntegerField(default=0)
    n_screened = models.PositiveIntegerField(default=0, help_text="Cases the placement screen held out")
    n_held = models.PositiveIntegerField(default=0, help_text="Cases customer-level placement kept unplaced")
    n_placed = models.PositiveIntegerField(default=0)
    n_holdout = models.PositiveIntegerField(default=0)
    objective_fen = models.BigIntegerField(default=0)
    holdout_objective_fen = models.BigIntegerField(default=0)
    greedy_objective_fen = models.BigIntegerField(default=0)
    dual_fen = models.BigIntegerField(default=0)
    certified_optimal = models.BooleanField(default=False)
    seconds = models.FloatField(default=0)
    n_applied = models.PositiveIntegerField(default=0)
    created_by = by_user()
    applied_at = models.DateTimeField(null=True, blank=True)
    applied_by = by_user()

    def __str__(self) -> str:
        return f"Allocation run {self.pk} ({self.as_of})"

    @property
    def uplift_fen(self) -> int:
        return self.objective_fen - self.greedy_objective_fen

    @property
    def gap_fen(self) -> int:
        """Proven bound (``dual_fen``) less the optimised part's objective: 0 when proven optimal; when the
        optimiser stopped at a whole-customer solution short of a proof, at most this much is left."""
        return max(0, self.dual_fen - (self.objective_fen - self.holdout_objective_fen))


class AllocationDecision(models.Model):
    """A case placed by a run, with the figures that explain the choice."""

    run = models.ForeignKey(AllocationRun, on_delete=models.CASCADE, related_name="decisions")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")
    bucket = models.CharField(max_length=8, default="")
    overdue_fen = models.BigIntegerField(default=0)
    p_recovery = models.DecimalField(max_digits=7, decimal_places=6, default=0)
    commission_rate = models.DecimalField(max_digits=6, decimal_places=4, default=0)
    value_fen = models.BigIntegerField(help_text="Expected net recovery of this pair")
    holdout = models.BooleanField(default=False)
    n_eligible = models.PositiveIntegerField(default=0)
    shadow_price_fen = models.BigIntegerField(default=0, help_text="Opportunity cost of one unit of the agency's capacity")
    best_alternative = models.ForeignKey("agencies.Agency", null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="+")
    best_alternative_value_fen = models.BigIntegerField(null=True, blank=True)
    best_alternative_shadow_price_fen = models.BigIntegerField(null=True, blank=True)
    placement = models.ForeignKey("cases.Placement", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    # customer-level placement: the customer's cases this run placed together (this one included), their
    # value at the agency, and whether the customer's other open cases already sat with the agency
    customer_cases = models.PositiveIntegerField(default=1)
    customer_value_fen = models.BigIntegerField(default=0)
    follows_customer = models.BooleanField(default=False)

    class Meta:
        ordering: ClassVar[list[str]] = ["run", "-value_fen", "id"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["run", "case"], name="one_decision_per_case_per_run"),
        ]
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["run", "agency"])]

    def __str__(self) -> str:
        return f"Run {self.run_id}: case {self.case_id} → agency {self.agency_id}"

    @property
    def margin_fen(self) -> int:
        return self.value_fen - self.shadow_price_fen

    @property
    def alternative_margin_fen(self) -> int | None:
        if self.best_alternative_value_fen is None or self.best_alternative_shadow_price_fen is None:
            return None
        return self.best_alternative_value_fen - self.best_alternative_shadow_price_fen


class AllocationScreened(models.Model):
    """An open case a run did not place because the placement screen holds its debtor out, with the
    reasons (:class:`fieldcollect.legal.screening.ScreenReason` codes): the run's explanation of why."""

    run = models.ForeignKey(AllocationRun, on_delete=models.CASCADE, related_name="screened")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+")
    reasons = models.JSONField(default=list)

    class Meta:
        ordering: ClassVar[list[str]] = ["run", "case"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["run", "case"], name="one_screen_per_case_per_run"),
        ]

    def __str__(self) -> str:
        return f"Run {self.run_id}: case {self.case_id} screened ({', '.join(self.reasons)})"

    @property
    def reason_labels(self) -> list[str]:
        return reason_labels(self.reasons)


class HeldReason(models.TextChoices):
    """Why customer-level placement kept an open case unplaced in a run."""

    CUSTOMER_AGENCY_UNAVAILABLE = "customer_agency_unavailable", _(
        "The customer's other open cases are with an agency that may not take this case "
        "(contract, region, bucket, amount, or it returned the case)")
    CUSTOMER_NO_COMMON_AGENCY = "customer_no_common_agency", _(
        "No agency may take all of the customer's open cases together, and a customer is not split")


class AllocationHeld(models.Model):
    """An open case a run did not place because of customer-level placement (all open cases of one
    customer go to one agency), with the reason and the customer's agency: the run's explanation."""

    run = models.ForeignKey(AllocationRun, on_delete=models.CASCADE, related_name="held")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=32, choices=HeldReason.choices)
    customer_agency = models.ForeignKey("agencies.Agency", null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="+")

    class Meta:
        ordering: ClassVar[list[str]] = ["run", "case"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["run", "case"], name="one_hold_per_case_per_run"),
        ]

    def __str__(self) -> str:
        return f"Run {self.run_id}: case {self.case_id} held ({self.reason})"
