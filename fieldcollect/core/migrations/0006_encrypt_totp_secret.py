"""TOTP secrets encrypted at rest (same key ring as personal data; `fieldcollect keys rotate` covers them)."""

from django.db import migrations

import fieldcollect.privacy.fields


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
        fieldcollect.privacy.fields.encrypt_rows_operation('core', 'TotpDevice'),
    ]
