"""Background jobs: enqueue, claim, run, report progress.

The job rows always live in the database (the page shows them, progress is written there). Which
worker runs which job is decided by a queue:

* ``DatabaseQueue`` (default): workers poll the job table. On PostgreSQL a worker claims with
  ``SELECT ... FOR UPDATE SKIP LOCKED`` so several workers never wait on each other; on SQLite
  (one writer at a time, ``BEGIN IMMEDIATE``) the claim is a compare-and-swap ``UPDATE``.
* ``RedisQueue`` (``FIELDCOLLECT_QUEUE=redis://host:6379/0``): job ids go through a Redis list;
  a worker moves an id atomically into its own processing list (``BLMOVE``), then claims the row
  with the same compare-and-swap, so a duplicate id can never run a job twice.

A claim is a lease (``locked_until``) renewed by every progress report; a job whose worker died
is claimed again once the lease runs out. Failed attempts are retried with back-off up to
``max_attempts``; a ``PermanentJobError`` fails the job at once.
"""

from __future__ import annotations

import importlib
import os
import socket
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from fieldcollect.core.errors import ApplicationError
from fieldcollect.core.models import User
from fieldcollect.core.pdf import FontNotFound
from fieldcollect.daily.services import run_daily
from fieldcollect.ops.exports import ExportError, default_export_path, export_cases, publish
from fieldcollect.ops.models import Job, JobStatus
from fieldcollect.reports.management import SECTIONS, collect, normalise_lang, render_pdf

LEASE_SECONDS = 300
REDIS_KEY = "fieldcollect:jobs"


class PermanentJobError(Exception):
    """An error that retrying cannot fix (bad parameters, disk full, unknown job kind)."""


@dataclass(frozen=True)
class JobContext:
    """Handed to a job handler: report progress (which also renews the lease)."""

    job_id: int
    worker: str
    lease_seconds: int = LEASE_SECONDS

    def progress(self, fraction: float, message: str = "") -> None:
        set_progress(job_id=self.job_id, worker=self.worker, fraction=fraction, message=message,
                     lease_seconds=self.lease_seconds)


Handler = Callable[[JobContext, dict[str, Any]], dict[str, Any] | None]
REGISTRY: dict[str, Handler] = {}


def register(kind: str) -> Callable[[Handler], Handler]:
    """Register a handler for a job kind: ``handler(ctx, params) -> result dict``."""

    def deco(fn: Handler) -> Handler:
        REGISTRY[kind] = fn
        return fn

    return deco


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# ------------------------------------------------------------------------------------------ queues
class Queue(Protocol):
    def push(self, job_id: int) -> None: ...

    def pop(self, *, worker: str, timeout: float, lease_seconds: int = LEASE_SECONDS) -> Job | None: ...

    def done(self, *, worker: str, job_id: int) -> None: ...

    def depth(self) -> int: ...


class DatabaseQueue:
    """Workers poll the job table."""

    def push(self, job_id: int) -> None:
        return None

    def pop(self, *, worker: str, timeout: float, lease_seconds: int = LEASE_SECONDS) -> Job | None:
        return claim(worker=worker, lease_seconds=lease_seconds)

    def done(self, *, worker: str, job_id: int) -> None:
        return None

    def depth(self) -> int:
        return Job.objects.filter(status=JobStatus.QUEUED).count()


class RedisQueue:
    """Job ids through a Redis list, with a per-worker processing list (reliable queue pattern)."""

    def __init__(self, url: str, *, key: str = REDIS_KEY) -> None:
        import redis

        self.url = url
        self.key = key
        self.redis = redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=5)

    def _processing(self, worker: str) -> str:
        return f"{self.key}:processing:{worker}"

    def push(self, job_id: int) -> None:
        self.redis.lpush(self.key, str(job_id))

    def pop(self, *, worker: str, timeout: float, lease_seconds: int = LEASE_SECONDS) -> Job | None:
        if timeout > 0:
            raw = self.redis.blmove(self.key, self._processing(worker), max(1, round(timeout)), "RIGHT", "LEFT")
        else:
            raw = self.redis.lmove(self.key, self._processing(worker), "RIGHT", "LEFT")
        if raw is None:
            self.requeue_due()
            return None
        job_id = int(raw)
        job = claim(worker=worker, lease_seconds=lease_seconds, job_id=job_id)
        if job is None:  # already taken, finished, or not due yet: drop this copy of the id
            self.redis.lrem(self._processing(worker), 1, str(job_id))
        return job

    def done(self, *, worker: str, job_id: int) -> None:
        self.redis.lrem(self._processing(worker), 1, str(job_id))

    def depth(self) -> int:
        return int(self.redis.llen(self.key))  # type: ignore[arg-type]

    def requeue_due(self) -> int:
        """Push ids that only the database knows are due: retries whose back-off ended and jobs
        whose worker died (lease expired)."""
        now = timezone.now()
        ids = list(Job.objects.filter(
            Q(status=JobStatus.QUEUED, run_after__lte=now, attempts__gt=0)
            | Q(status=JobStatus.RUNNING, locked_until__lt=now)).values_list("id", flat=True)[:1000])
        queued = {int(x) for x in self.redis.lrange(self.key, 0, -1)}  # type: ignore[union-attr]
        fresh = [i for i in ids if i not in queued]
        for job_id in fresh:
            self.push(job_id)
        return len(fresh)


