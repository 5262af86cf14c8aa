"""The job queue: claim, complete, retry with back-off, lease expiry, permanent failure, Redis variant."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone
from django.utils.translation import gettext, override

from fieldcollect.ops import jobs
from fieldcollect.ops.jobs import DatabaseQueue, PermanentJobError, claim, enqueue, register, run_job, run_one
from fieldcollect.ops.models import Job, JobStatus
from fieldcollect.ops.worker import run_worker

pytestmark = pytest.mark.django_db
CALLS: list[dict] = []


@register("test_ok")
def _ok(ctx, params):
    ctx.progress(0.5, "half way")
    CALLS.append(params)
    return {"doubled": params["n"] * 2}


@register("test_flaky")
def _flaky(ctx, params):
    raise RuntimeError("temporary trouble")


@register("test_permanent")
def _permanent(ctx, params):
    raise PermanentJobError("bad parameters")


def add(*, a: int, b: int, job_progress=None) -> int:
    if job_progress:
        job_progress(0.9, "adding")
    return a + b


def test_claim_run_complete():
    job = enqueue(kind="test_ok", params={"n": 21})
    assert job.status == JobStatus.QUEUED
    claimed = claim(worker="w1")
    assert claimed is not None and claimed.pk == job.pk
    assert (claimed.status, claimed.locked_by, claimed.attempts) == (JobStatus.RUNNING, "w1", 1)
    assert claim(worker="w2") is None  # nothing else is due, and a leased job is not stolen
    done = run_job(claimed, worker="w1")
    assert (done.status, done.result, done.progress, done.locked_by) == (JobStatus.DONE, {"doubled": 42}, 1.0, "")


def test_unknown_kind_is_rejected_at_enqueue():
    with pytest.raises(PermanentJobError, match="unknown job kind"):
        enqueue(kind="no_such_kind")


def test_failure_is_retried_with_backoff_then_fails():
    job = enqueue(kind="test_flaky", max_attempts=2)
    first = run_one(queue=DatabaseQueue(), worker="w1")
    assert first is not None and first.status == JobStatus.QUEUED and first.attempts == 1
    assert "temporary trouble" in first.error and first.run_after > timezone.now()
    assert run_one(queue=DatabaseQueue(), worker="w1") is None  # back-off not over yet
    Job.objects.filter(pk=job.pk).update(run_after=timezone.now() - timedelta(seconds=1))
    second = run_one(queue=DatabaseQueue(), worker="w1")
    assert second is not None and second.status == JobStatus.FAILED and second.attempts == 2
    assert second.finished_at is not None


def test_permanent_error_fails_at_once():
    enqueue(kind="test_permanent", max_attempts=5)
    job = run_one(queue=DatabaseQueue(), worker="w1")
    assert job is not None and job.status == JobStatus.FAILED and job.attempts == 1
    assert "bad parameters" in job.message


def test_expired_lease_is_claimed_again_and_old_worker_cannot_finish():
    job = enqueue(kind="test_ok", params={"n": 1})
    lost = claim(worker="dead", lease_seconds=60)
    assert lost is not None
    assert claim(worker="w2") is None
    Job.objects.filter(pk=job.pk).update(locked_until=timezone.now() - timedelta(seconds=1))
    again = claim(worker="w2")
    assert again is not None and again.pk == job.pk and again.attempts == 2 and again.locked_by == "w2"
    # the dead worker wakes up: its progress and completion are refused
    assert not jobs.set_progress(job_id=job.pk, worker="dead", fraction=0.7)
    run_job(lost, worker="dead")
    assert Job.objects.get(pk=job.pk).status == JobStatus.RUNNING
    assert run_job(again, worker="w2").status == JobStatus.DONE


def test_expired_lease_on_last_attempt_fails_the_job():
    job = enqueue(kind="test_ok", params={"n": 1}, max_attempts=1)
    claim(worker="dead")
    Job.objects.filter(pk=job.pk).update(locked_until=timezone.now() - timedelta(seconds=1))
    assert claim(worker="w2") is None
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "lease expired" in job.error


def test_generic_call_and_progress():
    job = enqueue(kind="call", params={"path": "fieldcollect.ops.tests.test_jobs:add", "kwargs": {"a": 2, "b": 3}})
    done = run_one(queue=DatabaseQueue(), worker="w1")
    assert done is not None and done.pk == job.pk and done.status == JobStatus.DONE
    assert done.result == {"value": 5}


def test_generic_call_outside_the_package_is_refused():
    enqueue(kind="call", params={"path": "os:system", "kwargs": {"command": "true"}})
    done = run_one(queue=DatabaseQueue(), worker="w1")
    assert done is not None and done.status == JobStatus.FAILED and "fieldcollect.module" in done.message


def test_worker_burst_runs_everything_due():
    for n in range(3):
        enqueue(kind="test_ok", params={"n": n})
    assert run_worker(queue=DatabaseQueue(), worker="burst", burst=True, poll_seconds=0.01) == 3
    assert set(Job.objects.values_list("status", flat=True)) == {JobStatus.DONE}


def test_export_job_writes_the_cases(tmp_path):
    from fieldcollect.testing import factories as f

    cases = [f.make_case() for _ in range(3)]
    out = tmp_path / "cases.csv"
    enqueue(kind="export", params={"out": str(out), "purpose": "quarterly reconciliation"})
    job = run_one(queue=DatabaseQueue(), worker="w1")
    assert job is not None and job.status == JobStatus.DONE, job.error
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("# CONFIDENTIAL")  # the privacy watermark line (see privacy.exports)
    assert len(lines) == 5 and job.result["rows"] == 3
    assert [int(line.split(",")[0]) for line in lines[2:]] == sorted(c.pk for c in cases)


def test_an_export_job_without_a_purpose_fails_without_a_file(tmp_path):
    from fieldcollect.testing import factories as f

    f.make_case()
    out = tmp_path / "cases.csv"
    enqueue(kind="export", params={"out": str(out)})
    job = run_one(queue=DatabaseQueue(), worker="w1")
    with override("zh-hans"):
        required = gettext("State the purpose of the export.")
    assert job is not None and job.status == JobStatus.FAILED
    assert "State the purpose of the export." in job.error or required in job.error
    assert not out.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_never_claim_the_same_job():
    if connection.vendor == "sqlite":
        pytest.skip("the in-memory SQLite test database is one connection; claim is a compare-and-swap there")
    ids = {enqueue(kind="test_ok", params={"n": n}).pk for n in range(40)}
    claimed: list[int] = []
    lock = threading.Lock()

    def grab(name: str) -> None:
        try:
            while (job := claim(worker=name)) is not None:
                with lock:
                    claimed.append(job.pk)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=grab, args=(f"t{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(ids)  # every job exactly once


def _redis_url() -> str:
    url = "redis://127.0.0.1:6379/15"
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    return url


def test_redis_queue_claims_once_and_requeues_retries(django_capture_on_commit_callbacks):
    queue = jobs.RedisQueue(_redis_url(), key=f"fieldcollect:test:{uuid.uuid4().hex}")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            job = enqueue(kind="test_flaky", max_attempts=2, queue=queue)
        assert queue.depth() == 1
        queue.push(job.pk)  # a duplicate id must not run the job twice
        first = run_one(queue=queue, worker="r1", timeout=1)
        assert first is not None and first.status == JobStatus.QUEUED and first.attempts == 1
        assert run_one(queue=queue, worker="r2", timeout=0) is None  # the duplicate is dropped
        assert queue.redis.llen(queue._processing("r1")) == 0
        assert queue.redis.llen(queue._processing("r2")) == 0
        Job.objects.filter(pk=job.pk).update(run_after=timezone.now() - timedelta(seconds=1))
        assert queue.requeue_due() == 1 and queue.depth() == 1
        second = run_one(queue=queue, worker="r1", timeout=1)
        assert second is not None and second.status == JobStatus.FAILED and second.attempts == 2
    finally:
        queue.redis.delete(queue.key, queue._processing("r1"), queue._processing("r2"))


def test_get_queue_from_environment(monkeypatch):
    monkeypatch.setenv("FIELDCOLLECT_QUEUE", "")
    assert isinstance(jobs.get_queue(), DatabaseQueue)
    monkeypatch.setenv("FIELDCOLLECT_QUEUE", "redis://127.0.0.1:6379/15")
    assert isinstance(jobs.get_queue(), jobs.RedisQueue)
    monkeypatch.setenv("FIELDCOLLECT_QUEUE", "amqp://x")
    with pytest.raises(ValueError, match="FIELDCOLLECT_QUEUE"):
        jobs.get_queue()
