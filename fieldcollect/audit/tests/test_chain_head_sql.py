"""The hand-written statements of the audit chain heads (``audit.models.HeadSql``, run on every audited
write) select and change exactly the rows of their ORM twins, for heads present or missing, the
preferred chain inside or outside 1..K, and (on PostgreSQL) a head locked by another transaction."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import Case, IntegerField, Value, When

from fieldcollect.audit.chain import GENESIS
from fieldcollect.audit.models import AuditChainHead, head_sql
from fieldcollect.testing.concurrency import in_background

pg = pytest.mark.skipif(connection.vendor != "postgresql", reason="SKIP LOCKED needs PostgreSQL")

HEADS = {1: (4, "a" * 64), 2: (0, GENESIS), 3: (7, "c" * 64), 5: (2, "e" * 64)}


def _heads(chains: dict[int, tuple[int, str]]) -> None:
    AuditChainHead.objects.all().delete()
    AuditChainHead.objects.bulk_create([AuditChainHead(pk=c, seq=s, hash=h) for c, (s, h) in chains.items()])


def _sql(statement: str, params: list[Any]) -> list[tuple[Any, ...]]:
    if not connection.features.has_select_for_update_skip_locked:  # the lock clause is PostgreSQL's
        statement = statement.replace(" FOR UPDATE SKIP LOCKED", "").replace(" FOR UPDATE", "")
    with connection.cursor() as cur:
        cur.execute(statement, params)
        return [tuple(r) for r in cur.fetchall()]


def _pick_orm(chains: int, preferred: int) -> list[tuple[Any, ...]]:
    """The ORM twin of ``pick``: the preferred chain first, then the lowest number, among 1..K."""
    query = (AuditChainHead.objects.filter(pk__range=(1, chains))
             .alias(other=Case(When(pk=preferred, then=Value(0)), default=Value(1), output_field=IntegerField()))
             .order_by("other", "pk").values_list("pk", "seq", "hash"))
    if connection.features.has_select_for_update_skip_locked:
        query = query.select_for_update(skip_locked=True)
    return [tuple(r) for r in query[:1]]


@pytest.mark.django_db
@pytest.mark.parametrize(("chains", "preferred", "heads"), [
    (8, 1, HEADS), (8, 3, HEADS), (8, 4, HEADS), (2, 3, HEADS), (4, 5, HEADS), (8, 2, {}), (1, 1, HEADS),
    (8, 5, {5: HEADS[5]}), (3, 2, {4: (1, "f" * 64)}),
])
def test_pick_present_one_and_wait_select_the_rows_of_their_orm_twins(chains, preferred, heads) -> None:
    _heads(heads)
    sql = head_sql()
    with transaction.atomic():
        assert _sql(sql.pick, [chains, preferred]) == _pick_orm(chains, preferred)
        assert sorted(_sql(sql.present, [chains])) == [
            (pk,) for pk in AuditChainHead.objects.filter(pk__range=(1, chains)).order_by("pk")
            .values_list("pk", flat=True)]
        assert _sql(sql.one, []) == [tuple(r) for r in AuditChainHead.objects.filter(pk=1).values_list("pk", "seq", "hash")]
        assert _sql(sql.wait, [preferred]) == [
            tuple(r) for r in AuditChainHead.objects.filter(pk=preferred).values_list("pk", "seq", "hash")]


@pytest.mark.django_db
@pytest.mark.parametrize("chain", [1, 3, 4])
def test_move_changes_what_the_orm_update_changes(chain) -> None:
    _heads(HEADS)

    def state() -> list[tuple[Any, ...]]:
        return [tuple(r) for r in AuditChainHead.objects.order_by("pk").values_list("pk", "seq", "hash")]

    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute(head_sql().move, [9, "9" * 64, chain])
        by_sql = state()
        transaction.set_rollback(True)
    AuditChainHead.objects.filter(pk=chain).update(seq=9, hash="9" * 64)
    assert by_sql == state()
    assert (chain in HEADS) == ((chain, 9, "9" * 64) in by_sql)


def test_statements_name_the_models_table_and_columns() -> None:
    sql = head_sql()
    table = f'"{AuditChainHead._meta.db_table}"'
    for statement in (sql.one, sql.pick, sql.present, sql.wait, sql.move):
        assert table in statement and "core_auditchainhead " not in statement.replace(table, "")


@pg
@pytest.mark.django_db(transaction=True)
def test_pick_skips_the_head_another_transaction_holds_like_the_orm() -> None:
    _heads(HEADS)
    locked, release = threading.Event(), threading.Event()

    def holder() -> None:
        with transaction.atomic():
            list(AuditChainHead.objects.select_for_update().filter(pk=3))
            locked.set()
            release.wait(10)

    with in_background(holder, stop=release.set):
        assert locked.wait(10)
        with transaction.atomic():
            picked = _sql(head_sql().pick, [8, 3])
            assert picked == _pick_orm(8, 3) and picked[0][0] == 1  # chain 3 is held: the next free one
