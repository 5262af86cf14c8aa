"""Backup and restore of a whole installation into one ``.tar.gz`` (+ an encrypted keys file).

The archive holds, in this order:

* ``manifest.json``: the format, the database's vendor and dump format, the row count of every table
  (taken inside the dump's snapshot), the store version, the ``daily/<DATE>`` links, the folders
  replaced as a whole (``models``, ``evidence``), and the SHA-256 and size of every other member;
* ``manifest.sig``: an HMAC-SHA256 of ``manifest.json`` under a key derived from the backup
  passphrase (scrypt with a random salt, then HKDF-SHA256 with a context string), and a check value
  that tells a wrong passphrase from an altered manifest;
* ``db/fieldcollect.sqlite3`` (SQLite, copied with the online backup API), ``db/postgres.dump``
  (PostgreSQL, ``pg_dump --format=custom --snapshot=...``) or ``db/dumpdata.json`` (``dumpdata``,
  when ``pg_dump`` is not installed);
* ``store/<version>/...``: the columnar store's current version;
* ``daily/.runs/<run>/...``: every published nightly run;
* ``models/...``: the model registry (versioned artefacts, champion per purpose);
* ``evidence/...``: the visit evidence files, copied as they are on disk.

The keys folder is never in the archive: it goes into ``<archive>.keys.enc``, a tar encrypted with
AES-256-GCM under a key derived from the passphrase with scrypt; its SHA-256 is in the manifest.

Backup counts the rows inside the dump's snapshot, so the counts match the dump while the servers
write: PostgreSQL counts in a REPEATABLE READ transaction whose snapshot ``pg_dump`` uses
(``pg_export_snapshot()``), SQLite counts the copy made by the backup API.

Restore changes nothing until everything is verified:

1. ``manifest.json`` is authenticated with the passphrase (a wrong passphrase or an altered manifest
   is refused), then every name in it is checked against strict patterns (no absolute path, no
   ``..``, only the folders a backup writes);
2. the archive is streamed into a staging folder inside the data home: every member must be a
   regular file listed in the manifest, with its size and SHA-256 (links, devices, unlisted,
   repeated or missing members are refused); the keys are decrypted;
3. the staged database is checked (SQLite: the copy's row counts);
4. switch: the staged folders are renamed into place (what they replace is kept aside), then the
   database is replaced in one transaction that compares the row counts before it commits
   (PostgreSQL: ``pg_restore``'s SQL followed by the count check, run by ``psql --single-transaction``;
   SQLite: one step of the backup API; ``dumpdata``: flush and load in one transaction). If the
   database step fails, the folders are put back: the installation is as it was.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from django.apps import apps
from django.core.management import call_command
from django.core.serializers.base import DeserializationError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction

from fieldcollect.home import daily_root, fsync_dir, home_dir, keys_dir, store_root
from fieldcollect.ingest.reader import file_sha256 as sha256_file
from fieldcollect.ingest.store import current_version
from fieldcollect.visits.evidence import evidence_root

FORMAT = 2
KEYS_MAGIC = b"FCKEYS1\n"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
MANIFEST, SIGNATURE = "manifest.json", "manifest.sig"
MAC_CONTEXT = b"fieldcollect backup v2: HMAC-SHA256 key of manifest.json"
CHECK_CONTEXT = b"fieldcollect backup v2: passphrase check"
MAX_MANIFEST_BYTES = 256 << 20
MAX_SIGNATURE_BYTES = 4096
DB_FILES = {"sqlite": "fieldcollect.sqlite3", "pg_dump": "postgres.dump", "dumpdata": "dumpdata.json"}
FOLDERS = ("models", "evidence")  # replaced as a whole by a restore
UPLOAD_PREFIX = ".upload-"  # an evidence file still being received (visits.services.evidence_add)
FAIL_STAGES = ("extract", "switch", "database")

# names in a manifest (matched whole, ASCII only)
_COMPONENT = re.compile(r"(?!\.\.?\Z)[A-Za-z0-9._-]{1,255}")
_STORE_VERSION = re.compile(r"v[0-9]{1,12}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_RUN_PATH = re.compile(r"\.runs/([0-9]{4}-[0-9]{2}-[0-9]{2}-[A-Za-z0-9_-]{1,64})")
_TABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_HEX32 = re.compile(r"[0-9a-f]{32}")
_UNREADABLE = (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, UnicodeDecodeError)


class BackupError(Exception):
    """A backup or restore could not be completed; nothing was half-applied unless the message says so."""


@dataclass(frozen=True)
class BackupResult:
    archive: Path
    keys_file: Path | None
    counts: dict[str, int]
    files: int
    store_version: str | None
    daily_runs: int
    evidence_files: int = 0


@dataclass(frozen=True)
class RestoreResult:
    counts: dict[str, int]
    files_verified: int
    store_version: str | None
    daily_runs: int
    keys_restored: int
    warnings: list[str] = field(default_factory=list)


def _model_tables() -> set[str]:
    return {m._meta.db_table for m in apps.get_models(include_auto_created=True)}


def _count_rows(cursor: Any, tables: set[str], quote: Callable[[str], str]) -> dict[str, int]:
    counts = {}
    for table in sorted(tables):
        cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")
        counts[table] = int(cursor.fetchone()[0])
    return counts


def table_counts(alias: str = DEFAULT_DB_ALIAS) -> dict[str, int]:
    """Row count of every table of an installed model."""
    conn = connections[alias]
    tables = _model_tables() & set(conn.introspection.table_names())
    with conn.cursor() as cursor:
        return _count_rows(cursor, tables, conn.ops.quote_name)


def _compare_counts(expected: dict[str, int], found: dict[str, int], *, when: str) -> None:
    diff = {t: (n, found.get(t)) for t, n in expected.items() if found.get(t) != n}
    if diff:
        raise BackupError(f"row counts differ {when} (table: expected, found): {diff}")


# --------------------------------------------------------------------------------- keys and seals
def _derive(passphrase: str, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P).derive(passphrase.encode())


def encrypt_bytes(data: bytes, passphrase: str) -> bytes:
    salt, nonce = os.urandom(16), os.urandom(12)
    header = KEYS_MAGIC + salt + nonce
    return header + AESGCM(_derive(passphrase, salt)).encrypt(nonce, data, header)


def decrypt_bytes(blob: bytes, passphrase: str) -> bytes:
    if not blob.startswith(KEYS_MAGIC):
        raise BackupError("not a fieldcollect keys file")
    m = len(KEYS_MAGIC)
    salt, nonce, body = blob[m:m + 16], blob[m + 16:m + 28], blob[m + 28:]
    try:
        return AESGCM(_derive(passphrase, salt)).decrypt(nonce, body, blob[:m + 28])
    except InvalidTag as exc:
        raise BackupError("wrong passphrase for the keys file (or the file was altered)") from exc


def _seal_keys(passphrase: str, salt: bytes) -> tuple[bytes, bytes]:
    """(HMAC key, passphrase check) derived from the passphrase: scrypt, then HKDF with a context each."""
    master = _derive(passphrase, salt)
    mac_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=MAC_CONTEXT).derive(master)
    check = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=CHECK_CONTEXT).derive(master)
    return mac_key, check


def seal_manifest(body: bytes, passphrase: str) -> bytes:
    """The content of ``manifest.sig`` for the exact bytes ``body`` of ``manifest.json``."""
    salt = os.urandom(16)
    mac_key, check = _seal_keys(passphrase, salt)
    return json.dumps({
        "mac": "HMAC-SHA256", "kdf": {"name": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P,
                                      "salt": salt.hex(), "then": "HKDF-SHA256"},
        "context": MAC_CONTEXT.decode(), "check": check.hex(),
        "hmac_sha256": hmac.new(mac_key, body, hashlib.sha256).hexdigest()}, indent=1, sort_keys=True).encode()


def open_manifest(body: bytes, seal: bytes, passphrase: str) -> dict[str, Any]:
    """The manifest in ``body`` once its seal is verified with ``passphrase`` and its names are checked."""
    try:
        sig = json.loads(seal)
        kdf = sig["kdf"]
        salt, check, mac = bytes.fromhex(kdf["salt"]), bytes.fromhex(sig["check"]), bytes.fromhex(sig["hmac_sha256"])
        accepted = (sig["mac"] == "HMAC-SHA256" and sig["context"] == MAC_CONTEXT.decode() and kdf["name"] == "scrypt"
                    and (kdf["n"], kdf["r"], kdf["p"]) == (SCRYPT_N, SCRYPT_R, SCRYPT_P) and _HEX32.fullmatch(kdf["salt"]))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BackupError(f"{SIGNATURE} is unreadable ({exc}); nothing restored") from exc
    if not accepted:
        raise BackupError(f"{SIGNATURE} uses parameters this version does not accept; nothing restored")
    mac_key, expected_check = _seal_keys(passphrase, salt)
    if not hmac.compare_digest(expected_check, check):
        raise BackupError("wrong passphrase for this backup (or its manifest.sig was altered); nothing restored")
    if not hmac.compare_digest(hmac.new(mac_key, body, hashlib.sha256).digest(), mac):
        raise BackupError(f"{MANIFEST} was altered since the backup (its HMAC does not match); nothing restored")
    return _validate_manifest(_parse_json(body))


def _parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError as exc:
        raise BackupError(f"{MANIFEST} is not valid JSON ({exc}); nothing restored") from exc


# ----------------------------------------------------------------------------------------- names
def _parts(rel: str) -> tuple[str, ...] | None:
    """The components of a relative POSIX path made of safe names only, else ``None``."""
    if not isinstance(rel, str) or not rel or rel.startswith("/"):
        return None
    parts = tuple(rel.split("/"))
    return parts if all(_COMPONENT.fullmatch(p) for p in parts) else None


def _is_day(value: Any) -> bool:
    if not isinstance(value, str) or not _DAY.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _member_allowed(parts: tuple[str, ...], *, db_format: str, version: str | None, runs: set[str],
                    folders: list[str]) -> bool:
    head = parts[0]
    if head == "db":
        return parts == ("db", DB_FILES[db_format])
    if head == "store":
        return version is not None and len(parts) >= 3 and parts[1] == version
    if head == "daily":
        return len(parts) >= 4 and parts[1] == ".runs" and parts[2] in runs
    return head in folders and len(parts) >= 2


def _validate_manifest(m: Any) -> dict[str, Any]:
    """Check every field a restore uses; names must match strict patterns (nothing is joined to a path
    before this)."""
    def refuse(what: str) -> BackupError:
        return BackupError(f"{MANIFEST} refused: {what}; nothing restored")

    if not isinstance(m, dict):
        raise refuse("not a JSON object")
    if m.get("format") != FORMAT:
        raise refuse(f"unsupported backup format {m.get('format')!r}")
    database = m.get("database")
    if not isinstance(database, dict) or database.get("format") not in DB_FILES:
        raise refuse(f"unknown database format {database!r}")
    counts = m.get("counts")
    if not isinstance(counts, dict) or not all(
            isinstance(t, str) and _TABLE.fullmatch(t) and type(n) is int and n >= 0 for t, n in counts.items()):
        raise refuse("table counts must map table names to whole numbers")
    version = m.get("store_version")
    if version is not None and not (isinstance(version, str) and _STORE_VERSION.fullmatch(version)):
        raise refuse(f"store version {version!r} is not a store version name")
    links = m.get("daily_links")
    if not isinstance(links, dict):
        raise refuse("daily_links must be an object")
    runs = set()
    for day, rel in links.items():
        match = _RUN_PATH.fullmatch(rel) if isinstance(rel, str) else None
        if not _is_day(day) or match is None:
            raise refuse(f"daily link {day!r} -> {rel!r} is not a date and a nightly run")
        runs.add(match.group(1))
    folders = m.get("folders")
    if not isinstance(folders, list) or not all(f in FOLDERS for f in folders) or len(set(folders)) != len(folders):
        raise refuse(f"folders {folders!r}")
    files = m.get("files")
    if not isinstance(files, dict):
        raise refuse("files must be an object")
    for rel, info in files.items():
        parts = _parts(rel)
        if parts is None or not _member_allowed(parts, db_format=database["format"], version=version, runs=runs,
                                                folders=folders):
            raise refuse(f"file name {rel!r}")
        if not (isinstance(info, dict) and isinstance(info.get("sha256"), str) and _SHA256.fullmatch(info["sha256"])
                and type(info.get("size")) is int and info["size"] >= 0):
            raise refuse(f"size and SHA-256 of {rel!r}")
    required = [f"db/{DB_FILES[database['format']]}"] + ([f"store/{version}/_VERSION.json"] if version else [])
    for rel in required:
        if rel not in files:
            raise refuse(f"{rel} is not in the backup")
    for run in runs:
        if not any(rel.startswith(f"daily/.runs/{run}/") for rel in files):
            raise refuse(f"the files of nightly run {run} are not in the backup")
    keys = m.get("keys")
    if keys is not None and not (isinstance(keys, dict) and isinstance(keys.get("file"), str)
                                 and _COMPONENT.fullmatch(keys["file"]) and isinstance(keys.get("sha256"), str)
                                 and _SHA256.fullmatch(keys["sha256"])):
        raise refuse("keys entry")
    return m


# ------------------------------------------------------------------------------------------ backup
def _tar_folder(folder: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.is_symlink():
                tar.add(path, arcname=str(path.relative_to(folder)))
    return buf.getvalue()


def _copy_regular_files(src: Path, dest: Path) -> int:
    """Copy the regular files under ``src`` to ``dest`` (symlinks, special files and evidence still
    being uploaded are left out); every name must be one a restore accepts."""
    dest.mkdir(parents=True, exist_ok=True)
    copied = 0
    for dirpath, _dirnames, filenames in os.walk(src):  # does not follow symlinked folders
        here = Path(dirpath)
        for name in sorted(filenames):
            path = here / name
            if name.startswith(UPLOAD_PREFIX) or not path.is_file() or path.is_symlink():
                continue
            rel = path.relative_to(src)
            if _parts(rel.as_posix()) is None:
                raise BackupError(f"cannot back up {path}: file and folder names may only use letters, digits, "
                                  "'.', '_' and '-' (rename or remove it)")
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest / rel)
            copied += 1
    return copied


def _pg_connection(settings_dict: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    s = settings_dict
    env = os.environ | ({"PGPASSWORD": str(s["PASSWORD"])} if s.get("PASSWORD") else {})
    return (["-h", str(s.get("HOST") or "localhost"), "-p", str(s.get("PORT") or 5432),
             "-U", str(s.get("USER") or "postgres"), "-d", str(s["NAME"])], env)


def _dump_database(dest: Path, alias: str) -> tuple[str, dict[str, int]]:
    """Dump the database into ``dest`` and count the rows of the same snapshot: (format, counts)."""
    conn = connections[alias]
    dest.mkdir(parents=True, exist_ok=True)
    if conn.vendor == "sqlite":
        conn.ensure_connection()
        target = sqlite3.connect(dest / DB_FILES["sqlite"])
        try:
            conn.connection.backup(target, pages=-1)  # one step: a consistent copy while others write
            names = {row[0] for row in target.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            counts = _count_rows(target.cursor(), _model_tables() & names, conn.ops.quote_name)
        finally:
            target.close()
        return "sqlite", counts
    if conn.vendor == "postgresql" and shutil.which("pg_dump"):
        args, env = _pg_connection(conn.settings_dict)
        snap = conn.copy()  # its own session: the snapshot transaction must not mix with the caller's
        try:
            with snap.cursor() as cursor:
                cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                cursor.execute("SELECT pg_export_snapshot()")
                snapshot = str(cursor.fetchone()[0])
                tables = _model_tables() & set(snap.introspection.table_names(cursor))
                counts = _count_rows(cursor, tables, snap.ops.quote_name)
                cmd = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
                       "-f", str(dest / DB_FILES["pg_dump"]), *args]
                proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
                if proc.returncode != 0:
                    raise BackupError(f"pg_dump failed: {proc.stderr.strip()[:500]}")
                cursor.execute("COMMIT")
        finally:
            snap.close()
        return "pg_dump", counts
    if conn.in_atomic_block:
        raise BackupError("a backup with dumpdata cannot run inside a transaction")
    with transaction.atomic(using=alias), (dest / DB_FILES["dumpdata"]).open("w", encoding="utf-8") as fh:
        if conn.vendor == "postgresql":
            with conn.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        counts = table_counts(alias)
        call_command("dumpdata", "--natural-foreign", "--database", alias, stdout=fh, verbosity=0)
    return "dumpdata", counts


def _folder_path(name: str) -> Path:
    return evidence_root() if name == "evidence" else home_dir() / name


def backup(*, out: Path, passphrase: str | None, keys: bool = True, keys_out: Path | None = None,
           alias: str = DEFAULT_DB_ALIAS) -> BackupResult:
    """Write the archive ``out`` sealed with ``passphrase`` (and ``<out>.keys.enc`` unless ``keys`` is false)."""
    if not passphrase:
        raise BackupError("a backup passphrase is required: it authenticates the archive and protects the keys")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fc-backup-", dir=out.parent) as tmp_name:
        tmp = Path(tmp_name)
        # the database first: every evidence file, store version and run it refers to exists by then
        # (all three are written before the rows that name them and never changed afterwards)
        db_format, counts = _dump_database(tmp / "db", alias)
        version = current_version()
        if version is not None:
            _copy_regular_files(version.path, tmp / "store" / version.name)
        links: dict[str, str] = {}
        root = daily_root()
        for link in sorted(p for p in root.iterdir() if p.is_symlink()):
            target = link.resolve()
            if not target.is_dir() or not _is_day(link.name):
                continue
            rel = target.relative_to(root.resolve()).as_posix() if target.is_relative_to(root.resolve()) else ""
            if not _RUN_PATH.fullmatch(rel):
                raise BackupError(f"cannot back up {link}: it points to {target}, not to a nightly run in .runs/")
            _copy_regular_files(target, tmp / "daily" / rel)
            links[link.name] = rel
        folders, copied = [], {}
        for name in FOLDERS:
            source = _folder_path(name)
            if source.is_dir():
                copied[name] = _copy_regular_files(source, tmp / name)
                folders.append(name)
        files = {p.relative_to(tmp).as_posix(): {"sha256": sha256_file(p), "size": p.stat().st_size}
                 for p in sorted(tmp.rglob("*")) if p.is_file()}
        keys_file = None
        keys_info: dict[str, Any] | None = None
        if keys:
            plain = _tar_folder(keys_dir())
            keys_file = Path(keys_out) if keys_out else out.with_name(out.name + ".keys.enc")
            blob = encrypt_bytes(plain, passphrase)
            keys_file.write_bytes(blob)
            keys_file.chmod(0o600)
            keys_info = {"file": keys_file.name, "sha256": hashlib.sha256(blob).hexdigest(),
                         "plain_sha256": hashlib.sha256(plain).hexdigest(),
                         "kdf": {"name": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P},
                         "cipher": "AES-256-GCM"}
        manifest: dict[str, Any] = {
            "format": FORMAT, "created_at": datetime.now(UTC).isoformat(), "database": {
                "vendor": connections[alias].vendor, "format": db_format},
            "counts": counts, "store_version": version.name if version else None, "daily_links": links,
            "folders": folders, "files": files, "keys": keys_info,
        }
        body = json.dumps(manifest, indent=1, sort_keys=True).encode()
        (tmp / MANIFEST).write_bytes(body)
        (tmp / SIGNATURE).write_bytes(seal_manifest(body, passphrase))
        partial = out.with_name(f".{out.name}.partial")
        with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
            for name in (MANIFEST, SIGNATURE, *files):  # the manifest and its seal first: read before the rest
                tar.add(tmp / name, arcname=name)
        partial.chmod(0o600)  # personal data: readable by the service account only
        os.replace(partial, out)
    return BackupResult(archive=out, keys_file=keys_file, counts=counts, files=len(files),
                        store_version=version.name if version else None, daily_runs=len(links),
                        evidence_files=copied.get("evidence", 0))


# ----------------------------------------------------------------------------------------- restore
@contextmanager
def _open_archive(archive: Path) -> Iterator[tarfile.TarFile]:
    """The archive as a stream of members; anything unreadable is a ``BackupError``."""
    if not archive.is_file():
        raise BackupError(f"{archive} is not a file")
    try:
        with tarfile.open(archive, "r|gz") as tar:
            yield tar
    except _UNREADABLE as exc:
        raise BackupError(f"{archive} is not a readable fieldcollect backup (a .tar.gz written by "
                          f"`fieldcollect backup`): {exc or type(exc).__name__}; nothing restored") from exc


def _read_head(tar: tarfile.TarFile, archive: Path) -> tuple[bytes, bytes | None]:
    """``manifest.json`` and ``manifest.sig``, the first two members (``None`` for a missing seal)."""
    out: list[bytes | None] = []
    for name, limit in ((MANIFEST, MAX_MANIFEST_BYTES), (SIGNATURE, MAX_SIGNATURE_BYTES)):
        member = tar.next()
        if member is None or member.name != name or not member.isreg() or member.size > limit:
            if name == SIGNATURE:
                out.append(None)
                break
            raise BackupError(f"{archive} is not a fieldcollect backup: it does not start with {MANIFEST}")
        fh = tar.extractfile(member)
        out.append(fh.read() if fh is not None else b"")
    assert out[0] is not None
    return out[0], out[1]


def read_manifest(archive: Path, *, passphrase: str | None = None) -> dict[str, Any]:
    """The manifest of ``archive``: authenticated and checked with ``passphrase``, else as written (to show)."""
    with _open_archive(Path(archive)) as tar:
        body, seal = _read_head(tar, Path(archive))
        return _authenticate(body, seal, passphrase) if passphrase is not None else dict(_parse_json(body))


def _authenticate(body: bytes, seal: bytes | None, passphrase: str) -> dict[str, Any]:
    if seal is None:
        parsed = _parse_json(body)
        if isinstance(parsed, dict) and parsed.get("format") == 1:
            raise BackupError("this backup was written by an older fieldcollect (format 1, not authenticated) "
                              "and cannot be restored safely; restore it with that version")
        raise BackupError(f"this backup has no {SIGNATURE}; nothing restored")
    return open_manifest(body, seal, passphrase)


def _write_member(source: IO[bytes], target: Path) -> str:
    """Write ``source`` into a new file ``target`` (never through a link) and return its SHA-256."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as fh:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
            fh.write(block)
    return digest.hexdigest()


