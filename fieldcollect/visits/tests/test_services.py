"""Services: appointments through the customer's link, compliance blocks, teams, route plans and
re-planning, check-in verification, visit reports and their evidence, the outbox."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.utils import timezone, translation

from fieldcollect.audit.models import AuditEntry
from fieldcollect.cases.models import ContactAttempt, PromiseToPay, Task
from fieldcollect.compliance.models import BlockedAttempt
from fieldcollect.core.errors import ApplicationError
from fieldcollect.outbox.models import OutboxMessage
from fieldcollect.outbox.services import DeliveryError, FileAdapter, SmsGatewayAdapter, outbox_dispatch
from fieldcollect.privacy.masking import mask_mobile
from fieldcollect.testing import factories as f
from fieldcollect.visits import links, services
from fieldcollect.visits.evidence import evidence_chunks
from fieldcollect.visits.models import (
    Appointment,
    CheckIn,
    FeedbackRequest,
    RoutePlan,
    Shift,
    Team,
    VisitReport,
)
from fieldcollect.visits.tests import samples
from fieldcollect.visits.tests.conftest import at

pytestmark = pytest.mark.django_db


def _propose(vw, case=None, hours=((10, 12), (14, 16))):
    case = case or vw.case1
    windows = [(at(vw.day, a), at(vw.day, b)) for a, b in hours]
    # proposed today at 10:00 (debtor's local time): the link SMS may go at once, whenever the tests run
    return services.appointment_propose(case=case, acting_user=vw.user1, windows=windows, now=f.in_hours())


def _confirmed(vw, case=None, hours=(10, 12)):
    appointment, _token = _propose(vw, case=case, hours=(hours,))
    return services.appointment_confirm(appointment=appointment, window=0)


def _team(vw):
    return services.team_create(member_a=vw.c1, member_b=vw.c2, day=vw.day, acting_user=vw.manager)


# ---------------------------------------------------------------- appointments and links

def test_booking_flow_through_the_link(vw):
    appointment, token = _propose(vw)
    assert appointment.status == Appointment.Status.PROPOSED
    assert appointment.token_hash == links.token_hash(token) and token not in appointment.token_hash
    sms = OutboxMessage.objects.get(kind="appointment_link")
    assert sms.to == vw.case1.customer.mobile and f"/visits/a/{token}/" in sms.body
    assert "上门" in sms.body  # the customer's SMS is in Chinese
    opened = services.appointment_from_token(token)
    assert opened.pk == appointment.pk
    done = services.appointment_confirm(appointment=opened, window=1)
    assert done.status == Appointment.Status.CONFIRMED
    assert done.chosen_start == at(vw.day, 14) and done.chosen_end == at(vw.day, 16)
    assert AuditEntry.objects.filter(action="appointment.confirm", object_id=str(appointment.pk)).exists()
    with pytest.raises(ApplicationError) as exc:
        services.appointment_confirm(appointment=opened, window=0)
    assert exc.value.code == "appointment.answered"


def test_expired_link_is_refused_and_marks_the_appointment(vw):
    appointment, token = _propose(vw)
    later = appointment.expires_at + timedelta(seconds=1)
    with pytest.raises(links.LinkExpired):
        services.appointment_from_token(token, now=later)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.EXPIRED


@pytest.mark.parametrize("mangle", [lambda t: t[:-3] + "abc", lambda t: t[:10], lambda t: "x" + t])
def test_tampered_link_is_refused(vw, mangle):
    _appointment, token = _propose(vw)
    with pytest.raises(links.LinkInvalid):
        services.appointment_from_token(mangle(token))


def test_a_token_for_another_purpose_or_a_replaced_link_is_refused(vw):
    appointment, token = _propose(vw)
    forged = links.make_token(purpose="feedback", object_id=appointment.pk, nonce=appointment.nonce,
                              expires_at=appointment.expires_at)
    with pytest.raises(links.LinkInvalid):
        services.appointment_from_token(forged)
    _new, _token2 = _propose(vw)  # a new proposal cancels the old one: its link can no longer confirm
    old = services.appointment_from_token(token)
    assert old.status == Appointment.Status.CANCELLED
    with pytest.raises(ApplicationError) as exc:
        services.appointment_confirm(appointment=old, window=0)
    assert exc.value.code == "appointment.answered"


def test_windows_outside_contact_hours_are_refused_with_the_rule_in_the_users_language(vw):
    late = [(at(vw.day, 21, 30), at(vw.day, 22, 30))]
    with translation.override("zh-hans"), pytest.raises(ApplicationError) as zh:
        services.appointment_propose(case=vw.case1, acting_user=vw.user1, windows=late)
    assert zh.value.code == "compliance.blocked" and zh.value.status_code == 422
    assert "CN-HOURS" in zh.value.extra["rule_ids"]
    assert "债务人当地时间" in zh.value.message
    with translation.override("en"), pytest.raises(ApplicationError) as en:
        services.appointment_propose(case=vw.case1, acting_user=vw.user1,
                                     windows=[(at(vw.day, 7), at(vw.day, 9))])
    assert "debtor's local time" in en.value.message
    assert not Appointment.objects.exists()


def test_contact_hours_follow_the_debtors_time_zone(vw):
    customer = vw.case1.customer
    customer.timezone = "Asia/Urumqi"  # UTC+6: 10:00 in Shanghai is 08:00 there... 07:30 Shanghai is 05:30
    customer.save(update_fields=["timezone"])
    with pytest.raises(ApplicationError) as exc:
        services.appointment_propose(case=vw.case1, acting_user=vw.user1, windows=[(at(vw.day, 9), at(vw.day, 11))])
    assert "CN-HOURS" in exc.value.extra["rule_ids"]  # 09:00 Shanghai is 07:00 in Urumqi


def test_customer_suggestion_must_pass_the_rules(vw):
    appointment, _token = _propose(vw)
    with pytest.raises(ApplicationError) as exc:
        services.appointment_suggest(appointment=appointment, start=at(vw.day, 23))
    assert exc.value.code == "compliance.blocked" and exc.value.status_code == 422
    ok = services.appointment_suggest(appointment=appointment, start=at(vw.day, 18))
    assert ok.status == Appointment.Status.CONFIRMED and ok.chosen_by_customer
    assert ok.chosen_end - ok.chosen_start == timedelta(hours=1)


def test_window_shape_rules(vw):
    for hours in (((12, 10),), ((9, 15),)):
        with pytest.raises(ApplicationError):
            _propose(vw, hours=hours)
    past = timezone.localdate() - timedelta(days=1)
    with pytest.raises(ApplicationError) as exc:
        services.appointment_propose(case=vw.case1, acting_user=vw.user1, windows=[(at(past, 10), at(past, 11))])
    assert exc.value.code == "appointment.past_window"


def test_decline_and_reminders(vw):
    a1, _ = _propose(vw)
    services.appointment_decline(appointment=a1, reason="不方便")
    a1.refresh_from_db()
    assert a1.status == Appointment.Status.DECLINED and a1.decline_reason == "不方便"
    confirmed = _confirmed(vw, case=vw.case2)
    assert confirmed.chosen_start is not None
    now = confirmed.chosen_start - timedelta(hours=20)
    assert services.reminders_enqueue(now=now) == 1
    assert services.reminders_enqueue(now=now) == 0  # once only
    assert OutboxMessage.objects.filter(kind="reminder", case=vw.case2).count() == 1


# ---------------------------------------------------------------- teams and route plans

def test_teams_paired_automatically_only_when_qualified(vw):

    _u3, c3 = f.make_collector_user(agency=vw.agency)
    c3.base_lat, c3.base_lon = 31.30, 121.50
    c3.certified_until = vw.day - timedelta(days=1)  # expired before the day
    c3.save()
    for c in (vw.c1, vw.c2, c3):
        services.shift_set(collector=c, day=vw.day, start=at(vw.day, 9).time(), end=at(vw.day, 18).time(),
                           acting_user=vw.manager)
    teams = services.teams_pair_automatically(agency=vw.agency, day=vw.day, acting_user=vw.manager)
    assert len(teams) == 1
    assert set(teams[0].member_ids) == {vw.c1.pk, vw.c2.pk}
    assert teams[0].paired_by == Team.PairedBy.AUTO
    with pytest.raises(ApplicationError) as exc:
        services.team_create(member_a=vw.c1, member_b=c3, day=vw.day, acting_user=vw.manager)
    assert exc.value.code == "team.not_qualified"
    assert Shift.objects.filter(date=vw.day).count() == 3


def test_route_plan_and_replan_after_cancellation(vw):
    team = _team(vw)
    a1 = _confirmed(vw, case=vw.case1, hours=(10, 11))
    _confirmed(vw, case=vw.case2, hours=(14, 15))
    plan = services.route_plan_build(team=team, acting_user=vw.manager, time_limit=1.0, max_iterations=200)
    stops = [s for s in plan.stops.all() if not s.skipped]
    assert [s.case_id for s in stops] == [vw.case1.pk, vw.case2.pk]
    assert all(s.required for s in stops) and plan.feasible and plan.missed == []
    assert stops[0].planned_start >= at(vw.day, 10) and stops[0].planned_start <= at(vw.day, 11)
    assert plan.geojson["type"] == "FeatureCollection"
    new = services.appointment_cancel(appointment=a1, acting_user=vw.user1, now=at(vw.day, 8),
                                      time_limit=1.0, max_iterations=200)
    assert new is not None and new.pk != plan.pk and new.reason == "cancellation"
    plan.refresh_from_db()
    assert plan.superseded
    assert [s.case_id for s in new.stops.all() if not s.skipped] == [vw.case2.pk]
    assert RoutePlan.objects.filter(team=team, superseded=False).count() == 1


def test_proposed_appointments_are_optional_stops(vw):
    team = _team(vw)
    _propose(vw, case=vw.case2, hours=((13, 15),))
    plan = services.route_plan_build(team=team, acting_user=None, time_limit=1.0, max_iterations=200)
    stop = plan.stops.get(case=vw.case2)
    assert not stop.required and stop.prize_fen > 0


# ---------------------------------------------------------------- check-in

def test_checkin_inside_the_geofence_is_accepted(vw):
    a = _confirmed(vw)
    c = services.checkin_record(case=vw.case1, acting_user=vw.user1, lat=31.2405, lon=121.4902, accuracy_m=15,
                                at=at(vw.day, 10, 5), appointment=a)
    assert c.accepted and c.flags == [] and c.distance_m is not None and c.distance_m < 100


def test_checkin_outside_the_geofence_or_window_is_flagged(vw):
    a = _confirmed(vw)
    far = services.checkin_record(case=vw.case1, acting_user=vw.user1, lat=31.2450, lon=121.4900, accuracy_m=10,
                                  at=at(vw.day, 10, 5), appointment=a)
    assert not far.accepted and CheckIn.Flag.OUTSIDE_GEOFENCE in far.flags and far.distance_m > 200
    late = services.checkin_record(case=vw.case1, acting_user=vw.user1, lat=31.2401, lon=121.4901, accuracy_m=10,
                                   at=at(vw.day, 13), appointment=a)
    assert late.accepted and late.flags == [CheckIn.Flag.OUTSIDE_WINDOW]


def test_spoofing_signs_impossible_speed_and_repeated_coordinates(vw):
    services.checkin_record(case=vw.case2, acting_user=vw.user1, lat=31.2200, lon=121.4500, accuracy_m=5,
                            at=at(vw.day, 9, 0))
    # 4.4 km in one minute: about 260 km/h
    fast = services.checkin_record(case=vw.case1, acting_user=vw.user1, lat=31.2400, lon=121.4900, accuracy_m=5,
                                   at=at(vw.day, 9, 1))
    assert CheckIn.Flag.IMPOSSIBLE_SPEED in fast.flags and not fast.accepted
    same = services.checkin_record(case=vw.case1, acting_user=vw.user1, lat=31.2400, lon=121.4900, accuracy_m=5,
                                   at=at(vw.day, 11, 0))
    assert CheckIn.Flag.REPEATED_COORDINATES in same.flags and not same.accepted
    assert CheckIn.Flag.IMPOSSIBLE_SPEED not in same.flags


# ---------------------------------------------------------------- visits and reports

def _start(vw, *, recording=True, team=True):
    if team:
        _team(vw)
    _confirmed(vw)
    return services.report_start(case=vw.case1, acting_user=vw.user1, recording=recording, at=at(vw.day, 10, 10))


def test_visit_without_recording_or_team_is_blocked(vw):
    with translation.override("en"), pytest.raises(ApplicationError) as exc:
        _start(vw, recording=False, team=False)
    assert set(exc.value.extra["rule_ids"]) == {"CN-VISIT-TEAM", "CN-VISIT-RECORDING"}
    assert "recorded" in exc.value.message
    assert not VisitReport.objects.exists()


def test_visit_without_confirmed_appointment_is_blocked(vw):
    _team(vw)
    with pytest.raises(ApplicationError) as exc:
        services.report_start(case=vw.case1, acting_user=vw.user1, recording=True, at=at(vw.day, 10))
    assert exc.value.extra["rule_ids"] == ["CN-VISIT-APPOINTMENT"]


def test_report_is_refused_without_evidence_then_closes_with_a_promise(vw, tmp_path):
    report = _start(vw)
    with translation.override("zh-hans"), pytest.raises(ApplicationError) as exc:
        services.report_close(report=report, acting_user=vw.user1, outcome="refused", now=at(vw.day, 11))
    assert exc.value.code == "visit.evidence_missing" and "全程录音录像" in exc.value.message
    services.evidence_add(report=report, acting_user=vw.user1, stream=io.BytesIO(samples.JPEG), name="door.jpg")
    with pytest.raises(ApplicationError):  # a photo is not a recording
        services.report_close(report=report, acting_user=vw.user1, outcome="refused", now=at(vw.day, 11))
    audio = b"RIFF....WAVEfmt recording of the whole visit"
    ev = services.evidence_add(report=report, acting_user=vw.user1, stream=io.BytesIO(audio), name="visit.m4a")
    import hashlib

    assert ev.sha256 == hashlib.sha256(audio).hexdigest() and ev.size == len(audio) and ev.kind == "audio"
    stored = Path(tmp_path) / "evidence" / ev.sha256
    assert audio not in stored.read_bytes()  # encrypted at rest
    assert b"".join(evidence_chunks(sha256=ev.sha256)) == audio
    due = timezone.localdate() + timedelta(days=10)
    closed, token = services.report_close(report=report, acting_user=vw.user1, outcome="promise",
                                          promise_amount_fen=80_000, promise_due_on=due, notes="答应下周还",
                                          now=at(vw.day, 11))
    assert closed.status == VisitReport.Status.CLOSED
    promise = PromiseToPay.objects.get(case=vw.case1)
    assert promise.amount_fen == 80_000 and promise.due_on == due and closed.promise_id == promise.pk
    contact = ContactAttempt.objects.get(pk=closed.contact_id)
    assert contact.channel == "visit" and contact.outcome == "promise" and contact.conversation
    assert Task.objects.filter(case=vw.case1, kind=Task.Kind.CHECK_PROMISE).exists()
    feedback = FeedbackRequest.objects.get(report=closed)
    assert services.feedback_from_token(token).pk == feedback.pk
    assert OutboxMessage.objects.filter(kind="feedback", case=vw.case1).count() == 1
    services.feedback_respond(feedback=feedback, rating=4, comment="态度很好")
    feedback.refresh_from_db()
    assert feedback.rating == 4


def test_not_home_creates_a_follow_up_task(vw):
    report = _start(vw)
    services.evidence_add(report=report, acting_user=vw.user1, stream=io.BytesIO(samples.MP4))
    services.report_close(report=report, acting_user=vw.user1, outcome="not_home", now=at(vw.day, 11))
    task = Task.objects.get(case=vw.case1, kind=Task.Kind.VISIT)
    assert task.assignee_id == vw.user1.pk


def test_moved_and_new_number_become_alternate_contacts_of_the_debtor(vw):
    from fieldcollect.legal.models import AltContact

    report = _start(vw)
    services.evidence_add(report=report, acting_user=vw.user1, stream=io.BytesIO(samples.MP4))
    services.report_close(report=report, acting_user=vw.user1, outcome="moved", now=at(vw.day, 11),
                          new_address="上海市闵行区莘庄路88弄3号", new_phone="13955556666")
    got = {(c.kind, str(c.value), c.source, c.source_ref, c.verification)
           for c in AltContact.objects.filter(customer_id=vw.case1.customer_id)}
    ref = f"visit_report:{report.pk}"
    assert got == {("address", "上海市闵行区莘庄路88弄3号", "visit", ref, "unverified"),
                   ("phone", "13955556666", "visit", ref, "unverified")}


def test_a_new_address_is_not_taken_from_a_visit_where_the_debtor_did_not_move(vw):
    from fieldcollect.legal.models import AltContact

    report = _start(vw)
    services.evidence_add(report=report, acting_user=vw.user1, stream=io.BytesIO(samples.MP4))
    services.report_close(report=report, acting_user=vw.user1, outcome="not_home", now=at(vw.day, 11),
                          new_address="上海市闵行区莘庄路88弄3号")
    assert not AltContact.objects.exists()


def test_report_from_another_collector_cannot_be_closed(vw):
    report = _start(vw)
    with pytest.raises(ApplicationError) as exc:
        services.report_close(report=report, acting_user=vw.user2, outcome="paid")
    assert exc.value.status_code == 403


# ---------------------------------------------------------------- outbox

def test_file_adapter_writes_messages(vw, tmp_path):
    _propose(vw)
    counts = outbox_dispatch(adapter=FileAdapter(), now=f.in_hours())
    assert counts["sent"] == 1
    files = list((Path(tmp_path) / "outbox").glob("*.json"))
    mobile = vw.case1.customer.mobile
    # the demo sink inside the data home keeps no plaintext number; outside it, the gateway's payload
    assert len(files) == 1 and json.loads(files[0].read_text())["to"] == mask_mobile(mobile)
    assert mobile not in files[0].read_text()
    assert OutboxMessage.objects.get(kind="appointment_link").status == OutboxMessage.Status.SENT


def test_outbox_holds_a_text_the_compliance_rules_refuse_and_sends_it_when_allowed(vw, tmp_path):
    _propose(vw)
    message = OutboxMessage.objects.get(kind="appointment_link")
    night = f.in_hours(hour=23)  # after the debtor's contact hours (Shanghai)
    counts = outbox_dispatch(adapter=FileAdapter(directory=tmp_path / "sent"), now=night)
    assert counts == {"sent": 0, "failed": 0, "retry": 0, "held": 1, "cancelled": 0}
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.PENDING and message.not_before is not None
    assert message.not_before > night and message.last_error.startswith("held by the compliance rules")
    blocked = BlockedAttempt.objects.get(path="outbox:appointment_link")
    assert blocked.channel == "sms" and blocked.user is None
    # a second run before the allowed time sends nothing and stores the refusal only once
    assert outbox_dispatch(adapter=FileAdapter(directory=tmp_path / "sent"), now=night)["held"] == 0
    assert BlockedAttempt.objects.filter(path="outbox:appointment_link").count() == 1
    counts = outbox_dispatch(adapter=FileAdapter(directory=tmp_path / "sent"), now=message.not_before)
    assert counts["sent"] == 1
    assert json.loads(next((tmp_path / "sent").glob("*.json")).read_text())["to"] == vw.case1.customer.mobile


def test_sms_gateway_adapter_posts_json(vw):
    _propose(vw)
    response = mock.MagicMock(status=202)
    response.__enter__.return_value = response
    with mock.patch("urllib.request.urlopen", return_value=response) as urlopen:
        counts = outbox_dispatch(adapter=SmsGatewayAdapter(url="https://sms.example/send", token="t0k"),
                                 now=f.in_hours())
    assert counts["sent"] == 1
    request = urlopen.call_args.args[0]
    assert request.full_url == "https://sms.example/send" and request.get_method() == "POST"
    assert request.get_header("Authorization") == "Bearer t0k"
    body = json.loads(request.data)
    assert body["to"] == vw.case1.customer.mobile and "/visits/a/" in body["text"]


def test_gateway_failure_is_retried(vw):
    _propose(vw)
    with mock.patch("urllib.request.urlopen", side_effect=OSError("down")):
        counts = outbox_dispatch(adapter=SmsGatewayAdapter(url="https://sms.example/send"), now=f.in_hours())
    assert counts == {"sent": 0, "failed": 0, "retry": 1, "held": 0, "cancelled": 0}
    message = OutboxMessage.objects.get(kind="appointment_link")
    assert message.status == OutboxMessage.Status.PENDING and message.attempts == 1 and "down" in message.last_error
    assert isinstance(DeliveryError("x"), Exception)


def test_outbox_command_queues_reminders_and_sends(vw, tmp_path):
    from django.core.management import call_command

    confirmed = _confirmed(vw)
    out = io.StringIO()
    with mock.patch("django.utils.timezone.now", return_value=confirmed.chosen_start - timedelta(hours=2)):
        call_command("visits_outbox", stdout=out)
    assert "reminders queued: 1; sent: 2" in out.getvalue()  # the link and the reminder
    assert len(list((Path(tmp_path) / "outbox").glob("*.json"))) == 2


def test_outbox_does_not_hold_the_banks_answer_to_a_complaint(vw, tmp_path):
    from fieldcollect.outbox.services import outbox_enqueue

    outbox_enqueue(to="13900001111", body="您的投诉已受理", kind="complaint", case_id=vw.case1.pk)
    counts = outbox_dispatch(adapter=FileAdapter(directory=tmp_path / "sent"), now=f.in_hours(hour=23))
    assert counts["sent"] == 1 and counts["held"] == 0
