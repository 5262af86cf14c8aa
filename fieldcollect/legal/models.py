"""Legal referrals (诉讼/仲裁/调解) with their hearings and costs, letters (催收函, 律师函, the US
validation notice) and the alternate contacts of skip tracing (失联修复).

Money is integer fen. Customer data (a letter's addressee, an alternate contact's number or address) is
encrypted at rest (:mod:`fieldcollect.privacy.fields`), masked on pages and read in clear only through
an audited service.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fieldcollect.core.records import NewestFirst, by_user
from fieldcollect.privacy.fields import BlindIndexField, EncryptedCharField, EncryptedModel


class ReferralKind(models.TextChoices):
    LITIGATION = "litigation", _("Litigation (诉讼)")
    ARBITRATION = "arbitration", _("Arbitration (仲裁)")
    MEDIATION = "mediation", _("Mediation (调解)")


class ReferralStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DECIDED = "decided", _("Decided")
    ENFORCING = "enforcing", _("Enforcement")
    CLOSED = "closed", _("Closed")


# a referral in one of these states holds the debtor out of agency placement (the placement screen)
REFERRAL_ACTIVE = (ReferralStatus.OPEN, ReferralStatus.DECIDED, ReferralStatus.ENFORCING)


class ReferralOutcome(models.TextChoices):
    NONE = "", _("Pending")
    WON = "won", _("Judgement for the bank")
    LOST = "lost", _("Judgement against the bank")
    SETTLED = "settled", _("Settled")
    MEDIATED = "mediated", _("Mediation agreement")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    DISMISSED = "dismissed", _("Dismissed")


class EnforcementStatus(models.TextChoices):
    NONE = "", _("None")
    APPLIED = "applied", _("Applied for")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    TERMINATED = "terminated", _("Terminated (no assets)")


class LegalReferral(models.Model):
    """A case referred to litigation, arbitration or mediation; referring recalls it from its agency."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="legal_referrals")
    customer = models.ForeignKey("portfolio.Customer", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=ReferralKind.choices)
    status = models.CharField(max_length=16, choices=ReferralStatus.choices, default=ReferralStatus.OPEN)
    law_firm = models.CharField(max_length=200, blank=True, default="")
    forum = models.CharField(
        max_length=200, help_text="Court, arbitration commission or mediation institution"
    )
    forum_case_number = models.CharField(max_length=100, blank=True, default="")
    claim_fen = models.BigIntegerField(help_text="Amount claimed")
    referred_on = models.DateField()
    filed_on = models.DateField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=ReferralOutcome.choices, blank=True, default="")
    outcome_on = models.DateField(null=True, blank=True)
    judgement_fen = models.BigIntegerField(null=True, blank=True, help_text="Amount awarded or agreed")
    enforcement = models.CharField(max_length=16, choices=EnforcementStatus.choices, blank=True, default="")
    enforcement_case_number = models.CharField(max_length=100, blank=True, default="")
    closed_on = models.DateField(null=True, blank=True)
    placement = models.ForeignKey(
        "cases.Placement",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The agency placement the referral recalled",
    )
    created_by = by_user()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-referred_on", "-id"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(condition=Q(claim_fen__gt=0), name="legal_claim_positive"),
            models.CheckConstraint(
                condition=Q(judgement_fen__isnull=True) | Q(judgement_fen__gte=0),
                name="legal_judgement_not_negative",
            ),
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(status__in=["open", "decided", "enforcing"]),
                name="one_active_referral_per_case",
            ),
        ]
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["customer", "status"])]

    def __str__(self) -> str:
        return f"Referral {self.pk} case {self.case_id} {self.kind}"


class Hearing(models.Model):
    referral = models.ForeignKey(LegalReferral, on_delete=models.CASCADE, related_name="hearings")
    at = models.DateTimeField()
    place = models.CharField(max_length=200, blank=True, default="")
    notes = models.CharField(max_length=500, blank=True, default="")
    result = models.CharField(max_length=500, blank=True, default="")
    created_by = by_user()

    class Meta:
        ordering: ClassVar[list[str]] = ["at", "id"]

    def __str__(self) -> str:
        return f"Hearing {self.pk} referral {self.referral_id}"


class CostKind(models.TextChoices):
    COURT_FEE = "court_fee", _("Court or arbitration fee")
    LAWYER_FEE = "lawyer_fee", _("Lawyer's fee")
    ENFORCEMENT_FEE = "enforcement_fee", _("Enforcement fee")
    OTHER = "other", _("Other")


