"""Bind every encrypted value to its table, column and row (issue 17); see
``fieldcollect.privacy.fields.bind_rows_operations``."""

from django.db import migrations

from fieldcollect.privacy.fields import bind_rows_operations


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0002_encrypt_phone_numbers"),
    ]

    operations = bind_rows_operations("compliance", "DebtorFlag", "BlockedAttempt")
