"""The collector app's API (/api/v1/field): today's stops with their permits (masked as the contract
allows), the sync of queued actions (once each; refusals that write nothing), visits under a permit
before a flag, chunked evidence uploads that resume, the repayment QR code, the session + CSRF auth."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone, translation

from fieldcollect.accounts.tokens import token_create
from fieldcollect.audit.models import AuditEntry
from fieldcollect.cases import services as case_services
from fieldcollect.cases.models import PromiseToPay
from fieldcollect.compliance import services as compliance_services
from fieldcollect.compliance.models import BlockedAttempt
from fieldcollect.compliance.services import NOTICE_KIND
from fieldcollect.core.models import Role
from fieldcollect.outbox.models import OutboxMessage
from fieldcollect.testing import factories as f
from fieldcollect.testing.clients import logged_in
from fieldcollect.testing.concurrency import together
from fieldcollect.visits import services
from fieldcollect.visits.evidence import evidence_chunks
from fieldcollect.visits.models import CheckIn, Evidence, FieldAction, VisitPermit, VisitReport
from fieldcollect.visits.tests import samples
from fieldcollect.visits.tests.conftest import at, place_case

pytestmark = pytest.mark.django_db

AUDIO = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(256)) * 40  # a WAV head and 10 kB of "sound"


class Clock:
    """The server's clock in these tests (the phone's times are inside the day's contact hours)."""

    def __init__(self, t: datetime) -> None:
        self.t = t

    def __call__(self) -> datetime:
        return self.t


@pytest.fixture
def day(vw):
    clock = Clock(at(f.today(), 9))
    with mock.patch("django.utils.timezone.now", clock):
        yield FieldDay(vw, clock)


class FieldDay:
    """Today: a team of c1 and c2, case1 with an appointment confirmed for 10:00-12:00, the plan
    published at 09:00 (its permits issued then)."""

    def __init__(self, vw, clock: Clock) -> None:
        self.vw, self.clock = vw, clock
        self.today = f.today()
        self.team = services.team_create(member_a=vw.c1, member_b=vw.c2, day=self.today, acting_user=vw.manager)
        self.clock.t = at(self.today, 8, 30)
        appointment, _token = services.appointment_propose(
            case=vw.case1, acting_user=vw.user1, windows=[(at(self.today, 10), at(self.today, 12))],
            now=self.clock.t)
        self.appointment = services.appointment_confirm(appointment=appointment, window=0)
        self.clock.t = at(self.today, 9)
        self.plan = services.route_plan_build(team=self.team, acting_user=vw.manager, time_limit=1.0,
                                              max_iterations=200)
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {token_create(user=vw.user1, name='phone')[1]}")

    def permit(self, case=None) -> VisitPermit:
        return VisitPermit.objects.get(plan=self.plan, case=case or self.vw.case1)

    def today_json(self, client=None) -> dict:
        resp = (client or self.client).get("/api/v1/field/today")
        assert resp.status_code == 200, resp.content
        return resp.json()

    def sync(self, *actions, client=None) -> list[dict]:
        resp = (client or self.client).post("/api/v1/field/sync", {"actions": list(actions)},
                                            content_type="application/json")
        assert resp.status_code == 200, resp.content
        return resp.json()["results"]


def checkin(case, token, hh=10, mm=5, *, lat=31.2401, lon=121.4901, cid=None) -> dict:
    return {"client_id": cid or str(uuid.uuid4()), "kind": "checkin", "case_id": case.pk,
            "at": at(f.today(), hh, mm).isoformat(),
            "payload": {"lat": lat, "lon": lon, "accuracy_m": 12, "coord_system": "wgs84", "permit": token}}


def report(case, checkin_cid, *, met="debtor", outcome="promise", identity="ID card shown", hh=10, mm=10,
           cid=None) -> dict:
    return {"client_id": cid or str(uuid.uuid4()), "kind": "report", "case_id": case.pk,
            "at": at(f.today(), hh, mm).isoformat(),
            "payload": {"checkin_client_id": checkin_cid, "met": met, "identity_check": identity, "outcome": outcome,
                        "notes": "答应下周还", "ended_at": at(f.today(), hh, mm + 30).isoformat()}}