def _check_member(member: tarfile.TarInfo, dest: Path, *, what: str) -> None:
    if not member.isreg():
        raise BackupError(f"{what} {member.name!r} is a link, folder or device, not a file; nothing restored")
    try:
        tarfile.data_filter(member, str(dest))
    except tarfile.FilterError as exc:
        raise BackupError(f"{what} {member.name!r} refused ({exc}); nothing restored") from exc


def _extract(tar: tarfile.TarFile, manifest: dict[str, Any], dest: Path) -> int:
    """Stream the members after the manifest into ``dest``, each checked against the manifest."""
    files: dict[str, dict[str, Any]] = manifest["files"]
    seen: set[str] = set()
    bad: list[str] = []
    while (member := tar.next()) is not None:  # a stream: iterating the TarFile would repeat the first two
        info = files.get(member.name)
        if info is None or member.name in seen:
            raise BackupError(f"archive member {member.name!r} is "
                              f"{'repeated' if info is not None else 'not listed in the manifest'}; nothing restored")
        _check_member(member, dest, what="archive member")
        seen.add(member.name)
        source = tar.extractfile(member)
        if member.size != info["size"] or source is None:
            bad.append(member.name)
            continue
        if _write_member(source, dest.joinpath(*PurePosixPath(member.name).parts)) != info["sha256"]:
            bad.append(member.name)
    if bad:
        raise BackupError(f"checksum mismatch in {len(bad)} file(s), nothing restored: {', '.join(bad[:5])}")
    missing = sorted(set(files) - seen)
    if missing:
        raise BackupError(f"{len(missing)} file(s) of the manifest are missing from the archive, nothing restored: "
                          f"{', '.join(missing[:5])}")
    return len(files)


