"""TOTP secrets encrypted at rest (same key ring as personal data; `fieldcollect keys rotate` covers them)."""

from django.db import migrations

import fieldcollect.privacy.fields


def encrypt_existing(apps, schema_editor):
    fieldcollect.privacy.fields.reencrypt_rows(apps.get_model('core', 'TotpDevice'), using=schema_editor.connection)


def decrypt_existing(apps, schema_editor):
    fieldcollect.privacy.fields.decrypt_rows(apps.get_model('core', 'TotpDevice'), using=schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0005_audit_append_only'),
    ]

    operations = [
        migrations.AlterField(
            model_name='totpdevice',
            name='secret',
            field=fieldcollect.privacy.fields.EncryptedCharField(max_length=64),
        ),
        migrations.RunPython(encrypt_existing, decrypt_existing),
    ]
