"""Debtor flags (pauses, consent, third-party stops) and the contact attempts the engine refused.

The rule engine (:mod:`fieldcollect.compliance.engine`) stays pure; these tables feed it (flags) and
keep its refusals (blocked attempts) for the daily report.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fieldcollect.core.records import NewestFirst, by_user
from fieldcollect.privacy.fields import EncryptedCharField, EncryptedModel


class FlagKind(models.TextChoices):
    COMPLAINT = "complaint", _("Complaint")
    DISPUTE = "dispute", _("Dispute")
    CEASE = "cease", _("Cease communication")
    ATTORNEY = "attorney", _("Represented by an attorney")
    DECEASED = "deceased", _("Deceased")
    BANKRUPT = "bankrupt", _("Bankrupt")
    CONSENT_HOURS = "consent_hours", _("Consents to contact outside hours")
    THIRD_PARTY_CEASE = "third_party_cease", _("Third party asked to stop")
    NO_VALID_NUMBER = "no_valid_number", _("No valid number")


class DebtorFlag(EncryptedModel):
    """A state of a debtor (customer) that limits contact, active on ``[starts_at, ends_at)``.

    ``ends_at`` null means until lifted; lifting sets ``ends_at`` and ``lifted_by``/``lifted_at``.
    """

    customer = models.ForeignKey("portfolio.Customer", on_delete=models.PROTECT, related_name="compliance_flags")
    flag = models.CharField(max_length=24, choices=FlagKind.choices)
    phone = EncryptedCharField(max_length=32, blank=True, default="",
                               help_text="Third party's phone (third_party_cease), encrypted")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=500)
    source = models.CharField(max_length=64, blank=True, default="", help_text="e.g. complaint:42, page, api")
    created_by = by_user()
    created_at = models.DateTimeField(auto_now_add=True)
    lifted_by = by_user()
    lifted_at = models.DateTimeField(null=True, blank=True)
    lift_reason = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering: ClassVar[list[str]] = ["-starts_at", "-id"]
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["customer", "starts_at"])]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                                   name="debtor_flag_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"Flag {self.pk} {self.flag} customer {self.customer_id}"


class BlockedAttempt(EncryptedModel):
    """A contact the compliance engine refused: who tried, for which case, how, when, and why."""

    at = models.DateTimeField(db_index=True, help_text="Time of the refused contact (as requested)")
    created_at = models.DateTimeField(auto_now_add=True)
    user = by_user()
    agency = models.ForeignKey("agencies.Agency", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey("portfolio.Customer", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    channel = models.CharField(max_length=16)
    party = models.CharField(max_length=16)
    number = EncryptedCharField(max_length=32, blank=True, default="", help_text="Number or address (encrypted)")
    path = models.CharField(max_length=32, blank=True, default="", help_text="page, api, check, visit, appointment")
    rule_ids = models.JSONField(default=list)
    explanation = models.TextField(blank=True, default="", help_text="English explanation")
    explanation_zh = models.TextField(blank=True, default="")
    next_allowed_at = models.DateTimeField(null=True, blank=True)
    pack = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        ordering: ClassVar[list[str]] = ["-at", "-id"]
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["agency", "at"])]

    def __str__(self) -> str:
        return f"Blocked {self.pk} {self.channel} case {self.case_id} {','.join(self.rule_ids)}"


class OutsourcingNotice(NewestFirst):
    """The notice telling a debtor that their debt is handled by a named agency (委外告知), queued in the
    outbox when a case of theirs is first placed with that agency. The agency's contacts wait until the
    message was sent and the pack's waiting days have passed (rule kind ``outsourcing_notice``)."""

    customer = models.ForeignKey("portfolio.Customer", on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+",
                             help_text="The placement's case that caused it")
    message = models.ForeignKey("outbox.OutboxMessage", on_delete=models.PROTECT, related_name="+")

    class Meta(NewestFirst.Meta):
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["customer", "agency"])]

    def __str__(self) -> str:
        return f"Notice {self.pk} customer {self.customer_id} agency {self.agency_id}"
