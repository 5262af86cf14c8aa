"""Every table export that leaves the system goes through :func:`export_table`.

It gives the recipient only the columns their agency's contract permits (bank users: all), puts a
visible watermark naming the recipient on the file, embeds an invisible fingerprint that names the
export from a leaked copy (see :mod:`fieldcollect.privacy.fingerprint`), and records the hand-over
(:class:`~fieldcollect.privacy.models.ExportRecord`, kept three years) with an audit entry
``export`` in the same transaction. Text that a spreadsheet program would run as a formula is
neutralised (:func:`fieldcollect.core.cells.safe_row`) before the marks are added. Files are written
block by block (:func:`export_to`, :func:`export_stream`): memory stays flat whatever the size.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import secrets
import tempfile
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, BinaryIO, Literal

from django.db import transaction
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from fieldcollect.agencies.selectors import contract_terms
from fieldcollect.audit.services import audit_log
from fieldcollect.core.cells import LINE_END, safe_row
from fieldcollect.core.errors import ApplicationError
from fieldcollect.core.models import User
from fieldcollect.home import home_dir
from fieldcollect.privacy import fingerprint as fpr
from fieldcollect.privacy.errors import PrivacyErrorCode
from fieldcollect.privacy.models import ExportRecord

Fmt = Literal["csv", "xlsx"]
KEY_ENV = "FIELDCOLLECT_FINGERPRINT_KEY"

# columns that carry contract-gated customer data -> the contract field that permits them
_EXACT_FIELDS = {
    "name": "name", "customer_name": "name", "debtor_name": "name", "customer": "name",
    "city": "city", "customer_city": "city", "province": "province", "district": "district",
    "dpd": "dpd", "max_dpd": "dpd", "bucket": "bucket", "bucket_at_placement": "bucket",
    "overdue": "overdue", "overdue_fen": "overdue", "overdue_amount": "overdue",
    "outstanding_principal_fen": "overdue", "overdue_fen_at_placement": "overdue",
}
_TOKEN_FIELDS = {"mobile": "mobile", "phone": "mobile", "tel": "mobile", "address": "address",
                 "street": "address", "idno": "id_number", "idcard": "id_number"}


def gated_field(column: str) -> str | None:
    """The contract field that must be permitted for ``column`` (``None``: not customer data)."""
    col = column.strip().lower()
    if col in _EXACT_FIELDS:
        return _EXACT_FIELDS[col]
    if "id_number" in col or "id_card" in col:
        return "id_number"
    for token in col.replace("-", "_").split("_"):
        if token in _TOKEN_FIELDS:
            return _TOKEN_FIELDS[token]
    return None


def permitted_fields_for(user: User) -> tuple[str, ...] | None:
    """The contract fields ``user`` may receive; ``None`` means unrestricted (bank users)."""
    if user.is_bank_user:
        return None
    if user.agency is None:
        return ()
    terms = contract_terms(agency=user.agency, on=timezone.localdate())
    return terms.permitted_fields if terms is not None else ()


def allowed_columns(*, user: User, columns: Sequence[str]) -> list[str]:
    permitted = permitted_fields_for(user)
    if permitted is None:
        return list(columns)
    return [c for c in columns if (f := gated_field(c)) is None or f in permitted]


def fingerprint_key() -> bytes:
    """The HMAC key of the fingerprints: ``$FIELDCOLLECT_FINGERPRINT_KEY`` or a key file made once."""
    value = os.environ.get(KEY_ENV, "")
    if value:
        return hashlib.sha256(value.encode()).digest()
    folder = home_dir() / "keys"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "export_fingerprint_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, (date, Decimal)):
        return str(value)
    return str(value)


def watermark_text(*, record: ExportRecord, agency_name: str) -> str:
    who = record.recipient_label + (f" ({agency_name})" if agency_name else "")
    return (f"CONFIDENTIAL 机密 — {record.name} for {who} only — {record.created_at:%Y-%m-%d %H:%M} UTC — "
            f"export {record.fingerprint} — purpose: {record.purpose} — do not forward 禁止转发")


@dataclass(frozen=True)
class ExportResult:
    data: bytes
    record: ExportRecord


def _marked(*, key: bytes, export_id: str, code: str, row: Sequence[Any]) -> list[Any]:
    """The row with the zero-width code and the keyed trailing space on its carrier cell."""
    texts = [_text(v) for v in row]
    idx = fpr.carrier_index(texts)
    new = list(row)
    if idx is None:  # no text cell: the last cell becomes text (a number loses its type)
        idx = len(new) - 1
    row_key = texts[0] if texts else ""
    space = " " if fpr.row_bit(key=key, export_id=export_id, row_key=row_key) else ""
    new[idx] = texts[idx] + code + space
    return new


def _csv_chunks(*, watermark: str, code: str, columns: list[str], rows: Iterable[Sequence[Any]],
                block: int = 1 << 16) -> Iterator[bytes]:
    """The CSV (UTF-8 with BOM: Excel opens Chinese correctly) in blocks of about ``block`` characters,
    made row by row."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=LINE_END)  # a CR in a cell is quoted (see core.cells)
    encoding = "utf-8-sig"  # the first block carries the BOM

    def drain() -> bytes:
        nonlocal encoding
        data = buf.getvalue().encode(encoding)
        encoding = "utf-8"
        buf.seek(0)
        buf.truncate()
        return data

    buf.write(f"# {watermark}{code}{LINE_END}")
    writer.writerow(safe_row(columns))
    for row in rows:
        writer.writerow([_text(v) for v in row])
        if buf.tell() >= block:
            yield drain()
    yield drain()


