"""Bind every encrypted value to its table, column and row (issue 17): a ``row_binding`` column (a
random id per row, assigned here to the existing rows) and every value rewritten in the bound ``fc2``
format under the primary key (``fieldcollect.privacy.fields.reencrypt_rows``). Migrating back
rewrites the values unbound (``fc1``) before the column is dropped."""

from django.db import migrations

import fieldcollect.privacy.fields
from fieldcollect.privacy.fields import encrypt_rows_operation


class Migration(migrations.Migration):
    dependencies = [
        ("portfolio", "0003_ingestbatch_data_date"),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="row_binding",
            field=fieldcollect.privacy.fields.RowBindingField(default=""),
            preserve_default=False,
        ),
        encrypt_rows_operation("portfolio", "Customer", bind=True),
    ]
