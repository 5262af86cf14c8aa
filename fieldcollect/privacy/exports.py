"""Every table export that leaves the system goes through :func:`export_table`.

It gives the recipient only the columns their agency's contract permits (bank users: all), puts a
visible watermark naming the recipient on the file, embeds an invisible fingerprint that names the
export from a leaked copy (see :mod:`fieldcollect.privacy.fingerprint`), and records the hand-over
(:class:`~fieldcollect.privacy.models.ExportRecord`, kept three years) with an audit entry
``export`` in the same transaction.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, BinaryIO, Literal

from django.db import transaction
from django.utils import timezone

from fieldcollect.core.audit import audit_log
from fieldcollect.core.errors import ApplicationError
from fieldcollect.core.models import User
from fieldcollect.privacy import fingerprint as fpr
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
    from fieldcollect.agencies.selectors import contract_terms

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
    from fieldcollect.home import home_dir

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


def _marked_rows(*, key: bytes, export_id: str, rows: list[list[Any]]) -> list[list[Any]]:
    code = fpr.encode(key=key, export_id=export_id)
    return [_marked(key=key, export_id=export_id, code=code, row=row) for row in rows]


def _write_csv(out: BinaryIO, *, watermark: str, code: str, columns: list[str],
               rows: Iterable[Sequence[Any]], block: int = 1 << 16) -> tuple[int, str]:
    """Write the CSV (UTF-8 with BOM: Excel opens Chinese correctly) to ``out`` in blocks of about
    ``block`` characters, row by row; return the number of rows and the SHA-256 of the bytes written."""
    sha256 = hashlib.sha256()
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    encoding = "utf-8-sig"  # the first block carries the BOM

    def drain() -> None:
        nonlocal encoding
        data = buf.getvalue().encode(encoding)
        encoding = "utf-8"
        sha256.update(data)
        out.write(data)
        buf.seek(0)
        buf.truncate()

    buf.write(f"# {watermark}{code}\n")
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow([_text(v) for v in row])
        count += 1
        if buf.tell() >= block:
            drain()
    drain()
    return count, sha256.hexdigest()


def _xlsx_bytes(*, watermark: str, code: str, name: str, columns: list[str], rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook(write_only=False)
    ws = wb.active
    assert ws is not None
    ws.title = re.sub(r"[\\/?*\[\]:]", "-", name or "export")[:31] or "export"
    ws.append([watermark + code])
    ws.cell(row=1, column=1).font = Font(italic=True, color="C00000", bold=True)
    if len(columns) > 1:
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(columns))
    ws.append(columns)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([float(v) if isinstance(v, Decimal) else v for v in row])
    for part in (ws.oddHeader, ws.evenHeader, ws.firstHeader):
        if part is not None:
            part.center.text = watermark
    for part in (ws.oddFooter, ws.evenFooter, ws.firstFooter):
        if part is not None:
            part.center.text = "&P / &N — " + watermark
    ws.freeze_panes = "A3"
    wb.properties.title = name
    wb.properties.description = "fieldcollect export" + code
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


SYSTEM_RECIPIENT = "system (operations export)"


def _check(*, purpose: str, columns: list[str], fmt: str) -> None:
    if fmt not in ("csv", "xlsx"):
        raise ApplicationError(f"unknown export format {fmt!r} (csv or xlsx)", code="export.format")
    if not purpose.strip():
        raise ApplicationError("an export needs a stated purpose", code="export.purpose")
    if not columns:
        raise ApplicationError("an export needs at least one column", code="export.columns")


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


def _close_record(record: ExportRecord, *, user: User | None, rows: int, sha256: str) -> None:
    record.rows = rows
    record.sha256 = sha256
    record.save(update_fields=["rows", "sha256"])
    audit_log(actor=user, action="export", object_type="ExportRecord", object_id=record.pk,
              new={"fingerprint": record.fingerprint, "name": record.name, "purpose": record.purpose,
                   "fmt": record.fmt, "rows": record.rows, "columns": record.columns,
                   "dropped_columns": record.dropped_columns, "agency": record.agency_id, "sha256": record.sha256})


def export_table_result(*, user: User | None, purpose: str, name: str, columns: list[str],
                        rows: Iterable[Sequence[Any]], fmt: Fmt) -> ExportResult:
    """Like :func:`export_table`, also returning the :class:`ExportRecord`. ``user`` ``None`` is an
    operator's export from the command line (all columns; the record names no user)."""
    _check(purpose=purpose, columns=columns, fmt=fmt)
    with transaction.atomic():
        record, keep_idx, key, code, watermark = _open_record(user=user, purpose=purpose, name=name,
                                                              columns=columns, fmt=fmt)
        table = [[row[i] for i in keep_idx] for row in rows]
        marked = _marked_rows(key=key, export_id=record.fingerprint, rows=table) if keep_idx else table
        if fmt == "csv":
            buf = io.BytesIO()
            _write_csv(buf, watermark=watermark, code=code, columns=record.columns, rows=marked)
            data = buf.getvalue()
        else:
            data = _xlsx_bytes(watermark=watermark, code=code, name=name, columns=record.columns, rows=marked)
        _close_record(record, user=user, rows=len(table), sha256=hashlib.sha256(data).hexdigest())
    return ExportResult(data=data, record=record)


def export_csv_to(out: BinaryIO, *, user: User | None, purpose: str, name: str, columns: list[str],
                  rows: Iterable[Sequence[Any]]) -> ExportRecord:
    """:func:`export_table_result` as CSV written row by row into the open binary file ``out``: memory
    stays flat whatever the number of rows (the bank's whole book). Same columns, watermark,
    fingerprint, record and audit entry; the caller publishes the file (and the record is rolled
    back with the caller's transaction if it does not)."""
    _check(purpose=purpose, columns=columns, fmt="csv")
    with transaction.atomic():
        record, keep_idx, key, code, watermark = _open_record(user=user, purpose=purpose, name=name,
                                                              columns=columns, fmt="csv")
        picked = ([row[i] for i in keep_idx] for row in rows)
        marked = (_marked(key=key, export_id=record.fingerprint, code=code, row=r) for r in picked) if keep_idx \
            else picked
        count, sha256 = _write_csv(out, watermark=watermark, code=code, columns=record.columns, rows=marked)
        _close_record(record, user=user, rows=count, sha256=sha256)
    return record


def export_table(*, user: User, purpose: str, name: str, columns: list[str], rows: Iterable[Sequence[Any]],
                 fmt: Fmt) -> bytes:
    """The file (CSV or XLSX bytes) of a table handed to ``user`` for ``purpose``.

    Columns the recipient's agency contract does not permit are left out (bank users get all);
    the file carries a visible watermark naming the recipient and an invisible fingerprint; an
    ExportRecord and an ``export`` audit entry are written. ``rows`` are sequences aligned with
    ``columns`` (values: str, int, float, Decimal, date, datetime, bool or None)."""
    return export_table_result(user=user, purpose=purpose, name=name, columns=columns, rows=rows, fmt=fmt).data
