"""Store personal data encrypted (issue #4): schema change, then encrypt the existing rows."""

from django.db import migrations

import fieldcollect.privacy.fields


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0004_list_indexes_2'),
    ]

    operations = [
        migrations.AlterField(
            model_name='contactattempt',
            name='notes',
            field=fieldcollect.privacy.fields.EncryptedTextField(blank=True, default=''),
        ),
        migrations.AlterField(
            model_name='contactattempt',
            name='number',
            field=fieldcollect.privacy.fields.EncryptedCharField(blank=True, default='', help_text='Phone number or address used', max_length=32),
        ),
        migrations.AlterField(
            model_name='note',
            name='body',
            field=fieldcollect.privacy.fields.EncryptedTextField(),
        ),
        fieldcollect.privacy.fields.encrypt_rows_operation('cases', 'ContactAttempt', 'Note'),
    ]
