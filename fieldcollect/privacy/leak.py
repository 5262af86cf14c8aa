"""Trace a leaked file back to the export (and so the recipient) it came from."""

from __future__ import annotations

import csv
import io
import math
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from fieldcollect.privacy import fingerprint as fpr
from fieldcollect.privacy.exports import fingerprint_key
from fieldcollect.privacy.models import ExportRecord

MIN_WHITESPACE_ROWS = 24  # rows needed before the whitespace channel may name an export


@dataclass
class TraceResult:
    codes: Counter[str] = field(default_factory=Counter)  # export id -> verified codes found
    records: list[ExportRecord] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # verified ids without a record (purged?)
    channel: str = ""  # "zero-width" or "whitespace"
    rows_read: int = 0


def _read_text(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _xlsx_rows(data: bytes) -> tuple[list[list[str]], str]:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=False, data_only=True)
    extra: list[str] = [str(wb.properties.description or ""), str(wb.properties.keywords or "")]
    rows: list[list[str]] = []
    for ws in wb.worksheets:
        for part in (ws.oddHeader, ws.oddFooter):
            if part is not None:
                extra.append(str(part.center.text or ""))
        for values in ws.iter_rows(values_only=True):
            rows.append(["" if v is None else str(v) for v in values])
    return rows, "\n".join(extra)


def read_leak(path: Path) -> tuple[list[list[str]], str]:
    """The rows of a leaked file (CSV or XLSX) as text, and any other text in it."""
    data = Path(path).read_bytes()
    if data[:2] == b"PK" and zipfile.is_zipfile(io.BytesIO(data)):
        return _xlsx_rows(data)
    text = _read_text(data)
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = [row for row in csv.reader(io.StringIO(text), dialect) if row]
    return rows, ""


def trace(path: Path) -> TraceResult:
    """Find the export of a leaked file: zero-width codes first, then the whitespace channel."""
    key = fingerprint_key()
    rows, extra = read_leak(path)
    result = TraceResult(rows_read=len(rows))
    text = extra + "\n" + "\n".join("\x1f".join(r) for r in rows)
    result.codes = fpr.find_codes(key=key, text=text)
    if result.codes:
        result.channel = "zero-width"
        known = {r.fingerprint: r for r in ExportRecord.objects.filter(fingerprint__in=list(result.codes))}
        for export_id, _count in result.codes.most_common():
            if export_id in known:
                result.records.append(known[export_id])
            else:
                result.unknown.append(export_id)
        return result
    marked: list[tuple[str, bool, tuple[str, ...]]] = []
    for row in rows:
        idx = fpr.carrier_index(row)
        if idx is None or not row[0].strip() or row[0].startswith("#"):
            continue
        cells = tuple(fpr.strip(c).strip() for c in row)
        marked.append((cells[0], fpr.strip(row[idx]).endswith(" "), cells))
    if len(marked) < MIN_WHITESPACE_ROWS:
        return result
    candidates = ExportRecord.objects.filter(rows__gte=len(marked) - 1).only("fingerprint", "columns")
    n_candidates = max(candidates.count(), 1)
    # every row but one (a header line of the leaker's own) must agree, and the chance that a random file
    # matches any candidate, (n + 1) / 2^n per candidate, must stay tiny
    if len(marked) < MIN_WHITESPACE_ROWS + math.log2(n_candidates):
        return result
    for record in candidates.iterator():
        header = tuple(record.columns)
        tested = [(row_key, space) for row_key, space, cells in marked if cells != header]
        score = fpr.whitespace_score(key=key, export_id=record.fingerprint, rows=tested)
        if score.rows >= MIN_WHITESPACE_ROWS and score.agree >= score.rows - 1:
            result.records.append(ExportRecord.objects.get(pk=record.pk))
    if result.records:
        result.channel = "whitespace"
    return result
