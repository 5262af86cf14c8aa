"""gunicorn settings for ``fieldcollect serve-prod`` (values come from the command line / environment)."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from gunicorn.glogging import Logger

from fieldcollect.ops.logging import json_logging_config
from fieldcollect.ops.redact import redact_customer_links


class RedactingLogger(Logger):
    """gunicorn's logger whose access-log atoms (request line, path, query, referer, every header and
    environ value) have the customer link tokens redacted, whatever ``access_log_format`` says."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        return {k: redact_customer_links(v) if isinstance(v, str) else v for k, v in atoms.items()}


logconfig_dict = json_logging_config(os.environ.get("LOG_LEVEL", "INFO").upper())
accesslog = "-" if os.environ.get("ACCESS_LOG", "1") not in ("0", "false", "no") else None
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
logger_class = RedactingLogger
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
# load Django once in the master: workers fork ready (a recycled worker costs no import and warm-up)
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") not in ("0", "false", "no")
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = 2000


def child_exit(server: Any, worker: Any) -> None:
    """Drop a dead worker's live gauges from the shared Prometheus folder."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