def promise(case, report_cid, *, cid=None, amount=80_000) -> dict:
    return {"client_id": cid or str(uuid.uuid4()), "kind": "promise", "case_id": case.pk,
            "at": at(f.today(), 10, 35).isoformat(),
            "payload": {"report_client_id": report_cid, "amount_fen": amount,
                        "due": (f.today() + timedelta(days=7)).isoformat()}}


# ---------------------------------------------------------------- today and permits


def test_publishing_the_plan_issues_a_signed_permit_per_visited_stop(day):
    permit = day.permit()
    assert permit.team_id == day.team.pk and permit.allowed and permit.rule_ids == []
    assert permit.window_start == at(day.today, 10) and permit.window_end == at(day.today, 12)
    assert permit.expires_at == at(day.today + timedelta(days=1), 0)
    token = services.permit_token(permit)
    assert services.permit_token(permit) == token  # the same token every time: made from the row, not stored
    assert token not in json.dumps(list(VisitPermit.objects.values()), default=str)


def test_today_gives_the_own_stops_with_permits_and_only_what_the_contract_allows(day, settings):
    settings.FIELDCOLLECT_REPAY_URL_TEMPLATE = "https://pay.bank.example/repay?ref={case_ref}"
    day.clock.t = at(day.today, 9, 30)
    body = day.today_json()
    assert body["date"] == day.today.isoformat() and body["plan_id"] == day.plan.pk
    assert body["collector"] == {"id": day.vw.c1.pk, "name": day.vw.c1.name}
    assert body["wipe_after"].startswith((day.today + timedelta(days=1)).isoformat())
    [stop] = body["stops"]
    assert stop["case_id"] == day.vw.case1.pk and stop["appointment_id"] == day.appointment.pk
    assert stop["permit"]["token"] == services.permit_token(day.permit())
    # the agency's contract withholds the amounts and the days past due
    assert stop["amount_due_fen"] is None and stop["dpd"] is None
    assert stop["repay_url"] == f"https://pay.bank.example/repay?ref={day.vw.case1.loan_id}"
    assert set(stop["navigate"]) == {"amap", "baidu", "apple"}
    customer = day.vw.case1.customer
    assert customer.name not in json.dumps(stop["navigate"], ensure_ascii=False)  # the map company gets no name
    # around the confirmed visit the collector sees the name and address in clear: audited
    assert stop["customer"] == customer.name and "address" in stop["clear"]
    read = AuditEntry.objects.filter(action="pii.unmask", object_id=str(customer.pk)).latest("id")
    assert read.new["channel"] == "field_app" and read.new["purpose"] == "visit"
    # the team mate's phone holds none of c1's cases
    mate = Client(HTTP_AUTHORIZATION=f"Bearer {token_create(user=day.vw.user2, name='phone')[1]}")
    assert day.today_json(mate)["stops"] == []


def test_today_masks_the_customer_without_a_confirmed_visit(day):
    day.clock.t = at(day.today, 8, 30)
    services.appointment_propose(case=day.vw.case2, acting_user=day.vw.user1,
                                 windows=[(at(day.today, 14), at(day.today, 16))], now=day.clock.t)
    day.clock.t = at(day.today, 9)
    day.plan = services.route_plan_build(team=day.team, acting_user=day.vw.manager, time_limit=1.0,
                                         max_iterations=200)
    stops = {s["case_id"]: s for s in day.today_json()["stops"]}
    masked = stops[day.vw.case2.pk]
    name = day.vw.case2.customer.name
    assert masked["customer"] != name and masked["customer"].startswith(name[0]) and "*" in masked["customer"]
    assert day.vw.case2.customer.address not in json.dumps(masked, ensure_ascii=False)
    assert masked["clear"] == [] and masked["appointment_id"] is not None


