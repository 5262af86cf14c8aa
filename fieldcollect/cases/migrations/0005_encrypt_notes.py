"""Store personal data encrypted (issue #4): schema change, then encrypt the existing rows."""

from django.db import migrations

import fieldcollect.privacy.fields

MODELS = ('ContactAttempt', 'Note')


def encrypt_existing(apps, schema_editor):
    for name in MODELS:
        fieldcollect.privacy.fields.reencrypt_rows(apps.get_model('cases', name), using=schema_editor.connection)


def decrypt_existing(apps, schema_editor):
    for name in MODELS:
        fieldcollect.privacy.fields.decrypt_rows(apps.get_model('cases', name), using=schema_editor.connection)


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
        migrations.RunPython(encrypt_existing, decrypt_existing),
    ]
