"""The audit log moved to its own app (``audit/migrations/0001_move_audit_log_from_core.py``): its
models leave the core state only; the tables stay, now the audit app's."""

from django.db import migrations

from fieldcollect.core.model_move import state_only


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0009_bind_encrypted_values_to_rows'),
        ('audit', '0001_move_audit_log_from_core'),
    ]

    operations = [
        state_only(migrations.DeleteModel(name='AuditChainHead'), migrations.DeleteModel(name='AuditEntry')),
    ]