def _xlsx_chunks(*, watermark: str, code: str, name: str, columns: list[str], rows: Iterable[Sequence[Any]],
                 block: int = 1 << 16) -> Iterator[bytes]:
    """The XLSX, written with constant memory (openpyxl's write-only mode keeps the rows in a temporary
    file, not in memory), then read back in blocks of ``block`` bytes."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=re.sub(r"[\\/?*\[\]:]", "-", name or "export")[:31] or "export")
    ws.freeze_panes = "A3"  # part of the sheet's head: set before the first row
    title = WriteOnlyCell(ws, value=watermark + code)
    title.font = Font(italic=True, color="C00000", bold=True)
    ws.append([title])
    if len(columns) > 1:
        ws.merged_cells.add(f"A1:{get_column_letter(len(columns))}1")
    head = []
    for column in safe_row(columns):
        cell = WriteOnlyCell(ws, value=column)
        cell.font = Font(bold=True)
        head.append(cell)
    ws.append(head)
    for row in rows:
        ws.append([float(v) if isinstance(v, Decimal) else v for v in row])
    for part in (ws.oddHeader, ws.evenHeader, ws.firstHeader):
        if part is not None:
            part.center.text = watermark
    for part in (ws.oddFooter, ws.evenFooter, ws.firstFooter):
        if part is not None:
            part.center.text = "&P / &N — " + watermark
    wb.properties.title = name
    wb.properties.description = "fieldcollect export" + code
    with tempfile.TemporaryFile() as fh:
        wb.save(fh)
        fh.seek(0)
        while data := fh.read(block):
            yield data


SYSTEM_RECIPIENT = "system (operations export)"


def _check(*, purpose: str, columns: list[str], fmt: str) -> None:
    if fmt not in ("csv", "xlsx"):
        raise ApplicationError(f"unknown export format {fmt!r} (csv or xlsx)", code=PrivacyErrorCode.EXPORT_FORMAT)
    if not purpose.strip():
        raise ApplicationError("an export needs a stated purpose", code=PrivacyErrorCode.EXPORT_PURPOSE)
    if not columns:
        raise ApplicationError("an export needs at least one column", code=PrivacyErrorCode.EXPORT_COLUMNS)


def _open_record(*, user: User | None, purpose: str, name: str, columns: list[str],
                 fmt: Fmt) -> tuple[ExportRecord, list[int], bytes, str, str]:
    """The record of a new export (call inside its transaction), the indexes of the columns the
    recipient may have, the fingerprint key, the zero-width code and the watermark text."""
    keep = list(columns) if user is None else allowed_columns(user=user, columns=columns)
    keep_idx = [i for i, c in enumerate(columns) if c in set(keep)]
    dropped = [c for c in columns if c not in set(keep)]
    agency = user.agency if user is not None and not user.is_bank_user else None
    export_id = secrets.token_bytes(fpr.ID_BYTES).hex()
    while ExportRecord.objects.filter(fingerprint=export_id).exists():  # pragma: no cover - 1 in 2^40
        export_id = secrets.token_bytes(fpr.ID_BYTES).hex()
    record = ExportRecord.objects.create(
        fingerprint=export_id, recipient=user,
        recipient_label=user.get_username() if user is not None else SYSTEM_RECIPIENT, agency=agency,
        purpose=purpose.strip()[:200], name=name[:100], fmt=fmt, columns=keep, dropped_columns=dropped,
        rows=0, created_at=timezone.now())
    key = fingerprint_key()
    code = fpr.encode(key=key, export_id=export_id)
    return record, keep_idx, key, code, watermark_text(record=record, agency_name=agency.name if agency else "")


def _close_record(record: ExportRecord, *, user: User | None, rows: int, sha256: str, complete: bool = True) -> None:
    record.rows = rows
    record.sha256 = sha256
    record.save(update_fields=["rows", "sha256"])
    new = {"fingerprint": record.fingerprint, "name": record.name, "purpose": record.purpose,
           "fmt": record.fmt, "rows": record.rows, "columns": record.columns,
           "dropped_columns": record.dropped_columns, "agency": record.agency_id, "sha256": record.sha256}
    if not complete:  # a download cut off: the rows and SHA-256 of what was sent
        new["complete"] = False
    audit_log(actor=user, action="export", object_type="ExportRecord", object_id=record.pk, new=new)


@dataclass
class _Export:
    """An export being written: its record, what to keep and mark, and the tally of what was written."""

    record: ExportRecord
    user: User | None
    keep_idx: list[int]
    key: bytes
    code: str
    watermark: str
    rows: int = 0
    sha256: Any = field(default_factory=hashlib.sha256)

    def prepared(self, rows: Iterable[Sequence[Any]]) -> Iterator[list[Any]]:
        """The recipient's columns of each row, made safe for spreadsheets (:func:`safe_row`, before the
        marks so that the marked text is the text in the file), then fingerprinted; counted."""
        for row in rows:
            picked = safe_row(row[i] for i in self.keep_idx)
            self.rows += 1
            yield _marked(key=self.key, export_id=self.record.fingerprint, code=self.code, row=picked) if picked \
                else picked

    def chunks(self, rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
        """The file's bytes, block by block (the SHA-256 follows them)."""
        r = self.record
        parts = (_csv_chunks(watermark=self.watermark, code=self.code, columns=r.columns, rows=self.prepared(rows))
                 if r.fmt == "csv" else
                 _xlsx_chunks(watermark=self.watermark, code=self.code, name=r.name, columns=r.columns,
                              rows=self.prepared(rows)))
        for part in parts:
            self.sha256.update(part)
            yield part

    def close(self, *, complete: bool = True) -> None:
        _close_record(self.record, user=self.user, rows=self.rows, sha256=self.sha256.hexdigest(), complete=complete)


