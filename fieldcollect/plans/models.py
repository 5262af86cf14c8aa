"""Hardship, restructuring proposals under maker-checker approval, agreements and the amended schedule.

The maths lives in the pure modules (:mod:`~fieldcollect.plans.schedule`, :mod:`~fieldcollect.plans.options`,
:mod:`~fieldcollect.plans.authority`, :mod:`~fieldcollect.plans.promises`); these models store what was
proposed, who checked it, what the customer accepted and the instalments of the accepted plan.
All money in integer fen.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fieldcollect.plans.authority import PlanState
from fieldcollect.plans.options import OptionKind
from fieldcollect.privacy.fields import EncryptedCharField, EncryptedModel


class AuthorityLevel(models.Model):
    """One row of the authority matrix: how much an approver of this level may approve alone.

    Levels are ordered by ``rank`` (lowest authority first); a proposal beyond a level's limits is
    escalated to the levels that cover it. Editable by the bank in the admin.
    """

    role = models.SlugField(max_length=40, unique=True, help_text="Key used in the matrix, e.g. bank_approver")
    name = models.CharField(_("name"), max_length=100)
    rank = models.PositiveSmallIntegerField(_("rank"), default=0, help_text="Higher rank = more authority")
    max_waiver_share = models.DecimalField(_("max waiver share"), max_digits=7, decimal_places=6,
                                           help_text="Of everything owed, e.g. 0.100000")
    max_waiver_fen = models.BigIntegerField(_("max waiver (fen)"))
    max_term_extension_months = models.PositiveSmallIntegerField(_("max term extension (months)"), default=0)

    class Meta:
        ordering: ClassVar[list[str]] = ["rank", "id"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(condition=Q(max_waiver_share__gte=0, max_waiver_share__lte=1),
                                   name="authority_share_in_unit_interval"),
            models.CheckConstraint(condition=Q(max_waiver_fen__gte=0), name="authority_amount_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.role})"


class ApproverGrant(models.Model):
    """The authority level of a bank user (a collections manager without a grant acts at the lowest level)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="plan_authority")
    level = models.ForeignKey(AuthorityLevel, on_delete=models.PROTECT, related_name="grants")
    granted_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.user_id} → {self.level.role}"


class HardshipReason(models.TextChoices):
    JOB_LOSS = "job_loss", _("Job loss")
    INCOME_CUT = "income_cut", _("Income reduced")
    ILLNESS = "illness", _("Illness or injury")
    BUSINESS = "business", _("Business difficulties")
    FAMILY = "family", _("Family event")
    DISASTER = "disaster", _("Natural disaster")
    OTHER = "other", _("Other")


