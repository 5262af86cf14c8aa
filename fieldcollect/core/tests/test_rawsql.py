"""core/rawsql.py's INSERT and UPDATE (the contact's hot path) write the rows ``save()`` writes: the
same stored values, encrypted fields bound and readable, ``auto_now`` kept, one row or an error."""

from __future__ import annotations

import pytest
from django.db import DatabaseError

from fieldcollect.cases.lifecycle import CASE_STATE_COLUMNS, CaseStatus
from fieldcollect.cases.models import Case, ContactAttempt, Outcome
from fieldcollect.core import rawsql
from fieldcollect.testing import factories as f

pytestmark = pytest.mark.django_db

SKIP = {"id", "created_at", "updated_at"}


def stored(model, pk):
    obj = model.objects.get(pk=pk)
    return {fld.attname: getattr(obj, fld.attname) for fld in model._meta.concrete_fields if fld.attname not in SKIP}


def test_insert_writes_what_save_writes():
    case = f.make_case()
    values = {"case": case, "channel": "phone", "party": "debtor", "number": "13800001234", "at": f.in_hours(),
              "connected": True, "outcome": Outcome.PROMISE, "notes": "答应月底还款"}
    by_orm = ContactAttempt.objects.create(**values)
    by_hand = ContactAttempt(**values)
    rawsql.insert(by_hand)
    assert by_hand.pk is not None and by_hand.pk != by_orm.pk and not by_hand._state.adding
    a, b = stored(ContactAttempt, by_orm.pk), stored(ContactAttempt, by_hand.pk)
    a.pop("row_binding", None), b.pop("row_binding", None)  # bound to each row's own id
    assert a == b and b["number"] == "13800001234" and b["notes"] == "答应月底还款"
    assert ContactAttempt.objects.get(pk=by_hand.pk).created_at is not None


def test_update_writes_what_save_update_fields_writes():
    one, two = f.make_case(), f.make_case()
    agency = f.make_agency()
    for case in (one, two):
        case.status, case.agency, case.placed_until, case.version = CaseStatus.PLACED, agency, f.today(), 2
    one.save(update_fields=list(CASE_STATE_COLUMNS))
    rawsql.update(two, CASE_STATE_COLUMNS)
    a, b = stored(Case, one.pk), stored(Case, two.pk)
    for name in ("loan_id", "customer_id"):
        a.pop(name), b.pop(name)
    assert a == b and b["status"] == CaseStatus.PLACED and b["agency_id"] == agency.pk
    assert Case.objects.get(pk=two.pk).updated_at >= Case.objects.get(pk=one.pk).updated_at  # auto_now kept
    gone = Case(pk=10**9, loan_id=two.loan_id, customer_id=two.customer_id, opened_on=f.today())
    with pytest.raises(DatabaseError, match="changed 0 rows"):
        rawsql.update(gone, ["status"])


def test_copy_rows_writes_what_insert_writes():
    """copy_rows (COPY on PostgreSQL, executemany elsewhere) lands the rows an INSERT per row lands:
    dates, datetimes, NULLs, text with quotes, tabs and newlines (COPY's own separators), big integers."""
    from datetime import UTC, date, datetime

    from django.db import connection

    from fieldcollect.cases.models import Payment

    case = f.make_case()
    names = ("loan", "case", "paid_on", "amount_fen", "reference", "channel", "created_at")
    columns = [rawsql.field(Payment, n).column for n in names]
    at = datetime(2026, 6, 30, 23, 59, 59, 123456, tzinfo=UTC)
    rows = [(case.loan_id, case.pk, date(2026, 6, 30), 9_007_199_254_740_993, "copy:1 \t tab", "bank_transfer", at),
            (case.loan_id, None, date(2026, 1, 1), 0, 'copy:2 "quoted" \\ back\nslash', "cash", at)]
    assert rawsql.copy_rows(rawsql.table(Payment), columns, iter(rows)) == 2
    twins = [(case.loan_id, case.pk, date(2026, 6, 30), 9_007_199_254_740_993, "twin:1 \t tab", "bank_transfer", at),
             (case.loan_id, None, date(2026, 1, 1), 0, 'twin:2 "quoted" \\ back\nslash', "cash", at)]
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {rawsql.table(Payment)} ({', '.join(columns)}) VALUES "
                           f"({', '.join(['%s'] * len(columns))})", [rawsql.adapt(r) for r in twins])
    fields = ["loan_id", "case_id", "paid_on", "amount_fen", "channel", "created_at"]

    def stored(prefix):
        return [(*row[:-1], row[-1].replace(prefix, ""))
                for row in Payment.objects.filter(reference__startswith=prefix).order_by("reference")
                .values_list(*fields, "reference")]

    copied = stored("copy:")
    assert copied == stored("twin:")
    assert copied[0][-1] == "1 \t tab" and copied[1][-1] == '2 "quoted" \\ back\nslash'
    assert copied[0][3] == 9_007_199_254_740_993 and copied[0][5] == at and copied[1][1] is None
