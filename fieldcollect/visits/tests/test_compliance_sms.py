"""Appointment windows and the SMS queued to the customer go through the compliance engine; refusals
are stored as blocked attempts (with the acting user, or the system/customer as none) and audited."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from fieldcollect.audit.models import AuditEntry
from fieldcollect.compliance.models import BlockedAttempt
from fieldcollect.compliance.services import NOTICE_KIND, flag_add
from fieldcollect.core.errors import ApplicationError
from fieldcollect.outbox.models import OutboxMessage
from fieldcollect.testing import factories as f
from fieldcollect.visits import services
from fieldcollect.visits.models import Appointment
from fieldcollect.visits.tests.conftest import at

pytestmark = pytest.mark.django_db


def _windows(vw, *hours):
    return [(at(vw.day, a), at(vw.day, b)) for a, b in hours]


def _token_in(sms: OutboxMessage) -> str:
    match = re.search(r"/visits/a/([^/]+)/", sms.body)
    assert match is not None, sms.body
    return match.group(1)


def test_a_refused_window_is_stored_with_the_collector_and_audited(vw):
    with pytest.raises(ApplicationError) as exc:
        services.appointment_propose(case=vw.case1, acting_user=vw.user1, windows=_windows(vw, (20, 23)),
                                     now=f.in_hours())
    assert exc.value.code == "compliance.blocked" and exc.value.status_code == 422
    assert "CN-HOURS" in exc.value.extra["rule_ids"]
    row = BlockedAttempt.objects.get()
    assert exc.value.extra["blocked_attempt_id"] == row.pk
    assert (row.path, row.channel, row.party) == ("appointment", "visit", "debtor")
    assert row.user_id == vw.user1.pk and row.agency_id == vw.agency.pk and row.case_id == vw.case1.pk
    assert row.at == at(vw.day, 23) - timedelta(minutes=1)  # the window's last minute is after 22:00
    assert row.explanation and row.explanation_zh and row.pack.startswith("CN")
    audit = AuditEntry.objects.get(action="compliance.blocked")
    assert audit.actor_id == vw.user1.pk and audit.object_id == str(vw.case1.pk)
    assert not Appointment.objects.exists() and not OutboxMessage.objects.exclude(kind=NOTICE_KIND).exists()


def test_a_refused_customer_choice_is_stored_without_a_user(vw):
    appointment, _token = services.appointment_propose(case=vw.case1, acting_user=vw.user1,
                                                       windows=_windows(vw, (10, 12)), now=f.in_hours())
    flag_add(customer=vw.case1.customer, flag="dispute", starts_at=f.in_hours(), reason="disputes the debt",
             acting_user=None)
    with pytest.raises(ApplicationError) as exc:
        services.appointment_confirm(appointment=appointment, window=0)
    assert exc.value.code == "compliance.blocked" and exc.value.status_code == 422
    row = BlockedAttempt.objects.get()
    assert row.path == "appointment_confirm" and row.user_id is None and row.agency_id is None
    assert "CN-PAUSE-DISPUTE" in row.rule_ids
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.PROPOSED  # nothing else changed
    with pytest.raises(ApplicationError):
        services.appointment_suggest(appointment=appointment, start=at(vw.day, 15))
    assert BlockedAttempt.objects.filter(path="appointment_suggest", user=None).count() == 1


def test_a_link_proposed_before_hours_is_held_and_sent_once_allowed(vw):
    early = f.in_hours(6)  # 06:00 in the debtor's zone: no SMS before 08:00
    appointment, held_token = services.appointment_propose(case=vw.case1, acting_user=vw.user1,
                                                           windows=_windows(vw, (10, 12)), now=early)
    assert appointment.status == Appointment.Status.PROPOSED
    assert not OutboxMessage.objects.exclude(kind=NOTICE_KIND).exists()
    row = BlockedAttempt.objects.get()
    assert (row.path, row.channel, row.user_id) == ("appointment_link", "sms", vw.user1.pk)
    assert "CN-HOURS" in row.rule_ids and row.next_allowed_at == f.in_hours(8)
    assert row.number == vw.case1.customer.mobile
    propose = AuditEntry.objects.get(action="appointment.propose")
    assert propose.new["link_sms"] == "held" and propose.new["blocked_attempt"] == row.pk

    # still too early: nothing sent, the same refusal not stored again
    assert services.appointment_links_send_held(now=early + timedelta(minutes=30)) == 0
    assert BlockedAttempt.objects.count() == 1
    # at 08:05 the link goes with a fresh token; the held one no longer opens the appointment
    assert services.appointment_links_send_held(now=f.in_hours(8) + timedelta(minutes=5)) == 1
    sms = OutboxMessage.objects.get(kind="appointment_link")
    assert sms.to == vw.case1.customer.mobile
    assert services.appointment_from_token(_token_in(sms)).pk == appointment.pk
    with pytest.raises(Exception, match="replaced"):
        services.appointment_from_token(held_token)
    assert AuditEntry.objects.filter(action="appointment.link_sent", object_id=str(appointment.pk)).exists()
    assert services.appointment_links_send_held(now=f.in_hours(9)) == 0  # once


def test_a_link_that_could_never_go_in_time_refuses_the_proposal(vw):
    # paused until the first window starts: the visit windows are allowed, the link SMS never in time
    flag_add(customer=vw.case1.customer, flag="complaint", starts_at=f.in_hours(7), ends_at=at(vw.day, 10),
             reason="complaint under review", acting_user=None)
    with pytest.raises(ApplicationError) as exc:
        services.appointment_propose(case=vw.case1, acting_user=vw.user1, windows=_windows(vw, (10, 12)),
                                     now=f.in_hours())
    assert exc.value.code == "appointment.sms_blocked" and "CN-PAUSE-COMPLAINT" in exc.value.extra["rule_ids"]
    row = BlockedAttempt.objects.get()
    assert (row.path, row.channel, row.user_id) == ("appointment_link", "sms", vw.user1.pk)
    assert not Appointment.objects.exists() and not OutboxMessage.objects.exclude(kind=NOTICE_KIND).exists()


def test_visit_reminders_wait_for_contact_hours_and_stop_under_a_pause(vw):
    appointment, _token = services.appointment_propose(case=vw.case1, acting_user=vw.user1,
                                                       windows=_windows(vw, (10, 12)), now=f.in_hours())
    services.appointment_confirm(appointment=appointment, window=0)
    night = at(vw.day, 6)  # 4 h before the visit, 06:00 local
    assert services.reminders_enqueue(now=night) == 0
    assert services.reminders_enqueue(now=night + timedelta(minutes=15)) == 0
    row = BlockedAttempt.objects.get(path="visit_reminder")  # stored once for the same refusal
    assert row.channel == "sms" and row.user_id is None and "CN-HOURS" in row.rule_ids
    assert not OutboxMessage.objects.filter(kind="reminder").exists()
    assert services.reminders_enqueue(now=at(vw.day, 8, 15)) == 1
    assert OutboxMessage.objects.filter(kind="reminder", case=vw.case1).count() == 1

    # a second debtor asks to stop before the reminder: no reminder at all
    other, _t = services.appointment_propose(case=vw.case2, acting_user=vw.user1, windows=_windows(vw, (14, 16)),
                                             now=f.in_hours())
    services.appointment_confirm(appointment=other, window=0)
    flag_add(customer=vw.case2.customer, flag="cease", starts_at=timezone.now(), reason="asked to stop",
             acting_user=vw.user1)
    assert services.reminders_enqueue(now=at(vw.day, 9)) == 0
    stop = BlockedAttempt.objects.get(path="visit_reminder", case=vw.case2)
    assert "CN-PAUSE-CEASE" in stop.rule_ids and stop.next_allowed_at is None
    assert not OutboxMessage.objects.filter(kind="reminder", case=vw.case2).exists()