def _start(*, user: User | None, purpose: str, name: str, columns: list[str], fmt: Fmt) -> _Export:
    """Check the request and open its record (call inside the caller's transaction)."""
    _check(purpose=purpose, columns=columns, fmt=fmt)
    record, keep_idx, key, code, watermark = _open_record(user=user, purpose=purpose, name=name, columns=columns,
                                                          fmt=fmt)
    return _Export(record=record, user=user, keep_idx=keep_idx, key=key, code=code, watermark=watermark)


def export_to(out: BinaryIO, *, user: User | None, purpose: str, name: str, columns: list[str],
              rows: Iterable[Sequence[Any]], fmt: Fmt) -> ExportRecord:
    """The export (CSV or XLSX) written block by block into the open binary file ``out``: memory stays
    flat whatever the number of rows (the bank's whole book). Watermark, fingerprint, record and audit
    entry as :func:`export_table`; the record is rolled back with the caller's transaction if the caller
    does not publish the file."""
    with transaction.atomic():
        export = _start(user=user, purpose=purpose, name=name, columns=columns, fmt=fmt)
        for part in export.chunks(rows):
            out.write(part)
        export.close()
    return export.record


def export_stream(*, user: User | None, purpose: str, name: str, columns: list[str], rows: Iterable[Sequence[Any]],
                  fmt: Fmt, on_open: Callable[[ExportRecord], None] | None = None,
                  ) -> tuple[ExportRecord, Generator[bytes, None, None]]:
    """The export as blocks of bytes for a streaming response. The record (and ``on_open(record)``, e.g.
    an audit entry naming it) is committed before anything is sent: data that may leave the system is on
    the register even if the download is cut off. The row count, SHA-256 and ``export`` audit entry are
    written when the stream ends (closed early: what was sent so far, ``complete: false``)."""
    with transaction.atomic():
        export = _start(user=user, purpose=purpose, name=name, columns=columns, fmt=fmt)
        if on_open is not None:
            on_open(export.record)

    def stream() -> Generator[bytes, None, None]:
        complete = False
        try:
            yield from export.chunks(rows)
            complete = True
        finally:
            with transaction.atomic():
                export.close(complete=complete)

    return export.record, stream()


def export_table_result(*, user: User | None, purpose: str, name: str, columns: list[str],
                        rows: Iterable[Sequence[Any]], fmt: Fmt) -> ExportResult:
    """Like :func:`export_table`, also returning the :class:`ExportRecord`. ``user`` ``None`` is an
    operator's export from the command line (all columns; the record names no user)."""
    buf = io.BytesIO()
    record = export_to(buf, user=user, purpose=purpose, name=name, columns=columns, rows=rows, fmt=fmt)
    return ExportResult(data=buf.getvalue(), record=record)


def export_csv_to(out: BinaryIO, *, user: User | None, purpose: str, name: str, columns: list[str],
                  rows: Iterable[Sequence[Any]]) -> ExportRecord:
    """:func:`export_to` as CSV (the operations export of the whole book writes through it)."""
    return export_to(out, user=user, purpose=purpose, name=name, columns=columns, rows=rows, fmt="csv")


def export_table(*, user: User, purpose: str, name: str, columns: list[str], rows: Iterable[Sequence[Any]],
                 fmt: Fmt) -> bytes:
    """The file (CSV or XLSX bytes) of a table handed to ``user`` for ``purpose``.

    Columns the recipient's agency contract does not permit are left out (bank users get all);
    the file carries a visible watermark naming the recipient and an invisible fingerprint; an
    ExportRecord and an ``export`` audit entry are written. ``rows`` are sequences aligned with
    ``columns`` (values: str, int, float, Decimal, date, datetime, bool or None)."""
    return export_table_result(user=user, purpose=purpose, name=name, columns=columns, rows=rows, fmt=fmt).data
