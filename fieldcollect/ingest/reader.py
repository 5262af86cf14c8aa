"""Read and validate a core-banking export (Parquet, or CSV in UTF-8 or GBK).

Every bad value is reported with its file, row, column and reason; nothing is applied unless the
whole export is valid. Row numbers are 1-based data rows (for CSV, line = row + 1 because of the
header line).
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from fieldcollect.analytics.schemas import EXPORT_TABLES, KEYS
from fieldcollect.privacy.masking import mask_id_number

MANIFEST = "manifest.json"
REQUIRED_TABLES = ("customers", "loans", "installments", "payments")
OPTIONAL_TABLES = ("agencies", "collectors")
MAX_REPORTED = 200


@dataclass(frozen=True)
class ValidationIssue:
    file: str
    row: int | None
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.column:
            where += f" column {self.column}"
        return f"{where}: {self.reason}"


class IngestError(Exception):
    """The export is invalid; ``issues`` says where and why. Nothing was applied."""

    def __init__(self, issues: list[ValidationIssue], total: int | None = None) -> None:
        self.issues = issues
        self.total = total if total is not None else len(issues)
        shown = "\n".join(str(i) for i in issues[:20])
        more = f"\n... and {self.total - 20} more" if self.total > 20 else ""
        super().__init__(f"{self.total} problem(s) in the export; nothing was applied:\n{shown}{more}")


@dataclass
class Export:
    """The validated tables of one export, with the fingerprint of its files."""

    tables: dict[str, pl.DataFrame]
    files: dict[str, Path]
    fingerprint: str
    encodings: dict[str, str] = field(default_factory=dict)
    data_date: date | None = None


def find_table_file(src: Path, table: str) -> Path | None:
    for ext in (".parquet", ".csv"):
        candidate = src / f"{table}{ext}"
        if candidate.exists():
            return candidate
    return None


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def decode_csv_bytes(raw: bytes) -> tuple[str, str]:
    """Decode CSV bytes as UTF-8 (with or without BOM), else as GBK (GB 18030, its superset)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030"), "gbk"
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 or GBK text (byte {exc.start})") from exc


def _read_raw(path: Path, table: str, issues: list[ValidationIssue]) -> tuple[pl.DataFrame | None, str]:
    name = path.name
    if path.suffix == ".parquet":
        try:
            return pl.from_arrow(pq.read_table(path)), "parquet"  # type: ignore[return-value]
        except Exception as exc:
            issues.append(ValidationIssue(name, None, None, f"cannot read Parquet file (truncated or corrupt?): {exc}"))
            return None, "parquet"
    raw = path.read_bytes()
    try:
        text, encoding = decode_csv_bytes(raw)
    except ValueError as exc:
        issues.append(ValidationIssue(name, None, None, str(exc)))
        return None, "?"
    if text and not text.endswith("\n"):
        last_row = text.count("\n")  # data rows before the unterminated last line + 1
        issues.append(ValidationIssue(name, last_row, None,
                                      "the last line is not terminated: the file looks truncated"))
    try:
        frame = pl.read_csv(io.StringIO(text), infer_schema=False)
    except Exception as exc:
        issues.append(ValidationIssue(name, None, None, f"cannot parse CSV: {exc}"))
        return None, encoding
    return frame, encoding


_TYPE_WORDS = {
    pl.Int64: "an integer", pl.Int32: "an integer", pl.Float64: "a number", pl.Date: "a date (YYYY-MM-DD)",
    pl.String: "text", pl.Boolean: "true/false",
}