def _stage_keys(plain: bytes, dest: Path) -> list[str]:
    names = []
    with tarfile.open(fileobj=io.BytesIO(plain), mode="r") as tar:
        for member in tar:
            if _parts(member.name) is None:
                raise BackupError(f"keys file member {member.name!r} has a name a key cannot have; nothing restored")
            _check_member(member, dest, what="keys file member")
            source = tar.extractfile(member)
            assert source is not None
            _write_member(source, dest.joinpath(*PurePosixPath(member.name).parts))
            names.append(member.name)
    return names


def _check_database_target(manifest: dict[str, Any], alias: str) -> None:
    vendor, fmt = connections[alias].vendor, manifest["database"]["format"]
    if fmt == "sqlite" and vendor != "sqlite":
        raise BackupError("this backup holds a SQLite database; unset DATABASE_URL to restore it")
    if fmt == "pg_dump":
        if vendor != "postgresql":
            raise BackupError("this backup holds a PostgreSQL dump; set DATABASE_URL to a PostgreSQL database")
        for tool in ("pg_restore", "psql"):
            if not shutil.which(tool):
                raise BackupError(f"{tool} is not installed (PostgreSQL client tools)")


def _verify_staged_database(folder: Path, manifest: dict[str, Any], alias: str) -> None:
    """SQLite: the staged copy must hold the manifest's row counts (PostgreSQL and dumpdata are checked
    inside their restore transaction)."""
    if manifest["database"]["format"] != "sqlite":
        return
    expected: dict[str, int] = manifest["counts"]
    staged = sqlite3.connect(folder / "db" / DB_FILES["sqlite"])
    try:
        names = {row[0] for row in staged.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        found = _count_rows(staged.cursor(), set(expected) & names, connections[alias].ops.quote_name)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"the backed-up SQLite database cannot be read ({exc}); nothing restored") from exc
    finally:
        staged.close()
    _compare_counts(expected, found, when="in the backed-up database; nothing restored")


