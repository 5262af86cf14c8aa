"""Backup and restore of a whole installation into one ``.tar.gz`` (+ an encrypted keys file).

The archive holds:

* ``db/fieldcollect.sqlite3`` (SQLite, copied with the online backup API), ``db/postgres.dump``
  (PostgreSQL, ``pg_dump --format=custom``) or ``db/dumpdata.json`` (``dumpdata``, when
  ``pg_dump`` is not installed);
* ``store/<version>/...``: the columnar store's current version;
* ``models/...``: the model registry (versioned artefacts, champion per purpose);
* ``daily/.runs/<run>/...``: every published nightly run (the ``daily/<DATE>`` links are listed in
  the manifest);
* ``manifest.json``: the SHA-256 and size of every file and the row count of every table.

The keys folder is never in the archive: it goes into ``<archive>.keys.enc``, a tar encrypted with
AES-256-GCM under a key derived from a passphrase with scrypt. Restore verifies every checksum
before touching anything, and after loading compares every table's row count with the manifest.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

from fieldcollect.home import daily_root, home_dir, keys_dir, store_root

FORMAT = 1
KEYS_MAGIC = b"FCKEYS1\n"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1


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


@dataclass(frozen=True)
class RestoreResult:
    counts: dict[str, int]
    files_verified: int
    store_version: str | None
    daily_runs: int
    keys_restored: int
    warnings: list[str] = field(default_factory=list)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def table_counts(alias: str = DEFAULT_DB_ALIAS) -> dict[str, int]:
    """Row count of every table of an installed model."""
    from django.apps import apps

    conn = connections[alias]
    existing = set(conn.introspection.table_names())
    tables = sorted({m._meta.db_table for m in apps.get_models(include_auto_created=True)} & existing)
    counts = {}
    with conn.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {conn.ops.quote_name(table)}")
            counts[table] = int(cursor.fetchone()[0])
    return counts


# --------------------------------------------------------------------------------------- key file
def _derive(passphrase: str, salt: bytes) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P).derive(passphrase.encode())


def encrypt_bytes(data: bytes, passphrase: str) -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    salt, nonce = os.urandom(16), os.urandom(12)
    header = KEYS_MAGIC + salt + nonce
    return header + AESGCM(_derive(passphrase, salt)).encrypt(nonce, data, header)


def decrypt_bytes(blob: bytes, passphrase: str) -> bytes:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not blob.startswith(KEYS_MAGIC):
        raise BackupError("not a fieldcollect keys file")
    m = len(KEYS_MAGIC)
    salt, nonce, body = blob[m:m + 16], blob[m + 16:m + 28], blob[m + 28:]
    try:
        return AESGCM(_derive(passphrase, salt)).decrypt(nonce, body, blob[:m + 28])
    except InvalidTag as exc:
        raise BackupError("wrong passphrase for the keys file (or the file was altered)") from exc


def _tar_folder(folder: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                tar.add(path, arcname=str(path.relative_to(folder)))
    return buf.getvalue()


# ------------------------------------------------------------------------------------------ backup
def _dump_database(dest: Path, alias: str) -> str:
    conn = connections[alias]
    dest.mkdir(parents=True, exist_ok=True)
    if conn.vendor == "sqlite":
        conn.ensure_connection()
        target = sqlite3.connect(dest / "fieldcollect.sqlite3")
        try:
            conn.connection.backup(target)
        finally:
            target.close()
        return "sqlite"
    if conn.vendor == "postgresql" and shutil.which("pg_dump"):
        s = conn.settings_dict
        env = os.environ | ({"PGPASSWORD": str(s["PASSWORD"])} if s.get("PASSWORD") else {})
        cmd = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "-h", str(s.get("HOST") or "localhost"),
               "-p", str(s.get("PORT") or 5432), "-U", str(s.get("USER") or "postgres"),
               "-f", str(dest / "postgres.dump"), str(s["NAME"])]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise BackupError(f"pg_dump failed: {proc.stderr.strip()[:500]}")
        return "pg_dump"
    from django.core.management import call_command

    with (dest / "dumpdata.json").open("w", encoding="utf-8") as fh:
        call_command("dumpdata", "--natural-foreign", "--database", alias, stdout=fh, verbosity=0)
    return "dumpdata"


def backup(*, out: Path, passphrase: str | None, keys_out: Path | None = None,
           alias: str = DEFAULT_DB_ALIAS) -> BackupResult:
    """Write the archive ``out`` (and ``<out>.keys.enc`` when ``passphrase`` is given)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fc-backup-", dir=out.parent) as tmp_name:
        tmp = Path(tmp_name)
        counts = table_counts(alias)
        db_format = _dump_database(tmp / "db", alias)
        # the columnar store's current version
        from fieldcollect.ingest.store import current_version

        version = current_version()
        if version is not None:
            shutil.copytree(version.path, tmp / "store" / version.name)
        # published nightly runs
        links: dict[str, str] = {}
        root = daily_root()
        for link in sorted(p for p in root.iterdir() if p.is_symlink()):
            target = link.resolve()
            if not target.is_dir():
                continue
            rel = target.relative_to(root.resolve())
            shutil.copytree(target, tmp / "daily" / rel)
            links[link.name] = str(rel)
        # the model registry (champions and their artefacts), when there is one
        models = home_dir() / "models"
        if models.is_dir():
            shutil.copytree(models, tmp / "models", symlinks=True)
        files = {str(p.relative_to(tmp)): {"sha256": sha256_file(p), "size": p.stat().st_size}
                 for p in sorted(tmp.rglob("*")) if p.is_file()}
        keys_file = None
        keys_info: dict[str, Any] | None = None
        if passphrase:
            plain = _tar_folder(keys_dir())
            keys_file = Path(keys_out) if keys_out else out.with_name(out.name + ".keys.enc")
            blob = encrypt_bytes(plain, passphrase)
            keys_file.write_bytes(blob)
            keys_file.chmod(0o600)
            keys_info = {"file": keys_file.name, "sha256": hashlib.sha256(blob).hexdigest(),
                         "plain_sha256": hashlib.sha256(plain).hexdigest(),
                         "kdf": {"name": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P},
                         "cipher": "AES-256-GCM"}
        store_name = version.name if version else None
        manifest: dict[str, Any] = {
            "format": FORMAT, "created_at": datetime.now(UTC).isoformat(), "database": {
                "vendor": connections[alias].vendor, "format": db_format},
            "counts": counts, "store_version": version.name if version else None, "daily_links": links,
            "files": files, "keys": keys_info,
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))
        partial = out.with_name(f".{out.name}.partial")
        with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
            tar.add(tmp / "manifest.json", arcname="manifest.json")
            for name in files:
                tar.add(tmp / name, arcname=name)
        partial.chmod(0o600)  # personal data: readable by the service account only
        os.replace(partial, out)
    return BackupResult(archive=out, keys_file=keys_file, counts=counts, files=len(files),
                        store_version=store_name, daily_runs=len(links))


