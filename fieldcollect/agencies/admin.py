"""Agencies, contracts and collectors come from the bank's export and the audited services: read-only
here (contracts and their versions are edited on the contract pages, with maker-checker, through
:mod:`fieldcollect.agencies.services`). The one edit kept is linking a collector to a
login (and deactivating it), audited."""

from django.contrib import admin

from fieldcollect.agencies.models import Agency, AgencyContract, AgencyContractVersion, Collector
from fieldcollect.privacy.admin_base import AuditedAdmin, ReadOnlyAdmin, ReadOnlyInline


class ContractInline(ReadOnlyInline):
    model = AgencyContract
    fields = ("reference", "status", "starts_on", "ends_on", "capacity", "placement_days", "dsa_valid_until")


@admin.register(Agency)
class AgencyAdmin(ReadOnlyAdmin):
    list_display = ("agency_id", "name", "status", "capacity", "placement_days", "dsa_valid_until")
    list_filter = ("status",)
    search_fields = ("name", "name_en")
    inlines = (ContractInline,)


@admin.register(AgencyContract)
class AgencyContractAdmin(ReadOnlyAdmin):
    list_display = ("reference", "agency", "status", "starts_on", "ends_on", "capacity", "dsa_valid_until")
    list_filter = ("status",)
    search_fields = ("reference", "agency__name")


@admin.register(AgencyContractVersion)
class AgencyContractVersionAdmin(ReadOnlyAdmin):
    list_display = ("contract", "number", "effective_from", "state", "made_by", "checked_by")
    list_filter = ("state",)
    search_fields = ("contract__reference",)


@admin.register(Collector)
class CollectorAdmin(AuditedAdmin):
    audit_fields = ("user", "active")
    allow_add = False
    allow_delete = False
    list_display = ("collector_id", "name", "agency", "city", "certified_until", "trained_until", "active", "user")
    list_filter = ("agency", "active")
    search_fields = ("name",)
    raw_id_fields = ("user",)
