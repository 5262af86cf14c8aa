"""Seed the authority matrix with the bank's default limits (editable afterwards in the admin)."""

from decimal import Decimal

from django.db import migrations

DEFAULT_LEVELS = [
    # role, name, rank, max waiver share, max waiver (fen), max term extension (months)
    ("bank_approver", "审批员 Approver", 10, Decimal("0.100000"), 200_000, 12),
    ("collections_manager", "催收部负责人 Head of collections", 20, Decimal("0.300000"), 2_000_000, 36),
]


def seed(apps, schema_editor):
    AuthorityLevel = apps.get_model("plans", "AuthorityLevel")
    for role, name, rank, share, amount, months in DEFAULT_LEVELS:
        AuthorityLevel.objects.get_or_create(
            role=role,
            defaults={"name": name, "rank": rank, "max_waiver_share": share, "max_waiver_fen": amount,
                      "max_term_extension_months": months},
        )


def unseed(apps, schema_editor):
    AuthorityLevel = apps.get_model("plans", "AuthorityLevel")
    AuthorityLevel.objects.filter(role__in=[r[0] for r in DEFAULT_LEVELS], grants__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("plans", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
