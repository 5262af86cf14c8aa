"""Bulk import of an agency's work results (催记): contacts its collectors made and reported from the
agency's own dialler and spreadsheets, in a CSV (UTF-8, UTF-8 with BOM or GBK) or XLSX file.

Columns (exactly these, in any order): ``agency_ref`` (the agency's own id of the record, unique per
agency), ``case_id``, ``collector_id`` (optional), ``at`` (ISO 8601 with an offset), ``channel``,
``party``, ``outcome``, ``connected``, ``conversation`` (0/1), ``promise_amount_fen``, ``promise_due``
(optional), ``notes``.

The answer is ``{"rows", "applied", "duplicates", "rejected": [{"row", "column", "reason"}],
"breaches"}``:

* each good row is recorded once: a row whose ``agency_ref`` the agency already imported (or that
  repeats an earlier row of the file) is a duplicate and applies nothing (the unique constraint
  ``contact_agency_ref_unique`` holds it under concurrency too);
* each bad row is refused with its row number (the header is row 1), column and a stable reason code
  (:data:`REASONS`); the good rows are applied all the same;
* a reported contact has already happened: it is checked by the compliance engine against the debtor's
  ledger at its own time (:func:`fieldcollect.compliance.services.reported_contacts_breaches`); one
  that broke a rule is recorded with the rules in ``breach_rules`` and counted (``breaches``), and the
  daily compliance report and the agency scorecard count it as a breach, not as a blocked attempt.
  A row naming a collector is checked against that collector's certificate and training on the
  contact's local date (the records of :mod:`fieldcollect.qa.training`): a lapsed collector's call is a
  breach of the certificate rule.

Writes: the contacts go in with ``COPY`` on PostgreSQL (:func:`fieldcollect.core.rawsql.copy_rows`,
``method="copy"``) or through the ORM's ``bulk_create`` (``method="orm"``); both store the same rows
(``cases/tests/test_results_import.py``). One transaction with the agency's row locked (two imports of
one agency run one after the other) and one audit row.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fieldcollect.agencies.models import Agency, Collector
from fieldcollect.audit.services import audit_log
from fieldcollect.cases.lifecycle import CaseStatus
from fieldcollect.cases.models import Case, Channel, ContactAttempt, Outcome, Party, Placement, PromiseToPay
from fieldcollect.compliance.engine import normalise_phone
from fieldcollect.compliance.selectors import engine_channel
from fieldcollect.compliance.services import ReportedContact, reported_contacts_breaches
from fieldcollect.core import rawsql
from fieldcollect.core.bank_time import bank_time_zone, bank_time_zone_name
from fieldcollect.core.denials import require_role, role_denied
from fieldcollect.core.errors import ApplicationError
from fieldcollect.core.models import Role, User
from fieldcollect.ingest.reader import decode_csv_bytes
from fieldcollect.portfolio.models import Customer
from fieldcollect.privacy.crypto import Binding
from fieldcollect.privacy.fields import current_keyring, new_row_binding, open_value

COLUMNS: tuple[str, ...] = (
    "agency_ref",
    "case_id",
    "collector_id",
    "at",
    "channel",
    "party",
    "outcome",
    "connected",
    "conversation",
    "promise_amount_fen",
    "promise_due",
    "notes",
)

MAX_BYTES = 64 * 1024 * 1024
MAX_ROWS = 500_000
LOOKUP = 5_000  # ids per IN (...) query
REF_MAX = ContactAttempt._meta.get_field("agency_ref").max_length or 64
NOTES_MAX = 2_000


def call_row(
    *, agency_ref: str, case_id: int, at: str, outcome: str, connected: int, promise: tuple[str, str] = ("", ""),
    notes: str = "",
) -> list[Any]:
    """One row of a work-results file in :data:`COLUMNS` order: a collector's phone call to the debtor
    (no collector id), its outcome, connected and a conversation alike, a promise's amount in fen and
    due day (or two empty cells), the notes. The demo's and the benchmark's files are written with it."""
    amount, due = promise
    cells = {"agency_ref": agency_ref, "case_id": case_id, "collector_id": "", "at": at, "channel": "phone",
             "party": "debtor", "outcome": outcome, "connected": connected, "conversation": connected,
             "promise_amount_fen": amount, "promise_due": due, "notes": notes}
    return [cells[column] for column in COLUMNS]


# reason code -> what it means (the page shows these; the API and the command line give the code)
REASONS: dict[str, Any] = {
    "missing": gettext_lazy("A value is required."),
    "too_long": gettext_lazy("The value is too long."),
    # a case the agency never held is "unknown" whether or not it exists (no answer reveals a case id)
    "unknown_case": gettext_lazy("No such case."),
    "other_agency_case": gettext_lazy("At that time the case was placed with another agency."),
    "not_placed_at_time": gettext_lazy("The case was not placed with this agency at that time."),
    "bad_time": gettext_lazy("Not an ISO 8601 time with an offset (e.g. 2026-03-01T10:15:00+08:00)."),
    "future_time": gettext_lazy("The time is in the future: a work result reports a contact that happened."),
    "unknown_code": gettext_lazy("Unknown code."),
    "unknown_collector": gettext_lazy("Not a collector of this agency."),
    "bad_number": gettext_lazy("Not a whole number of at least 0."),
    "bad_date": gettext_lazy("Not a date (YYYY-MM-DD)."),
    "promise_needs_due": gettext_lazy("A promised amount needs its due date."),
    "due_before_contact": gettext_lazy("The promise falls due before the contact."),
}

CONTACT_COLUMNS = (
    "case",
    "agency",
    "collector",
    "channel",
    "party",
    "number",
    "at",
    "connected",
    "conversation",
    "outcome",
    "notes",
    "recorded_by",
    "created_at",
    "row_binding",
    "agency_ref",
    "breach_rules",
)


class ImportErrorCode:
    FILE = "results.file_invalid"
    COLUMNS = "results.columns"
    TOO_LARGE = "results.too_large"


@dataclass(frozen=True)
class Rejection:
    row: int
    column: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "reason": self.reason}


@dataclass
class ImportResult:
    rows: int = 0
    applied: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    breaches: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "applied": self.applied,
            "duplicates": self.duplicates,
            "rejected": [r.as_dict() for r in self.rejected],
            "breaches": self.breaches,
        }


@dataclass
class _Row:
    line: int
    ref: str
    case_id: int
    collector_id: int | None
    at: datetime
    channel: str
    party: str
    outcome: str
    connected: bool
    conversation: bool
    promise_fen: int
    promise_due: date | None
    notes: str
    breach: tuple[str, ...] = ()
    collector: Collector | None = None  # the named collector's qualification (the certificate rule)


def importing_agency(user: User) -> Agency:
    """The agency whose work results ``user`` imports through the page or the API: an agency manager's
    own (:func:`can_import_results`); anyone else is refused (403)."""
    if not can_import_results(user) or user.agency is None:
        raise role_denied({"capability": "results.import"})
    return user.agency


def can_import_results(user: User | None) -> bool:
    """Whether ``user`` may import work results: an agency manager, for their own agency (``None`` is
    the system, e.g. the command line)."""
    return user is None or (
        user.is_active and user.role == Role.AGENCY_MANAGER and user.agency_id is not None
    )


# ---------------------------------------------------------------- reading the file


def read_table(data: bytes, filename: str) -> list[dict[str, str]]:
    """The data rows of a CSV or XLSX file as dicts of text (header names stripped and lower-cased);
    :class:`ApplicationError` naming the file and the problem when it cannot be read or its columns
    are not exactly :data:`COLUMNS`."""
    if len(data) > MAX_BYTES:
        raise ApplicationError(
            _("The file is too large (at most %(mb)d MB).") % {"mb": MAX_BYTES // 2**20},
            code=ImportErrorCode.TOO_LARGE,
            extra={"file": filename},
        )
    name = filename.lower()
    if name.endswith(".xlsx") or data[:2] == b"PK":
        table = _xlsx_rows(data, filename)
    else:
        try:
            text, _encoding = decode_csv_bytes(data)
        except ValueError as exc:
            raise ApplicationError(
                _("%(file)s: %(why)s") % {"file": filename, "why": exc},
                code=ImportErrorCode.FILE,
                extra={"file": filename},
            ) from exc
        if "\x00" in text:
            raise ApplicationError(
                _("%(file)s: not a text file.") % {"file": filename},
                code=ImportErrorCode.FILE,
                extra={"file": filename},
            )
        try:
            table = list(csv.reader(io.StringIO(text, newline="")))
        except csv.Error as exc:
            raise ApplicationError(
                _("%(file)s: %(why)s") % {"file": filename, "why": exc},
                code=ImportErrorCode.FILE,
                extra={"file": filename},
            ) from exc
    if not table:
        raise ApplicationError(
            _("%(file)s: the file is empty.") % {"file": filename},
            code=ImportErrorCode.FILE,
            extra={"file": filename},
        )
    header = [h.strip().lower() for h in table[0]]
    missing = [c for c in COLUMNS if c not in header]
    unknown = [h for h in header if h not in COLUMNS]
    twice = sorted({h for h in header if header.count(h) > 1})
    if missing or unknown or twice:
        raise ApplicationError(
            _("%(file)s: the columns must be exactly %(cols)s.")
            % {"file": filename, "cols": ", ".join(COLUMNS)},
            code=ImportErrorCode.COLUMNS,
            extra={"file": filename, "missing": missing, "unknown": unknown, "repeated": twice},
        )
    if len(table) - 1 > MAX_ROWS:
        raise ApplicationError(
            _("The file has too many rows (at most %(n)d).") % {"n": MAX_ROWS},
            code=ImportErrorCode.TOO_LARGE,
            extra={"file": filename},
        )
    out: list[dict[str, str]] = []
    for values in table[1:]:
        if not any(v.strip() for v in values):
            out.append({})  # a blank line keeps its row number and is skipped
            continue
        out.append({h: (values[i].strip() if i < len(values) else "") for i, h in enumerate(header)})
    return out


def _xlsx_rows(data: bytes, filename: str) -> list[list[str]]:
    from openpyxl import load_workbook  # heavy: only for spreadsheets

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        raise ApplicationError(
            _("%(file)s: not a readable XLSX workbook.") % {"file": filename},
            code=ImportErrorCode.FILE,
            extra={"file": filename},
        ) from exc
    try:
        sheet = book.worksheets[0]
        return [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()  # a naive spreadsheet time stays naive: refused as bad_time
    return str(value)


# ---------------------------------------------------------------- checking rows

# the codes of each coded column (computed once: an enum's ``values`` is rebuilt on every read)
_CODES: tuple[tuple[str, frozenset[str]], ...] = (
    ("channel", frozenset(Channel.values)),
    ("party", frozenset(Party.values)),
    ("outcome", frozenset(Outcome.values)),
)


def _parse(line: int, raw: dict[str, str], now: datetime, bad: list[Rejection]) -> _Row | None:
    errors: list[Rejection] = []

    def fail(column: str, reason: str) -> None:
        errors.append(Rejection(line, column, reason))

    ref = raw["agency_ref"]
    if not ref:
        fail("agency_ref", "missing")
    elif len(ref) > REF_MAX:
        fail("agency_ref", "too_long")
    case_id = _whole(raw["case_id"], "case_id", fail, required=True)
    collector_id = _whole(raw["collector_id"], "collector_id", fail, required=False)
    at: datetime | None = None
    if not raw["at"]:
        fail("at", "missing")
    else:
        try:
            at = datetime.fromisoformat(raw["at"])
        except ValueError:
            fail("at", "bad_time")
        else:
            if at.tzinfo is None or at.utcoffset() is None:
                fail("at", "bad_time")
                at = None
            elif at > now:
                fail("at", "future_time")
    for column, allowed in _CODES:
        if not raw[column]:
            fail(column, "missing")
        elif raw[column] not in allowed:
            fail(column, "unknown_code")
    flags = {}
    for column in ("connected", "conversation"):
        value = raw[column] or "0"
        if value not in {"0", "1"}:
            fail(column, "unknown_code")
        flags[column] = value == "1"
    amount = _whole(raw["promise_amount_fen"], "promise_amount_fen", fail, required=False) or 0
    due: date | None = None
    if raw["promise_due"]:
        try:
            due = date.fromisoformat(raw["promise_due"])
        except ValueError:
            fail("promise_due", "bad_date")
    if amount > 0 and due is None and not raw["promise_due"]:
        fail("promise_due", "promise_needs_due")
    if amount > 0 and due is not None and at is not None and due < at.date():
        fail("promise_due", "due_before_contact")
    notes = raw["notes"]
    if len(notes) > NOTES_MAX:
        fail("notes", "too_long")
    if errors or at is None or case_id is None:
        bad.extend(errors)
        return None
    return _Row(
        line=line,
        ref=ref,
        case_id=case_id,
        collector_id=collector_id,
        at=at,
        channel=raw["channel"],
        party=raw["party"],
        outcome=raw["outcome"],
        connected=flags["connected"] or flags["conversation"],
        conversation=flags["conversation"],
        promise_fen=amount,
        promise_due=due,
        notes=notes,
    )


def _whole(text: str, column: str, fail: Any, *, required: bool) -> int | None:
    if not text:
        if required:
            fail(column, "missing")
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        fail(column, "bad_number")
        return None
    return int(text)


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for k in range(0, len(values), LOOKUP):
        yield values[k : k + LOOKUP]


# ---------------------------------------------------------------- the import


def results_import(
    *,
    agency: Agency,
    data: bytes,
    filename: str,
    acting_user: User | None,
    method: str = "copy",
    now: datetime | None = None,
) -> ImportResult:
    """Import the work results of ``agency`` from the file ``data`` (named ``filename``); see the module
    docstring for the columns and the answer. ``acting_user`` ``None`` is the system (command line);
    otherwise an agency manager of ``agency`` (:func:`can_import_results`). ``method`` ``"copy"`` writes
    with COPY on PostgreSQL, ``"orm"`` through ``bulk_create`` (same rows)."""
    require_role(
        can_import_results(acting_user) and (acting_user is None or acting_user.agency_id == agency.pk),
        {"capability": "results.import"},
    )
    if method not in {"copy", "orm"}:
        raise ValueError(f"method must be copy or orm, got {method!r}")
    now = now or timezone.now()
    raw_rows = read_table(data, filename)
    result = ImportResult(rows=sum(1 for r in raw_rows if r))
    rows: list[_Row] = []
    for i, raw in enumerate(raw_rows, start=2):
        if raw:
            parsed = _parse(i, raw, now, result.rejected)
            if parsed is not None:
                rows.append(parsed)
    with transaction.atomic():
        Agency.objects.select_for_update().filter(pk=agency.pk).exists()  # imports of one agency in turn
        rows = _drop_duplicates(agency, rows, result)
        rows = _check_cases(agency, rows, result)
        cases = _case_facts({r.case_id for r in rows})
        _check_compliance(agency, rows, cases)
        result.breaches = sum(1 for r in rows if r.breach)
        result.applied = len(rows)
        if rows:
            _write(agency, rows, cases, acting_user, method=method, now=now)
        result.rejected.sort(key=lambda r: (r.row, COLUMNS.index(r.column) if r.column in COLUMNS else 99))
        audit_log(
            actor=acting_user,
            action="results.import",
            object_type="agency",
            object_id=agency.pk,
            new={
                "file": filename[:200],
                "sha256": hashlib.sha256(data).hexdigest(),
                "rows": result.rows,
                "applied": result.applied,
                "duplicates": result.duplicates,
                "rejected": len(result.rejected),
                "breaches": result.breaches,
                "method": method,
            },
        )
    return result


def _by_ref(agency: Agency, refs: Sequence[str]) -> Any:
    """The agency's contacts with these ``agency_ref`` (a short list: the promises of one import use
    :func:`_ids_by_ref`); the condition of the partial unique index (``agency_ref <> ''``) is repeated
    so that PostgreSQL uses the index."""
    return ContactAttempt.objects.filter(agency=agency, agency_ref__in=refs).exclude(agency_ref="")


def _ids_by_ref(agency: Agency, refs: Sequence[str]) -> dict[str, int]:
    """``agency_ref → contact id`` of the agency's contacts among ``refs``, in one set-based query.

    On PostgreSQL the refs go in as one array parameter joined with ``unnest`` (a hash or index join
    on ``contact_agency_ref_unique``). Chunked ``IN (...)`` lists were the same statement run once
    per 5,000 refs: after a few runs psycopg prepares it and PostgreSQL may switch to a generic plan
    that compares every row of the agency with every ref of the list (re-importing 100,000 rows took
    231 s against 15 s for the first import). Other databases (SQLite) keep the chunked lists.
    """
    if not refs:
        return {}
    conn = connection
    if conn.vendor != "postgresql":
        out: dict[str, int] = {}
        for part in _chunks(refs):
            out.update(_by_ref(agency, part).values_list("agency_ref", "pk"))
        return out
    ref_col = rawsql.column(ContactAttempt, "agency_ref", "c")
    sql = (
        f"SELECT {ref_col}, {rawsql.column(ContactAttempt, 'id', 'c')} "
        f"FROM {rawsql.table(ContactAttempt)} c "
        f"JOIN unnest(%s::text[]) AS r(ref) ON {ref_col} = r.ref "
        f"WHERE {rawsql.column(ContactAttempt, 'agency', 'c')} = %s AND {ref_col} <> ''"
    )
    with conn.cursor() as cur:
        cur.execute(sql, [list(refs), agency.pk])
        return dict(cur.fetchall())


def _drop_duplicates(agency: Agency, rows: list[_Row], result: ImportResult) -> list[_Row]:
    seen: set[str] = set(_ids_by_ref(agency, sorted({r.ref for r in rows})))
    kept = []
    for r in rows:
        if r.ref in seen:
            result.duplicates += 1
            continue
        seen.add(r.ref)
        kept.append(r)
    return kept


def _check_cases(agency: Agency, rows: list[_Row], result: ImportResult) -> list[_Row]:
    """Refuse the rows whose case the agency may not report on (see :data:`REASONS`).

    The reason never tells an agency that a case exists which it never held: a case id that does not
    exist and a case the agency never had a placement of get the same ``unknown_case`` (and no other
    difference in the answer). For a case the agency held at some time, ``other_agency_case`` says the
    contact's day falls in another agency's placement, ``not_placed_at_time`` that it falls outside
    every placement of the agency (docs/operations.md, "Work results from agencies").
    """
    ids = sorted({r.case_id for r in rows})
    periods: dict[int, list[tuple[date, date]]] = {}
    others: dict[int, list[tuple[date, date]]] = {}
    for part in _chunks(ids):
        for case_id, agency_id, starts, ends, recalled in Placement.objects.filter(case_id__in=part).values_list(
            "case_id", "agency_id", "starts_on", "ends_on", "recalled_on"
        ):
            held = periods if agency_id == agency.pk else others
            held.setdefault(case_id, []).append((starts, recalled or ends))
    named = {r.collector_id for r in rows if r.collector_id is not None}
    collectors: dict[int, Collector] = {}
    for part in _chunks(sorted(named)):
        collectors.update((c.pk, c) for c in Collector.objects.filter(agency=agency, pk__in=part).only(
            "collector_id", "agency_id", "active", "certified_until", "trained_until"))
    tz = bank_time_zone()
    kept = []
    for r in rows:
        reason = ""
        if r.case_id not in periods:  # no such case, or one the agency never held: the same answer
            reason = "unknown_case"
        else:
            day = r.at.astimezone(tz).date()  # placements run on the bank's days
            if not any(lo <= day <= hi for lo, hi in periods[r.case_id]):
                elsewhere = any(lo <= day <= hi for lo, hi in others.get(r.case_id, ()))
                reason = "other_agency_case" if elsewhere else "not_placed_at_time"
        if reason:
            result.rejected.append(Rejection(r.line, "case_id", reason))
        elif r.collector_id is not None and r.collector_id not in collectors:
            result.rejected.append(Rejection(r.line, "collector_id", "unknown_collector"))
        else:
            r.collector = collectors.get(r.collector_id) if r.collector_id is not None else None
            kept.append(r)
    return kept


@dataclass(frozen=True)
class _CaseFacts:
    customer_id: int
    tz: str
    jurisdiction: str
    mobile: str


def _case_facts(case_ids: set[int]) -> dict[int, _CaseFacts]:
    out: dict[int, _CaseFacts] = {}
    default_tz = bank_time_zone_name()
    for part in _chunks(sorted(case_ids)):
        for cid, customer, tz, jur, mobile, row in Case.objects.filter(pk__in=part).values_list(
            "pk",
            "customer_id",
            "customer__timezone",
            "loan__jurisdiction",
            "customer__mobile",
            "customer__row_binding",
        ):
            number = open_value(Customer, "mobile", mobile, row) if mobile else ""
            out[cid] = _CaseFacts(
                customer_id=customer,
                tz=tz or default_tz,
                jurisdiction=jur or "CN",
                mobile=(normalise_phone(str(number or "")) or "")[:32],
            )
    return out


def _number(row: _Row, facts: _CaseFacts) -> str:
    """The number the contact used, as :func:`fieldcollect.compliance.services.default_number` gives it:
    the debtor's own mobile for a call or text to the debtor."""
    if row.party == Party.DEBTOR and engine_channel(row.channel) in {"call", "sms"}:
        return facts.mobile
    return ""


