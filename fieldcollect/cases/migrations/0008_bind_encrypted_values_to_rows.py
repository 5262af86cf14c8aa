"""Bind every encrypted value to its table, column and row (issue 17); see
``fieldcollect.privacy.fields.bind_rows_operations``."""

from django.db import migrations

from fieldcollect.privacy.fields import bind_rows_operations


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0007_payment_reference_unique"),
    ]

    operations = bind_rows_operations("cases", "ContactAttempt", "Note")
