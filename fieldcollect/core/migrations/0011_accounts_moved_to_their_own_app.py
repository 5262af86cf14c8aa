"""API tokens, agency network allow-lists, TOTP devices and failed log-ins moved to the accounts app
(``accounts/migrations/0001_move_accounts_from_core.py``): they leave the core state only; the tables
stay, now the accounts app's."""

from django.db import migrations

from fieldcollect.core.model_move import state_only


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0010_audit_log_moved_to_its_own_app'),
        ('accounts', '0001_move_accounts_from_core'),
    ]

    operations = [
        state_only(migrations.RemoveField(
            model_name='agencyapinetworks',
            name='agency',
        ),
        migrations.RemoveField(
            model_name='apitoken',
            name='user',
        ),
        migrations.DeleteModel(
            name='LoginFailure',
        ),
        migrations.RemoveField(
            model_name='totpdevice',
            name='user',
        ),
        migrations.DeleteModel(
            name='AgencyApiNetworks',
        ),
        migrations.DeleteModel(
            name='ApiToken',
        ),
        migrations.DeleteModel(
            name='TotpDevice',
        )),
    ]