class _Switch:
    """Moves staged files and folders into place, keeping what they replace aside so that ``undo`` can
    put it back. Files and links are replaced atomically (``os.replace``), folders by two renames."""

    def __init__(self, aside: Path) -> None:
        self.aside = aside
        aside.mkdir()
        self._done: list[tuple[Path, Path | None]] = []

    def put(self, staged: Path, live: Path, *, root: Path) -> None:
        """Move ``staged`` to ``live``, which must resolve inside ``root`` (no link in between leads out)."""
        live.parent.mkdir(parents=True, exist_ok=True)
        if not live.parent.resolve().is_relative_to(root.resolve()):
            raise BackupError(f"{live} resolves outside {root} (a symbolic link on the way); nothing restored")
        if live.is_symlink() and staged.is_dir():
            raise BackupError(f"{live} is a symbolic link; restore needs a folder there (move the folder it "
                              "points to in its place)")
        kept = self.aside / str(len(self._done))
        if live.is_symlink():
            os.symlink(os.readlink(live), kept)
            os.replace(staged, live)
        elif live.is_file():
            shutil.copy2(live, kept)
            os.replace(staged, live)
        elif live.exists():
            os.rename(live, kept)
            try:
                os.rename(staged, live)
            except BaseException:
                os.rename(kept, live)
                raise
        else:
            os.rename(staged, live)
            self._done.append((live, None))
            return
        self._done.append((live, kept))

    def undo(self) -> None:
        for live, kept in reversed(self._done):
            if kept is not None and (kept.is_symlink() or not kept.is_dir()):
                os.replace(kept, live)
                continue
            if live.is_symlink() or live.is_file():
                live.unlink()
            elif live.exists():
                shutil.rmtree(live)
            if kept is not None:
                os.rename(kept, live)
        self._done.clear()

    def sync(self) -> None:
        for parent in sorted({str(live.parent) for live, _ in self._done}):
            fsync_dir(Path(parent))


