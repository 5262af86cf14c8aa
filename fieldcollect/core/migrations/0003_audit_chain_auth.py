# Audit hash chain (fields filled by 0004), chain head, TOTP devices, login failures, API networks.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('agencies', '0001_initial'),
        ('core', '0002_apitoken'),
    ]

    operations = [
        migrations.AlterModelOptions(name='auditentry', options={'ordering': ['seq']}),
        migrations.AlterField(
            model_name='auditentry', name='at',
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now),
        ),
        migrations.AddField(model_name='auditentry', name='seq', field=models.BigIntegerField(null=True)),
        migrations.AddField(model_name='auditentry', name='prev_hash',
                            field=models.CharField(default='', max_length=64), preserve_default=False),
        migrations.AddField(model_name='auditentry', name='hash',
                            field=models.CharField(default='', max_length=64), preserve_default=False),
        migrations.CreateModel(
            name='AuditChainHead',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('seq', models.BigIntegerField(default=0)),
                ('hash', models.CharField(default='0000000000000000000000000000000000000000000000000000000000000000', max_length=64)),
            ],
        ),
        migrations.AddField(
            model_name='apitoken', name='allowed_networks',
            field=models.JSONField(blank=True, default=list, help_text='Optional CIDR list (e.g. 203.0.113.0/24); when set, the token works only from these addresses'),
        ),
        migrations.CreateModel(
            name='AgencyApiNetworks',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('networks', models.JSONField(blank=True, default=list)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('agency', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='api_networks', to='agencies.agency')),
            ],
        ),
        migrations.CreateModel(
            name='TotpDevice',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('secret', models.CharField(max_length=64)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('confirmed_at', models.DateTimeField(blank=True, null=True)),
                ('last_step', models.BigIntegerField(default=0)),
                ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='totp', to=settings.AUTH_USER_MODEL)),
            ],
        ),
        migrations.CreateModel(
            name='LoginFailure',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('username', models.CharField(max_length=150)),
                ('ip', models.GenericIPAddressField(blank=True, null=True)),
                ('at', models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                'indexes': [models.Index(fields=['username', 'at'], name='core_loginf_usernam_602fc7_idx'),
                            models.Index(fields=['ip', 'at'], name='core_loginf_ip_4b50e3_idx')],
            },
        ),
    ]
