"""Pages: the customer's appointment page through the signed link (zh-Hans first), the collector's day
plan and check-in, the visit report with evidence, the manager's teams page and map."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from fieldcollect.visits import services
from fieldcollect.visits.models import Appointment, CheckIn, Evidence, RoutePlan, Team, VisitReport
from fieldcollect.visits.tests.conftest import at, plan_day

pytestmark = pytest.mark.django_db


def _propose(vw, **kw):
    return services.appointment_propose(case=vw.case1, acting_user=vw.user1,
                                        windows=[(at(vw.day, 10), at(vw.day, 12)), (at(vw.day, 15), at(vw.day, 17))],
                                        **kw)


def test_customer_confirms_on_the_page_in_chinese_by_default(client, vw):
    appointment, token = _propose(vw)
    page = client.get(f"/visits/a/{token}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "您的上门预约" in html and "确认这个时间" in html
    assert vw.case1.customer.name not in html  # the name is masked
    done = client.post(f"/visits/a/{token}/confirm", {"window": "1"})
    assert done.status_code == 200 and "您的预约已确认" in done.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CONFIRMED and appointment.chosen_start == at(vw.day, 15)


def test_customer_page_in_english(client, vw):
    _appointment, token = _propose(vw)
    client.cookies["django_language"] = "en"
    html = client.get(f"/visits/a/{token}/").content.decode()
    assert "Your visit appointment" in html and "Confirm this time" in html


def test_tampered_and_expired_links_get_a_clear_refusal(client, vw):
    _appointment, token = _propose(vw)
    bad = client.get(f"/visits/a/{token[:-4]}abcd/")
    assert bad.status_code == 404 and 'data-reason="invalid"' in bad.content.decode()
    assert "链接无效" in bad.content.decode()
    assert client.post(f"/visits/a/{token[:-4]}abcd/confirm", {"window": "0"}).status_code == 404
    past_now = timezone.now() - timedelta(days=5)
    past_day = timezone.localdate() - timedelta(days=4)
    old, old_token = services.appointment_propose(case=vw.case2, acting_user=vw.user1, now=past_now,
                                                  windows=[(at(past_day, 10), at(past_day, 11))])
    expired = client.get(f"/visits/a/{old_token}/")
    assert expired.status_code == 410 and 'data-reason="expired"' in expired.content.decode()
    old.refresh_from_db()
    assert old.status == Appointment.Status.EXPIRED


def test_customer_suggestion_at_night_is_refused_with_the_rule(client, vw):
    appointment, token = _propose(vw)
    page = client.post(f"/visits/a/{token}/suggest", {"date": vw.day.isoformat(), "start": "22:30"})
    assert page.status_code == 422  # a refused contact, as everywhere
    assert "债务人当地时间" in page.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.PROPOSED


def test_customer_declines(client, vw):
    appointment, token = _propose(vw)
    page = client.post(f"/visits/a/{token}/decline", {"reason": "工作忙"})
    assert 'data-status="declined"' in page.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.DECLINED


def test_collector_proposes_from_the_case_page(client, vw):
    client.force_login(vw.user1)
    response = client.post(f"/visits/case/{vw.case1.pk}/propose",
                           {"date1": vw.day.isoformat(), "start1": "10:00", "end1": "11:00"})
    assert response.status_code == 302
    page = client.get(f"/visits/case/{vw.case1.pk}/").content.decode()
    assert 'id="customer-link"' not in page and "/visits/a/" not in page  # the link goes to the customer only
    refused = client.post(f"/visits/case/{vw.case1.pk}/propose",
                          {"date1": vw.day.isoformat(), "start1": "22:10", "end1": "23:00"}, follow=True)
    assert "合规规则不允许" in refused.content.decode()
    # another agency's collector cannot see the case at all
    other = client.get(f"/visits/case/{vw.case1.pk}/")
    assert other.status_code == 200
    client.force_login(vw.user2)
    assert client.get(f"/visits/case/{vw.case1.pk}/").status_code == 404


def test_collector_day_plan_shows_ordered_stops_and_a_map(client, vw):
    _team, plan = plan_day(vw)
    client.force_login(vw.user2)  # the team mate sees the same plan
    html = client.get(f"/visits/day/?date={vw.day.isoformat()}").content.decode()
    assert '<svg id="route-map"' in html and "<polyline" in html
    assert html.index(f'data-visit="case-{vw.case1.pk}"') < html.index(f'data-visit="case-{vw.case2.pk}"')
    assert "已确认的预约" in html
    client.force_login(vw.user1)
    mine = client.get(f"/visits/day/?date={vw.day.isoformat()}").content.decode().split('id="my-cases"')[1]
    assert f'href="/visits/case/{vw.case1.pk}/"' in mine and f'href="/visits/case/{vw.case2.pk}/"' in mine
    geo = client.get(f"/visits/plan/{plan.pk}.geojson")
    assert geo.json()["type"] == "FeatureCollection"


def test_checkin_page_records_and_flags(client, vw):
    client.force_login(vw.user1)
    assert 'id="geo-locate"' in client.get(f"/visits/case/{vw.case1.pk}/checkin").content.decode()
    far = client.post(f"/visits/case/{vw.case1.pk}/checkin", {"lat": "31.2600", "lon": "121.4900",
                                                             "accuracy": "12", "manual": "True"})
    html = far.content.decode()
    assert 'data-accepted="0"' in html and 'data-flag="outside_geofence"' in html and 'data-flag="manual"' in html
    c = CheckIn.objects.get()
    assert not c.accepted and c.distance_m > 2000


def test_manager_pairs_plans_and_sees_anomalies_on_the_map(client, vw):
    client.force_login(vw.manager)
    day = vw.day.isoformat()
    for c in (vw.c1, vw.c2):
        client.post("/visits/teams/", {"action": "shift", "date": day, "collector": c.pk, "start": "09:00",
                                       "end": "18:00", "base": "office"})
    client.post("/visits/teams/", {"action": "auto", "date": day})
    assert Team.objects.filter(date=vw.day).count() == 1
    services.checkin_record(case=vw.case1, acting_user=vw.user1, lat=31.30, lon=121.49, accuracy_m=5,
                            at=at(vw.day, 10))
    html = client.get(f"/visits/map/?date={day}").content.decode()
    assert '<svg id="route-map"' in html and 'data-flag="outside_geofence"' in html
    assert client.get("/visits/teams/").status_code == 200
    client.force_login(vw.user1)
    assert client.get("/visits/map/").status_code == 403


def test_report_needs_evidence_then_closes(client, vw, tmp_path):
    services.team_create(member_a=vw.c1, member_b=vw.c2, day=vw.day, acting_user=vw.manager)
    a, _t = _propose(vw)
    services.appointment_confirm(appointment=a, window=0)
    report = services.report_start(case=vw.case1, acting_user=vw.user1, recording=True, at=at(vw.day, 10, 5))
    client.force_login(vw.user1)
    page = client.get(f"/visits/report/{report.pk}/").content.decode()
    assert 'id="missing-evidence"' in page and "全程录音录像" in page
    refused = client.post(f"/visits/report/{report.pk}/close", {"outcome": "refused"}, follow=True)
    assert "缺少规定的证据" in refused.content.decode()
    upload = SimpleUploadedFile("visit.mp3", b"ID3 audio of the visit", content_type="audio/mpeg")
    partial = client.post(f"/visits/report/{report.pk}/evidence", {"file": upload}, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and "missing-evidence" not in partial.content.decode()
    assert Evidence.objects.get(report=report).kind == "audio"
    done = client.post(f"/visits/report/{report.pk}/close", {"outcome": "hardship", "customer_situation": "失业"})
    assert done.status_code == 302 and done["Location"] == f"/plans/case/{vw.case1.pk}/options"
    report.refresh_from_db()
    assert report.status == VisitReport.Status.CLOSED and report.outcome == "hardship"
    assert RoutePlan.objects.count() == 0


def test_recording_is_a_fact_of_the_report_not_a_tick_box(client, vw):
    services.team_create(member_a=vw.c1, member_b=vw.c2, day=vw.day, acting_user=vw.manager)
    a, _t = _propose(vw)
    services.appointment_confirm(appointment=a, window=0)
    with mock.patch("django.utils.timezone.now", return_value=at(vw.day, 10, 5)):
        client.force_login(vw.user1)
        form = client.get(f"/visits/case/{vw.case1.pk}/").content.decode()
        start_form = form[form.index('id="start-form"'):]
        start_form = start_form[:start_form.index("</form>")]
        assert 'name="recording"' not in start_form and 'name="met"' in start_form
        # the debtor met without saying how their identity was confirmed: refused, nothing started
        client.post(f"/visits/case/{vw.case1.pk}/report", {"met": "debtor"})
        assert not VisitReport.objects.exists()
        done = client.post(f"/visits/case/{vw.case1.pk}/report", {"met": "debtor", "identity_check": "ID card"})
        report = VisitReport.objects.get()
        assert done["Location"] == f"/visits/report/{report.pk}/"
        assert report.met == "debtor" and report.identity_check == "ID card" and not report.recording
        page = client.get(f"/visits/report/{report.pk}/").content.decode()
        assert 'id="recording-fact"' in page and "尚未附上录音" in page
        photo = SimpleUploadedFile("door.jpg", b"\xff\xd8\xff\xe0 a photo of the door", content_type="image/jpeg")
        client.post(f"/visits/report/{report.pk}/evidence", {"file": photo})
        report.refresh_from_db()
        assert not report.recording  # a photo is not a recording
        audio = SimpleUploadedFile("visit.mp3", b"ID3 audio of the visit", content_type="audio/mpeg")
        client.post(f"/visits/report/{report.pk}/evidence", {"file": audio})
        report.refresh_from_db()
        assert report.recording
        assert "已附录音" in client.get(f"/visits/report/{report.pk}/").content.decode()