def _switch_files(switch: _Switch, staged: Path, staging: Path, manifest: dict[str, Any],
                  key_names: list[str]) -> None:
    version = manifest["store_version"]
    sroot, droot, kroot = store_root(), daily_root(), keys_dir()
    if version:
        switch.put(staged / "store" / version, sroot / version, root=sroot)
    for day, rel in sorted(manifest["daily_links"].items()):
        switch.put(staged / "daily" / rel, droot / rel, root=droot)
        link = staging / f"link-{day}"
        os.symlink(rel, link)
        switch.put(link, droot / day, root=droot)
    for name in manifest["folders"]:
        (staged / name).mkdir(parents=True, exist_ok=True)  # an empty folder has no member
        switch.put(staged / name, _folder_path(name), root=home_dir())
    for name in key_names:
        switch.put(staging / "keys" / name, kroot / name, root=kroot)
    if version:  # publish last (as ingest does): the pointer names a folder already in place
        pointer = staging / "CURRENT"
        with pointer.open("w") as fh:
            fh.write(version)
            fh.flush()
            os.fsync(fh.fileno())
        switch.put(pointer, sroot / "CURRENT", root=sroot)
    switch.sync()


def _count_check_sql(expected: dict[str, int], *, fail: bool) -> bytes:
    """PL/pgSQL that raises (so the restore transaction rolls back) unless every count matches."""
    lines = ["RESET search_path;", "DO $fc$", "DECLARE found bigint; bad text := '';", "BEGIN"]
    for table, n in sorted(expected.items()):  # names checked against _TABLE, counts are ints
        lines += [f'  SELECT count(*) INTO found FROM "{table}";',
                  f"  IF found <> {n} THEN bad := bad || '{table}: expected {n}, found ' || found || '; '; END IF;"]
    lines += ["  IF bad <> '' THEN RAISE EXCEPTION 'row counts differ: %', bad; END IF;"]
    if fail:
        lines += ["  RAISE EXCEPTION 'simulated failure before the commit';"]
    lines += ["END", "$fc$;", ""]
    return "\n".join(lines).encode()


