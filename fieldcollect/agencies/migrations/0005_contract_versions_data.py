"""Each existing contract gets its version 1 (approved, effective from the contract's start) with the
terms it was signed with; from then on the terms change by versions (maker-checker)."""

from django.db import migrations

TERM_FIELDS = ("regions", "capacity", "eligible_buckets", "placement_days", "max_retentions", "commission_tiers",
               "permitted_fields", "penalty_terms", "sub_processors", "dsa_signed_on", "dsa_valid_until",
               "pia_completed_on", "pia_reference", "pia_summary")


def first_versions(apps, schema_editor):
    contract_model = apps.get_model("agencies", "AgencyContract")
    version_model = apps.get_model("agencies", "AgencyContractVersion")
    have = set(version_model.objects.values_list("contract_id", flat=True))
    rows = [
        version_model(contract_id=c.pk, number=1, effective_from=c.starts_on, state="approved",
                      note="version 1 (as signed)", **{f: getattr(c, f) for f in TERM_FIELDS})
        for c in contract_model.objects.exclude(pk__in=have).iterator()
    ]
    version_model.objects.bulk_create(rows, batch_size=1000)


def drop_first_versions(apps, schema_editor):
    apps.get_model("agencies", "AgencyContractVersion").objects.filter(number=1, made_by__isnull=True).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("agencies", "0004_contract_versions"),
    ]

    operations = [
        migrations.RunPython(first_versions, drop_first_versions),
    ]