def _cast_column(frame: pl.DataFrame, column: str, dtype: pl.DataType, name: str,
                 issues: list[ValidationIssue]) -> pl.Series:
    src = frame[column]
    if src.dtype == dtype:
        out = src
    elif dtype == pl.Date() and src.dtype == pl.String():
        out = src.str.strip_chars().str.to_date("%Y-%m-%d", strict=False)
    elif src.dtype == pl.String():
        out = src.str.strip_chars().cast(dtype, strict=False)
    else:
        out = src.cast(dtype, strict=False)
    bad = out.is_null() & src.is_not_null()
    if src.dtype == pl.String():
        bad = bad & (src.str.strip_chars() != "")
    if bad.any():
        word = _TYPE_WORDS.get(type(dtype), str(dtype))
        for idx in bad.arg_true().head(MAX_REPORTED).to_list():
            issues.append(ValidationIssue(name, idx + 1, column, f"{src[idx]!r} is not {word}"))
    missing = src.is_null() | ((src.str.strip_chars() == "") if src.dtype == pl.String() else False)
    if missing.any() and column not in {"name_en", "lat", "lon", "base_lat", "base_lon"}:
        for idx in missing.arg_true().head(MAX_REPORTED).to_list():
            issues.append(ValidationIssue(name, idx + 1, column, "missing value"))
    return out


def _typed(frame: pl.DataFrame, table: str, name: str, issues: list[ValidationIssue]) -> pl.DataFrame | None:
    schema = EXPORT_TABLES[table]
    missing_cols = [c for c in schema if c not in frame.columns]
    if missing_cols:
        issues.append(ValidationIssue(name, None, ", ".join(missing_cols), "required column(s) missing"))
        return None
    return pl.DataFrame([_cast_column(frame, c, dt, name, issues).alias(c) for c, dt in schema.items()])


def _rows(mask: pl.Series) -> list[int]:
    return [i + 1 for i in mask.arg_true().head(MAX_REPORTED).to_list()]


def _check_rules(table: str, df: pl.DataFrame, name: str, issues: list[ValidationIssue]) -> None:
    def flag(mask: pl.Series, column: str, reason: str) -> None:
        mask = mask.fill_null(False)
        for r in _rows(mask):
            issues.append(ValidationIssue(name, r, column, reason.format(value=df[column][r - 1])))

    keys = list(KEYS[table])
    dup = df.select(keys).is_duplicated()
    for r in _rows(dup):
        issues.append(ValidationIssue(name, r, ",".join(keys), f"duplicate id {df.row(r - 1, named=True)[keys[0]]}"
                                      + (f"/{df.row(r - 1, named=True)[keys[1]]}" if len(keys) > 1 else "")))
    if table == "loans":
        flag(df["principal_fen"] <= 0, "principal_fen", "principal must be positive, got {value}")
        flag((df["annual_rate"] < 0) | (df["annual_rate"] > 1), "annual_rate", "annual rate {value} is outside 0-1")
        flag((df["term_months"] < 1) | (df["term_months"] > 600), "term_months", "term {value} is not 1-600 months")
        flag(~df["method"].is_in(["equal_instalment", "equal_principal"]), "method",
             "method {value!r} is not equal_instalment or equal_principal")
    elif table == "installments":
        flag(df["seq"] < 1, "seq", "instalment number must be at least 1, got {value}")
        flag(df["principal_due_fen"] < 0, "principal_due_fen", "negative amount {value}")
        flag(df["interest_due_fen"] < 0, "interest_due_fen", "negative amount {value}")
    elif table == "payments":
        flag(df["amount_fen"] <= 0, "amount_fen", "payment amount must be positive, got {value}")
    elif table == "customers":
        flag(~df["id_number"].str.contains(r"^\d{17}[\dX]$"), "id_number", "{value!r} is not an 18-character ID number")
        _check_unique_id_numbers(df, name, issues)
    elif table == "agencies":
        flag(df["capacity"] < 0, "capacity", "negative capacity {value}")
        bad_json = df["commission_tiers"].map_elements(_not_json_object, return_dtype=pl.Boolean)
        flag(bad_json, "commission_tiers", "commission_tiers {value!r} is not a JSON object of bucket: rate")


def _check_unique_id_numbers(df: pl.DataFrame, name: str, issues: list[ValidationIssue]) -> None:
    """One person, one customer: a resident ID number on two rows is refused, naming both rows (the
    number masked: these messages reach logs and terminals)."""
    rows = (df.select(pl.col("id_number").str.to_uppercase().alias("key"), "customer_id")
            .with_row_index("row", offset=1)
            .filter(pl.col("key").is_not_null() & pl.col("key").is_duplicated()))
    if rows.height == 0:
        return
    first = rows.group_by("key").agg(pl.col("row").min().alias("first_row"),
                                     pl.col("customer_id").sort_by("row").first().alias("first_customer"))
    later = rows.join(first, on="key").filter(pl.col("row") != pl.col("first_row")).sort("row")
    for key, row, customer, first_row, first_customer in later.select(
            "key", "row", "customer_id", "first_row", "first_customer").head(MAX_REPORTED).iter_rows():
        issues.append(ValidationIssue(
            name, row, "id_number",
            f"ID number {mask_id_number(key)} of customer {customer} is also on row {first_row} "
            f"(customer {first_customer}): one person must be one customer"))


