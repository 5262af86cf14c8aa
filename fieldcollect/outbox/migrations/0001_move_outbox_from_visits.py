"""The outbox leaves ``visits`` for its own app (issue 18): the model moves in the migration state only
and keeps its table ``visits_outboxmessage`` with every row (``fieldcollect.core.model_move``); its
content type, and with it the permissions, moves to the new app."""

import django.db.models.deletion
import fieldcollect.privacy.fields
from django.db import migrations, models

from fieldcollect.core.model_move import content_types_moved, state_only


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('cases', '0008_bind_encrypted_values_to_rows'),
        ('visits', '0008_bind_encrypted_values_to_rows'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        state_only(migrations.CreateModel(
            name='OutboxMessage',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('row_binding', fieldcollect.privacy.fields.RowBindingField()),
                ('channel', models.CharField(default='sms', max_length=8)),
                ('to', fieldcollect.privacy.fields.EncryptedCharField(help_text="The recipient's number (encrypted)", max_length=40)),
                ('body', fieldcollect.privacy.fields.EncryptedTextField()),
                ('kind', models.CharField(help_text='appointment_link, reminder, feedback, ...', max_length=32)),
                ('status', models.CharField(choices=[('pending', 'Pending'), ('sent', 'Sent'), ('failed', 'Failed'), ('cancelled', 'Cancelled')], db_index=True, default='pending', max_length=12)),
                ('attempts', models.PositiveSmallIntegerField(default=0)),
                ('last_error', models.CharField(blank=True, default='', max_length=500)),
                ('adapter', models.CharField(blank=True, default='', max_length=32)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('sent_at', models.DateTimeField(blank=True, null=True)),
                ('not_before', models.DateTimeField(blank=True, help_text="Held by the compliance check until then (debtor's contact hours, pauses)", null=True)),
                ('appointment', models.ForeignKey(blank=True, help_text='The appointment the message is for (its link, its reminder): sent only while it is live', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='visits.appointment')),
                ('case', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='cases.case')),
            ],
            options={
                'db_table': 'visits_outboxmessage',
                'ordering': ['id'],
            },
        )),
        content_types_moved('visits', 'outbox', 'outboxmessage'),
    ]