_ABORT_SQL = b"\nDO $fc$ BEGIN RAISE EXCEPTION 'pg_restore failed'; END $fc$;\n"


def _pg_restore(dump: Path, expected: dict[str, int], settings_dict: dict[str, Any], *, fail: bool) -> None:
    """``pg_restore``'s SQL then the count check, through ``psql`` in one transaction: all or nothing."""
    args, env = _pg_connection(settings_dict)
    with tempfile.TemporaryFile() as restore_err, tempfile.TemporaryFile() as psql_err:
        producer = subprocess.Popen(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
                                     "-f", "-", str(dump)], stdout=subprocess.PIPE, stderr=restore_err)
        consumer = subprocess.Popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", *args,
                                     "-f", "-"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=psql_err,
                                    env=env)
        assert producer.stdout is not None and consumer.stdin is not None
        try:
            shutil.copyfileobj(producer.stdout, consumer.stdin, 1 << 20)
            # psql commits at the end of its input: only a complete script gets the check, else an error
            consumer.stdin.write(_count_check_sql(expected, fail=fail) if producer.wait() == 0 else _ABORT_SQL)
        except BrokenPipeError:  # psql stopped at an error; its message says which
            pass
        finally:
            for stream in (consumer.stdin, producer.stdout):
                with suppress(BrokenPipeError):
                    stream.close()
            produced, consumed = producer.wait(), consumer.wait()
        if produced != 0 or consumed != 0:
            restore_err.seek(0)
            psql_err.seek(0)
            message = (psql_err.read().decode(errors="replace").strip() if consumed != 0 else "") or \
                restore_err.read().decode(errors="replace").strip()
            raise BackupError(f"the database restore failed and was rolled back: {message[-800:]}")


