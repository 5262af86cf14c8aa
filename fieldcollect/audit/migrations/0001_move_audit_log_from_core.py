"""The audit log leaves ``core`` for its own app (issue 18): entries and chain heads move in the
migration state only and keep their tables (``core_auditentry``, ``core_auditchainhead``) with every
row, the append-only trigger on PostgreSQL and the index names (``fieldcollect.core.model_move``);
their content types, and with them the permissions, move to the new app."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from fieldcollect.core.model_move import content_types_moved, state_only


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('core', '0009_bind_encrypted_values_to_rows'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        state_only(migrations.CreateModel(
            name='AuditChainHead',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('seq', models.BigIntegerField(default=0)),
                ('hash', models.CharField(default='0000000000000000000000000000000000000000000000000000000000000000', max_length=64)),
            ],
            options={
                'db_table': 'core_auditchainhead',
            },
        ), migrations.CreateModel(
            name='AuditEntry',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('chain', models.PositiveSmallIntegerField(default=1, help_text='Which of the parallel chains (1..K)')),
                ('seq', models.BigIntegerField(help_text='Position in its chain: 1, 2, 3, ... without gaps')),
                ('at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ('actor_label', models.CharField(blank=True, default='', max_length=150)),
                ('action', models.CharField(db_index=True, max_length=64)),
                ('object_type', models.CharField(max_length=64)),
                ('object_id', models.CharField(max_length=64)),
                ('old', models.JSONField(blank=True, null=True)),
                ('new', models.JSONField(blank=True, null=True)),
                ('prev_hash', models.CharField(max_length=64)),
                ('hash', models.CharField(max_length=64)),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'db_table': 'core_auditentry',
                'ordering': ['chain', 'seq'],
                'indexes': [models.Index(fields=['object_type', 'object_id'], name='core_audite_object__83eb8a_idx')],
                'constraints': [models.UniqueConstraint(fields=('chain', 'seq'), name='audit_chain_seq_unique')],
            },
        )),
        content_types_moved('core', 'audit', 'auditentry', 'auditchainhead'),
    ]
