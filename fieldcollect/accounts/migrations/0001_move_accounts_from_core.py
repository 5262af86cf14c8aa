"""API tokens, agency network allow-lists, TOTP devices and failed log-ins leave ``core`` for the
accounts app (issue 18): the models move in the migration state only and keep their tables
(``core_apitoken``, ``core_agencyapinetworks``, ``core_totpdevice``, ``core_loginfailure``) with every
row, the index names, and the TOTP secrets' encryption bound to their table
(``fieldcollect.core.model_move``); their content types, and with them the permissions, move too.
``User`` stays in ``core`` (``AUTH_USER_MODEL``)."""

import django.db.models.deletion
import django.utils.timezone
import fieldcollect.privacy.fields
from django.conf import settings
from django.db import migrations, models

from fieldcollect.core.model_move import content_types_moved, state_only


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('agencies', '0003_contract'),
        ('core', '0010_audit_log_moved_to_its_own_app'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        state_only(migrations.CreateModel(
            name='AgencyApiNetworks',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('networks', models.JSONField(blank=True, default=list)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('agency', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='api_networks', to='agencies.agency')),
            ],
            options={
                'db_table': 'core_agencyapinetworks',
            },
        ), migrations.CreateModel(
            name='ApiToken',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(blank=True, default='', max_length=100)),
                ('prefix', models.CharField(help_text='First characters of the token, to recognise it', max_length=12)),
                ('digest', models.CharField(max_length=64, unique=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('expires_at', models.DateTimeField()),
                ('revoked_at', models.DateTimeField(blank=True, null=True)),
                ('last_used_at', models.DateTimeField(blank=True, null=True)),
                ('allowed_networks', models.JSONField(blank=True, default=list, help_text='Optional CIDR list (e.g. 203.0.113.0/24); when set, the token works only from these addresses')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='api_tokens', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'db_table': 'core_apitoken',
                'ordering': ['-created_at'],
            },
        ), migrations.CreateModel(
            name='LoginFailure',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('username', models.CharField(max_length=150)),
                ('ip', models.GenericIPAddressField(blank=True, null=True)),
                ('at', models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                'db_table': 'core_loginfailure',
                'indexes': [models.Index(fields=['username', 'at'], name='core_loginf_usernam_602fc7_idx'), models.Index(fields=['ip', 'at'], name='core_loginf_ip_4b50e3_idx')],
            },
        ), migrations.CreateModel(
            name='TotpDevice',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('row_binding', fieldcollect.privacy.fields.RowBindingField()),
                ('secret', fieldcollect.privacy.fields.EncryptedCharField(max_length=64)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('confirmed_at', models.DateTimeField(blank=True, null=True)),
                ('last_step', models.BigIntegerField(default=0)),
                ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='totp', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'db_table': 'core_totpdevice',
            },
        )),
        content_types_moved('core', 'accounts', 'apitoken', 'agencyapinetworks', 'totpdevice', 'loginfailure'),
    ]
