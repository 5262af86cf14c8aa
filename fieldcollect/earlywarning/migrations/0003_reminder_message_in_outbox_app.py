"""A reminder's message is an outbox message of the outbox app (issue 18): the same table, so only the
migration state changes."""

import django.db.models.deletion
from django.db import migrations, models

from fieldcollect.core.model_move import state_only


class Migration(migrations.Migration):

    dependencies = [
        ('earlywarning', '0002_strategyrun_strategyassignment'),
        ('outbox', '0001_move_outbox_from_visits'),
    ]

    operations = [
        state_only(migrations.AlterField(
            model_name='reminder',
            name='message',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='outbox.outboxmessage'),
        )),
    ]
