"""Collection agencies and their collectors (reference data, loaded from the bank's export)."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _


class Agency(models.Model):
    class Status(models.TextChoices):
        CANDIDATE = "candidate", _("Candidate")
        APPROVED = "approved", _("Approved")
        SUSPENDED = "suspended", _("Suspended")
        EXITED = "exited", _("Exited")

    agency_id = models.BigIntegerField(primary_key=True)
    name = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.APPROVED)
    regions = models.JSONField(default=list, help_text="Cities served")
    capacity = models.PositiveIntegerField(default=0, help_text="Open cases the agency can hold")
    eligible_buckets = models.JSONField(default=list)
    placement_days = models.PositiveIntegerField(default=60)
    commission_tiers = models.JSONField(default=dict, help_text="Commission rate by bucket at placement")
    min_amount_fen = models.BigIntegerField(default=0)
    max_amount_fen = models.BigIntegerField(default=0)
    dsa_valid_until = models.DateField(null=True, blank=True, help_text="Data-security agreement")
    founded_year = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["agency_id"]
        verbose_name_plural = "agencies"

    def __str__(self) -> str:
        return self.name


class Collector(models.Model):
    collector_id = models.BigIntegerField(primary_key=True)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="collectors")
    name = models.CharField(max_length=100)
    city = models.CharField(max_length=50)
    base_lat = models.FloatField(null=True, blank=True)
    base_lon = models.FloatField(null=True, blank=True)
    certified_until = models.DateField(null=True, blank=True)
    trained_until = models.DateField(null=True, blank=True)
    user = models.OneToOneField(
        "core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="collector"
    )

    class Meta:
        ordering: ClassVar[list[str]] = ["collector_id"]

    def __str__(self) -> str:
        return self.name
