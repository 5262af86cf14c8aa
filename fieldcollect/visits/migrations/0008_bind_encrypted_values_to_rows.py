"""Bind every encrypted value to its table, column and row (issue 17): a ``row_binding`` column (a
random id per row, assigned here to the existing rows) and every value rewritten in the bound ``fc2``
format under the primary key (``fieldcollect.privacy.fields.reencrypt_rows``). Migrating back
rewrites the values unbound (``fc1``) before the column is dropped."""

from django.db import migrations

import fieldcollect.privacy.fields
from fieldcollect.privacy.fields import encrypt_rows_operation


class Migration(migrations.Migration):
    dependencies = [
        ("visits", "0007_seal_clear_evidence_files"),
    ]

    operations = [
        migrations.AddField(
            model_name="appointment",
            name="row_binding",
            field=fieldcollect.privacy.fields.RowBindingField(default=""),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="visitreport",
            name="row_binding",
            field=fieldcollect.privacy.fields.RowBindingField(default=""),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="evidence",
            name="row_binding",
            field=fieldcollect.privacy.fields.RowBindingField(default=""),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="feedbackrequest",
            name="row_binding",
            field=fieldcollect.privacy.fields.RowBindingField(default=""),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="outboxmessage",
            name="row_binding",
            field=fieldcollect.privacy.fields.RowBindingField(default=""),
            preserve_default=False,
        ),
        encrypt_rows_operation("visits", "Appointment", "VisitReport", "Evidence", "FeedbackRequest", "OutboxMessage", bind=True),
    ]