class LegalCost(models.Model):
    referral = models.ForeignKey(LegalReferral, on_delete=models.CASCADE, related_name="costs")
    kind = models.CharField(max_length=16, choices=CostKind.choices)
    amount_fen = models.BigIntegerField()
    incurred_on = models.DateField()
    note = models.CharField(max_length=300, blank=True, default="")
    recorded_by = by_user()

    class Meta:
        ordering: ClassVar[list[str]] = ["incurred_on", "id"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="legal_cost_positive"),
        ]

    def __str__(self) -> str:
        return f"Cost {self.pk} referral {self.referral_id} {self.amount_fen} fen"


class LetterKind(models.TextChoices):
    DEMAND = "demand", _("Demand letter (催收函)")
    LAWYER = "lawyer", _("Lawyer's letter (律师函)")
    VALIDATION = "validation", _("Validation notice (Regulation F)")


class LetterStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    RETURNED = "returned", _("Returned")


class Letter(EncryptedModel):
    """A letter sent to the debtor: a contact (channel ``letter``) checked by the compliance engine and
    counted in its ledger; the PDF is rendered from these facts (nothing else is stored of it but its
    hash)."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="letters")
    contact = models.OneToOneField("cases.ContactAttempt", on_delete=models.PROTECT, related_name="letter")
    kind = models.CharField(max_length=16, choices=LetterKind.choices)
    status = models.CharField(max_length=16, choices=LetterStatus.choices, default=LetterStatus.SENT)
    reference = models.CharField(max_length=40, unique=True)
    addressee = EncryptedCharField(max_length=100, help_text="Name, encrypted")
    address = EncryptedCharField(max_length=300, help_text="Postal address, encrypted")
    law_firm = models.CharField(max_length=200, blank=True, default="", help_text="Signing firm (律师函)")
    lawyer = models.CharField(max_length=100, blank=True, default="")
    facts = models.JSONField(
        default=dict, help_text="Amounts and dates printed (integer fen), no personal data"
    )
    sha256 = models.CharField(max_length=64, blank=True, default="")
    tracking_number = models.CharField(max_length=64, blank=True, default="")
    sent_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)
    return_reason = models.CharField(max_length=200, blank=True, default="")
    created_by = by_user()

    class Meta:
        ordering: ClassVar[list[str]] = ["-sent_at", "-id"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=~Q(kind="lawyer") | ~Q(law_firm=""), name="lawyer_letter_has_firm"
            ),
        ]

    def __str__(self) -> str:
        return f"Letter {self.reference} case {self.case_id} {self.kind}"


class ContactKind(models.TextChoices):
    PHONE = "phone", _("Phone")
    ADDRESS = "address", _("Address")
    EMPLOYER = "employer", _("Employer")


class ContactSource(models.TextChoices):
    CUSTOMER = "customer", _("The customer")
    VISIT = "visit", _("A field visit")
    VENDOR = "vendor", _("A lawful vendor file")


class Consent(models.TextChoices):
    UNKNOWN = "unknown", _("Unknown")
    GIVEN = "given", _("Given")
    REFUSED = "refused", _("Refused")


class Verification(models.TextChoices):
    UNVERIFIED = "unverified", _("Not verified")
    VERIFIED = "verified", _("Verified")
    INVALID = "invalid", _("Invalid")


class AltContact(NewestFirst, EncryptedModel):
    """An alternate way to reach a debtor (失联修复): a phone, an address or an employer, whose party is
    the debtor or a third party (contacted only to locate the debtor, under the pack's third-party
    rules), with where it came from, the consent and the verification."""

    customer = models.ForeignKey("portfolio.Customer", on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="alt_contacts")
    kind = models.CharField(max_length=16, choices=ContactKind.choices)
    party = models.CharField(
        max_length=16, default="debtor", help_text="cases.Party: debtor or a third party"
    )
    value = EncryptedCharField(max_length=300, help_text="Number, address or employer (encrypted)")
    value_bidx = BlindIndexField(source="value", kind="exact")
    label = models.CharField(max_length=100, blank=True, default="", help_text="e.g. 'sister', 'new flat'")
    source = models.CharField(max_length=16, choices=ContactSource.choices)
    source_ref = models.CharField(
        max_length=200, blank=True, default="", help_text="visit_report:12, vendor:<file>#<row>, page, api"
    )
    consent = models.CharField(max_length=16, choices=Consent.choices, default=Consent.UNKNOWN)
    verification = models.CharField(
        max_length=16, choices=Verification.choices, default=Verification.UNVERIFIED
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = by_user()
    created_by = by_user()

    class Meta(NewestFirst.Meta):
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["customer", "kind", "value_bidx"], name="one_alt_contact_per_value"
            ),
        ]

    def __str__(self) -> str:
        return f"Alt contact {self.pk} customer {self.customer_id} {self.kind}"