def test_only_a_field_collector_uses_the_field_api(day):
    manager = Client(HTTP_AUTHORIZATION=f"Bearer {token_create(user=day.vw.manager, name='m')[1]}")
    resp = manager.get("/api/v1/field/today")
    assert resp.status_code == 403 and resp.json()["error"]["code"] == "visits.not_collector"
    assert Client().get("/api/v1/field/today").status_code == 401


# ---------------------------------------------------------------- sync


def test_the_same_batch_twice_records_each_action_once(day):
    token = day.today_json()["stops"][0]["permit"]["token"]
    day.clock.t = at(day.today, 11)
    c = checkin(day.vw.case1, token)
    r = report(day.vw.case1, c["client_id"])
    p = promise(day.vw.case1, r["client_id"])
    first = day.sync(c, r, p)
    assert [x["status"] for x in first] == ["applied"] * 3, first
    again = day.sync(c, r, p)
    assert [x["status"] for x in again] == ["duplicate"] * 3
    assert [x["id"] for x in again] == [x["id"] for x in first]
    assert CheckIn.objects.count() == 1 and VisitReport.objects.count() == 1 and FieldAction.objects.count() == 3
    ci = CheckIn.objects.get()
    assert ci.accepted and ci.permit_id == day.permit().pk and ci.flags_after_permit == []
    rep = VisitReport.objects.get()
    assert rep.met == "debtor" and rep.identity_check == "ID card shown" and rep.checkin_id == ci.pk
    # the report waits for its recording; the promise waits for the report to close
    assert rep.status == VisitReport.Status.OPEN and rep.outcome == "promise" and not rep.recording
    assert not PromiseToPay.objects.exists() and first[2]["id"] is None


def test_a_refused_action_does_not_stop_the_others_and_a_promise_needs_its_report(day):
    token = day.today_json()["stops"][0]["permit"]["token"]
    day.clock.t = at(day.today, 11)
    early_promise = promise(day.vw.case1, "not-sent-yet")
    c = checkin(day.vw.case1, token)
    results = day.sync(early_promise, c)
    assert results[0]["status"] == "refused" and results[0]["code"] == "report_not_synced"
    assert results[1]["status"] == "applied"
    assert not FieldAction.objects.filter(client_id=early_promise["client_id"]).exists()


def test_a_case_recalled_meanwhile_is_refused_and_nothing_is_written(day):
    token = day.today_json()["stops"][0]["permit"]["token"]
    day.clock.t = at(day.today, 10, 30)
    cm = f.make_user(role=Role.COLLECTIONS_MANAGER)
    case_services.case_recall(case=day.vw.case1, reason="bank recall", acting_user=cm)
    day.clock.t = at(day.today, 11)
    audit_mark = AuditEntry.objects.latest("id").pk
    c = checkin(day.vw.case1, token)
    results = day.sync(c, report(day.vw.case1, c["client_id"]))
    assert [r["code"] for r in results] == ["field.case_recalled"] * 2
    assert all(r["status"] == "refused" and r["message"] for r in results)
    assert not CheckIn.objects.exists() and not VisitReport.objects.exists() and not FieldAction.objects.exists()
    assert not BlockedAttempt.objects.exists()
    assert not AuditEntry.objects.filter(pk__gt=audit_mark).exclude(action__startswith="auth").exists()


