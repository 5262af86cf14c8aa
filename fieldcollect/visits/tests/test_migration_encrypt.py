"""The visits data migration: outbox messages written before encryption (number and text in plaintext)
are encrypted in place; migrating back writes them as plaintext again; the sender reads them in clear."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from fieldcollect.outbox.models import OutboxMessage

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("visits", "0002_feedback_conversations_categories")]


def _migrate(targets: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def _latest() -> list[tuple[str, str]]:
    """Every app's newest migration: going back unapplies the other apps' migrations that depend on this
    app's later ones (the row bindings), so the next test needs them all applied again."""
    loader = MigrationExecutor(connection).loader
    loader.build_graph()
    return loader.graph.leaf_nodes()


def _raw() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute('SELECT "to", body FROM visits_outboxmessage ORDER BY id')
        return [tuple(r) for r in cursor.fetchall()]


def test_outbox_rows_are_encrypted_by_the_migration_and_back(fc_home) -> None:
    _migrate(BEFORE)
    plain = [("13512345678", "王五您好，请确认拜访时间"), ("13687654321", "提醒：明天10:00上门拜访")]
    with connection.cursor() as cursor:
        for to, body in plain:
            cursor.execute(
                'INSERT INTO visits_outboxmessage (channel, "to", body, kind, status, attempts, last_error, adapter, '
                "created_at) VALUES ('sms', %s, %s, 'reminder', 'pending', 0, '', '', %s)", [to, body, timezone.now()])
    try:
        _migrate(_latest())
        for row, original in zip(_raw(), plain, strict=True):
            for stored, value in zip(row, original, strict=True):
                assert stored.startswith("fc2$") and value not in stored  # encrypted, then bound to the row
        assert [(m.to, m.body) for m in OutboxMessage.objects.order_by("id")] == plain
        _migrate(BEFORE)
        assert _raw() == plain
    finally:
        _migrate(_latest())