class Hardship(EncryptedModel):
    """A customer's hardship as declared to the collector (reason, monthly income and expenses)."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="hardships")
    reason = models.CharField(_("reason"), max_length=20, choices=HardshipReason.choices)
    detail = EncryptedCharField(_("detail"), max_length=500, blank=True, default="")
    monthly_income_fen = models.BigIntegerField(_("monthly income (fen)"))
    monthly_expenses_fen = models.BigIntegerField(_("monthly expenses (fen)"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar[list[str]] = ["-recorded_at", "-id"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(condition=Q(monthly_income_fen__gte=0, monthly_expenses_fen__gte=0),
                                   name="hardship_amounts_non_negative"),
        ]

    def __str__(self) -> str:
        return f"Hardship {self.pk} case {self.case_id} {self.reason}"

    @property
    def disposable_fen(self) -> int:
        return self.monthly_income_fen - self.monthly_expenses_fen


class ProposalState(models.TextChoices):
    PROPOSED = PlanState.PROPOSED.value, _("Proposed")
    ENDORSED = PlanState.ENDORSED.value, _("Endorsed")
    ESCALATED = PlanState.ESCALATED.value, _("Escalated")
    APPROVED = PlanState.APPROVED.value, _("Approved")
    REJECTED = PlanState.REJECTED.value, _("Rejected")
    OFFERED = PlanState.OFFERED.value, _("Offered")
    ACCEPTED = PlanState.ACCEPTED.value, _("Accepted")
    EXPIRED = PlanState.EXPIRED.value, _("Expired")
    DECLINED = "declined", _("Declined")


OPEN_STATES = (ProposalState.PROPOSED, ProposalState.ENDORSED, ProposalState.ESCALATED, ProposalState.APPROVED,
               ProposalState.OFFERED)


class PlanStatus(models.TextChoices):
    PERFORMING = "performing", _("Performing")
    BROKEN = "broken", _("Broken")
    COMPLETED = "completed", _("Completed")


class RestructuringProposal(EncryptedModel):
    """A priced restructuring option proposed for a case, and its way through maker-checker approval."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="plan_proposals")
    hardship = models.ForeignKey(Hardship, on_delete=models.PROTECT, related_name="proposals")
    agency = models.ForeignKey("agencies.Agency", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("option"), max_length=20, choices=[(k.value, k.value) for k in OptionKind])
    parameters = models.JSONField(default=dict, help_text="Option parameters and the position it was priced on")
    schedule = models.JSONField(default=list, help_text="New instalments (amounts in fen)")
    as_of = models.DateField(help_text="Restructuring date; instalment k is due k months later")
    annual_rate = models.DecimalField(max_digits=9, decimal_places=6)
    total_owed_fen = models.BigIntegerField()
    new_principal_fen = models.BigIntegerField()
    total_cost_fen = models.BigIntegerField()
    original_cost_fen = models.BigIntegerField()
    first_instalment_fen = models.BigIntegerField()
    max_instalment_fen = models.BigIntegerField()
    term_months = models.PositiveSmallIntegerField()
    term_extension_months = models.PositiveSmallIntegerField(default=0)
    waiver_fen = models.BigIntegerField(default=0)
    waiver_share = models.DecimalField(max_digits=7, decimal_places=6, default=0)
    pv_original_fen = models.BigIntegerField()
    pv_new_fen = models.BigIntegerField()
    bank_loss_pv_fen = models.BigIntegerField()
    probability = models.DecimalField(max_digits=7, decimal_places=6, null=True, blank=True)
    expected_recovery_fen = models.BigIntegerField(null=True, blank=True)
    affordable = models.BooleanField(null=True, blank=True)
    apr = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    note = EncryptedCharField(max_length=500, blank=True, default="")

    state = models.CharField(max_length=16, choices=ProposalState.choices, default=ProposalState.PROPOSED,
                             db_index=True)
    maker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    endorser = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    escalated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    escalated_to = models.JSONField(default=list, blank=True)
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    approver_role = models.CharField(max_length=40, blank=True, default="")
    proposed_at = models.DateTimeField(default=timezone.now)
    endorsed_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    offered_at = models.DateTimeField(null=True, blank=True)
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    # the watch of an accepted plan
    plan_status = models.CharField(max_length=16, choices=PlanStatus.choices, blank=True, default="", db_index=True)
    plan_checked_on = models.DateField(null=True, blank=True)
    broken_on = models.DateField(null=True, blank=True)
    broken_seq = models.PositiveSmallIntegerField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering: ClassVar[list[str]] = ["-proposed_at", "-id"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(state__in=[s.value for s in OPEN_STATES]),
                name="one_open_proposal_per_case",
            ),
            models.CheckConstraint(condition=Q(waiver_fen__gte=0), name="proposal_waiver_non_negative"),
        ]
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["agency", "state"])]

    def __str__(self) -> str:
        return f"Proposal {self.pk} case {self.case_id} {self.kind} {self.state}"

    @property
    def is_open(self) -> bool:
        return self.state in {s.value for s in OPEN_STATES}


class ProposalEvent(EncryptedModel):
    """One step of a proposal (the authority state machine's audit events, stored)."""

    proposal = models.ForeignKey(RestructuringProposal, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=16)
    from_state = models.CharField(max_length=16, blank=True, default="")
    to_state = models.CharField(max_length=16)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    actor_label = models.CharField(max_length=150, blank=True, default="")
    actor_role = models.CharField(max_length=40)
    at = models.DateTimeField()
    note = EncryptedCharField(max_length=500, blank=True, default="")

    class Meta:
        ordering: ClassVar[list[str]] = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.proposal_id} {self.action} {self.from_state}→{self.to_state}"


class PlanAgreement(EncryptedModel):
    """The bilingual agreement PDF offered to the customer and the state of its signed link."""

    proposal = models.OneToOneField(RestructuringProposal, on_delete=models.PROTECT, related_name="agreement")
    agreement_no = models.CharField(max_length=40, unique=True)
    pdf = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    link_nonce = models.CharField(max_length=32, help_text="Binds the signed link to this agreement")
    link_token_hash = models.CharField(
        max_length=64, blank=True, default="",
        help_text="SHA-256 of the one link sent to the customer: no other token opens the agreement")
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    decline_reason = EncryptedCharField(max_length=200, blank=True, default="")

    class Meta:
        ordering: ClassVar[list[str]] = ["-issued_at", "-id"]

    def __str__(self) -> str:
        return self.agreement_no


class PlanInstalment(models.Model):
    """An instalment of an accepted plan: the loan's amended schedule."""

    proposal = models.ForeignKey(RestructuringProposal, on_delete=models.PROTECT, related_name="instalments")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+")
    loan = models.ForeignKey("portfolio.Loan", on_delete=models.PROTECT, related_name="+")
    seq = models.PositiveSmallIntegerField()
    due_date = models.DateField()
    opening_fen = models.BigIntegerField()
    principal_fen = models.BigIntegerField()
    interest_fen = models.BigIntegerField()
    payment_fen = models.BigIntegerField()
    closing_fen = models.BigIntegerField()
    capitalised_fen = models.BigIntegerField(default=0)
    # the day the payments covered this instalment (plans.promises.instalments_paid_on), set by the plan
    # watch: nightly, and at once when a payment is reported the same day (fieldcollect.payments)
    paid_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["proposal", "seq"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["proposal", "seq"], name="plan_instalment_seq_unique"),
        ]
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["loan", "due_date"])]

    def __str__(self) -> str:
        return f"{self.proposal_id}#{self.seq} {self.due_date} {self.payment_fen}"