def test_a_pause_flag_raised_after_the_permit_records_the_visit_as_made_before_the_flag(day):
    token = day.today_json()["stops"][0]["permit"]["token"]
    # a complaint at 09:30 pauses contact; the phone, offline since 09:00, cannot know
    day.clock.t = at(day.today, 9, 30)
    flag = compliance_services.flag_add(customer=day.vw.case1.customer, flag="complaint", starts_at=day.clock.t,
                                        reason="complaint by phone", acting_user=None)
    day.clock.t = at(day.today, 11, 30)
    c = checkin(day.vw.case1, token)
    r = report(day.vw.case1, c["client_id"], met="debtor", outcome="refused")
    results = day.sync(c, r)
    assert [x["status"] for x in results] == ["applied", "applied"], results
    ci = CheckIn.objects.get()
    assert [x["flag_id"] for x in ci.flags_after_permit] == [flag.pk]
    assert VisitReport.objects.get().flags_after_permit[0]["flag"] == "complaint"
    # shown in the daily compliance report
    officer = f.make_user(role=Role.COMPLIANCE_OFFICER)
    page = logged_in(officer)
    with translation.override("en"):
        html = page.get(f"/compliance/report/?day={day.today.isoformat()}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="before-flag"' in html and f"#{day.vw.case1.pk}" in html
    # without a permit (the web page's way) the same visit is refused by the pause
    day.vw.case2.customer
    with pytest.raises(compliance_services.ContactBlockedError):
        services.report_start(case=day.vw.case1, acting_user=day.vw.user1, recording=True, at=at(day.today, 11))


def test_a_flag_raised_before_the_permit_is_not_excused(day):
    compliance_services.flag_add(customer=day.vw.case1.customer, flag="complaint", starts_at=at(day.today, 8),
                                 reason="complaint", acting_user=None)
    day.clock.t = at(day.today, 9, 5)
    plan = services.route_plan_build(team=day.team, acting_user=day.vw.manager, time_limit=1.0, max_iterations=200)
    permit = VisitPermit.objects.get(plan=plan, case=day.vw.case1)
    assert not permit.allowed and permit.rule_ids == ["CN-PAUSE-COMPLAINT"]
    day.clock.t = at(day.today, 11)
    [result] = day.sync(checkin(day.vw.case1, services.permit_token(permit)))
    assert result["status"] == "refused" and result["code"] == "compliance.blocked"
    assert not CheckIn.objects.exists() and BlockedAttempt.objects.filter(path="field_app").count() == 1


def test_the_phone_is_refused_before_the_notice_before_outsourcing(day):
    """The field app's way: a permit issued before the agency's notice was sent is not allowed, and a
    check-in synced under an earlier permit is re-checked and refused (compliance.blocked): the notice
    is not a flag raised after the permit."""
    token = day.today_json()["stops"][0]["permit"]["token"]  # issued at 09:00, the notice sent long before
    assert day.permit().allowed
    # the notice had in fact not gone out (say the gateway's receipt was reversed): pending again
    OutboxMessage.objects.filter(kind=NOTICE_KIND, case=day.vw.case1).update(status="pending", sent_at=None)
    day.clock.t = at(day.today, 10, 5)
    [result] = day.sync(checkin(day.vw.case1, token))
    assert result["status"] == "refused" and result["code"] == "compliance.blocked"
    assert not CheckIn.objects.exists()
    assert BlockedAttempt.objects.get(path="field_app").rule_ids == ["CN-OUTSOURCING-NOTICE"]
    plan = services.route_plan_build(team=day.team, acting_user=day.vw.manager, time_limit=1.0, max_iterations=200)
    permit = VisitPermit.objects.get(plan=plan, case=day.vw.case1)
    assert not permit.allowed and permit.rule_ids == ["CN-OUTSOURCING-NOTICE"]


def test_permit_refusals_outside_window_forged_expired_and_another_collectors_case(day):
    token = day.today_json()["stops"][0]["permit"]["token"]
    day.clock.t = at(day.today, 13, 30)
    late = day.sync(checkin(day.vw.case1, token, hh=13))
    assert late[0]["code"] == "permit.outside_window"
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert day.sync(checkin(day.vw.case1, forged, hh=10, mm=30))[0]["code"] == "permit.invalid"
    # a permit for case1 on case2
    assert day.sync(checkin(day.vw.case2, token, hh=10, mm=30))[0]["code"] == "permit.other_case"
    # another collector's case: not found, whoever's permit
    cm = f.make_user(role=Role.COLLECTIONS_MANAGER)
    case3 = place_case(agency=day.vw.agency, manager=day.vw.manager, collector=day.vw.c2, lat=31.25, lon=121.5, cm=cm)
    assert day.sync(checkin(case3, token, hh=10, mm=30))[0]["code"] == "case.not_found"
    mate = Client(HTTP_AUTHORIZATION=f"Bearer {token_create(user=day.vw.user2, name='phone')[1]}")
    assert day.sync(checkin(day.vw.case1, token, hh=10, mm=30), client=mate)[0]["code"] == "case.not_found"
    # expired: the day is over
    day.clock.t = at(day.today + timedelta(days=1), 0, 40)
    stale = checkin(day.vw.case1, token)
    stale["at"] = at(day.today + timedelta(days=1), 0, 20).isoformat()
    assert day.sync(stale)[0]["code"] == "permit.expired"
    assert not CheckIn.objects.exists() and not FieldAction.objects.exists()


def test_who_was_met_decides_what_may_be_recorded(day):
    token = day.today_json()["stops"][0]["permit"]["token"]
    day.clock.t = at(day.today, 11)
    c = checkin(day.vw.case1, token)
    results = day.sync(c, report(day.vw.case1, c["client_id"], met="family", outcome="promise"),
                       report(day.vw.case1, c["client_id"], met="debtor", identity=""),
                       report(day.vw.case1, c["client_id"], met="nobody", outcome="refused"),
                       report(day.vw.case1, c["client_id"], met="someone", outcome="not_home"))
    assert [r["code"] for r in results] == [None, "field.met_restricted", "field.identity_check_required",
                                             "field.met_restricted", "field.invalid_action"]
    assert "met" in results[4]["message"]
    family = report(day.vw.case1, c["client_id"], met="family", outcome="third_party_met", identity="")
    ok = day.sync(family)
    assert ok[0]["status"] == "applied" and VisitReport.objects.get().met == "family"
    # no promise recorded from a third party
    refused = day.sync(promise(day.vw.case1, family["client_id"]))
    assert refused[0]["status"] == "refused" and refused[0]["code"] == "field.met_restricted"
    assert not PromiseToPay.objects.exists()


def test_session_cookie_needs_the_csrf_header(day):
    phone = Client(enforce_csrf_checks=True)
    phone.force_login(day.vw.user1)
    assert phone.get("/api/v1/field/today").status_code == 200
    body = json.dumps({"actions": []})
    refused = phone.post("/api/v1/field/sync", body, content_type="application/json")
    assert refused.status_code == 403
    secret = "a" * 32
    phone.cookies["csrftoken"] = secret
    ok = phone.post("/api/v1/field/sync", body, content_type="application/json", HTTP_X_CSRFTOKEN=secret)
    assert ok.status_code == 200 and ok.json() == {"results": []}


# ---------------------------------------------------------------- uploads


def _synced_report(day, outcome="not_home", met="nobody"):
    token = day.today_json()["stops"][0]["permit"]["token"]
    day.clock.t = at(day.today, 11)
    c = checkin(day.vw.case1, token)
    r = report(day.vw.case1, c["client_id"], met=met, outcome=outcome, identity="")
    return c, r


def _open(day, r_cid, data=AUDIO, *, kind="audio", cid="upload-1", sha=None):
    return day.client.post("/api/v1/field/uploads", {
        "client_id": cid, "report_client_id": r_cid, "kind": kind, "content_type": "audio/wav", "size": len(data),
        "sha256": sha or hashlib.sha256(data).hexdigest()}, content_type="application/json")


def _put(day, upload_id, data, start, end=None, total=len(AUDIO)):
    end = start + len(data) - 1 if end is None else end
    return day.client.put(f"/api/v1/field/uploads/{upload_id}", data, content_type="application/octet-stream",
                          HTTP_CONTENT_RANGE=f"bytes {start}-{end}/{total}")


def test_chunked_upload_resumes_and_seals_the_recording(day, tmp_path):
    c, r = _synced_report(day)
    early = _open(day, r["client_id"])
    assert early.status_code == 409 and early.json()["error"]["code"] == "report_not_synced"
    assert [x["status"] for x in day.sync(c, r)] == ["applied", "applied"]
    opened = _open(day, r["client_id"])
    assert opened.status_code == 200 and opened.json()["received"] == 0
    uid = opened.json()["upload_id"]
    first = _put(day, uid, AUDIO[:4000], 0)
    assert first.status_code == 200 and first.json() == {"upload_id": uid, "received": 4000, "complete": False,
                                                         "evidence_id": None}
    # the connection drops in the middle of the second chunk: nothing of it is kept
    short = _put(day, uid, AUDIO[4000:5000], 4000, end=7999)
    assert short.status_code == 400 and short.json()["error"]["code"] == "upload.mismatch"
    # the phone asks where it was (same client id) and a chunk at the wrong place is 409 with received
    assert _open(day, r["client_id"]).json() == {"upload_id": uid, "received": 4000, "complete": False,
                                                 "evidence_id": None}
    wrong = _put(day, uid, AUDIO[6000:7000], 6000)
    assert wrong.status_code == 409 and wrong.json()["received"] == 4000
    assert wrong.json()["error"]["code"] == "upload.offset"
    stored_chunks = list((Path(tmp_path) / "evidence" / "uploads" / str(uid)).iterdir())
    assert stored_chunks and all(AUDIO[:4000][100:200] not in p.read_bytes() for p in stored_chunks)  # sealed
    done = _put(day, uid, AUDIO[4000:], 4000)
    assert done.status_code == 200 and done.json()["complete"] and done.json()["received"] == len(AUDIO)
    ev = Evidence.objects.get(pk=done.json()["evidence_id"])
    assert ev.kind == "audio" and ev.sha256 == hashlib.sha256(AUDIO).hexdigest()
    assert AUDIO[100:200] not in (Path(tmp_path) / "evidence" / ev.sha256).read_bytes()
    assert b"".join(evidence_chunks(sha256=ev.sha256)) == AUDIO
    rep = VisitReport.objects.get()
    # the recording is a fact; with it the report closed with the outcome sent from the phone
    assert rep.recording and rep.status == VisitReport.Status.CLOSED and rep.outcome == "not_home"
    assert not (Path(tmp_path) / "evidence" / "uploads" / str(uid)).exists()
    again = _put(day, uid, AUDIO[:10], 0)
    assert again.status_code == 409 and again.json()["error"]["code"] == "upload.complete"


def test_a_promise_waits_for_the_recording_then_closes_the_report(day):
    c, r = _synced_report(day, outcome="promise", met="debtor")
    r["payload"]["identity_check"] = "ID card"
    p = promise(day.vw.case1, r["client_id"])
    results = day.sync(c, r, p)
    assert [x["status"] for x in results] == ["applied"] * 3 and results[2]["id"] is None
    uid = _open(day, r["client_id"]).json()["upload_id"]
    assert _put(day, uid, AUDIO, 0).json()["complete"]
    rep = VisitReport.objects.get()
    promise_row = PromiseToPay.objects.get()
    assert rep.status == VisitReport.Status.CLOSED and rep.promise_id == promise_row.pk
    assert promise_row.amount_fen == 80_000
    assert day.sync(p)[0] == {"client_id": p["client_id"], "status": "duplicate", "code": None, "message": None,
                              "id": promise_row.pk, "extra": {}}


def test_a_wrong_sha256_is_refused_and_the_upload_starts_again(day):
    c, r = _synced_report(day)
    day.sync(c, r)
    uid = _open(day, r["client_id"], sha="0" * 64).json()["upload_id"]
    bad = _put(day, uid, AUDIO, 0)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "upload.checksum" and bad.json()["received"] == 0
    assert not Evidence.objects.exists() and not VisitReport.objects.get().recording
    photo = _open(day, r["client_id"], samples.JPEG, kind="audio", cid="upload-2").json()["upload_id"]
    wrong_kind = _put(day, photo, samples.JPEG, 0, total=len(samples.JPEG))
    assert wrong_kind.status_code == 415 and wrong_kind.json()["error"]["code"] == "upload.kind"
    assert not Evidence.objects.exists()


def test_uploaded_evidence_is_readable_by_the_right_roles_only(day):
    c, r = _synced_report(day)
    day.sync(c, r)
    uid = _open(day, r["client_id"]).json()["upload_id"]
    evidence_id = _put(day, uid, AUDIO, 0).json()["evidence_id"]
    url = f"/visits/evidence/{evidence_id}"
    owner = logged_in(day.vw.user1)
    resp = owner.get(url)
    assert resp.status_code == 200 and b"".join(resp.streaming_content) == AUDIO
    other_agency = f.make_agency()
    f.make_contract(agency=other_agency)
    outsider_user, _c = f.make_collector_user(agency=other_agency)
    outsider = logged_in(outsider_user)
    assert outsider.get(url).status_code == 404
    # another collector's upload id is not found for this collector
    mate = Client(HTTP_AUTHORIZATION=f"Bearer {token_create(user=day.vw.user2, name='phone')[1]}")
    assert mate.put(f"/api/v1/field/uploads/{uid}", b"x", content_type="application/octet-stream",
                    HTTP_CONTENT_RANGE="bytes 0-0/1").status_code == 404


# ---------------------------------------------------------------- repayment link


def test_repayment_qr_code(day, settings):
    url = f"/api/v1/field/cases/{day.vw.case1.pk}/repay.svg"
    settings.FIELDCOLLECT_REPAY_URL_TEMPLATE = ""
    none = day.client.get(url)
    assert none.status_code == 404 and none.json()["error"]["code"] == "field.no_repay_url"
    assert day.today_json()["stops"][0]["repay_url"] == ""
    settings.FIELDCOLLECT_REPAY_URL_TEMPLATE = "https://pay.bank.example/repay?ref={case_ref}"
    resp = day.client.get(url)
    assert resp.status_code == 200 and resp["Content-Type"] == "image/svg+xml"
    assert resp.content.startswith(b"<svg") and "max-age" in resp["Cache-Control"]
    mate = Client(HTTP_AUTHORIZATION=f"Bearer {token_create(user=day.vw.user2, name='phone')[1]}")
    assert mate.get(url).status_code == 404


def test_the_field_operations_are_in_the_openapi_document(db):
    spec = Client().get("/api/v1/openapi.json").json()
    assert {"/api/v1/field/today", "/api/v1/field/sync", "/api/v1/field/uploads",
            "/api/v1/field/uploads/{upload_id}", "/api/v1/field/cases/{case_id}/repay.svg"} <= set(spec["paths"])


def test_an_action_dated_in_the_future_is_refused(day):
    token = day.today_json()["stops"][0]["permit"]["token"]
    day.clock.t = at(day.today, 10)
    [result] = day.sync(checkin(day.vw.case1, token, hh=10, mm=30))
    assert result["code"] == "field.future_time" and not CheckIn.objects.exists()
    assert timezone.now() == at(day.today, 10)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
def test_the_same_action_sent_twice_at_once_is_recorded_once(day):
    action = promise(day.vw.case1, None)
    day.clock.t = at(day.today, 11)

    def phone(_: None) -> str:
        [result] = services.field_sync(acting_user=day.vw.user1, actions=[_parsed(action)])
        return result.status

    outcomes = together([(lambda: None, phone)] * 2, timeout=60)
    assert sorted(o.value for o in outcomes if o.error is None) == ["applied", "duplicate"]
    assert PromiseToPay.objects.filter(case=day.vw.case1).count() == 1 and FieldAction.objects.count() == 1


def _parsed(action: dict):
    from fieldcollect.visits.services.field import PromiseAction, SyncAction

    p = action["payload"]
    return SyncAction(client_id=action["client_id"], kind=action["kind"], case_id=action["case_id"],
                      at=datetime.fromisoformat(action["at"]),
                      payload=PromiseAction(amount_fen=p["amount_fen"], due=date.fromisoformat(p["due"])))


def test_the_report_closes_once_every_upload_it_names_has_arrived(day):
    c, r = _synced_report(day)
    r["payload"]["uploads"] = ["audio-1", "photo-1"]
    day.sync(c, r)
    audio = _open(day, r["client_id"], cid="audio-1").json()["upload_id"]
    assert _put(day, audio, AUDIO, 0).json()["complete"]
    rep = VisitReport.objects.get()
    assert rep.recording and rep.status == VisitReport.Status.OPEN  # the photo is still to come
    photo = _open(day, r["client_id"], samples.JPEG, kind="photo", cid="photo-1").json()["upload_id"]
    assert _put(day, photo, samples.JPEG, 0, total=len(samples.JPEG)).json()["complete"]
    rep.refresh_from_db()
    assert rep.status == VisitReport.Status.CLOSED and rep.evidence.count() == 2


def test_a_checkin_in_gcj02_is_converted_before_the_geofence(day):
    from fieldcollect.optimisation.coords import from_wgs84

    token = day.today_json()["stops"][0]["permit"]["token"]
    day.clock.t = at(day.today, 11)
    g_lat, g_lon = from_wgs84(31.2401, 121.4901, "gcj02")  # what an Amap-located phone reports at the door
    as_sent = checkin(day.vw.case1, token, lat=g_lat, lon=g_lon)
    as_sent["payload"]["coord_system"] = "gcj02"
    assert day.sync(as_sent)[0]["status"] == "applied"
    ci = CheckIn.objects.get()
    assert ci.accepted and ci.distance_m < 50 and ci.reported_system == "gcj02"
    # the same numbers taken as WGS-84 are hundreds of metres off: outside the geofence
    wrong = checkin(day.vw.case1, token, lat=g_lat + 0.00001, lon=g_lon, mm=20)
    day.sync(wrong)
    assert not CheckIn.objects.latest("id").accepted


def test_a_new_address_and_phone_learnt_at_the_door_become_alternate_contacts(day):
    from fieldcollect.legal.models import AltContact

    c, r = _synced_report(day, outcome="moved", met="third_party")
    r["payload"] |= {"new_address": "上海市浦东新区世纪大道100号 12楼", "new_phone": "139 0000 0001"}
    assert [x["status"] for x in day.sync(c, r)] == ["applied", "applied"]
    rep = VisitReport.objects.get()
    found = {a.kind: a for a in AltContact.objects.filter(case=day.vw.case1)}
    assert set(found) == {"address", "phone"}
    assert found["address"].value == "上海市浦东新区世纪大道100号 12楼"
    assert found["phone"].source == "visit" and found["phone"].source_ref == f"visit_report:{rep.pk}"
    # kept encrypted, not in the synced action's own record
    action = FieldAction.objects.get(client_id=r["client_id"])
    assert "世纪大道" not in json.dumps(action.data, ensure_ascii=False)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {AltContact._meta.db_table}")
        assert "世纪大道" not in repr(cursor.fetchall())


def test_an_address_is_taken_only_when_the_debtor_moved_and_a_bad_phone_is_refused(day):
    from fieldcollect.legal.models import AltContact

    c, r = _synced_report(day, outcome="not_home", met="nobody")
    r["payload"] |= {"new_address": "上海市浦东新区世纪大道100号", "new_phone": ""}
    assert [x["status"] for x in day.sync(c, r)] == ["applied", "applied"]
    assert not AltContact.objects.exists()  # nobody said the debtor moved: the address is not taken
    c2, r2 = _synced_report(day, outcome="moved", met="nobody")
    r2["payload"] |= {"new_phone": "12"}
    results = day.sync(c2, r2)
    assert results[1]["status"] == "refused" and results[1]["code"] == "legal.contact_invalid", results
    assert not AltContact.objects.exists()
