"""Bind every encrypted value to its table, column and row (issue 17); see
``fieldcollect.privacy.fields.bind_rows_operations``."""

from django.db import migrations

from fieldcollect.privacy.fields import bind_rows_operations


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0002_encrypt_personal_data"),
    ]

    operations = bind_rows_operations("complaints", "Complaint", "InvestigationEntry")
