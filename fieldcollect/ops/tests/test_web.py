"""Health, readiness, metrics and the jobs page."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from fieldcollect.core.models import Role
from fieldcollect.ops.jobs import enqueue
from fieldcollect.ops.models import Job, JobStatus
from fieldcollect.portfolio.models import DailyRun
from fieldcollect.testing import factories as f

pytestmark = pytest.mark.django_db


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_readyz_ok_then_not_ready_when_the_store_is_broken(client, fc_home):
    r = client.get("/readyz")
    body = r.json()
    assert r.status_code == 200, body
    assert body["checks"]["database"]["ok"] and body["checks"]["migrations"]["pending"] == []
    (fc_home / "store").mkdir(exist_ok=True)
    (fc_home / "store" / "CURRENT").write_text("v000009")  # points at a version that is not there
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["status"] == "not ready" and not r.json()["checks"]["store"]["ok"]


def test_metrics_requests_queue_and_cycle_stages(client):
    client.get("/healthz")
    client.get("/healthz")
    enqueue(kind="export", params={})
    enqueue(kind="export", params={})
    Job.objects.create(kind="export", status=JobStatus.DONE)
    started = datetime(2026, 7, 1, 1, 0, tzinfo=UTC)
    DailyRun.objects.create(as_of=date(2026, 6, 30), run_id="r1", engine="local", store_version="v000001",
                            started_at=started, finished_at=started + timedelta(seconds=12.5), cases_synced=True,
                            summary={"timings": {"dpd_bucket_s": 7.25, "aggregates_s": 2.0, "publish_s": 0.5}})
    r = client.get("/metrics")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/plain")
    text = r.content.decode()
    lines = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
             if line and not line.startswith("#")}
    key = 'fieldcollect_http_requests_total{method="GET",route="healthz",status="200"}'
    assert lines[key] >= 2
    assert 'fieldcollect_http_request_seconds_bucket{le="0.1",method="GET",route="healthz"}' in lines
    assert lines['fieldcollect_queue_depth{queue="database"}'] == 2
    assert lines['fieldcollect_jobs{status="done"}'] == 1
    assert lines['fieldcollect_nightly_stage_seconds{stage="dpd_bucket"}'] == 7.25
    assert lines['fieldcollect_nightly_stage_seconds{stage="total"}'] == 12.5
    assert not any("route=\"metrics\"" in k for k in lines)


def test_jobs_page_lists_jobs_and_polls_while_running(client):
    manager = f.make_user(role=Role.COLLECTIONS_MANAGER)
    client.force_login(manager)
    job = enqueue(kind="export", params={})
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, progress=0.42)
    r = client.get("/ops/jobs/")
    html = r.content.decode()
    assert r.status_code == 200
    assert 'value="42"' in html and 'hx-trigger="every 2s"' in html
    Job.objects.filter(pk=job.pk).update(status=JobStatus.DONE, progress=1.0)
    rows = client.get("/ops/jobs/rows/").content.decode()
    assert 'value="100"' in rows and "hx-trigger" not in rows  # polling stops when all jobs finished


def test_jobs_page_start_a_nightly_cycle(client):
    manager = f.make_user(role=Role.COLLECTIONS_MANAGER)
    client.force_login(manager)
    r = client.post("/ops/jobs/start/", {"kind": "nightly_cycle", "as_of": "2026-06-30"})
    assert r.status_code == 302
    job = Job.objects.get()
    assert (job.kind, job.params, job.created_by) == ("nightly_cycle", {"as_of": "2026-06-30"}, manager)
    assert client.post("/ops/jobs/start/", {"kind": "nightly_cycle", "as_of": "soon"}).status_code == 400


def test_jobs_page_export_needs_a_stated_purpose(client):
    manager = f.make_user(role=Role.COLLECTIONS_MANAGER)
    client.force_login(manager)
    assert 'name="purpose"' in client.get("/ops/jobs/").content.decode()
    for bad in ("", "   ", "audit\x00trail"):
        assert client.post("/ops/jobs/start/", {"kind": "export", "purpose": bad}).status_code == 400
    assert Job.objects.count() == 0  # nothing queued, no default purpose
    r = client.post("/ops/jobs/start/", {"kind": "export", "purpose": " quarterly reconciliation "})
    assert r.status_code == 302
    job = Job.objects.get()
    assert job.params == {"recipient_id": manager.pk, "purpose": "quarterly reconciliation"}


def test_jobs_page_permissions(client):
    auditor = f.make_user(role=Role.AUDITOR)
    client.force_login(auditor)
    assert client.get("/ops/jobs/").status_code == 200
    assert client.post("/ops/jobs/start/", {"kind": "export"}).status_code == 403
    agency = f.make_agency()
    client.force_login(f.make_user(role=Role.AGENCY_MANAGER, agency=agency))
    assert client.get("/ops/jobs/").status_code == 403
    assert Job.objects.count() == 0
