"""Admin: the bank edits the authority matrix and approver grants (audited); plan records are read-only
(every change goes through the audited services)."""

from __future__ import annotations

from django.contrib import admin

from fieldcollect.plans.models import (
    ApproverGrant,
    AuthorityLevel,
    Hardship,
    PlanAgreement,
    PlanInstalment,
    RestructuringProposal,
)
from fieldcollect.privacy.admin_base import AuditedAdmin, ReadOnlyAdmin

LEVEL_FIELDS = ["role", "name", "rank", "max_waiver_share", "max_waiver_fen", "max_term_extension_months"]


@admin.register(AuthorityLevel)
class AuthorityLevelAdmin(AuditedAdmin):
    audit_fields = LEVEL_FIELDS
    list_display = ("rank", "role", "name", "max_waiver_share", "max_waiver_fen", "max_term_extension_months")
    list_editable = ("name", "max_waiver_share", "max_waiver_fen", "max_term_extension_months")
    list_display_links = ("role",)


@admin.register(ApproverGrant)
class ApproverGrantAdmin(AuditedAdmin):
    audit_fields = ["user", "level"]
    list_display = ("user", "level", "granted_at")
    autocomplete_fields = ()


@admin.register(Hardship)
class HardshipAdmin(ReadOnlyAdmin):
    list_display = ("id", "case_id", "reason", "monthly_income_fen", "monthly_expenses_fen", "recorded_at")


@admin.register(RestructuringProposal)
class ProposalAdmin(ReadOnlyAdmin):
    list_display = ("id", "case_id", "kind", "state", "waiver_fen", "waiver_share", "bank_loss_pv_fen",
                    "plan_status", "proposed_at")
    list_filter = ("state", "kind", "plan_status")


@admin.register(PlanAgreement)
class PlanAgreementAdmin(ReadOnlyAdmin):
    list_display = ("agreement_no", "proposal_id", "issued_at", "expires_at", "accepted_at", "declined_at")


@admin.register(PlanInstalment)
class PlanInstalmentAdmin(ReadOnlyAdmin):
    list_display = ("proposal_id", "seq", "due_date", "payment_fen", "principal_fen", "interest_fen")