def queue_url() -> str:
    return os.environ.get("FIELDCOLLECT_QUEUE", "").strip()


def get_queue(url: str | None = None) -> Queue:
    """The queue selected by ``FIELDCOLLECT_QUEUE`` (``redis://...``), else the database queue."""
    url = queue_url() if url is None else url
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisQueue(url)
    if url in ("", "db", "database"):
        return DatabaseQueue()
    raise ValueError(f"FIELDCOLLECT_QUEUE must be empty, 'db' or a redis:// URL, got {url!r}")


# ------------------------------------------------------------------------------------- operations
def enqueue(*, kind: str, params: dict[str, Any] | None = None, max_attempts: int = 3,
            created_by: Any = None, queue: Queue | None = None) -> Job:
    """Create a queued job and hand its id to the queue once the transaction commits."""
    if kind not in REGISTRY:
        raise PermanentJobError(f"unknown job kind {kind!r}; known: {', '.join(sorted(REGISTRY))}")
    job = Job.objects.create(kind=kind, params=params or {}, max_attempts=max_attempts, created_by=created_by)
    q = queue or get_queue()
    transaction.on_commit(lambda: q.push(job.pk))
    return job


def _claimable(now: Any) -> Q:
    return Q(status=JobStatus.QUEUED, run_after__lte=now) | Q(status=JobStatus.RUNNING, locked_until__lt=now)


def claim(*, worker: str, lease_seconds: int = LEASE_SECONDS, job_id: int | None = None) -> Job | None:
    """Claim the oldest due job (or ``job_id``) for ``worker``; ``None`` when there is none."""
    for _ in range(10):
        now = timezone.now()
        with transaction.atomic():
            qs = Job.objects.filter(_claimable(now))
            if job_id is not None:
                qs = qs.filter(pk=job_id)
            if connection.features.has_select_for_update_skip_locked:
                qs = qs.select_for_update(skip_locked=True)
            job = qs.order_by("run_after", "id").first()
            if job is None:
                return None
            if job.status == JobStatus.RUNNING and job.attempts >= job.max_attempts:
                Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING, attempts=job.attempts).update(
                    status=JobStatus.FAILED, finished_at=now, locked_by="", locked_until=None,
                    error=(job.error + "\n" if job.error else "") + f"worker {job.locked_by} was lost "
                    f"(lease expired) on the last attempt")
                continue
            # compare-and-swap: wins only if no other worker changed the row since we read it
            won = Job.objects.filter(pk=job.pk, status=job.status, attempts=job.attempts).update(
                status=JobStatus.RUNNING, locked_by=worker, locked_until=now + timedelta(seconds=lease_seconds),
                attempts=F("attempts") + 1, started_at=now, message="started")
        if won == 1:
            job.refresh_from_db()
            return job
    return None


def set_progress(*, job_id: int, worker: str, fraction: float, message: str = "",
                 lease_seconds: int = LEASE_SECONDS) -> bool:
    """Record progress (0..1) and renew the lease; ``False`` if the job is no longer ours."""
    now = timezone.now()
    return Job.objects.filter(pk=job_id, locked_by=worker, status=JobStatus.RUNNING).update(
        progress=max(0.0, min(1.0, float(fraction))), message=message[:200],
        locked_until=now + timedelta(seconds=lease_seconds)) == 1


def backoff_seconds(attempt: int) -> int:
    return int(min(600, 5 * 2 ** max(0, attempt - 1)))


def run_job(job: Job, *, worker: str, lease_seconds: int = LEASE_SECONDS) -> Job:
    """Run a claimed job to the end: done, queued again for a retry, or failed."""
    ctx = JobContext(job_id=job.pk, worker=worker, lease_seconds=lease_seconds)
    mine = Job.objects.filter(pk=job.pk, locked_by=worker, status=JobStatus.RUNNING)
    try:
        handler = REGISTRY.get(job.kind)
        if handler is None:
            raise PermanentJobError(f"unknown job kind {job.kind!r}")
        result = handler(ctx, dict(job.params))
    except Exception as exc:
        now = timezone.now()
        text = f"{type(exc).__name__}: {exc}"
        detail = text if isinstance(exc, PermanentJobError) else traceback.format_exc(limit=8)
        if isinstance(exc, PermanentJobError) or job.attempts >= job.max_attempts:
            mine.update(status=JobStatus.FAILED, error=detail, message=text[:200], finished_at=now,
                        locked_by="", locked_until=None)
        else:
            mine.update(status=JobStatus.QUEUED, error=detail, message=f"retrying: {text}"[:200],
                        run_after=now + timedelta(seconds=backoff_seconds(job.attempts)),
                        locked_by="", locked_until=None)
    else:
        mine.update(status=JobStatus.DONE, progress=1.0, result=result or {}, message="done",
                    finished_at=timezone.now(), locked_by="", locked_until=None, error="")
    job.refresh_from_db()
    return job


