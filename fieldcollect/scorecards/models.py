"""Agency selection (candidate criteria, weights, inspections). Monthly scorecards are computed on
read from placements, payments, promises and contacts (see :mod:`.selectors`)."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from fieldcollect.analytics.selection import DEFAULT_CRITERIA
from fieldcollect.core.records import NewestFirst, by_user

CRITERION_CHOICES = [(c.name, c.label) for c in DEFAULT_CRITERIA]


class AgencyCandidate(models.Model):
    """The selection file of an agency: one value per criterion of
    :data:`fieldcollect.analytics.selection.DEFAULT_CRITERIA` (shares and rates as fractions 0–1)."""

    agency = models.OneToOneField("agencies.Agency", on_delete=models.PROTECT, related_name="candidate_file")
    years_in_business = models.DecimalField(max_digits=6, decimal_places=2, default=0)
    licensed_staff_share = models.DecimalField(max_digits=5, decimal_places=4, default=0)
    trained_staff_share = models.DecimalField(max_digits=5, decimal_places=4, default=0)
    recovery_rate_m1_m2 = models.DecimalField(max_digits=5, decimal_places=4, default=0)
    recovery_rate_m3_m4 = models.DecimalField(max_digits=5, decimal_places=4, default=0)
    recovery_rate_m5_plus = models.DecimalField(max_digits=5, decimal_places=4, default=0)
    complaints_per_10k_contacts = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    inspection_score = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    fee_rate = models.DecimalField(max_digits=5, decimal_places=4, default=0)
    notes = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["agency_id"]

    def __str__(self) -> str:
        return f"Candidate file of {self.agency_id}"


class CriterionWeight(models.Model):
    """Editable weight of one selection criterion (missing rows use the library default)."""

    name = models.CharField(max_length=40, unique=True, choices=CRITERION_CHOICES)
    weight = models.DecimalField(max_digits=6, decimal_places=4)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["name"]

    def __str__(self) -> str:
        return f"{self.name}={self.weight}"


class Inspection(models.Model):
    """A yearly on-site inspection of an agency (process, data security, recordings, training)."""

    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="inspections")
    year = models.PositiveIntegerField()
    inspected_on = models.DateField()
    score = models.DecimalField(max_digits=5, decimal_places=2, help_text="0–100")
    passed = models.BooleanField(default=True)
    findings = models.TextField(blank=True, default="")
    inspector = by_user()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-inspected_on", "-id"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["agency", "year"], name="one_inspection_per_agency_year"),
        ]

    def __str__(self) -> str:
        return f"Inspection {self.agency_id} {self.year}: {self.score}"


class StatusChange(NewestFirst):
    """History of an agency's approval status (approval, suspension, reinstatement, exit) with reason."""

    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="status_changes")
    old_status = models.CharField(max_length=16)
    new_status = models.CharField(max_length=16)
    reason = models.CharField(max_length=300)
    on = models.DateField()
    by = by_user()

    class Meta(NewestFirst.Meta):
        verbose_name = _("status change")

    def __str__(self) -> str:
        return f"{self.agency_id}: {self.old_status} → {self.new_status}"
