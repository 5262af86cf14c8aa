"""The outbox moved to its own app (``outbox/migrations/0001_move_outbox_from_visits.py``): the model
leaves the visits state only; its table stays, now the outbox app's."""

from django.db import migrations

from fieldcollect.core.model_move import state_only


class Migration(migrations.Migration):

    dependencies = [
        ('earlywarning', '0003_reminder_message_in_outbox_app'),
        ('visits', '0010_field_permits_sync_uploads_met'),
    ]

    operations = [
        state_only(migrations.DeleteModel(name='OutboxMessage')),
    ]
