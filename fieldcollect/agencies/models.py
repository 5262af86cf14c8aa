"""Collection agencies and their collectors (reference data, loaded from the bank's export)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from fieldcollect.core.records import by_user


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
    active = models.BooleanField(default=True, db_default=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["collector_id"]

    def __str__(self) -> str:
        return self.name

    def qualified_on(self, day: date) -> bool:
        """Certified and trained on ``day`` (both must be on file and unexpired)."""
        return (
            self.active
            and self.certified_until is not None
            and self.trained_until is not None
            and day <= self.certified_until
            and day <= self.trained_until
        )


class ContractTermsFields(models.Model):
    """The terms of an agency contract, declared once: the contract row carries them as signed, each
    :class:`AgencyContractVersion` carries them as amended (the version in force on a date wins, see
    :func:`fieldcollect.agencies.selectors.contract_terms`)."""

    regions = models.JSONField(default=list, help_text="Cities the agency may work in")
    capacity = models.PositiveIntegerField(default=0, help_text="Open placed cases the agency may hold")
    eligible_buckets = models.JSONField(default=list, help_text="Delinquency buckets it may receive")
    placement_days = models.PositiveIntegerField(default=60)
    max_retentions = models.PositiveSmallIntegerField(default=1, help_text="How often a placement may be retained")
    commission_tiers = models.JSONField(default=dict, help_text="Commission rate by bucket at placement")
    permitted_fields = models.JSONField(default=list, help_text="Customer data fields the agency may see")
    penalty_terms = models.JSONField(default=dict, blank=True,
                                     help_text="Penalty in fen per kind of event (see settlement.penalties)")
    sub_processors = models.JSONField(default=list, blank=True)
    dsa_signed_on = models.DateField(null=True, blank=True, help_text="Data-security agreement signed")
    dsa_valid_until = models.DateField(null=True, blank=True, help_text="Data-security agreement valid until")
    pia_completed_on = models.DateField(null=True, blank=True,
                                        help_text="Personal-information impact assessment completed (PIPL Art 55)")
    pia_reference = models.CharField(max_length=100, blank=True, default="",
                                     help_text="Impact assessment record (document reference)")
    pia_summary = models.TextField(blank=True, default="", help_text="Impact assessment conclusion")

    class Meta:
        abstract = True


TERM_FIELDS = ("regions", "capacity", "eligible_buckets", "placement_days", "max_retentions", "commission_tiers",
               "permitted_fields", "penalty_terms", "sub_processors", "dsa_signed_on", "dsa_valid_until",
               "pia_completed_on", "pia_reference", "pia_summary")


class AgencyContract(ContractTermsFields):
    """The terms a bank signs with an agency: where and what it may collect, for how long, at what
    commission, which customer data it may see, and the data-security agreement that must be valid
    for any placement. One agency may have successive contracts; the one in force on a date wins.
    Within a contract, the terms change by versions (:class:`AgencyContractVersion`, maker-checker);
    the columns here are the terms as signed (version 1)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        TERMINATED = "terminated", _("Terminated")

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="contracts")
    reference = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    starts_on = models.DateField()
    ends_on = models.DateField()

    class Meta:
        ordering: ClassVar[list[str]] = ["agency_id", "-starts_on"]
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["agency", "status", "starts_on"])]

    def __str__(self) -> str:
        return f"{self.reference} ({self.agency_id})"

    def in_force_on(self, day: date) -> bool:
        return self.status == self.Status.ACTIVE and self.starts_on <= day <= self.ends_on

    def dsa_valid_on(self, day: date) -> bool:
        return self.dsa_valid_until is not None and day <= self.dsa_valid_until


class AgencyContractVersion(ContractTermsFields):
    """One version of a contract's terms, effective from a date once a second person approved it
    (maker-checker, :mod:`fieldcollect.core.maker_checker`). The approved version with the latest
    ``effective_from`` on or before a date is the one in force on that date: for access (permitted
    fields), exports, placement and commission."""

    class State(models.TextChoices):
        PENDING = "pending", _("Awaiting approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    contract = models.ForeignKey(AgencyContract, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    effective_from = models.DateField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    note = models.CharField(max_length=500, blank=True, default="", help_text="Why the terms change")
    made_by = by_user()
    made_at = models.DateTimeField(null=True, blank=True)
    checked_by = by_user()
    checked_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering: ClassVar[list[str]] = ["contract_id", "-number"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["contract", "number"], name="one_contract_version_number"),
        ]
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["contract", "state", "effective_from"])]

    def __str__(self) -> str:
        return f"{self.contract_id} v{self.number} from {self.effective_from}"
