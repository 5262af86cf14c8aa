"""Operations commands: production server, job worker, backup and restore.

Exported for ``fieldcollect/cli.py``: ``serve_prod``, ``worker``, ``backup``, ``restore``,
``export_cases_cmd`` (plain functions with Typer annotations) and ``app`` (all of them as a group;
also runnable as ``python -m fieldcollect.ops``).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from fieldcollect.bootstrap import migrate_quietly, setup_django

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Operations: serving, jobs, backup, restore.")
PASSPHRASE_ENV = "FIELDCOLLECT_BACKUP_PASSPHRASE"


def _setup_django(*, migrate: bool = True) -> None:
    setup_django()
    if migrate:
        migrate_quietly()


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, "") or default)
    except ValueError as exc:
        raise typer.BadParameter(f"{name} must be a whole number") from exc


def gunicorn_argv(*, host: str, port: int, workers: int, threads: int) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "config.wsgi:application", "-c", "python:fieldcollect.ops.gunicorn_conf",
            "--bind", f"{host}:{port}", "--workers", str(workers), "--threads", str(threads)]


def serve_prod(
    host: Annotated[str, typer.Option(help="Address to listen on (env HOST)")] = "",
    port: Annotated[int, typer.Option(help="Port (env PORT)")] = 0,
    workers: Annotated[int, typer.Option(help="Worker processes (env WEB_CONCURRENCY, default 2 × cores)")] = 0,
    threads: Annotated[int, typer.Option(help="Threads per worker (env GUNICORN_THREADS, default 4)")] = 0,
    migrate: Annotated[bool, typer.Option("--migrate/--no-migrate", help="Apply migrations first")] = True,
) -> None:
    """Serve with gunicorn (production): settings from the environment, JSON logs, /healthz, /readyz, /metrics."""
    host = host or os.environ.get("HOST", "127.0.0.1")
    port = port or _env_int("PORT", 8000)
    workers = workers or _env_int("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1))
    threads = threads or _env_int("GUNICORN_THREADS", 4)
    os.environ.setdefault("LOG_FORMAT", "json")
    os.environ.setdefault("DEBUG", "0")
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="fc-prom-")
    _setup_django(migrate=migrate)
    from django.conf import settings

    if settings.DEBUG:
        typer.echo("refusing to serve in production with DEBUG=1", err=True)
        raise typer.Exit(code=2)
    argv = gunicorn_argv(host=host, port=port, workers=workers, threads=threads)
    typer.echo(f"gunicorn on http://{host}:{port}/ workers={workers} threads={threads} "
               f"database={settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}", err=True)
    sys.stdout.flush()
    os.execv(sys.executable, argv)  # noqa: S606 - replace this process with gunicorn (signals reach it)


def worker(
    burst: Annotated[bool, typer.Option("--burst", help="Stop when no job is due")] = False,
    max_jobs: Annotated[int | None, typer.Option("--max-jobs", help="Stop after this many jobs")] = None,
    poll: Annotated[float, typer.Option(help="Seconds between polls / Redis wait")] = 1.0,
    queue: Annotated[str | None, typer.Option(help="Queue URL (env FIELDCOLLECT_QUEUE; empty = database)")] = None,
    name: Annotated[str | None, typer.Option(help="Worker name (default host:pid)")] = None,
) -> None:
    """Run background jobs (nightly cycle, exports, ...) from the queue."""
    os.environ.setdefault("LOG_FORMAT", "json")
    _setup_django()
    from fieldcollect.ops.jobs import get_queue
    from fieldcollect.ops.worker import run_worker

    done = run_worker(queue=get_queue(queue), worker=name, poll_seconds=poll, max_jobs=max_jobs, burst=burst)
    typer.echo(f"worker ran {done} job(s)", err=True)


def _passphrase(confirm: bool) -> str:
    """The backup passphrase: it authenticates the archive (always needed) and protects the keys file."""
    value = os.environ.get(PASSPHRASE_ENV)
    if value:
        return value
    if not sys.stdin.isatty():
        typer.echo(f"set {PASSPHRASE_ENV}: the backup passphrase authenticates the archive and protects the keys",
                   err=True)
        raise typer.Exit(code=2)
    return str(typer.prompt("Backup passphrase", hide_input=True, confirmation_prompt=confirm))


def backup(
    out: Annotated[Path, typer.Option("--out", help="Archive to write (.tar.gz); keys go to <out>.keys.enc")],
    no_keys: Annotated[bool, typer.Option("--no-keys", help="Do not export the keys")] = False,
) -> None:
    """Back up the database, the columnar store, the nightly runs, the models and the evidence; sealed with
    the passphrase, keys encrypted separately."""
    _setup_django(migrate=False)
    from fieldcollect.ops.backup import BackupError
    from fieldcollect.ops.backup import backup as do_backup

    try:
        result = do_backup(out=out, passphrase=_passphrase(confirm=True), keys=not no_keys)
    except (BackupError, OSError) as exc:  # OSError: the folder of --out cannot be written, the disk is full, ...
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=2) from exc
    typer.echo(f"backup {result.archive}: {sum(result.counts.values())} rows in {len(result.counts)} tables, "
               f"{result.files} files, store {result.store_version}, {result.daily_runs} daily runs, "
               f"{result.evidence_files} evidence files"
               + (f", keys {result.keys_file}" if result.keys_file else ", keys not exported"))


def restore(
    archive: Annotated[Path, typer.Argument(help="Archive written by `fieldcollect backup`")],
    keys: Annotated[Path | None, typer.Option("--keys", help="Keys file (default <archive>.keys.enc)")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite a home that already has data")] = False,
    no_keys: Annotated[bool, typer.Option("--no-keys", help="Do not restore the keys")] = False,
) -> None:
    """Restore a backup into FIELDCOLLECT_HOME and the configured database: authenticates the manifest,
    verifies every file and the row counts in a staging area, then switches."""
    _setup_django(migrate=False)
    from fieldcollect.ops.backup import BackupError
    from fieldcollect.ops.backup import restore as do_restore

    if not archive.is_file():
        typer.echo(f"{archive} does not exist or is not a file", err=True)
        raise typer.Exit(code=2)
    try:
        result = do_restore(archive=archive, passphrase=_passphrase(confirm=False), keys_file=keys,
                            force=force, keys=not no_keys)
    except (BackupError, OSError) as exc:  # OSError: the keys file cannot be read, ...
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=2) from exc
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(f"restored {sum(result.counts.values())} rows in {len(result.counts)} tables (counts match), "
               f"{result.files_verified} files verified, store {result.store_version}, "
               f"{result.daily_runs} daily runs, {result.keys_restored} keys")


def export_cases_cmd(
    out: Annotated[Path, typer.Option("--out", help="CSV file to write")],
    recipient: Annotated[str, typer.Option("--recipient", help="User the file is for (watermark, their "
                                                               "cases and columns only); default: the operator")] = "",
    purpose: Annotated[str, typer.Option("--purpose", help="Why the data is exported (recorded on the file "
                                                          "and in the export register; required)")] = "",
) -> None:
    """Export the cases as CSV (watermarked, fingerprinted, recorded; written whole, then renamed into place)."""
    if not purpose.strip():
        typer.echo("state the purpose of the export: --purpose TEXT (recorded; never defaulted)", err=True)
        raise typer.Exit(code=2)
    _setup_django()
    from fieldcollect.core.errors import ApplicationError
    from fieldcollect.core.models import User
    from fieldcollect.ops.exports import ExportError, export_cases

    user = None
    if recipient:
        user = User.objects.filter(username=recipient, is_active=True).first()
        if user is None:
            typer.echo(f"no active user {recipient!r}", err=True)
            raise typer.Exit(code=2)
    try:
        result = export_cases(out=out, user=user, purpose=purpose)
    except (ExportError, ApplicationError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=2) from exc
    typer.echo(f"exported {result.rows} cases to {result.path} sha256={result.sha256}")


app.command("serve-prod")(serve_prod)
app.command("worker")(worker)
app.command("backup")(backup)
app.command("restore")(restore)
app.command("export-cases")(export_cases_cmd)
