"""`fieldcollect allocate`: place cases with agencies from a file of eligible pairs and their values.

VALUES rows ``case_id, agency_id, value`` (expected net recovery in CNY, at most 2 decimals, parsed
exactly from text); CAPACITY rows ``agency_id, capacity``; OUT rows ``case_id, agency_id``. Files are
Parquet (``.parquet``/``.pq``) or CSV (``.csv``) by extension. Bad input stops with a message naming
the file, row, column and reason, exit code 2, and nothing is written.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    import polars as pl

_MAX_YUAN_DIGITS = 12  # |value| < 10^12 CNY keeps fen × nodes inside the flow's 64-bit cost range


class InputError(Exception):
    """A problem with an input file the user can fix."""

    def __init__(self, path: Path, reason: str, *, row: int | None = None, column: str | None = None,
                 csv: bool = False) -> None:
        where = [str(path)]
        if row is not None:
            where.append(f"row {row}" + (f" (line {row + 1})" if csv else ""))
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(": ".join([", ".join(where), reason]))


def _kind(path: Path) -> str:
    ext = path.suffix.lower()
    if ext == ".csv":
        return "csv"
    if ext in (".parquet", ".pq"):
        return "parquet"
    raise InputError(path, f"unsupported file extension {path.suffix!r} (use .csv or .parquet)")


def _read(path: Path, columns: tuple[str, ...]) -> pl.DataFrame:
    import polars as pl

    kind = _kind(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    try:
        df = pl.read_csv(path, infer_schema=False) if kind == "csv" else pl.read_parquet(path)
    except Exception as exc:  # polars raises several error types for unreadable files
        raise InputError(path, f"cannot read {kind} file: {exc}") from exc
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(path, f"missing column(s) {', '.join(missing)}; found {', '.join(df.columns) or 'none'}")
    return df.select(columns).with_row_index("_row", offset=1)


def _first_bad(df: pl.DataFrame, reason: pl.Expr, path: Path, column: str) -> None:
    import polars as pl

    bad = df.select(pl.col("_row"), reason.alias("_reason")).filter(pl.col("_reason").is_not_null())
    if bad.height:
        row, why = bad.row(0)
        raise InputError(path, why, row=row, column=column, csv=_kind(path) == "csv")


def _check_id(df: pl.DataFrame, column: str, path: Path) -> pl.DataFrame:
    import polars as pl

    dtype = df.schema[column]
    if not (dtype.is_integer() or dtype == pl.String):
        raise InputError(path, f"identifiers must be integers or text, not {dtype}", column=column)
    col = pl.col(column)
    empty = col.is_null() | (col.cast(pl.String).str.strip_chars() == "")
    _first_bad(df, pl.when(empty).then(pl.lit("missing identifier")), path, column)
    return df


def _money_to_fen(df: pl.DataFrame, path: Path, column: str) -> pl.DataFrame:
    """Exact CNY text/decimal/integer → integer fen; floats only if their text has ≤ 2 decimals."""
    import polars as pl

    text = pl.col(column).cast(pl.String).str.strip_chars()
    parts = text.str.extract_groups(r"^([+-]?)(\d*)(?:\.(\d*))?$")
    sign, whole, frac = parts.struct.field("1"), parts.struct.field("2"), parts.struct.field("3").fill_null("")
    reason = (
        pl.when(pl.col(column).is_null() | (text == "")).then(pl.lit("missing value"))
        .when(sign.is_null() | ((whole == "") & (frac == ""))).then(pl.format("'{}' is not a decimal number", text))
        .when(frac.str.slice(2).str.contains(r"[1-9]"))
        .then(pl.format("'{}' has more than 2 decimal places (fen)", text))
        .when(whole.str.strip_chars_start("0").str.len_chars() > _MAX_YUAN_DIGITS)
        .then(pl.format("'{}' is too large", text))
    )
    _first_bad(df, reason, path, column)
    whole_fen = pl.when(whole == "").then(pl.lit("0")).otherwise(whole).cast(pl.Int64) * 100
    frac_fen = frac.str.slice(0, 2).str.pad_end(2, "0").cast(pl.Int64)
    fen = (whole_fen + frac_fen) * pl.when(sign == "-").then(-1).otherwise(1)
    return df.with_columns(fen.alias("_fen"))


def _capacity(df: pl.DataFrame, path: Path) -> pl.DataFrame:
    import polars as pl

    text = pl.col("capacity").cast(pl.String).str.strip_chars()
    ok = text.str.contains(r"^\+?\d{1,12}(\.0*)?$")
    reason = (
        pl.when(pl.col("capacity").is_null() | (text == "")).then(pl.lit("missing value"))
        .when(text.str.starts_with("-")).then(pl.format("'{}' is negative", text))
        .when(~ok).then(pl.format("'{}' is not a whole number of cases", text))
    )
    _first_bad(df, reason, path, "capacity")
    return df.with_columns(text.str.replace(r"\.0*$", "").cast(pl.Int64).alias("_capacity"))


def _duplicates(df: pl.DataFrame, keys: list[str], path: Path, what: str) -> None:
    import polars as pl

    dup = ~pl.struct(keys).is_first_distinct()
    _first_bad(df, pl.when(dup).then(pl.lit(f"duplicate {what}")), path, keys[-1])


def _write(frame: pl.DataFrame, out: Path) -> None:
    """Write atomically: a temporary file in the same folder, then rename."""
    kind = _kind(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(fd)
    try:
        if kind == "csv":
            frame.write_csv(tmp)
        else:
            frame.write_parquet(tmp)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def run_allocation(*, values: Path, capacity: Path, out: Path, holdout: float = 0.0, seed: int = 0,
                   max_share: float | None = None) -> dict[str, object]:
    """Read, validate, solve and write; return the summary. Raises :class:`InputError` on bad input."""
    import polars as pl

    from fieldcollect.optimisation.allocation import build_problem, solve

    t0 = time.perf_counter()
    if not 0.0 <= holdout <= 1.0:
        raise InputError(Path("--holdout"), "must be between 0 and 1")
    if max_share is not None and not 0.0 < max_share <= 1.0:
        raise InputError(Path("--max-share"), "must be in (0, 1]")
    _kind(out)
    vals = _read(values, ("case_id", "agency_id", "value"))
    caps = _read(capacity, ("agency_id", "capacity"))
    for col in ("case_id", "agency_id"):
        _check_id(vals, col, values)
    _check_id(caps, "agency_id", capacity)
    vals = _money_to_fen(vals, values, "value")
    caps = _capacity(caps, capacity)
    _duplicates(vals, ["case_id", "agency_id"], values, "(case_id, agency_id) pair")
    _duplicates(caps, ["agency_id"], capacity, "agency_id")

    v_type, c_type = vals.schema["agency_id"], caps.schema["agency_id"]
    if v_type != c_type:  # e.g. Parquet integers against CSV text: match as text
        vals = vals.with_columns(pl.col("agency_id").cast(pl.String))
        caps = caps.with_columns(pl.col("agency_id").cast(pl.String))
    agencies = caps.select("agency_id", "_capacity").with_row_index("_agency")
    cases = vals.select(pl.col("case_id").unique().sort()).with_row_index("_case")
    joined = vals.join(agencies.select("agency_id", "_agency"), on="agency_id", how="left").join(
        cases, on="case_id", how="left")
    _first_bad(joined.sort("_row"), pl.when(pl.col("_agency").is_null()).then(
        pl.format("agency '{}' has no row in {}", pl.col("agency_id").cast(pl.String), pl.lit(str(capacity)))),
        values, "agency_id")

    problem = build_problem(
        case_ids=joined["_case"].cast(pl.Int64).to_numpy(),
        agency_ids=joined["_agency"].cast(pl.Int64).to_numpy(),
        values_fen=joined["_fen"].to_numpy(),
        capacity_agency_ids=agencies["_agency"].cast(pl.Int64).to_numpy(),
        capacities=agencies["_capacity"].to_numpy(),
        max_share=max_share,
    )
    result = solve(problem, holdout_share=holdout, seed=seed)
    result.validate()
    case_codes, agency_codes = result.placements()
    placed = pl.DataFrame({
        "case_id": cases["case_id"].gather(case_codes),
        "agency_id": agencies["agency_id"].gather(agency_codes),
    })
    if v_type != c_type:
        placed = placed.with_columns(pl.col("agency_id").cast(v_type))
    _write(placed, out)
    q, r = divmod(result.objective_fen, 100)
    return {
        "objective": f"{'-' if q < 0 else ''}{abs(q)}.{r:02d}",
        "cases": problem.n_cases,
        "cases_placed": result.n_placed,
        "holdout_cases_placed": result.n_holdout_placed,
        "optimal": result.certificate.optimal,
        "out": str(out),
        "seconds": round(time.perf_counter() - t0, 3),
    }


def allocate(
    values: Annotated[Path, typer.Option("--values", help="Eligible pairs: case_id, agency_id, value (CNY)")],
    capacity: Annotated[Path, typer.Option("--capacity", help="Agencies: agency_id, capacity")],
    out: Annotated[Path, typer.Option("--out", help="Placements to write: case_id, agency_id")],
    holdout: Annotated[float, typer.Option("--holdout", help="Share of cases placed at random (0-1)")] = 0.0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the holdout draw")] = 0,
    max_share: Annotated[
        float | None, typer.Option("--max-share", help="Concentration limit: max share of placed cases per agency")
    ] = None,
) -> None:
    """Place cases with agencies to maximise expected net recovery (provably optimal min-cost flow)."""
    try:
        summary = run_allocation(values=values, capacity=capacity, out=out, holdout=holdout, seed=seed,
                                 max_share=max_share)
    except InputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    typer.echo(json.dumps(summary))
