"""Bulk import of work results (催记): duplicates, each kind of bad row with its reason, GBK / BOM / XLSX
files, another agency's case, a breach recorded and counted (daily report, scorecard), COPY equal to
the ORM path."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from fieldcollect.audit.models import AuditEntry
from fieldcollect.cases import services
from fieldcollect.cases.lifecycle import CaseStatus
from fieldcollect.cases.models import Case, ContactAttempt, PromiseToPay
from fieldcollect.cases.results_import import COLUMNS, call_row, results_import
from fieldcollect.compliance.models import BlockedAttempt
from fieldcollect.compliance.selectors import daily_report
from fieldcollect.core.errors import ApplicationError, PermissionDeniedError
from fieldcollect.scorecards.selectors import monthly_scorecard
from fieldcollect.testing import factories as f

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
DAY = f.today() - timedelta(days=2)


def at(hour: int, minute: int = 0, day: date = DAY) -> str:
    return datetime.combine(day, time(hour, minute), tzinfo=SH).isoformat()


NOW = datetime.combine(f.today(), time(23, 59), tzinfo=SH)


def row(ref: str, case: Case | int, when: str, **kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "agency_ref": ref,
        "case_id": case if isinstance(case, int) else case.pk,
        "collector_id": "",
        "at": when,
        "channel": "phone",
        "party": "debtor",
        "outcome": "no_answer",
        "connected": 0,
        "conversation": 0,
        "promise_amount_fen": "",
        "promise_due": "",
        "notes": "",
    }
    base.update(kw)
    return base


def csv_bytes(rows: list[dict[str, object]], encoding: str = "utf-8") -> bytes:
    lines = [",".join(COLUMNS)] + [",".join(str(r[c]) for c in COLUMNS) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


@pytest.fixture
def placed(world):
    """A case placed with agency A since five days ago (the debtor sent the notice before outsourcing
    long before)."""
    cm = world.bank[f.Role.COLLECTIONS_MANAGER]
    case = f.make_case()
    services.case_place(
        case=case, agency=world.agency_a, acting_user=cm, starts_on=f.today() - timedelta(days=5)
    )
    f.notice_sent(case, agency=world.agency_a)
    case.refresh_from_db()
    return case


def run(world, data: bytes, name: str = "results.csv", **kw: Any):
    return results_import(
        agency=world.agency_a, data=data, filename=name, acting_user=world.manager_a, now=NOW, **kw
    )


def test_good_rows_applied_once_and_a_second_import_is_all_duplicates(world, placed):
    data = csv_bytes(
        [
            row(
                "R1",
                placed,
                at(10),
                outcome="promise",
                connected=1,
                conversation=1,
                promise_amount_fen=50000,
                promise_due=(DAY + timedelta(days=7)).isoformat(),
                notes="答应下周还款",
            ),
            row("R2", placed, at(11), collector_id=world.collector_a1.pk),
        ]
    )
    first = run(world, data)
    assert first.as_dict() == {"rows": 2, "applied": 2, "duplicates": 0, "rejected": [], "breaches": 0}
    contacts = list(ContactAttempt.objects.filter(agency=world.agency_a, case=placed).order_by("at"))
    assert [c.agency_ref for c in contacts] == ["R1", "R2"]
    assert contacts[0].notes == "答应下周还款" and contacts[0].conversation and contacts[0].connected
    assert contacts[0].number == placed.customer.mobile  # the debtor's own mobile, as one contact records it
    assert contacts[1].collector_id == world.collector_a1.pk
    promise = PromiseToPay.objects.get(contact=contacts[0])
    assert (promise.amount_fen, promise.due_on, promise.agency_id) == (
        50000,
        DAY + timedelta(days=7),
        world.agency_a.pk,
    )
    placed.refresh_from_db()
    assert placed.status == CaseStatus.IN_PROGRESS
    again = run(world, data)
    assert again.as_dict() == {"rows": 2, "applied": 0, "duplicates": 2, "rejected": [], "breaches": 0}
    assert ContactAttempt.objects.filter(agency=world.agency_a, case=placed).count() == 2
    assert PromiseToPay.objects.filter(case=placed).count() == 1
    assert AuditEntry.objects.filter(action="results.import").count() == 2


def test_call_rows_import_as_the_calls_they_describe(world, placed):
    """The demo's and the benchmark's files are written with ``call_row``: its cells land in their columns."""
    due = (DAY + timedelta(days=7)).isoformat()
    rows = [
        call_row(agency_ref="C1", case_id=placed.pk, at=at(10), outcome="promise", connected=1,
                 promise=("50000", due), notes="答应下周还款"),
        call_row(agency_ref="C2", case_id=placed.pk, at=at(11), outcome="no_answer", connected=0),
    ]
    assert all(len(r) == len(COLUMNS) for r in rows)
    data = ("\r\n".join([",".join(COLUMNS), *(",".join(map(str, r)) for r in rows)]) + "\r\n").encode()
    assert run(world, data).as_dict() == {"rows": 2, "applied": 2, "duplicates": 0, "rejected": [], "breaches": 0}
    first, second = ContactAttempt.objects.filter(agency=world.agency_a, case=placed).order_by("at")
    assert (first.agency_ref, first.channel, first.party, first.outcome, first.connected, first.conversation,
            first.collector_id, first.notes) == ("C1", "phone", "debtor", "promise", True, True, None, "答应下周还款")
    assert (second.agency_ref, second.outcome, second.connected, second.conversation) == ("C2", "no_answer", False,
                                                                                          False)
    promise = PromiseToPay.objects.get(contact=first)
    assert (promise.amount_fen, promise.due_on.isoformat()) == (50000, due)
    assert not PromiseToPay.objects.filter(contact=second).exists()


def test_a_repeated_ref_inside_one_file_is_a_duplicate(world, placed):
    result = run(world, csv_bytes([row("R1", placed, at(10)), row("R1", placed, at(11))]))
    assert (result.applied, result.duplicates) == (1, 1)


def test_each_bad_row_refused_with_row_column_reason_and_good_rows_applied(world, placed):
    other = world.case_b  # placed with agency B only
    never = world.case_new  # never placed
    late = world.case_a1  # placed with A today: not on DAY
    rows = [
        row("G1", placed, at(10)),  # row 2: good
        row("B1", 99_999_999, at(10)),  # 3: unknown case
        row("B2", other, at(10)),  # 4: another agency's case A never held: as unknown
        row("B3", never, at(10)),  # 5: never placed with anyone: as unknown
        row("B4", late, at(10)),  # 6: not placed with A at that time
        row("B5", placed, "2026-03-01 10:00"),  # 7: no offset
        row("B6", placed, "yesterday"),  # 8: not a time
        row("B7", placed, at(10), channel="pigeon"),  # 9: unknown code
        row("B8", placed, at(10), outcome="maybe", party="cousin"),  # 10: two unknown codes
        row("B9", placed, at(10), connected=2),  # 11: 0/1 only
        row("B10", placed, at(10, day=f.today() + timedelta(days=2))),  # 12: in the future
        row("B11", placed, at(10), collector_id=world.collector_b.pk),  # 13: B's collector
        row("", placed, at(10)),  # 14: no agency_ref
        row("B12", placed, at(10), promise_amount_fen=100),  # 15: promise without due date
        row("B13", placed, at(10), promise_amount_fen="-5", promise_due=DAY.isoformat()),  # 16
        row("G2", placed, at(12)),  # 17: good
    ]
    result = run(world, csv_bytes(rows))
    assert (result.rows, result.applied, result.duplicates, result.breaches) == (16, 2, 0, 0)
    assert [r.as_dict() for r in result.rejected] == [
        {"row": 3, "column": "case_id", "reason": "unknown_case"},
        {"row": 4, "column": "case_id", "reason": "unknown_case"},
        {"row": 5, "column": "case_id", "reason": "unknown_case"},
        {"row": 6, "column": "case_id", "reason": "not_placed_at_time"},
        {"row": 7, "column": "at", "reason": "bad_time"},
        {"row": 8, "column": "at", "reason": "bad_time"},
        {"row": 9, "column": "channel", "reason": "unknown_code"},
        {"row": 10, "column": "party", "reason": "unknown_code"},
        {"row": 10, "column": "outcome", "reason": "unknown_code"},
        {"row": 11, "column": "connected", "reason": "unknown_code"},
        {"row": 12, "column": "at", "reason": "future_time"},
        {"row": 13, "column": "collector_id", "reason": "unknown_collector"},
        {"row": 14, "column": "agency_ref", "reason": "missing"},
        {"row": 15, "column": "promise_due", "reason": "promise_needs_due"},
        {"row": 16, "column": "promise_amount_fen", "reason": "bad_number"},
    ]
    assert set(ContactAttempt.objects.filter(agency=world.agency_a).values_list("agency_ref", flat=True)) == {
        "G1",
        "G2",
    }
    # nothing landed on another agency's case
    assert not ContactAttempt.objects.filter(case=world.case_b, agency=world.agency_a).exists()


def test_a_case_the_agency_never_held_is_answered_as_unknown(world, placed):
    """Hard negative of the leak: an agency cannot tell an existing case of another agency (or one
    never placed) from an id that does not exist: same reason, column and message."""
    exists_elsewhere = run(world, csv_bytes([row("X1", world.case_b, at(10))]))
    never_placed = run(world, csv_bytes([row("X2", world.case_new, at(10))]))
    no_such_id = run(world, csv_bytes([row("X3", 99_999_999, at(10))]))
    answers = [r.as_dict() | {"rejected": [x.as_dict() for x in r.rejected]} for r in
               (exists_elsewhere, never_placed, no_such_id)]
    assert answers[0] == answers[1] == answers[2]
    assert answers[0]["rejected"] == [{"row": 2, "column": "case_id", "reason": "unknown_case"}]
    assert not ContactAttempt.objects.filter(agency_ref__in=["X1", "X2", "X3"]).exists()


def test_another_agencys_case_only_for_a_case_the_agency_held_before(world):
    """A held the case (recalled 10 days ago), then B got it: a contact on a day of B's placement is
    ``other_agency_case``; a day between the two placements is ``not_placed_at_time``; a day of A's
    own placement is applied."""
    cm = world.bank[f.Role.COLLECTIONS_MANAGER]
    case = f.make_case()
    services.case_place(case=case, agency=world.agency_a, acting_user=cm, starts_on=f.today() - timedelta(days=20))
    services.case_recall(case=case, reason="returned", acting_user=cm, on=f.today() - timedelta(days=10))
    services.case_place(case=case, agency=world.agency_b, acting_user=cm, starts_on=f.today() - timedelta(days=7))
    rows = [
        row("H1", case, at(10, day=f.today() - timedelta(days=15))),  # A's placement: good
        row("H2", case, at(10, day=f.today() - timedelta(days=8))),  # between the placements
        row("H3", case, at(10, day=f.today() - timedelta(days=3))),  # B's placement
    ]
    result = run(world, csv_bytes(rows))
    assert result.applied == 1
    assert [r.as_dict() for r in result.rejected] == [
        {"row": 3, "column": "case_id", "reason": "not_placed_at_time"},
        {"row": 4, "column": "case_id", "reason": "other_agency_case"},
    ]


def test_the_duplicate_lookup_is_one_query_whatever_the_number_of_refs(world, placed, monkeypatch):
    """Re-importing a file is one set-based lookup of the refs (not one ``IN`` list per 5,000 refs,
    which PostgreSQL's generic plan turned quadratic); the answer is unchanged."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fieldcollect.cases import results_import as ri

    rows = [row(f"D{k}", placed, at(9 + k % 9, k % 60)) for k in range(30)]
    first = run(world, csv_bytes(rows))
    assert (first.applied, first.duplicates) == (30, 0)
    monkeypatch.setattr(ri, "LOOKUP", 4)  # 8 chunks if the lookup were still chunked
    with CaptureQueriesContext(connection) as ctx:
        again = run(world, csv_bytes(rows))
    assert (again.applied, again.duplicates, again.rejected) == (0, 30, [])
    lookups = [q["sql"] for q in ctx.captured_queries if "agency_ref" in q["sql"] and "SELECT" in q["sql"]]
    if connection.vendor == "postgresql":
        assert len(lookups) == 1 and "unnest" in lookups[0]
    assert ContactAttempt.objects.filter(agency=world.agency_a).count() == 30


def test_the_refs_lookup_sql_equals_its_orm_twin(world, placed):
    """``_ids_by_ref``'s hand-written statement (PostgreSQL: the refs as one array joined with ``unnest``)
    gives what the ORM's chunked lookup gives: the agency's own refs only, none of another agency's, no
    empty ref, whatever the refs asked (absent, repeated, odd characters)."""
    from django.db import connection

    from fieldcollect.cases import results_import as ri

    rows = [row(f"T{k}", placed, at(9 + k % 9, k % 60)) for k in range(12)]
    assert run(world, csv_bytes(rows)).applied == 12
    asked = [f"T{k}" for k in range(0, 20, 2)] + ["T3", "T3", "", "x'); DROP TABLE x; --", "T11"]
    orm = {}
    for part in ri._chunks(sorted(set(asked))):
        orm.update(ri._by_ref(world.agency_a, part).values_list("agency_ref", "pk"))
    assert ri._ids_by_ref(world.agency_a, asked) == orm
    assert set(orm) == {"T0", "T2", "T4", "T6", "T8", "T10", "T3", "T11"}
    assert ri._ids_by_ref(world.agency_b, asked) == {}  # another agency's refs are not its own
    assert connection.vendor in ("postgresql", "sqlite")


def test_gbk_and_bom_files(world, placed):
    gbk = run(world, csv_bytes([row("GBK1", placed, at(10), notes="客户称已还款")], encoding="gbk"))
    bom = run(world, b"\xef\xbb\xbf" + csv_bytes([row("BOM1", placed, at(11), notes="留言")]))
    assert (gbk.applied, bom.applied) == (1, 1)
    assert ContactAttempt.objects.get(agency_ref="GBK1").notes == "客户称已还款"
    assert ContactAttempt.objects.get(agency_ref="BOM1").notes == "留言"


def test_xlsx_file(world, placed):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(list(COLUMNS))
    r = row("X1", placed, at(10), notes="表格")
    sheet.append([r[c] if r[c] != "" else None for c in COLUMNS])
    buf = io.BytesIO()
    book.save(buf)
    result = run(world, buf.getvalue(), name="results.xlsx")
    assert result.as_dict()["applied"] == 1, result.as_dict()
    assert ContactAttempt.objects.get(agency_ref="X1").notes == "表格"


def test_wrong_columns_refuse_the_file(world):
    bad = b"agency_ref,case_id,at\r\nR1,1,2026-01-01T10:00:00+08:00\r\n"
    with pytest.raises(ApplicationError) as err:
        run(world, bad)
    assert err.value.code == "results.columns" and "channel" in err.value.extra["missing"]
    with pytest.raises(ApplicationError) as err:
        run(world, b"\xff\xfe\x00\x00garbage")
    assert err.value.code == "results.file_invalid"


def test_only_the_agencys_manager_imports(world, placed):
    data = csv_bytes([row("R1", placed, at(10))])
    for user in (world.manager_b, world.collector_user_a1, world.bank[f.Role.COLLECTIONS_MANAGER]):
        with pytest.raises(PermissionDeniedError):
            results_import(agency=world.agency_a, data=data, filename="r.csv", acting_user=user, now=NOW)
    assert not ContactAttempt.objects.filter(agency_ref="R1").exists()


def test_a_breach_is_recorded_and_counted_not_blocked(world, placed):
    # CN: at most 3 connected calls a day: the 4th broke the cap, and so did a call at 22:30, which also broke
    # the contact hours
    rows = [row(f"C{i}", placed, at(9 + i), connected=1, outcome="callback") for i in range(4)]
    rows.append(row("N1", placed, at(22, 30)))
    result = run(world, csv_bytes(rows))
    assert (result.applied, result.breaches) == (5, 2)
    rules = dict(
        ContactAttempt.objects.filter(agency=world.agency_a).values_list("agency_ref", "breach_rules")
    )
    assert rules == {
        "C0": [],
        "C1": [],
        "C2": [],
        "C3": ["CN-CONNECTED-CAP"],
        "N1": ["CN-HOURS", "CN-CONNECTED-CAP"],
    }
    assert not BlockedAttempt.objects.exists()  # not turned into a blocked attempt
    report = daily_report(day=DAY, agency_id=world.agency_a.pk)
    assert report.days[0].breaches_by_rule == {"CN-CONNECTED-CAP": 2, "CN-HOURS": 1}
    assert report.days[0].blocked == 0
    card = monthly_scorecard(agency=world.agency_a, month=DAY)
    assert card.compliance_breaches == 2
    assert monthly_scorecard(agency=world.agency_b, month=DAY).compliance_breaches == 0


def test_a_breach_counts_the_ledger_of_other_agencies_at_its_own_time(world, placed):
    # three connected calls logged earlier by the bank on the same debtor use up the day's cap
    cm = world.bank[f.Role.COLLECTIONS_MANAGER]
    for h in (8, 9):
        services.contact_record(
            case=placed,
            acting_user=cm,
            channel="phone",
            outcome="callback",
            connected=True,
            at=datetime.combine(DAY, time(h, 30), tzinfo=SH),
        )
    result = run(
        world, csv_bytes([row("E1", placed, at(10), connected=1), row("E2", placed, at(11), connected=1)])
    )
    assert result.breaches == 1
    assert ContactAttempt.objects.get(agency_ref="E2").breach_rules == ["CN-CONNECTED-CAP"]
    # a contact before the others is judged at its own time: not a breach
    early = run(world, csv_bytes([row("E0", placed, at(8, 0), connected=1)]))
    assert early.breaches == 0


@pytest.mark.parametrize("method", ["orm", "copy"])
def test_a_contact_before_the_notice_is_a_breach_recorded_and_counted(world, method):
    """A reported call before the notice before outsourcing was sent, or within its waiting days, is
    recorded with the breach (not dropped, not a blocked attempt); after them it is not a breach; the
    notice naming agency B does not count for agency A."""
    cm = world.bank[f.Role.COLLECTIONS_MANAGER]
    case = f.make_case()
    services.case_place(case=case, agency=world.agency_a, acting_user=cm, starts_on=f.today() - timedelta(days=9))
    # B's notice, sent long ago, does not open the debtor to A
    f.notice_sent(case, agency=world.agency_b, at=datetime.combine(f.today() - timedelta(days=20), time(10), tzinfo=SH))
    sent_day = f.today() - timedelta(days=7)
    rows = [row("P1", case, at(11, day=sent_day - timedelta(days=1)))]  # before A's notice was sent
    f.notice_sent(case, agency=world.agency_a, at=datetime.combine(sent_day, time(9), tzinfo=SH))
    rows += [
        row("P2", case, at(20, day=sent_day + timedelta(days=3))),  # the last waiting day, 20:00
        row("P3", case, at(10, day=sent_day + timedelta(days=4))),  # the first day after them
    ]
    result = run(world, csv_bytes(rows), method=method)
    assert (result.applied, result.breaches) == (3, 2)
    rules = dict(ContactAttempt.objects.filter(case=case).values_list("agency_ref", "breach_rules"))
    assert rules == {"P1": ["CN-OUTSOURCING-NOTICE"], "P2": ["CN-OUTSOURCING-NOTICE"], "P3": []}
    assert not BlockedAttempt.objects.exists()
    report = daily_report(day=sent_day + timedelta(days=3), agency_id=world.agency_a.pk)
    assert report.days[0].breaches_by_rule == {"CN-OUTSOURCING-NOTICE": 1}
    assert daily_report(day=sent_day + timedelta(days=4), agency_id=world.agency_a.pk).days[0].breaches_by_rule == {}


def test_copy_and_orm_paths_store_the_same_rows(world, placed):
    rows = [
        row(
            f"P{i}",
            placed,
            at(9 + i % 12, i),
            connected=i % 2,
            notes=f"备注{i}",
            party="debtor" if i % 3 else "spouse",
        )
        for i in range(30)
    ]
    rows.append(
        row("PP", placed, at(21), outcome="promise", promise_amount_fen=800, promise_due=DAY.isoformat())
    )
    data = csv_bytes(rows)

    def stored(method: str):
        class Undo(Exception):
            pass

        out = {}
        try:
            with transaction.atomic():
                result = run(world, data, method=method)
                for c in ContactAttempt.objects.filter(agency=world.agency_a).order_by("agency_ref"):
                    out[c.agency_ref] = (
                        c.case_id,
                        c.collector_id,
                        c.channel,
                        c.party,
                        c.number,
                        c.at,
                        c.connected,
                        c.conversation,
                        c.outcome,
                        c.notes,
                        c.recorded_by_id,
                        c.breach_rules,
                        list(c.promises.values_list("amount_fen", "due_on")),
                    )
                out["_result"] = result.as_dict()
                raise Undo
        except Undo:
            pass
        return out

    orm, copy = stored("orm"), stored("copy")
    assert orm and orm == copy
    assert orm["_result"]["breaches"] > 0  # the file hits the caps: the breach column is compared too


def test_upload_page(world, placed, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(world.manager_a)
    assert client.get("/results/import").status_code == 200
    data = csv_bytes([row("W1", placed, at(10)), row("W2", 12345678, at(10))])
    resp = client.post("/results/import", {"file": SimpleUploadedFile("r.csv", data)})
    text = resp.content.decode()
    assert resp.status_code == 200 and "unknown_case" in text and "没有这个案件。" in text  # "No such case."
    assert ContactAttempt.objects.filter(agency_ref="W1").exists()
    from django.conf import settings

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    assert client.get("/results/import").status_code == 200
    client.force_login(world.collector_user_a1)
    assert client.get("/results/import").status_code == 403
    client.force_login(world.bank[f.Role.COLLECTIONS_MANAGER])
    assert client.post("/results/import", {"file": SimpleUploadedFile("r.csv", data)}).status_code == 403


def test_a_reported_call_by_a_lapsed_collector_is_a_certificate_breach(world, placed):
    """The same certificate records as a live call: a row naming a collector whose certificate had
    lapsed on the contact's local date is a breach of CN-COLLECTOR-CERTIFIED; the same collector's
    call while still certified, and a row naming no collector, are not (hard negatives)."""
    collector = world.collector_a1
    collector.certified_until = DAY - timedelta(days=1)  # lapsed the day before DAY
    collector.save(update_fields=["certified_until"])
    result = run(world, csv_bytes([
        row("L1", placed, at(10), collector_id=collector.pk),
        row("L2", placed, at(11)),
        row("L3", placed, at(10, day=DAY - timedelta(days=1)), collector_id=collector.pk),
    ]))
    assert result.applied == 3 and result.breaches == 1
    assert ContactAttempt.objects.get(agency_ref="L1").breach_rules == ["CN-COLLECTOR-CERTIFIED"]
    assert ContactAttempt.objects.get(agency_ref="L2").breach_rules == []
    assert ContactAttempt.objects.get(agency_ref="L3").breach_rules == []
