"""Exports: files written whole into a temporary name, synced, then renamed into place.

A crash (even ``kill -9``) leaves at most a ``.tmp-*`` file beside the target (removed by the next
export to that target), never a partial export under the real name; a full disk (``ENOSPC``, or ``EFBIG`` under a file-size limit) gives a
clear ``ExportError`` and removes the partial file.
"""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from fieldcollect.cases.access import cases_visible_to
from fieldcollect.cases.models import Case
from fieldcollect.home import fsync_dir, home_dir
from fieldcollect.privacy.case_export import stated_purpose
from fieldcollect.privacy.exports import export_csv_to

CASE_COLUMNS = ("id", "loan_id", "customer_id", "status", "close_reason", "opened_on", "closed_on", "dpd", "max_dpd",
                "bucket", "overdue_fen", "outstanding_principal_fen", "city", "agency_id", "collector_id",
                "placed_until", "version")
T = TypeVar("T")
DISK_FULL = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


class ExportError(Exception):
    """An export could not be written; the message says why and what to do."""


@dataclass(frozen=True)
class ExportResult:
    path: Path
    rows: int
    sha256: str


def exports_dir() -> Path:
    """Where exports and reports made on the server go (``$FIELDCOLLECT_HOME/exports``)."""
    folder = home_dir() / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def default_export_path(name: str, suffix: str = ".csv") -> Path:
    return exports_dir() / f"{name}-{datetime.now(UTC):%Y%m%dT%H%M%S}{suffix}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clear_dead_partials(out: Path) -> list[Path]:
    """Remove the partial files that killed exports to ``out`` left (their process is gone)."""
    removed = []
    for part in out.parent.glob(f".{out.name}.tmp-*"):
        suffix = part.name.rsplit("-", 1)[-1]
        if suffix.isdigit() and not _pid_alive(int(suffix)):
            part.unlink(missing_ok=True)
            removed.append(part)
    return removed


def publish_with(out: Path, write: Callable[[BinaryIO], T], *, progress_note: Callable[[], str] = str) -> T:
    """Publish the file ``write`` writes into an open binary file: through a temporary name beside
    ``out`` (written, synced, renamed, the folder synced); return what ``write`` returned. A full disk or
    any other write error raises :class:`ExportError` naming the file (``progress_note()`` says how far
    the export got) and publishes nothing."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    clear_dead_partials(out)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        with tmp.open("wb") as out_fh:
            value = write(out_fh)
            out_fh.flush()
            os.fsync(out_fh.fileno())
        os.replace(tmp, out)
        fsync_dir(out.parent)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.errno in DISK_FULL:
            raise ExportError(
                f"disk full: could not write the export {out} ({os.strerror(exc.errno or 0)}{progress_note()}). "
                f"Nothing was published; free space on {out.parent} or export to another folder.") from exc
        raise ExportError(f"could not write the export {out}: {exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return value


def publish(out: Path, data: bytes) -> str:
    """:func:`publish_with` for bytes already made; their SHA-256."""
    publish_with(out, lambda fh: fh.write(data))
    return hashlib.sha256(data).hexdigest()


def export_cases(*, out: Path, on_progress: Callable[[float], None] | None = None,
                 chunk: int = 2_000, user: Any = None, purpose: str) -> ExportResult:
    """Write the cases (ordered by id) as UTF-8 CSV to ``out`` through :func:`fieldcollect.privacy.exports.
    export_csv_to`: watermarked and fingerprinted for ``user`` (``None``: the operator at the command line,
    every case), only the cases and columns that user may see, recorded as a data-sharing record with the
    ``purpose`` the user stated (required: :func:`fieldcollect.privacy.case_export.stated_purpose`). Rows
    are read in chunks and written as they come: memory stays flat whatever the size of the book."""
    from django.db import transaction

    purpose = stated_purpose(purpose)
    out = Path(out)
    cases = Case.objects.all() if user is None else cases_visible_to(user)
    total = cases.count()
    rows = 0

    def _rows() -> Iterator[tuple[Any, ...]]:
        nonlocal rows
        for values in cases.order_by("id").values_list(*CASE_COLUMNS).iterator(chunk_size=chunk):
            rows += 1
            if on_progress and rows % chunk == 0:
                on_progress(0.9 * rows / max(total, 1))
            yield values

    with transaction.atomic():  # no data-sharing record for an export that was not published
        record = publish_with(out, lambda fh: export_csv_to(fh, user=user, purpose=purpose, name="cases",
                                                             columns=list(CASE_COLUMNS), rows=_rows()),
                              progress_note=lambda: f" after {rows} rows")
    if on_progress:
        on_progress(1.0)
    return ExportResult(path=out, rows=record.rows, sha256=record.sha256)
