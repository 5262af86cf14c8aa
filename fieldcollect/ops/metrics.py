"""Prometheus metrics: requests (count, latency), queue depth, jobs by status, nightly-cycle stages.

``/metrics`` serves the text format. Under gunicorn with several worker processes set
``PROMETHEUS_MULTIPROC_DIR`` to an empty folder (``fieldcollect serve-prod`` does) so the request
metrics of all processes are added up.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from datetime import time as dtime
from typing import Any

from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from fieldcollect.daily.cycle import published_path
from fieldcollect.ops.jobs import get_queue
from fieldcollect.ops.models import Job, JobStatus
from fieldcollect.portfolio.models import DailyRun

REQUESTS = Counter("fieldcollect_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("fieldcollect_http_request_seconds", "HTTP request latency", ["method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))


def _route(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.route or match.view_name or "unmatched"


class MetricsMiddleware:
    """Counts requests and measures latency by method, URL pattern (not the raw path) and status."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        t0 = time.perf_counter()
        response = self.get_response(request)
        route = _route(request)
        if route != "metrics":
            REQUESTS.labels(request.method or "", route, str(response.status_code)).inc()
            LATENCY.labels(request.method or "", route).observe(time.perf_counter() - t0)
        return response


def latest_cycle_timings() -> dict[str, Any] | None:
    """Stage durations of the newest published nightly cycle: from its DailyRun summary, else from
    the published ``summary.json``; plus the whole run's wall time."""
    run = DailyRun.objects.order_by("-finished_at", "-id").first()
    if run is None:
        return None
    timings = dict(run.summary.get("timings") or {})
    if not timings:
        path = published_path(run.as_of) / "summary.json"
        try:
            timings = dict(json.loads(path.read_text()).get("timings") or {})
        except (OSError, ValueError):
            timings = {}
    return {"as_of": run.as_of, "engine": run.engine, "timings": timings,
            "total_s": (run.finished_at - run.started_at).total_seconds()}


class OpsCollector(Collector):
    """Read at scrape time from the database (cheap aggregate queries)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from django.db.models import Count

        jobs = GaugeMetricFamily("fieldcollect_jobs", "Jobs by status", labels=["status"])
        counts = dict(Job.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
        for status in JobStatus.values:
            jobs.add_metric([status], counts.get(status, 0))
        yield jobs
        depth = GaugeMetricFamily("fieldcollect_queue_depth", "Jobs waiting to run", labels=["queue"])
        depth.add_metric(["database"], counts.get(JobStatus.QUEUED, 0))
        try:
            queue = get_queue()
            if type(queue).__name__ == "RedisQueue":
                depth.add_metric(["redis"], queue.depth())
        except Exception:  # metrics must not fail because Redis is away
            logging.getLogger(__name__).warning("queue depth unavailable", exc_info=True)
        yield depth
        cycle = latest_cycle_timings()
        if cycle is not None:
            stages = GaugeMetricFamily("fieldcollect_nightly_stage_seconds",
                                       "Stage durations of the newest nightly cycle", labels=["stage"])
            for stage, seconds in sorted(cycle["timings"].items()):
                stages.add_metric([stage.removesuffix("_s")], float(seconds))
            stages.add_metric(["total"], float(cycle["total_s"]))
            yield stages
            as_of = GaugeMetricFamily("fieldcollect_nightly_last_as_of_timestamp",
                                      "Business date of the newest nightly cycle (Unix time, midnight UTC)")
            as_of.add_metric([], datetime.combine(cycle["as_of"], dtime(0), tzinfo=UTC).timestamp())
            yield as_of


OPS_REGISTRY = CollectorRegistry(auto_describe=False)
OPS_REGISTRY.register(OpsCollector())


def request_registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry
    return DEFAULT_REGISTRY


def metrics_view(request: HttpRequest) -> HttpResponse:
    body = generate_latest(request_registry()) + generate_latest(OPS_REGISTRY)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
