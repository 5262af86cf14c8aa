"""The audit log is append-only and hash-chained: every kind of tampering done with raw SQL (past the
ORM guards and the PostgreSQL trigger) is found by `audit verify`, which names the first broken entry."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from typer.testing import CliRunner

from fieldcollect.audit.chain import GENESIS, entry_hash
from fieldcollect.audit.models import AppendOnlyError, AuditChainHead, AuditEntry
from fieldcollect.audit.services import audit_log
from fieldcollect.audit.verify import audit_verify
from fieldcollect.cli import app

pytestmark = pytest.mark.django_db


def _entries(n: int = 6) -> list[AuditEntry]:
    out = []
    for i in range(n):
        with transaction.atomic():
            out.append(audit_log(actor=None, action=f"test.step{i}", object_type="thing", object_id=i,
                                 old={"v": i, "f": 1.0, "t": (1, 2)}, new={"v": i + 1, "名": "张三"}))
    return out


def _seqs():
    first = AuditEntry.objects.order_by("seq").values_list("seq", flat=True).first()
    last = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first()
    return first, last


def _raw(sql: str, params: list | None = None) -> None:
    pg = connection.vendor == "postgresql"
    with connection.cursor() as cur:
        if pg:  # the tamperer (a database superuser) switches triggers off, the append-only one included
            cur.execute("SET session_replication_role = replica")
        cur.execute(sql, params or [])
        if pg:
            cur.execute("SET session_replication_role = DEFAULT")


def _break():
    result = audit_verify()
    assert not result.ok
    return result.first_break


def test_chain_links_and_verifies():
    entries = _entries(5)
    AuditEntry.objects.bulk_create([AuditEntry(action="test.bulk", object_type="thing", object_id=str(i))
                                    for i in range(3)])
    rows = list(AuditEntry.objects.order_by("seq"))
    assert [r.seq for r in rows] == list(range(rows[0].seq, rows[0].seq + 8))
    for a, b in itertools.pairwise(rows):
        assert b.prev_hash == a.hash
        assert b.hash == entry_hash(b.chain_fields())
    assert entries[0].prev_hash == GENESIS or rows[0].seq > 1
    head = AuditChainHead.objects.get(pk=1)
    assert (head.seq, head.hash) == (rows[-1].seq, rows[-1].hash)
    result = audit_verify()
    assert result.ok and result.entries == len(rows) and result.head_hash == rows[-1].hash


def test_orm_refuses_update_and_delete():
    entry = _entries(1)[0]
    entry.action = "changed"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(action="changed")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.bulk_update([entry], ["action"])
    assert AuditEntry.objects.get(pk=entry.pk).action == "test.step0"
    assert audit_verify().ok


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigger exists on PostgreSQL only")
def test_postgres_trigger_refuses_raw_update_and_delete():
    from django.db import DatabaseError

    entry = _entries(1)[0]
    for sql in ("UPDATE core_auditentry SET action = 'x' WHERE id = %s", "DELETE FROM core_auditentry WHERE id = %s"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, [entry.pk])
    assert AuditEntry.objects.filter(pk=entry.pk, action="test.step0").exists()


def test_modified_entry():
    _entries()
    first, _ = _seqs()
    _raw("UPDATE core_auditentry SET action = 'test.nothing_happened' WHERE seq = %s", [first + 2])
    brk = _break()
    assert (brk.kind, brk.seq) == ("modified", first + 2)


def test_modified_entry_with_recomputed_hash_breaks_the_next_link():
    entries = _entries()
    victim = entries[2]
    fields = victim.chain_fields() | {"actor_label": "someone else"}
    _raw("UPDATE core_auditentry SET actor_label = %s, hash = %s WHERE id = %s",
         ["someone else", entry_hash(fields), victim.pk])
    brk = _break()
    # the successor's prev_hash no longer matches, while the successor itself is intact
    assert (brk.kind, brk.seq, brk.entry_id) == ("modified", victim.seq, victim.pk)


def test_modified_last_entry_with_recomputed_hash_differs_from_head():
    entries = _entries()
    last = entries[-1]
    fields = last.chain_fields() | {"object_id": "999"}
    _raw("UPDATE core_auditentry SET object_id = '999', hash = %s WHERE id = %s", [entry_hash(fields), last.pk])
    brk = _break()
    assert (brk.kind, brk.seq) == ("modified", last.seq)


def test_deleted_entry_leaves_a_gap():
    _entries()
    first, _ = _seqs()
    _raw("DELETE FROM core_auditentry WHERE seq = %s", [first + 3])
    brk = _break()
    assert (brk.kind, brk.seq, brk.entry_id) == ("deleted", first + 3, None)


def test_deleted_entry_with_renumbering():
    _entries()
    first, _ = _seqs()
    _raw("DELETE FROM core_auditentry WHERE seq = %s", [first + 3])
    for seq in range(first + 4, first + 6):
        _raw("UPDATE core_auditentry SET seq = %s WHERE seq = %s", [seq - 1, seq])
    brk = _break()
    assert (brk.kind, brk.seq) == ("deleted", first + 3)


def test_deleted_last_entries():
    _entries()
    _, last = _seqs()
    _raw("DELETE FROM core_auditentry WHERE seq >= %s", [last - 1])
    brk = _break()
    assert (brk.kind, brk.seq) == ("deleted", last - 1)


def _insert(seq: int, prev_hash: str, *, valid_hash: bool = True) -> None:
    fields = {"seq": seq, "at": timezone.now() - timedelta(hours=1), "actor_id": None, "actor_label": "system",
              "action": "test.forged", "object_type": "thing", "object_id": "x", "old": None, "new": None,
              "prev_hash": prev_hash}
    digest = entry_hash(fields) if valid_hash else "f" * 64
    _raw("INSERT INTO core_auditentry (chain, seq, at, actor_id, actor_label, action, object_type, object_id, old, "
         "new, prev_hash, hash) VALUES (1, %s, %s, NULL, %s, %s, %s, %s, NULL, NULL, %s, %s)",
         [seq, fields["at"], "system", "test.forged", "thing", "x", prev_hash, digest])


def test_inserted_entry_in_the_middle():
    entries = _entries()
    at = entries[3]
    for e in reversed(entries[3:]):  # make room: shift the later entries up by one
        _raw("UPDATE core_auditentry SET seq = %s WHERE id = %s", [e.seq + 1, e.pk])
    _insert(at.seq, entries[2].hash)  # a well-formed entry that chains to its predecessor
    brk = _break()
    assert (brk.kind, brk.seq) == ("inserted", at.seq)
    assert AuditEntry.objects.get(pk=brk.entry_id).action == "test.forged"


def test_inserted_entry_with_garbage_hashes():
    entries = _entries()
    for e in reversed(entries[3:]):
        _raw("UPDATE core_auditentry SET seq = %s WHERE id = %s", [e.seq + 1, e.pk])
    _insert(entries[3].seq, "e" * 64, valid_hash=False)
    brk = _break()
    assert (brk.kind, brk.seq) == ("inserted", entries[3].seq)


def test_inserted_entry_at_the_end():
    entries = _entries()
    _insert(entries[-1].seq + 1, entries[-1].hash)
    brk = _break()
    assert (brk.kind, brk.seq) == ("inserted", entries[-1].seq + 1)


def test_reordered_entries():
    entries = _entries()
    a, b = entries[2], entries[3]
    _raw("UPDATE core_auditentry SET seq = %s WHERE id = %s", [-1, a.pk])
    _raw("UPDATE core_auditentry SET seq = %s WHERE id = %s", [a.seq, b.pk])
    _raw("UPDATE core_auditentry SET seq = %s WHERE id = %s", [b.seq, a.pk])
    brk = _break()
    assert (brk.kind, brk.seq, brk.entry_id) == ("reordered", a.seq, b.pk)


@pytest.mark.django_db(transaction=True)
def test_cli_exit_codes():
    entries = _entries(4)
    runner = CliRunner()
    out = runner.invoke(app, ["audit", "verify"])
    assert out.exit_code == 0, out.output
    assert "intact" in out.output
    _raw("DELETE FROM core_auditentry WHERE id = %s", [entries[1].pk])
    out = runner.invoke(app, ["audit", "verify"])
    assert out.exit_code == 1
    assert f"entry seq {entries[1].seq}" in out.output and "deleted" in out.output
    out = runner.invoke(app, ["audit", "verify", "--json"])
    assert out.exit_code == 1 and '"kind": "deleted"' in out.output


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_fill_parallel_chains_without_gaps():
    import threading

    from django.db import connections

    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            for i in range(25):
                with transaction.atomic():
                    audit_log(actor=None, action="test.concurrent", object_type="thing", object_id=f"{k}-{i}",
                              new={"k": k, "i": i})
                    if i % 5 == 0:
                        AuditEntry.objects.bulk_create([AuditEntry(action="test.concurrent_bulk", object_type="thing",
                                                                   object_id=f"{k}-{i}-{j}") for j in range(3)])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert AuditEntry.objects.count() == 4 * (25 + 5 * 3)
    chains = sorted(set(AuditEntry.objects.values_list("chain", flat=True)))
    for chain in chains:  # each chain gapless, each transaction's entries in one chain
        seqs = list(AuditEntry.objects.filter(chain=chain).order_by("seq").values_list("seq", flat=True))
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    for k in range(4):
        for i in range(0, 25, 5):
            group = AuditEntry.objects.filter(object_id__startswith=f"{k}-{i}")
            assert len(set(group.values_list("chain", flat=True))) == 1
    assert audit_verify().ok
    # tampering in a chain other than the first is found too, and named with its chain
    other = [c for c in chains if c != 1]
    if other:
        victim = AuditEntry.objects.filter(chain=other[0]).order_by("seq")[3]
        _raw("UPDATE core_auditentry SET action = 'test.changed' WHERE id = %s", [victim.pk])
        brk = _break()
        assert (brk.kind, brk.chain, brk.entry_id) == ("modified", other[0], victim.pk)


@pytest.mark.django_db(transaction=True)
def test_cli_anchor_catches_a_recomputed_chain():
    entries = _entries(4)
    runner = CliRunner()
    anchor = f"{entries[2].seq}:{entries[2].hash}"
    assert runner.invoke(app, ["audit", "verify", "--anchor", anchor]).exit_code == 0
    # rewrite entry 2 and recompute every hash after it, head included: the chain itself verifies
    prev = entries[0].hash
    for e in entries[1:]:
        fields = e.chain_fields() | {"prev_hash": prev}
        if e.pk == entries[1].pk:
            fields["action"] = "test.rewritten"
        digest = entry_hash(fields)
        _raw("UPDATE core_auditentry SET action = %s, prev_hash = %s, hash = %s WHERE id = %s",
             [fields["action"], prev, digest, e.pk])
        prev = digest
    _raw("UPDATE core_auditchainhead SET hash = %s WHERE id = 1", [prev])
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0
    out = runner.invoke(app, ["audit", "verify", "--anchor", anchor])
    assert out.exit_code == 1 and f"entry seq {entries[2].seq}" in out.output and "modified" in out.output
    assert runner.invoke(app, ["audit", "verify", "--anchor", "3:xyz"]).exit_code == 2
