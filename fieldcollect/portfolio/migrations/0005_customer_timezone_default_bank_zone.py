# A new customer's time zone defaults to the bank's (settings.BANK_TIME_ZONE, read by
# fieldcollect.core.bank_time). Django applies field defaults itself (no database default), so this changes
# the migration state only: as a plain AlterField, SQLite would rebuild the whole customer table.

from django.db import migrations, models

import fieldcollect.core.bank_time


class Migration(migrations.Migration):

    dependencies = [
        ('portfolio', '0004_bind_encrypted_values_to_rows'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='customer',
                    name='timezone',
                    field=models.CharField(default=fieldcollect.core.bank_time.bank_time_zone_name, max_length=64),
                ),
            ],
            database_operations=[],
        ),
    ]
