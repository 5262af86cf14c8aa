"""Admin: the bank edits the authority matrix and approver grants (audited); plan records are read-only
(every change goes through the audited services)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models, transaction
from django.http import HttpRequest

from fieldcollect.core.audit import audit_log, snapshot
from fieldcollect.plans.models import (
    ApproverGrant,
    AuthorityLevel,
    Hardship,
    PlanAgreement,
    PlanInstalment,
    RestructuringProposal,
)

LEVEL_FIELDS = ["role", "name", "rank", "max_waiver_share", "max_waiver_fen", "max_term_extension_months"]


class AuditedAdmin(admin.ModelAdmin):
    audit_fields: list[str] = []

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        old = None
        if change and obj.pk:
            old = snapshot(type(obj).objects.get(pk=obj.pk), self.audit_fields)
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit_log(actor=request.user if request.user.is_authenticated else None,  # type: ignore[arg-type]
                      action=f"plans.{type(obj).__name__.lower()}.{'change' if change else 'add'}",
                      object_type=type(obj).__name__.lower(), object_id=obj.pk, old=old,
                      new=snapshot(obj, self.audit_fields))

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            old = snapshot(obj, self.audit_fields)
            pk = obj.pk
            super().delete_model(request, obj)
            audit_log(actor=request.user if request.user.is_authenticated else None,  # type: ignore[arg-type]
                      action=f"plans.{type(obj).__name__.lower()}.delete",
                      object_type=type(obj).__name__.lower(), object_id=pk, old=old)


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


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False


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
    exclude = ("pdf", "link_nonce", "link_token_hash")


@admin.register(PlanInstalment)
class PlanInstalmentAdmin(ReadOnlyAdmin):
    list_display = ("proposal_id", "seq", "due_date", "payment_fen", "principal_fen", "interest_fen")