# ----------------------------------------------------------------------------------------- restore
def read_manifest(archive: Path) -> dict[str, Any]:
    with tarfile.open(archive, "r:gz") as tar:
        member = tar.extractfile("manifest.json")
        if member is None:
            raise BackupError(f"{archive} has no manifest.json")
        return dict(json.loads(member.read()))


def _verify(folder: Path, manifest: dict[str, Any]) -> int:
    bad = []
    for rel, info in manifest["files"].items():
        path = folder / rel
        if not path.is_file() or path.stat().st_size != info["size"] or sha256_file(path) != info["sha256"]:
            bad.append(rel)
    if bad:
        raise BackupError(f"checksum mismatch in {len(bad)} file(s), nothing restored: {', '.join(bad[:5])}")
    return len(manifest["files"])


def _load_database(folder: Path, manifest: dict[str, Any], alias: str) -> None:
    conn = connections[alias]
    fmt = manifest["database"]["format"]
    if fmt == "sqlite":
        if conn.vendor != "sqlite":
            raise BackupError("this backup holds a SQLite database; unset DATABASE_URL to restore it")
        conn.close()
        conn.ensure_connection()
        source = sqlite3.connect(folder / "db" / "fieldcollect.sqlite3")
        try:
            source.backup(conn.connection)
        finally:
            source.close()
        return
    if fmt == "pg_dump":
        if conn.vendor != "postgresql":
            raise BackupError("this backup holds a PostgreSQL dump; set DATABASE_URL to a PostgreSQL database")
        if not shutil.which("pg_restore"):
            raise BackupError("pg_restore is not installed")
        s = conn.settings_dict
        conn.close()
        env = os.environ | ({"PGPASSWORD": str(s["PASSWORD"])} if s.get("PASSWORD") else {})
        cmd = ["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
               "-h", str(s.get("HOST") or "localhost"), "-p", str(s.get("PORT") or 5432),
               "-U", str(s.get("USER") or "postgres"), "-d", str(s["NAME"]), str(folder / "db" / "postgres.dump")]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise BackupError(f"pg_restore failed: {proc.stderr.strip()[:500]}")
        return
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0, database=alias)
    call_command("flush", interactive=False, verbosity=0, database=alias)
    call_command("loaddata", str(folder / "db" / "dumpdata.json"), database=alias, verbosity=0)