def run_one(*, queue: Queue | None = None, worker: str | None = None, timeout: float = 0.0,
            lease_seconds: int = LEASE_SECONDS) -> Job | None:
    """Claim and run one job; ``None`` when nothing was due."""
    q = queue or get_queue()
    name = worker or default_worker_name()
    job = q.pop(worker=name, timeout=timeout, lease_seconds=lease_seconds)
    if job is None:
        return None
    try:
        return run_job(job, worker=name, lease_seconds=lease_seconds)
    finally:
        q.done(worker=name, job_id=job.pk)


def queue_depth() -> int:
    """Jobs waiting to run (database rows, the source of truth for every queue)."""
    return Job.objects.filter(status=JobStatus.QUEUED).count()


# ---------------------------------------------------------------------------------------- handlers
@register("nightly_cycle")
def _nightly_cycle(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    from datetime import date

    try:
        as_of = date.fromisoformat(str(params["as_of"]))
    except (KeyError, ValueError) as exc:
        raise PermanentJobError("nightly_cycle needs as_of=YYYY-MM-DD") from exc
    engine = str(params.get("engine", "local"))
    ctx.progress(0.05, f"nightly cycle {as_of} ({engine})")
    try:
        result = run_daily(as_of=as_of, engine=engine, progress=False)
    except FileNotFoundError as exc:
        raise PermanentJobError(str(exc)) from exc
    except ApplicationError as exc:  # refused date or another cycle running: retrying will not help
        raise PermanentJobError(exc.message) from exc
    return {"as_of": as_of.isoformat(), "run_id": result.run_id, "loans": result.summary.get("loans"),
            "cases": result.summary.get("cases", {}), "timings": result.timings}


@register("export")
def _export(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    from pathlib import Path

    out = Path(params["out"]) if params.get("out") else default_export_path("cases")
    try:
        user = User.objects.filter(pk=params["recipient_id"]).first() if params.get("recipient_id") else None
        result = export_cases(out=out, on_progress=lambda f: ctx.progress(f, f"exporting {out.name}"), user=user,
                              purpose=params.get("purpose", ""))
    except (ExportError, ApplicationError) as exc:
        raise PermanentJobError(str(exc)) from exc
    return {"path": str(result.path), "rows": result.rows, "sha256": result.sha256}


@register("management_report")
def _management_report(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """The monthly management report (``fieldcollect report management``) as a PDF in the exports folder:
    ``as_of`` (YYYY-MM-DD), ``lang`` (``zh-hans`` or ``en``), optional ``out``."""
    from datetime import date
    from pathlib import Path

    try:
        as_of = date.fromisoformat(str(params["as_of"]))
    except (KeyError, ValueError) as exc:
        raise PermanentJobError("management_report needs as_of=YYYY-MM-DD") from exc
    try:
        lang = normalise_lang(str(params.get("lang", "zh-hans")))
    except ValueError as exc:
        raise PermanentJobError(f"management_report: {exc}") from exc
    steps = {"data": 0, "charts": 0}

    def data_step(name: str) -> None:
        steps["data"] += 1
        ctx.progress(0.5 * steps["data"] / len(SECTIONS), f"data: {name}")

    parts = collect(as_of=as_of, lang=lang, progress=data_step)
    charts = max(1, sum(len(b.figures) for b in parts.boards.values()))

    def chart_step(name: str) -> None:
        steps["charts"] += 1
        ctx.progress(0.5 + 0.45 * min(1.0, steps["charts"] / charts), f"chart: {name}")

    try:
        pdf = render_pdf(parts, progress=chart_step)
    except FontNotFound as exc:
        raise PermanentJobError(str(exc)) from exc
    out = Path(params["out"]) if params.get("out") else default_export_path(f"management-{as_of:%Y-%m}", ".pdf")
    try:
        sha256 = publish(out, pdf)
    except ExportError as exc:
        raise PermanentJobError(str(exc)) from exc
    return {"path": str(out), "bytes": len(pdf), "sha256": sha256, "as_of": as_of.isoformat(), "lang": lang}


ALLOWED_CALL_PREFIXES = ("fieldcollect.",)


@register("call")
def _call(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """A generic callable ``module:function`` (inside the fieldcollect package) with keyword args.
    If the function takes ``job_progress``, it receives ``ctx.progress``."""
    import inspect

    path = str(params.get("path", ""))
    module_name, _, func_name = path.partition(":")
    if not func_name or not module_name.startswith(ALLOWED_CALL_PREFIXES):
        raise PermanentJobError(f"call needs path='fieldcollect.module:function', got {path!r}")
    try:
        func = getattr(importlib.import_module(module_name), func_name)
    except (ImportError, AttributeError) as exc:
        raise PermanentJobError(f"cannot import {path}: {exc}") from exc
    kwargs = dict(params.get("kwargs", {}))
    if "job_progress" in inspect.signature(func).parameters:
        kwargs["job_progress"] = ctx.progress
    value = func(**kwargs)
    return value if isinstance(value, dict) else {"value": value if isinstance(value, int | float | str | bool | None)
                                                  else repr(value)}
