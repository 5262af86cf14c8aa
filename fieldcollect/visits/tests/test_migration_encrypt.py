"""The visits data migration: outbox messages written before encryption (number and text in plaintext)
are encrypted in place; migrating back writes them as plaintext again; the sender reads them in clear."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from fieldcollect.outbox.models import OutboxMessage
from fieldcollect.testing.migrations import latest, migrate

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("visits", "0002_feedback_conversations_categories")]


def _raw() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute('SELECT "to", body FROM visits_outboxmessage ORDER BY id')
        return [tuple(r) for r in cursor.fetchall()]


def test_outbox_rows_are_encrypted_by_the_migration_and_back(fc_home) -> None:
    migrate(BEFORE)
    plain = [("13512345678", "王五您好，请确认拜访时间"), ("13687654321", "提醒：明天10:00上门拜访")]
    with connection.cursor() as cursor:
        for to, body in plain:
            cursor.execute(
                'INSERT INTO visits_outboxmessage (channel, "to", body, kind, status, attempts, last_error, adapter, '
                "created_at) VALUES ('sms', %s, %s, 'reminder', 'pending', 0, '', '', %s)", [to, body, timezone.now()])
    try:
        migrate(latest())
        for row, original in zip(_raw(), plain, strict=True):
            for stored, value in zip(row, original, strict=True):
                assert stored.startswith("fc2$") and value not in stored  # encrypted, then bound to the row
        assert [(m.to, m.body) for m in OutboxMessage.objects.order_by("id")] == plain
        migrate(BEFORE)
        assert _raw() == plain
    finally:
        migrate(latest())