def restore(*, archive: Path, passphrase: str | None = None, keys_file: Path | None = None, force: bool = False,
            alias: str = DEFAULT_DB_ALIAS) -> RestoreResult:
    """Restore ``archive`` into FIELDCOLLECT_HOME and the configured database.

    Refuses to overwrite a home that already has a published store unless ``force``.
    """
    from fieldcollect.ingest.store import StoreVersion, current_version, publish

    archive = Path(archive)
    warnings: list[str] = []
    manifest = read_manifest(archive)
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unsupported backup format {manifest.get('format')!r}")
    existing = current_version()
    if existing is not None and not force:
        raise BackupError(f"{home_dir()} already has store version {existing.name}; use --force to overwrite")
    with tempfile.TemporaryDirectory(prefix="fc-restore-", dir=home_dir()) as tmp_name:
        tmp = Path(tmp_name)
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(tmp, filter="data")
        verified = _verify(tmp, manifest)
        # keys first: a wrong passphrase must stop the restore before anything changed
        keys_restored = 0
        keys_plain = None
        if manifest.get("keys"):
            kf = Path(keys_file) if keys_file else archive.with_name(manifest["keys"]["file"])
            if passphrase is None or not kf.exists():
                warnings.append(f"keys not restored ({'no passphrase' if passphrase is None else f'{kf} missing'})")
            else:
                blob = kf.read_bytes()
                if hashlib.sha256(blob).hexdigest() != manifest["keys"]["sha256"]:
                    raise BackupError(f"checksum mismatch in {kf}, nothing restored")
                keys_plain = decrypt_bytes(blob, passphrase)
        _load_database(tmp, manifest, alias)
        # store
        name = manifest.get("store_version")
        if name:
            target = store_root() / name
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(tmp / "store" / name, target)
            meta = json.loads((target / "_VERSION.json").read_text())
            publish(StoreVersion(name=name, path=target, partitions=meta["partitions"], counts=meta["counts"]))
        # daily runs
        droot = daily_root()
        for day, rel in manifest.get("daily_links", {}).items():
            target = droot / rel
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(tmp / "daily" / rel, target)
            link_tmp = droot / f".link-restore-{day}"
            link_tmp.unlink(missing_ok=True)
            os.symlink(rel, link_tmp)
            os.replace(link_tmp, droot / day)
        # model registry: replaced as a whole by the backed-up one
        if (tmp / "models").is_dir():
            target = home_dir() / "models"
            staged = home_dir() / ".models-restore"
            shutil.rmtree(staged, ignore_errors=True)
            shutil.copytree(tmp / "models", staged, symlinks=True)
            if target.exists():
                shutil.rmtree(target)
            os.replace(staged, target)
        if keys_plain is not None:
            with tarfile.open(fileobj=io.BytesIO(keys_plain), mode="r") as tar:
                names = tar.getnames()
                tar.extractall(keys_dir(), filter="data")
            for n in names:
                (keys_dir() / n).chmod(0o600)
            keys_restored = len(names)
    counts = table_counts(alias)
    diff = {t: (n, counts.get(t)) for t, n in manifest["counts"].items() if counts.get(t) != n}
    if diff:
        raise BackupError(f"row counts differ after restore (table: expected, found): {diff}")
    return RestoreResult(counts=counts, files_verified=verified, store_version=name,
                         daily_runs=len(manifest.get("daily_links", {})), keys_restored=keys_restored,
                         warnings=warnings)
