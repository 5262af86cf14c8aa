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
