from django.contrib import admin

from fieldcollect.agencies.models import Agency, AgencyContract, Collector


class ContractInline(admin.TabularInline):
    model = AgencyContract
    extra = 0
    fields = ("reference", "status", "starts_on", "ends_on", "capacity", "placement_days", "dsa_valid_until")


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ("agency_id", "name", "status", "capacity", "placement_days", "dsa_valid_until")
    list_filter = ("status",)
    search_fields = ("name", "name_en")
    inlines = (ContractInline,)


@admin.register(AgencyContract)
class AgencyContractAdmin(admin.ModelAdmin):
    list_display = ("reference", "agency", "status", "starts_on", "ends_on", "capacity", "dsa_valid_until")
    list_filter = ("status",)
    search_fields = ("reference", "agency__name")


@admin.register(Collector)
class CollectorAdmin(admin.ModelAdmin):
    list_display = ("collector_id", "name", "agency", "city", "certified_until", "trained_until", "active", "user")
    list_filter = ("agency", "active")
    search_fields = ("name",)
    raw_id_fields = ("user",)
