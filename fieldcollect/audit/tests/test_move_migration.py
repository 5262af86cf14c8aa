"""The audit log left ``core`` for its own app (issue 18) with its entries: a database migrated on the
old layout (``core.AuditEntry``, ``core.AuditChainHead``) upgrades with every entry and chain head
intact, the chain still verifies, and the content types (with their permissions) move to the new app
and back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.contenttypes.models import ContentType

from fieldcollect.audit.chain import GENESIS, entry_hash
from fieldcollect.audit.models import AuditChainHead, AuditEntry
from fieldcollect.audit.verify import audit_verify
from fieldcollect.testing.migrations import applied, latest, migrate

pytestmark = pytest.mark.django_db(transaction=True)

OLD = [("core", "0009_bind_encrypted_values_to_rows")]  # core's newest migration before the move
BEFORE_THE_APP = [*OLD, ("audit", None)]  # the audit app did not exist


def test_audit_entries_and_heads_survive_the_move_to_the_audit_app() -> None:
    ct_ids = {m: ContentType.objects.get_for_model(m).pk for m in (AuditEntry, AuditChainHead)}
    try:
        executor = migrate(BEFORE_THE_APP)
        assert ("audit", "0001_move_audit_log_from_core") not in applied()
        old_apps = executor.loader.project_state(OLD).apps
        old_entry, old_head = old_apps.get_model("core", "AuditEntry"), old_apps.get_model("core", "AuditChainHead")
        assert (old_entry._meta.db_table, old_head._meta.db_table) == (AuditEntry._meta.db_table,
                                                                      AuditChainHead._meta.db_table)
        # an entry appended the way the old code did: chain 1 from its head, the head moved with it
        head = old_head.objects.filter(pk=1).first()
        seq, prev = (head.seq, head.hash) if head is not None else (0, GENESIS)
        entry = old_entry(chain=1, seq=seq + 1, at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC), actor_label="system",
                          action="test.before_the_move", object_type="thing", object_id="7", old=None,
                          new={"名": "张三"}, prev_hash=prev)
        entry.hash = entry_hash({"chain": 1, "seq": entry.seq, "at": entry.at, "actor_id": None,
                                 "actor_label": "system", "action": entry.action, "object_type": "thing",
                                 "object_id": "7", "old": None, "new": {"名": "张三"}, "prev_hash": prev})
        entry.save()
        old_head.objects.update_or_create(pk=1, defaults={"seq": entry.seq, "hash": entry.hash})
        for model, pk in ct_ids.items():
            ct = ContentType.objects.get(pk=pk)
            assert (ct.app_label, ct.model) == ("core", model._meta.model_name)  # migrating back moved it back

        migrate(latest())
        stored = AuditEntry.objects.get(pk=entry.pk)
        assert (stored.seq, stored.action, stored.new, stored.hash) == (entry.seq, "test.before_the_move",
                                                                        {"名": "张三"}, entry.hash)
        assert AuditChainHead.objects.get(pk=1).hash == entry.hash
        assert audit_verify().ok
        for model, pk in ct_ids.items():
            ct = ContentType.objects.get(pk=pk)
            assert (ct.app_label, ct.model) == ("audit", model._meta.model_name)
    finally:
        migrate(latest())
