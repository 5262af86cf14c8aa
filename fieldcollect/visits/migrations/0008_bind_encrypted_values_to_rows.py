"""Bind every encrypted value to its table, column and row (issue 17); see
``fieldcollect.privacy.fields.bind_rows_operations``."""

from django.db import migrations

from fieldcollect.privacy.fields import bind_rows_operations


class Migration(migrations.Migration):
    dependencies = [
        ("visits", "0007_seal_clear_evidence_files"),
    ]

    operations = bind_rows_operations("visits", "Appointment", "VisitReport", "Evidence", "FeedbackRequest", "OutboxMessage")
