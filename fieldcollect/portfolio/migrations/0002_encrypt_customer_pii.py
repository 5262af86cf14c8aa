"""Store personal data encrypted (issue #4): schema change, then encrypt the existing rows."""

from django.db import migrations

import fieldcollect.privacy.fields


class Migration(migrations.Migration):

    dependencies = [
        ('portfolio', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='customer',
            name='id_number_bidx',
            field=fieldcollect.privacy.fields.BlindIndexField(kind='id_number', source='id_number'),
        ),
        migrations.AddField(
            model_name='customer',
            name='mobile_bidx',
            field=fieldcollect.privacy.fields.BlindIndexField(kind='phone', source='mobile'),
        ),
        migrations.AlterField(
            model_name='customer',
            name='address',
            field=fieldcollect.privacy.fields.EncryptedCharField(max_length=200),
        ),
        migrations.AlterField(
            model_name='customer',
            name='id_number',
            field=fieldcollect.privacy.fields.EncryptedCharField(max_length=18),
        ),
        migrations.AlterField(
            model_name='customer',
            name='mobile',
            field=fieldcollect.privacy.fields.EncryptedCharField(max_length=20),
        ),
        migrations.AlterField(
            model_name='customer',
            name='name',
            field=fieldcollect.privacy.fields.EncryptedCharField(max_length=100),
        ),
        fieldcollect.privacy.fields.encrypt_rows_operation('portfolio', 'Customer'),
    ]
