"""The worker loop: claim a job, run it, repeat; SIGTERM/SIGINT finish the current job, then stop."""

from __future__ import annotations

import logging
import signal
import threading
import time
from typing import Any

from django.db import close_old_connections, connection

from fieldcollect.ops.jobs import LEASE_SECONDS, Queue, default_worker_name, get_queue, run_one

log = logging.getLogger("fieldcollect.ops.worker")


def run_worker(*, queue: Queue | None = None, worker: str | None = None, poll_seconds: float = 1.0,
               max_jobs: int | None = None, burst: bool = False, lease_seconds: int = LEASE_SECONDS,
               stop: threading.Event | None = None) -> int:
    """Run jobs until stopped. ``burst`` stops when nothing is due; returns the number of jobs run."""
    q = queue or get_queue()
    name = worker or default_worker_name()
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        def _stop(signum: int, frame: Any) -> None:
            log.info("worker stopping after the current job", extra={"worker": name, "signal": signum})
            stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
    done = 0
    log.info("worker started", extra={"worker": name, "queue": type(q).__name__})
    while not stop.is_set():
        if not connection.in_atomic_block:  # drop broken or expired connections between jobs
            close_old_connections()
        try:
            job = run_one(queue=q, worker=name, timeout=poll_seconds, lease_seconds=lease_seconds)
        except Exception:  # database or Redis away: wait and try again
            log.exception("worker could not claim a job; retrying", extra={"worker": name})
            time.sleep(min(5.0, poll_seconds * 2 or 1.0))
            continue
        if job is None:
            if burst:
                break
            if type(q).__name__ == "DatabaseQueue":
                stop.wait(poll_seconds)
            continue
        done += 1
        log.info("job finished", extra={"worker": name, "job_id": job.pk, "kind": job.kind, "status": job.status,
                                        "attempts": job.attempts})
        if max_jobs is not None and done >= max_jobs:
            break
    return done