def _not_json_object(value: str) -> bool:
    try:
        return not isinstance(json.loads(value), dict)
    except (TypeError, ValueError):
        return True


def read_export(src: Path, *, known_loans: pl.Series | None = None, known_customers: pl.Series | None = None,
                known_agencies: pl.Series | None = None) -> Export:
    """Read and validate every table of the export in ``src``.

    ``known_*`` are ids already in the store, so that a later export may refer to them.
    Raises :class:`IngestError` listing every problem found.
    """
    issues: list[ValidationIssue] = []
    if not src.is_dir():
        raise IngestError([ValidationIssue(str(src), None, None, "not a folder")])
    files: dict[str, Path] = {}
    tables: dict[str, pl.DataFrame] = {}
    encodings: dict[str, str] = {}
    for table in REQUIRED_TABLES + OPTIONAL_TABLES:
        path = find_table_file(src, table)
        if path is None:
            if table in REQUIRED_TABLES:
                issues.append(ValidationIssue(f"{table}.parquet|csv", None, None, "required file is missing"))
            continue
        files[table] = path
        raw, encoding = _read_raw(path, table, issues)
        encodings[table] = encoding
        if raw is None:
            continue
        typed = _typed(raw, table, path.name, issues)
        if typed is None:
            continue
        _check_rules(table, typed, path.name, issues)
        tables[table] = typed

    def check_ref(table: str, column: str, parent: str, known: pl.Series | None) -> None:
        if table not in tables or (parent not in tables and known is None):
            return
        ids = tables[table][column]
        valid = pl.Series(column, [], dtype=pl.Int64)
        if parent in tables:
            valid = tables[parent][KEYS[parent][0]]
        if known is not None:
            valid = pl.concat([valid, known.cast(pl.Int64).rename(valid.name)])
        unknown = ~ids.is_in(valid.implode()) & ids.is_not_null()
        for r in _rows(unknown):
            issues.append(ValidationIssue(files[table].name, r, column, f"unknown {parent[:-1]} {ids[r - 1]}"))

    check_ref("loans", "customer_id", "customers", known_customers)
    check_ref("installments", "loan_id", "loans", known_loans)
    check_ref("payments", "loan_id", "loans", known_loans)
    check_ref("collectors", "agency_id", "agencies", known_agencies)
    data_date = _data_date(src, tables, issues)
    if issues:
        raise IngestError(issues[:MAX_REPORTED], total=len(issues))
    digest = hashlib.sha256()
    for table in sorted(files):
        digest.update(table.encode())
        digest.update(file_sha256(files[table]).encode())
    return Export(tables=tables, files=files, fingerprint=digest.hexdigest(), encodings=encodings,
                  data_date=data_date)


def _data_date(src: Path, tables: dict[str, pl.DataFrame], issues: list[ValidationIssue]) -> date | None:
    """The business date the export describes: ``as_of`` of its ``manifest.json`` when it has one, else
    the newest payment or disbursement date in it."""
    manifest = src / MANIFEST
    if manifest.exists():
        try:
            return date.fromisoformat(json.loads(manifest.read_text(encoding="utf-8"))["as_of"])
        except (ValueError, KeyError, TypeError) as exc:
            issues.append(ValidationIssue(MANIFEST, None, "as_of", f"no business date like 2026-06-30: {exc!r}"))
            return None
    dates = [tables[t][c].max() for t, c in (("payments", "paid_on"), ("loans", "disbursed_on")) if t in tables]
    return max((d for d in dates if isinstance(d, date)), default=None)


def describe(issues: Iterable[ValidationIssue]) -> list[str]:
    return [str(i) for i in issues]
