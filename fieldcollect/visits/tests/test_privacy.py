"""Customer data on the visit pages: the day plan shows a stop's street address only to the collectors
of a confirmed appointment (both members of the two-person team), from a day before to a day after it
(the rule of ``cases.selectors.customer_view``); otherwise the address to district level."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from fieldcollect.audit.models import AuditEntry
from fieldcollect.cases.selectors import customer_view
from fieldcollect.privacy.masking import mask_address, mask_name
from fieldcollect.testing import factories as f
from fieldcollect.visits import services
from fieldcollect.visits.models import Appointment
from fieldcollect.visits.tests.conftest import at, move_plan_to_today, plan_day

pytestmark = pytest.mark.django_db


def _masked(case):
    c = case.customer
    return mask_address(c.address, province=c.province, city=c.city, district=c.district)


def _stops_html(client, user, day):
    client.force_login(user)
    html = client.get(f"/visits/day/?date={day.isoformat()}").content.decode()
    return html.split('id="stops"')[1].split("</ol>")[0]


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_day_plan_masks_addresses_before_the_window(client, vw, lang):
    plan_day(vw)  # appointments two days ahead: the window opens tomorrow
    client.cookies["django_language"] = lang
    for user in (vw.user1, vw.user2):
        stops = _stops_html(client, user, vw.day)
        for case in (vw.case1, vw.case2):
            assert case.customer.address not in stops
            assert _masked(case) in stops and "****" in stops
        assert 'data-clear="1"' not in stops
        assert ("已确认的预约" if lang == "zh-hans" else "Confirmed appointment") in stops
    assert not AuditEntry.objects.filter(action="pii.unmask").exists()


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_both_team_members_see_the_address_in_the_window(client, vw, lang):
    team, plan = plan_day(vw)
    # move the planned day to today, the appointments to the next hours: now is inside the window
    today = move_plan_to_today(team, plan)
    client.cookies["django_language"] = lang
    for user in (vw.user1, vw.user2):  # the collector named on the appointments and the team mate
        stops = _stops_html(client, user, today)
        for case in (vw.case1, vw.case2):
            assert case.customer.address in stops
        assert 'data-clear="0"' not in stops
        reads = AuditEntry.objects.filter(action="pii.unmask", actor=user)
        assert reads.count() == 2 and all(e.new["purpose"] == "visit" and e.new["channel"] == "day_plan"
                                          for e in reads)
    # a third collector of the agency, in no team with them, does not
    user3, _c3 = f.make_collector_user(agency=vw.agency)
    view = customer_view(user=user3, case=vw.case1)
    assert view.visit is None and view.fields["address"] == _masked(vw.case1)
    assert view.fields["name"] == mask_name(vw.case1.customer.name)


@pytest.mark.parametrize("hour_minute", [(0, 5), (9, 0), (22, 10), (23, 55)])
def test_both_team_members_see_the_address_at_any_hour_of_the_day(client, vw, monkeypatch, hour_minute):
    """The day-plan scenario at set hours in the bank's zone (late at night the appointments must stay on
    the team's day: the team mate's window needs the team on the appointment day)."""
    real_now = timezone.now
    target = timezone.localtime().replace(hour=hour_minute[0], minute=hour_minute[1], second=0, microsecond=0)
    shift = target - real_now()
    monkeypatch.setattr(timezone, "now", lambda: real_now() + shift)
    vw.day = timezone.localdate() + timedelta(days=2)
    team, plan = plan_day(vw)
    today = move_plan_to_today(team, plan)
    assert today == target.date()
    for user in (vw.user1, vw.user2):
        stops = _stops_html(client, user, today)
        assert vw.case1.customer.address in stops and vw.case2.customer.address in stops


def test_team_mate_window_needs_the_team_on_the_appointment_day(vw):
    start = timezone.now() + timedelta(days=5)
    Appointment.objects.create(case=vw.case1, collector=vw.c1, status=Appointment.Status.CONFIRMED,
                               chosen_start=start, chosen_end=start + timedelta(hours=1),
                               expires_at=start)
    inside = start - timedelta(hours=3)
    named = customer_view(user=vw.user1, case=vw.case1, now=inside)
    assert named.visit is not None and vw.case1.customer.mobile in named.fields.values()
    # not in a team with the named collector on that day: masked
    assert customer_view(user=vw.user2, case=vw.case1, now=inside).visit is None
    other_day = timezone.localdate(start) + timedelta(days=1)
    services.team_create(member_a=vw.c1, member_b=vw.c2, day=other_day, acting_user=vw.manager)
    assert customer_view(user=vw.user2, case=vw.case1, now=inside).visit is None
    # in a team on the appointment's day: the same window as the named collector, ID number still masked
    services.team_create(member_a=vw.c2, member_b=vw.c1, day=timezone.localdate(start), acting_user=vw.manager)
    mate = customer_view(user=vw.user2, case=vw.case1, now=inside)
    assert mate.visit == named.visit and mate.clear == named.clear == frozenset({"name", "mobile", "address"})
    assert vw.case1.customer.id_number not in mate.fields.values()
    # outside the window (two days after the appointment) masked again
    assert customer_view(user=vw.user2, case=vw.case1, now=start + timedelta(days=2)).visit is None


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_customer_link_page_greets_with_the_masked_name(client, vw, lang):
    _a, token = services.appointment_propose(case=vw.case1, acting_user=vw.user1,
                                             windows=[(at(vw.day, 10), at(vw.day, 12))])
    client.cookies["django_language"] = lang
    html = client.get(f"/visits/a/{token}/").content.decode()
    name = vw.case1.customer.name
    assert len(name) >= 3 and mask_name(name) in html and name not in html
    assert ("尊敬的" if lang == "zh-hans" else "Dear") in html
    for value in (vw.case1.customer.mobile, vw.case1.customer.address, vw.case1.customer.id_number):
        assert value not in html


def test_day_plan_leaves_out_what_the_contract_withholds(client, vw):
    from fieldcollect.agencies.models import AgencyContract

    team, plan = plan_day(vw)
    today = move_plan_to_today(team, plan)
    # the contract permits the district but not the address: even inside the window, the district only
    AgencyContract.objects.filter(agency=vw.agency).update(permitted_fields=["name", "mobile", "city", "district"])
    stops = _stops_html(client, vw.user1, today)
    for case in (vw.case1, vw.case2):
        assert case.customer.address not in stops and _masked(case) not in stops
        assert case.customer.district in stops
    # neither address nor district: nothing
    AgencyContract.objects.filter(agency=vw.agency).update(permitted_fields=["name"])
    stops = _stops_html(client, vw.user1, today)
    assert vw.case1.customer.district not in stops and "****" not in stops
    mine = client.get(f"/visits/day/?date={today.isoformat()}").content.decode().split('id="my-cases"')[1]
    assert vw.case1.customer.district not in mine and vw.case1.bucket not in mine