def _load_database(folder: Path, manifest: dict[str, Any], alias: str, *, fail: bool) -> None:
    """Replace the database by the staged one in one step that either completes or changes nothing."""
    conn = connections[alias]
    fmt, expected = manifest["database"]["format"], manifest["counts"]
    if fmt == "sqlite":
        if fail:
            raise BackupError("simulated failure before the database switch")
        conn.close()
        conn.ensure_connection()
        source = sqlite3.connect(folder / "db" / DB_FILES["sqlite"])
        try:
            source.backup(conn.connection, pages=-1)  # one step: one transaction on the destination
        finally:
            source.close()
        return
    if fmt == "pg_dump":
        conn.close()  # its locks would block the DROPs
        _pg_restore(folder / "db" / DB_FILES["pg_dump"], expected, conn.settings_dict, fail=fail)
        return
    call_command("migrate", interactive=False, verbosity=0, database=alias)
    try:
        with transaction.atomic(using=alias):
            # no post_migrate: the content types and permissions come from the dump
            call_command("flush", interactive=False, verbosity=0, database=alias, inhibit_post_migrate=True)
            call_command("loaddata", str(folder / "db" / DB_FILES["dumpdata"]), database=alias, verbosity=0)
            _compare_counts(expected, table_counts(alias), when="after loading the dump; nothing restored")
            if fail:
                raise BackupError("simulated failure before the commit")
    except (DatabaseError, DeserializationError) as exc:
        raise BackupError(f"loading the dump failed and was rolled back: {str(exc)[:500]}") from exc


