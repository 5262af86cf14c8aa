"""The outbox left ``visits`` for its own app (issue 18) with its rows: a database migrated on the old
layout (``visits.OutboxMessage``) upgrades with every message intact and readable (the encrypted
number and text stay bound to the table they were written in), the early-warning reminder still
points at its message, and the content type (with its permissions) moves to the new app and back."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from fieldcollect.outbox.models import OutboxMessage
from fieldcollect.testing.migrations import applied, latest, migrate

pytestmark = pytest.mark.django_db(transaction=True)

# the newest migrations of the apps involved before the move (the old main's leaves)
OLD = [("visits", "0008_bind_encrypted_values_to_rows"), ("earlywarning", "0002_strategyrun_strategyassignment")]
BEFORE_THE_APP = [*OLD, ("outbox", None)]  # the outbox app did not exist
NEW = [("visits", "0011_outbox_moved_to_its_own_app"), ("outbox", "0001_move_outbox_from_visits")]


def test_outbox_rows_survive_the_move_to_the_outbox_app() -> None:
    ct_id = ContentType.objects.get_for_model(OutboxMessage).pk
    try:
        executor = migrate(BEFORE_THE_APP)
        old_apps = executor.loader.project_state(OLD).apps
        assert ("outbox", "0001_move_outbox_from_visits") not in applied()
        old_model = old_apps.get_model("visits", "OutboxMessage")
        assert old_model._meta.db_table == OutboxMessage._meta.db_table
        message = old_model.objects.create(to="13512345678", body="王五您好，请确认拜访时间", kind="reminder",
                                           status="pending")
        reminder = old_apps.get_model("earlywarning", "Reminder")._meta.get_field("message")
        assert reminder.related_model is old_model
        moved = ContentType.objects.get(pk=ct_id)
        assert (moved.app_label, moved.model) == ("visits", "outboxmessage")  # migrating back moved it back

        migrate(NEW)
        stored = OutboxMessage.objects.get(pk=message.pk)
        assert (stored.to, stored.body, stored.kind, stored.status) == (
            "13512345678", "王五您好，请确认拜访时间", "reminder", OutboxMessage.Status.PENDING)
        assert stored.row_binding == message.row_binding
        moved = ContentType.objects.get(pk=ct_id)
        assert (moved.app_label, moved.model) == ("outbox", "outboxmessage")
        assert not ContentType.objects.filter(app_label="visits", model="outboxmessage").exists()
    finally:
        migrate(latest())
    assert OutboxMessage.objects.filter(pk=message.pk).exists()


def test_the_move_changes_no_table() -> None:
    from fieldcollect.earlywarning.models import Reminder

    assert OutboxMessage._meta.db_table == "visits_outboxmessage"
    assert Reminder._meta.get_field("message").related_model is OutboxMessage
    with connection.cursor() as cursor:
        assert "visits_outboxmessage" in connection.introspection.table_names(cursor)