def _check_compliance(agency: Agency, rows: list[_Row], cases: dict[int, _CaseFacts]) -> None:
    reported = []
    for k, r in enumerate(rows):
        f = cases[r.case_id]
        reported.append(
            ReportedContact(
                key=k,
                customer_id=f.customer_id,
                tz=f.tz,
                jurisdiction=f.jurisdiction,
                channel=r.channel,
                party=r.party,
                at=r.at,
                number=_number(r, f),
                connected=r.connected,
                conversation=r.conversation,
                agency_id=agency.pk,
                collector=r.collector,
            )
        )
    for k, rule_ids in reported_contacts_breaches(reported).items():
        rows[k].breach = tuple(rule_ids)


def _write(
    agency: Agency,
    rows: list[_Row],
    cases: dict[int, _CaseFacts],
    acting_user: User | None,
    *,
    method: str,
    now: datetime,
) -> None:
    user_id = acting_user.pk if acting_user is not None else None
    if method == "orm":
        ContactAttempt.objects.bulk_create(
            [
                ContactAttempt(
                    case_id=r.case_id,
                    agency=agency,
                    collector_id=r.collector_id,
                    channel=r.channel,
                    party=r.party,
                    number=_number(r, cases[r.case_id]),
                    at=r.at,
                    connected=r.connected,
                    conversation=r.conversation,
                    outcome=r.outcome,
                    notes=r.notes,
                    recorded_by_id=user_id,
                    agency_ref=r.ref,
                    breach_rules=list(r.breach),
                )
                for r in rows
            ],
            batch_size=2_000,
        )
    else:
        ring = current_keyring()
        table = ContactAttempt._meta.db_table
        names = [rawsql.field(ContactAttempt, c).column for c in CONTACT_COLUMNS]

        def stored() -> Iterable[tuple[Any, ...]]:
            for r in rows:
                binding = new_row_binding()
                number = _number(r, cases[r.case_id])
                yield (
                    r.case_id,
                    agency.pk,
                    r.collector_id,
                    r.channel,
                    r.party,
                    ring.encrypt(number, Binding(table, "number", binding)) if number else "",
                    r.at,
                    r.connected,
                    r.conversation,
                    r.outcome,
                    ring.encrypt(r.notes, Binding(table, "notes", binding)) if r.notes else "",
                    user_id,
                    now,
                    binding,
                    r.ref,
                    json.dumps(list(r.breach)),
                )

        rawsql.copy_rows(rawsql.table(ContactAttempt), names, stored())
    promised = [r for r in rows if r.promise_fen > 0 and r.promise_due is not None]
    if promised:
        ids = _ids_by_ref(agency, [r.ref for r in promised])
        tz = bank_time_zone()
        PromiseToPay.objects.bulk_create(
            [
                PromiseToPay(
                    case_id=r.case_id,
                    contact_id=ids[r.ref],
                    agency=agency,
                    amount_fen=r.promise_fen,
                    due_on=r.promise_due,
                    promised_on=r.at.astimezone(tz).date(),
                    recorded_by_id=user_id,
                )
                for r in promised
                if r.promise_due is not None
            ],
            batch_size=2_000,
        )
    # the first contact starts work on a case the agency holds (as recording one contact does)
    touched = sorted({r.case_id for r in rows})
    for part in _chunks(touched):
        Case.objects.filter(
            pk__in=part, agency=agency, status__in=[CaseStatus.NEW, CaseStatus.PLACED, CaseStatus.ASSIGNED]
        ).update(status=CaseStatus.IN_PROGRESS, version=F("version") + 1, updated_at=now)


__all__ = [
    "COLUMNS",
    "REASONS",
    "ImportResult",
    "Rejection",
    "can_import_results",
    "read_table",
    "results_import",
]
