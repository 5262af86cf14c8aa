"""Recordings: the dialler's upload (idempotent), encryption at rest, range playback per role with
every playback audited, transcript import with the detector's findings, retention, legal hold and
the purge record."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from fieldcollect.accounts.tokens import token_create
from fieldcollect.agencies.models import Agency, Collector
from fieldcollect.audit.models import AuditEntry
from fieldcollect.cases import services as case_services
from fieldcollect.cases.models import Case
from fieldcollect.complaints.models import Complaint
from fieldcollect.core.models import Role, User
from fieldcollect.privacy import filecrypt
from fieldcollect.qa import services
from fieldcollect.qa.models import PurgeRecord, QaLead, Recording
from fieldcollect.testing import factories as f
from fieldcollect.visits.evidence import evidence_path

pytestmark = pytest.mark.django_db

AUDIO = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 700  # ~179 KB: three sealed chunks
MARKER = bytes(range(256)) * 4


@dataclass
class World:
    agency: Agency
    other: Agency
    case: Case
    other_case: Case
    collector: Collector
    dialler: User
    other_dialler: User
    lead: User
    compliance: User
    manager_not_lead: User
    collector_user: User
    collections_manager: User
    home: Path


@pytest.fixture
def w(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("FIELDCOLLECT_HOME", str(tmp_path))
    agency, other = f.make_agency(), f.make_agency()
    f.make_contract(agency=agency)
    f.make_contract(agency=other)
    cm = f.make_user(role=Role.COLLECTIONS_MANAGER)
    case, other_case = f.make_case(), f.make_case()
    case_services.case_place(case=case, agency=agency, acting_user=cm)
    case_services.case_place(case=other_case, agency=other, acting_user=cm)
    collector_user, collector = f.make_collector_user(agency=agency)
    lead = f.make_user(role=Role.AGENCY_MANAGER, agency=agency)
    QaLead.objects.create(user=lead, agency=agency)
    return World(
        agency=agency, other=other, case=case, other_case=other_case, collector=collector,
        dialler=f.make_user(role=Role.AGENCY_MANAGER, agency=agency),
        other_dialler=f.make_user(role=Role.AGENCY_MANAGER, agency=other),
        lead=lead, compliance=f.make_user(role=Role.COMPLIANCE_OFFICER),
        manager_not_lead=f.make_user(role=Role.AGENCY_MANAGER, agency=agency),
        collector_user=collector_user, collections_manager=cm, home=tmp_path,
    )  # fmt: skip


def bearer(user: User) -> dict[str, Any]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token_create(user=user, name='t')[1]}"}


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def upload(w: World, user: User, *, dialler_id: str = "D-1", case: Case | None = None, body: bytes = AUDIO,
           **extra: Any) -> Any:  # fmt: skip
    now = timezone.now()
    params = {"dialler_id": dialler_id, "case_id": (case or w.case).pk, "collector_id": w.collector.pk,
              "number": "13800000001", "started_at": (now - timedelta(minutes=5)).isoformat(),
              "ended_at": now.isoformat()} | extra  # fmt: skip
    params = {k: v for k, v in params.items() if v is not None}
    from urllib.parse import urlencode

    return Client().post(f"/api/v1/recordings?{urlencode(params)}", data=body,
                         content_type="application/octet-stream", **bearer(user))  # fmt: skip


def test_upload_is_sealed_at_rest_and_idempotent(w: World) -> None:
    r = upload(w, w.dialler)
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["created"] and body["size"] == len(AUDIO) and body["content_type"] == "audio/mpeg"
    rec = Recording.objects.get(pk=body["id"])
    stored = evidence_path(rec.sha256).read_bytes()
    assert filecrypt.is_sealed(stored) and MARKER not in stored
    for root, _dirs, files in os.walk(w.home):  # no audio bytes in clear anywhere under the data home
        for name in files:
            assert MARKER not in (Path(root) / name).read_bytes(), name
    again = upload(w, w.dialler, body=b"not read at all")
    assert again.status_code == 200 and again.json()["id"] == rec.pk and not again.json()["created"]
    assert Recording.objects.count() == 1


def test_upload_refusals(w: World) -> None:
    assert upload(w, w.dialler, body=b"just some text, not audio" * 4).status_code == 415  # not audio
    assert upload(w, w.dialler, case=w.other_case).status_code == 404  # a case of another agency
    assert upload(w, w.compliance).status_code == 403  # the bank does not upload
    assert upload(w, w.dialler, dialler_id="D-9", ended_at="2020-01-01T00:00:00+00:00").status_code == 422
    assert upload(w, w.dialler, dialler_id="D-8", collector_id=999_999).status_code == 404
    assert Recording.objects.count() == 0
    # the same dialler id in another agency is another recording
    assert upload(w, w.dialler, dialler_id="X").status_code == 201
    assert upload(w, w.other_dialler, dialler_id="X", case=w.other_case, collector_id=None).status_code == 201


def test_range_playback_per_role_and_audited(w: World) -> None:
    rec_id = upload(w, w.dialler).json()["id"]
    c = Client()
    whole = c.get(f"/api/v1/recordings/{rec_id}/audio", **bearer(w.compliance))
    assert whole.status_code == 200 and body(whole) == AUDIO
    assert whole["Accept-Ranges"] == "bytes"
    start, end = 65_530, 131_080  # across two chunk boundaries
    part = c.get(f"/api/v1/recordings/{rec_id}/audio", HTTP_RANGE=f"bytes={start}-{end}", **bearer(w.lead))
    assert part.status_code == 206 and part["Content-Range"] == f"bytes {start}-{end}/{len(AUDIO)}"
    assert body(part) == AUDIO[start : end + 1]
    tail = c.get(f"/api/v1/recordings/{rec_id}/audio", HTTP_RANGE="bytes=-10", **bearer(w.lead))
    assert body(tail) == AUDIO[-10:]
    bad = c.get(f"/api/v1/recordings/{rec_id}/audio", HTTP_RANGE=f"bytes={len(AUDIO)}-", **bearer(w.lead))
    assert bad.status_code == 416 and bad["Content-Range"] == f"bytes */{len(AUDIO)}"
    plays = AuditEntry.objects.filter(action="qa.recording.play", object_id=str(rec_id))
    assert plays.count() == 3
    assert {e.actor_id for e in plays} == {w.compliance.pk, w.lead.pk}
    # nobody else: the uploading dialler (not a QA lead), a collector, a collections manager, another agency
    for user in (w.dialler, w.manager_not_lead, w.collector_user, w.collections_manager, w.other_dialler):
        assert c.get(f"/api/v1/recordings/{rec_id}/audio", **bearer(user)).status_code == 404, user.role
    assert plays.count() == 3
    # a QA lead of another agency does not hear this agency's recordings
    QaLead.objects.create(user=w.other_dialler, agency=w.other)
    assert c.get(f"/api/v1/recordings/{rec_id}/audio", **bearer(w.other_dialler)).status_code == 404


def test_transcript_import_scans_with_the_pack(w: World) -> None:
    rec_id = upload(w, w.dialler).json()["id"]
    transcript = {"language": "zh", "segments": [
        {"speaker": "collector", "start_s": 0, "end_s": 6, "text": "您好，我是华信公司的李明，受工商银行委托联系您，本次通话录音。"},
        {"speaker": "customer", "start_s": 6.5, "end_s": 8, "text": "滚，骗子！"},
        {"speaker": "collector", "start_s": 8.5, "end_s": 12, "text": "不还钱就让你坐牢。"}]}  # fmt: skip
    r = Client().post(f"/api/v1/recordings/{rec_id}/transcript", data=transcript, content_type="application/json",
                      **bearer(w.dialler))  # fmt: skip
    assert r.status_code == 200, r.content
    assert [(x["category"], x["segment_index"], x["start_s"]) for x in r.json()["findings"]] == [
        ("false_consequence", 2, 8.5)]  # fmt: skip
    bad = dict(transcript, segments=[{"speaker": "robot", "start_s": 0, "end_s": 1, "text": "x"}])
    r = Client().post(f"/api/v1/recordings/{rec_id}/transcript", data=bad, content_type="application/json",
                      **bearer(w.dialler))  # fmt: skip
    assert r.status_code == 422 and "segments[0].speaker" in r.json()["error"]["message"]
    r = Client().post(f"/api/v1/recordings/{rec_id}/transcript", data=transcript, content_type="application/json",
                      **bearer(w.other_dialler))  # fmt: skip
    assert r.status_code == 404


def test_retention_legal_hold_and_purge_record(
    w: World, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.FIELDCOLLECT_QA_RETENTION_DAYS = {"CN": 30}
    ids = [upload(w, w.dialler, dialler_id=f"D-{i}", body=AUDIO + bytes([i])).json()["id"] for i in range(3)]
    old = timezone.now() - timedelta(days=31)
    Recording.objects.filter(pk__in=ids).update(started_at=old - timedelta(minutes=3), ended_at=old)
    held_by_hand = Recording.objects.get(pk=ids[1])
    services.recording_set_legal_hold(
        recording=held_by_hand, acting_user=w.compliance, hold=True, reason="lawsuit"
    )
    with pytest.raises(services.PermissionDeniedError):
        services.recording_set_legal_hold(recording=held_by_hand, acting_user=w.lead, hold=False, reason="")
    fresh = upload(w, w.dialler, dialler_id="D-new", body=AUDIO + b"new").json()["id"]
    with django_capture_on_commit_callbacks(execute=True):  # the file goes once the purge is committed
        done = services.purge_expired()
    assert [p.recording_id for p in done] == [ids[0], ids[2]]
    assert all(p.file_deleted and p.retention_days == 30 for p in done)
    assert not evidence_path(Recording.objects.get(pk=ids[0]).sha256).exists()
    assert evidence_path(Recording.objects.get(pk=ids[1]).sha256).exists()
    assert evidence_path(Recording.objects.get(pk=fresh).sha256).exists()
    assert PurgeRecord.objects.count() == 2
    assert AuditEntry.objects.filter(action="qa.recording.purge").count() == 2
    r = Client().get(f"/api/v1/recordings/{ids[0]}/audio", **bearer(w.compliance))
    assert r.status_code == 410
    assert services.purge_expired() == []  # nothing twice


def test_an_open_complaint_holds_the_case_recordings(w: World, settings: Any) -> None:
    settings.FIELDCOLLECT_QA_RETENTION_DAYS = {"CN": 30}
    rec_id = upload(w, w.dialler).json()["id"]
    old = timezone.now() - timedelta(days=40)
    Recording.objects.filter(pk=rec_id).update(started_at=old - timedelta(minutes=1), ended_at=old)
    now = timezone.now()
    complaint = Complaint.objects.create(
        source="phone", customer=w.case.customer, case=w.case, agency=w.agency, category="attitude",
        description="催收员态度恶劣", received_at=now, acknowledge_due_at=now + timedelta(days=1),
        resolve_due_at=now + timedelta(days=15),
    )  # fmt: skip
    assert services.held(Recording.objects.get(pk=rec_id))
    assert services.purge_expired() == []
    complaint.status = "closed"
    complaint.save(update_fields=["status"])
    assert [p.recording_id for p in services.purge_expired()] == [rec_id]


def test_shared_content_is_not_deleted_while_used(w: World, settings: Any) -> None:
    settings.FIELDCOLLECT_QA_RETENTION_DAYS = {"CN": 30}
    a = upload(w, w.dialler, dialler_id="A").json()["id"]
    upload(w, w.dialler, dialler_id="B")  # the same audio: the same sealed file
    old = timezone.now() - timedelta(days=40)
    Recording.objects.filter(pk=a).update(started_at=old - timedelta(minutes=1), ended_at=old)
    [purge] = services.purge_expired()
    assert not purge.file_deleted and evidence_path(purge.sha256).exists()


def test_default_retention_is_documented() -> None:
    assert services.DEFAULT_RETENTION_DAYS == {"CN": 730, "US": 1095}
    assert services.retention_days("CN") == 730


def test_a_visit_audio_becomes_a_recording(w: World, django_capture_on_commit_callbacks: Any) -> None:
    import io

    from fieldcollect.visits.evidence import EvidenceIntake
    from fieldcollect.visits.models import VisitReport
    from fieldcollect.visits.services import evidence_add_staged
    from fieldcollect.visits.tests.samples import JPEG, WAV

    report = VisitReport.objects.create(case=w.case, collector=w.collector, created_by=w.collector_user)
    with django_capture_on_commit_callbacks(execute=True):
        audio = evidence_add_staged(report=report, acting_user=w.collector_user,
                                    staged=EvidenceIntake().read_from(io.BytesIO(WAV)), name="visit.wav")  # fmt: skip
        evidence_add_staged(report=report, acting_user=w.collector_user,
                            staged=EvidenceIntake().read_from(io.BytesIO(JPEG)), name="door.jpg")  # fmt: skip
    [rec] = Recording.objects.all()
    assert rec.evidence_id == audio.pk and rec.source == "visit" and rec.channel == "visit"
    assert rec.agency_id == w.agency.pk and rec.sha256 == audio.sha256
    played = Client().get(f"/api/v1/recordings/{rec.pk}/audio", **bearer(w.compliance))
    assert played.status_code == 200 and body(played) == WAV


def test_openapi_lists_the_recording_routes() -> None:
    spec = Client().get("/api/v1/openapi.json").json()
    paths = spec["paths"]
    assert {"/api/v1/recordings", "/api/v1/recordings/{recording_id}", "/api/v1/recordings/{recording_id}/audio",
            "/api/v1/recordings/{recording_id}/transcript"} <= set(paths)  # fmt: skip
    assert "Range" in json.dumps(paths["/api/v1/recordings/{recording_id}/audio"])
    assert "application/octet-stream" in json.dumps(paths["/api/v1/recordings"]["post"]["requestBody"])
