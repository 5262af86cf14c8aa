"""The data home: one folder (``FIELDCOLLECT_HOME``, default ``./var``) holds everything on disk.

Layout::

    $FIELDCOLLECT_HOME/
      fieldcollect.sqlite3     embedded database (unless DATABASE_URL points elsewhere)
      store/CURRENT            name of the published columnar-store version
      store/v<N>/<table>/      Parquet files of that version (loans, installments, payments, ...)
      daily/<DATE>             symlink to the published run of that business date
      daily/.runs/<DATE>-<id>  the run's files (loan_status.parquet, roll_rates.parquet, ...)
      keys/                    generated keys (never committed)
"""

from __future__ import annotations

import os
from pathlib import Path


def fsync_dir(path: Path) -> None:
    """Flush ``path``'s directory entries to disk (after a file in it was created, renamed or replaced),
    so that the change survives a crash."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def home_dir() -> Path:
    """Return the data home, creating it if needed."""
    path = Path(os.environ.get("FIELDCOLLECT_HOME", "./var")).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def sqlite_path() -> Path:
    return home_dir() / "fieldcollect.sqlite3"


def store_root() -> Path:
    path = home_dir() / "store"
    path.mkdir(parents=True, exist_ok=True)
    return path


def daily_root() -> Path:
    path = home_dir() / "daily"
    path.mkdir(parents=True, exist_ok=True)
    return path


def keys_dir() -> Path:
    path = home_dir() / "keys"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path
