"""The agency's claim file: what it says the bank owes it for a month, line by line, read and compared
with the statement.

The file is CSV (UTF-8, UTF-8 with BOM, or GBK) or XLSX, one row per payment the agency claims
commission on, with a header row. Columns (case and order free; Chinese headers accepted):

================  =========  ==============================================
column            required   meaning
================  =========  ==============================================
``payment_id``    yes        the bank's payment id (as on the statement)
``amount_fen``    yes        the payment's amount in fen (whole number)
``commission_fen`` yes       the commission claimed in fen (whole number)
``case_id``       no         compared when given
``paid_on``       no         ``YYYY-MM-DD``, compared when given
================  =========  ==============================================

A row that cannot be read is refused with the file, row, field and reason (:class:`ClaimError`);
the other rows are still compared. Differences (:class:`Difference`) are one per line: a claimed
payment not on the statement, a statement line not claimed, or a line whose amount, commission, case,
date or dispute differs. Amounts are integers (fen): exact.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from openpyxl import load_workbook

from fieldcollect.ingest.reader import decode_csv_bytes

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 500_000
REQUIRED = ("payment_id", "amount_fen", "commission_fen")
OPTIONAL = ("case_id", "paid_on")
ALIASES = {
    "还款编号": "payment_id",
    "付款编号": "payment_id",
    "案件编号": "case_id",
    "还款日期": "paid_on",
    "金额(分)": "amount_fen",
    "还款金额(分)": "amount_fen",
    "佣金(分)": "commission_fen",
}


@dataclass(frozen=True)
class ClaimRow:
    row: int
    payment_id: int
    amount_fen: int
    commission_fen: int
    case_id: int | None = None
    paid_on: date | None = None


@dataclass(frozen=True)
class ClaimError:
    file: str
    row: int
    field: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.file}, row {self.row}, {self.field}: {self.reason}"


@dataclass(frozen=True)
class StatementEntry:
    """What the statement says about one payment (from its line)."""

    payment_id: int
    case_id: int
    paid_on: date
    amount_fen: int
    commission_fen: int
    disputed: bool


@dataclass(frozen=True)
class Difference:
    """One line that differs. ``kind``: ``not_on_statement``, ``not_claimed``, ``amount``,
    ``commission``, ``case``, ``paid_on``, ``disputed``."""

    kind: str
    payment_id: int
    row: int | None
    claimed: Any
    statement: Any

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("claimed", "statement"):
            if isinstance(d[k], date):
                d[k] = d[k].isoformat()
        return d


def _rows_of(name: str, data: bytes) -> tuple[list[list[str]], list[ClaimError]]:
    if data[:2] == b"PK" and zipfile.is_zipfile(io.BytesIO(data)):
        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # any broken workbook is the same refusal
            return [], [ClaimError(name, 0, "file", f"not a readable XLSX workbook ({type(exc).__name__})")]
        ws = wb.worksheets[0]
        rows = [["" if v is None else str(v) for v in r] for r in ws.iter_rows(values_only=True)]
        wb.close()
        return rows, []
    try:
        text, _enc = decode_csv_bytes(data)
    except ValueError as exc:
        return [], [ClaimError(name, 0, "file", str(exc))]
    return list(csv.reader(io.StringIO(text))), []


def _int(value: str) -> int:
    v = value.strip().replace(",", "")
    if v.endswith(".0"):
        v = v[:-2]
    return int(v, 10)


def parse_claim_file(name: str, data: bytes) -> tuple[list[ClaimRow], list[ClaimError]]:
    """The rows of a claim file and the errors of the rows refused (row numbers count the header as 1)."""
    if not data:
        return [], [ClaimError(name, 0, "file", "the file is empty")]
    if len(data) > MAX_BYTES:
        return [], [ClaimError(name, 0, "file", f"larger than {MAX_BYTES // (1024 * 1024)} MB")]
    raw, errors = _rows_of(name, data)
    if errors:
        return [], errors
    raw = [r for r in raw if any(c.strip() for c in r)]
    if not raw:
        return [], [ClaimError(name, 0, "file", "no header row")]
    header = [ALIASES.get(h.strip().lstrip("\ufeff"), h.strip().lstrip("\ufeff").lower()) for h in raw[0]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        return [], [ClaimError(name, 1, c, "column missing from the header") for c in missing]
    if len(raw) - 1 > MAX_ROWS:
        return [], [ClaimError(name, 0, "file", f"more than {MAX_ROWS} rows")]
    col = {c: header.index(c) for c in (*REQUIRED, *OPTIONAL) if c in header}
    out: list[ClaimRow] = []
    seen: dict[int, int] = {}
    for n, cells in enumerate(raw[1:], start=2):

        def cell(c: str, cells: list[str] = cells) -> str:
            i = col.get(c)
            return cells[i].strip() if i is not None and i < len(cells) else ""

        values: dict[str, Any] = {}
        bad: ClaimError | None = None
        for c in ("payment_id", "amount_fen", "commission_fen", "case_id"):
            text = cell(c)
            if not text:
                if c in REQUIRED:
                    bad = ClaimError(name, n, c, "empty")
                    break
                values[c] = None
                continue
            try:
                values[c] = _int(text)
            except ValueError:
                bad = ClaimError(name, n, c, f"not a whole number: {text[:40]!r}")
                break
            if values[c] < 0 or (c in ("payment_id", "case_id") and values[c] == 0):
                bad = ClaimError(
                    name, n, c, "must be positive" if c.endswith("_id") else "must not be negative"
                )
                break
        if bad is None and cell("paid_on"):
            try:
                values["paid_on"] = date.fromisoformat(cell("paid_on")[:10])
            except ValueError:
                bad = ClaimError(name, n, "paid_on", f"not a date YYYY-MM-DD: {cell('paid_on')[:40]!r}")
        if bad is None and values["payment_id"] in seen:
            bad = ClaimError(
                name, n, "payment_id", f"claimed twice (first at row {seen[values['payment_id']]})"
            )
        if bad is not None:
            errors.append(bad)
            continue
        seen[values["payment_id"]] = n
        out.append(
            ClaimRow(
                row=n,
                payment_id=values["payment_id"],
                amount_fen=values["amount_fen"],
                commission_fen=values["commission_fen"],
                case_id=values.get("case_id"),
                paid_on=values.get("paid_on"),
            )
        )
    return out, errors


def compare(claims: Iterable[ClaimRow], entries: Iterable[StatementEntry]) -> tuple[int, list[Difference]]:
    """Compare the claimed rows with the statement's lines: ``(matched, differences)``. A line
    disputed on the statement is payable as nothing, so claiming it is a difference."""
    by_payment = {e.payment_id: e for e in entries}
    claimed: set[int] = set()
    matched = 0
    out: list[Difference] = []
    for c in claims:
        claimed.add(c.payment_id)
        e = by_payment.get(c.payment_id)
        if e is None:
            out.append(Difference("not_on_statement", c.payment_id, c.row, c.commission_fen, None))
            continue
        diffs = []
        if c.amount_fen != e.amount_fen:
            diffs.append(Difference("amount", c.payment_id, c.row, c.amount_fen, e.amount_fen))
        if c.commission_fen != e.commission_fen:
            diffs.append(Difference("commission", c.payment_id, c.row, c.commission_fen, e.commission_fen))
        if c.case_id is not None and c.case_id != e.case_id:
            diffs.append(Difference("case", c.payment_id, c.row, c.case_id, e.case_id))
        if c.paid_on is not None and c.paid_on != e.paid_on:
            diffs.append(Difference("paid_on", c.payment_id, c.row, c.paid_on, e.paid_on))
        if e.disputed:
            diffs.append(Difference("disputed", c.payment_id, c.row, c.commission_fen, 0))
        out.extend(diffs)
        matched += not diffs
    for pid in sorted(set(by_payment) - claimed):
        e = by_payment[pid]
        out.append(Difference("not_claimed", pid, None, None, e.commission_fen))
    return matched, out
