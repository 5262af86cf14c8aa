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
from typing import Any, Literal

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


def _marked_rows(*, key: bytes, export_id: str, rows: list[list[Any]]) -> list[list[Any]]:
    """Rows with the zero-width code and the keyed trailing space on each row's carrier cell."""
    code = fpr.encode(key=key, export_id=export_id)
    out: list[list[Any]] = []
    for row in rows:
        texts = [_text(v) for v in row]
        idx = fpr.carrier_index(texts)
        new = list(row)
        if idx is None:  # no text cell: the last cell becomes text (a number loses its type)
            idx = len(new) - 1
        row_key = texts[0] if texts else ""
        space = " " if fpr.row_bit(key=key, export_id=export_id, row_key=row_key) else ""
        new[idx] = texts[idx] + code + space
        out.append(new)
    return out


def _csv_bytes(*, watermark: str, code: str, columns: list[str], rows: list[list[Any]]) -> bytes:
    buf = io.StringIO()
    buf.write(f"# {watermark}{code}\n")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_text(v) for v in row])
    return buf.getvalue().encode("utf-8-sig")


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


def export_table_result(*, user: User | None, purpose: str, name: str, columns: list[str],
                        rows: Iterable[Sequence[Any]], fmt: Fmt) -> ExportResult:
    """Like :func:`export_table`, also returning the :class:`ExportRecord`. ``user`` ``None`` is an
    operator's export from the command line (all columns; the record names no user)."""
    if fmt not in ("csv", "xlsx"):
        raise ApplicationError(f"unknown export format {fmt!r} (csv or xlsx)", code="export.format")
    if not purpose.strip():
        raise ApplicationError("an export needs a stated purpose", code="export.purpose")
    if not columns:
        raise ApplicationError("an export needs at least one column", code="export.columns")
    keep = list(columns) if user is None else allowed_columns(user=user, columns=columns)
    keep_idx = [i for i, c in enumerate(columns) if c in set(keep)]
    dropped = [c for c in columns if c not in set(keep)]
    table = [[row[i] for i in keep_idx] for row in rows]
    key = fingerprint_key()
    agency = user.agency if user is not None and not user.is_bank_user else None
    with transaction.atomic():
        export_id = secrets.token_bytes(fpr.ID_BYTES).hex()
        while ExportRecord.objects.filter(fingerprint=export_id).exists():  # pragma: no cover - 1 in 2^40
            export_id = secrets.token_bytes(fpr.ID_BYTES).hex()
        record = ExportRecord.objects.create(
            fingerprint=export_id, recipient=user,
            recipient_label=user.get_username() if user is not None else SYSTEM_RECIPIENT, agency=agency,
            purpose=purpose.strip()[:200], name=name[:100], fmt=fmt, columns=keep, dropped_columns=dropped,
            rows=len(table), created_at=timezone.now())
        code = fpr.encode(key=key, export_id=export_id)
        watermark = watermark_text(record=record, agency_name=agency.name if agency else "")
        marked = _marked_rows(key=key, export_id=export_id, rows=table) if keep else table
        if fmt == "csv":
            data = _csv_bytes(watermark=watermark, code=code, columns=keep, rows=marked)
        else:
            data = _xlsx_bytes(watermark=watermark, code=code, name=name, columns=keep, rows=marked)
        record.sha256 = hashlib.sha256(data).hexdigest()
        record.save(update_fields=["sha256"])
        audit_log(actor=user, action="export", object_type="ExportRecord", object_id=record.pk,
                  new={"fingerprint": export_id, "name": record.name, "purpose": record.purpose, "fmt": fmt,
                       "rows": record.rows, "columns": keep, "dropped_columns": dropped,
                       "agency": agency.pk if agency else None, "sha256": record.sha256})
    return ExportResult(data=data, record=record)


def export_table(*, user: User, purpose: str, name: str, columns: list[str], rows: Iterable[Sequence[Any]],
                 fmt: Fmt) -> bytes:
    """The file (CSV or XLSX bytes) of a table handed to ``user`` for ``purpose``.

    Columns the recipient's agency contract does not permit are left out (bank users get all);
    the file carries a visible watermark naming the recipient and an invisible fingerprint; an
    ExportRecord and an ``export`` audit entry are written. ``rows`` are sequences aligned with
    ``columns`` (values: str, int, float, Decimal, date, datetime, bool or None)."""
    return export_table_result(user=user, purpose=purpose, name=name, columns=columns, rows=rows, fmt=fmt).data