def _fail_point(fail_after: str | None, stage: str) -> None:
    if fail_after == stage:
        raise BackupError(f"simulated failure after {stage}")


def restore(*, archive: Path, passphrase: str | None = None, keys_file: Path | None = None, force: bool = False,
            keys: bool = True, alias: str = DEFAULT_DB_ALIAS, fail_after: str | None = None) -> RestoreResult:
    """Restore ``archive`` into FIELDCOLLECT_HOME and the configured database.

    Refuses to overwrite a home that already has a published store unless ``force``. ``keys=False``
    leaves the keys folder as it is. ``fail_after`` (tests) simulates a failure after a stage of
    ``FAIL_STAGES``: ``extract`` (staged and verified), ``switch`` (folders in place) or ``database``
    (inside the database transaction, before it commits).
    """
    if not passphrase:
        raise BackupError("the backup passphrase is required: it authenticates the archive")
    if fail_after is not None and fail_after not in FAIL_STAGES:
        raise ValueError(f"fail_after must be one of {FAIL_STAGES}")
    archive = Path(archive)
    existing = current_version()
    if existing is not None and not force:
        raise BackupError(f"{home_dir()} already has store version {existing.name}; use --force to overwrite")
    warnings: list[str] = []
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=home_dir()))
    try:
        staged = staging / "archive"
        try:
            with _open_archive(archive) as tar:
                manifest = _authenticate(*_read_head(tar, archive), passphrase)
                _check_database_target(manifest, alias)
                verified = _extract(tar, manifest, staged)
            key_names: list[str] = []
            if manifest["keys"] and keys:
                kf = Path(keys_file) if keys_file else archive.with_name(manifest["keys"]["file"])
                if not kf.is_file():
                    warnings.append(f"keys not restored ({kf} missing)")
                else:
                    blob = kf.read_bytes()
                    if hashlib.sha256(blob).hexdigest() != manifest["keys"]["sha256"]:
                        raise BackupError(f"checksum mismatch in {kf}, nothing restored")
                    key_names = _stage_keys(decrypt_bytes(blob, passphrase), staging / "keys")
            elif manifest["keys"]:
                warnings.append("keys not restored (--no-keys)")
        except OSError as exc:
            raise BackupError(f"could not stage the backup in {staging} ({exc}); nothing restored") from exc
        _verify_staged_database(staged, manifest, alias)
        _fail_point(fail_after, "extract")
        switch = _Switch(staging / "aside")
        try:
            _switch_files(switch, staged, staging, manifest, key_names)
            _fail_point(fail_after, "switch")
            _load_database(staged, manifest, alias, fail=fail_after == "database")
        except BaseException as exc:
            switch.undo()
            if isinstance(exc, OSError):
                raise BackupError(f"the restore failed while switching ({exc}); everything was put back") from exc
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    counts = table_counts(alias)
    _compare_counts(manifest["counts"], counts, when="after the restore")
    return RestoreResult(counts=counts, files_verified=verified, store_version=manifest["store_version"],
                         daily_runs=len(manifest["daily_links"]), keys_restored=len(key_names),
                         warnings=warnings)
