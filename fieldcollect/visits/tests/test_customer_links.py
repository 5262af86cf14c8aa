"""Customer links go to the customer only (issue 17, item 2): the proposer of an appointment and the
approver of a plan get no usable token from any page, redirect, message, session, API answer, audit
row or log line; a guessed, tampered or superseded token opens nothing."""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from fieldcollect.accounts.tokens import token_create
from fieldcollect.audit.models import AuditEntry
from fieldcollect.core.models import Role
from fieldcollect.outbox.models import OutboxMessage
from fieldcollect.plans import links as plan_links
from fieldcollect.plans import services as plan_services
from fieldcollect.plans.models import PlanAgreement, ProposalState
from fieldcollect.plans.tests.conftest import plan_world, record_hardship  # noqa: F401 (fixture)
from fieldcollect.testing import factories as f
from fieldcollect.testing.clients import logged_in
from fieldcollect.visits import services as visit_services
from fieldcollect.visits.models import Appointment
from fieldcollect.visits.tests.conftest import at

pytestmark = pytest.mark.django_db

_APPOINTMENT = re.compile(r"/visits/a/([^/\s]+)/")
_PLAN = re.compile(r"/plans/a/([^/\s]+)/")


def _token_of(kind: str, pattern: re.Pattern[str]) -> str:
    message = OutboxMessage.objects.filter(kind=kind).order_by("-pk").first()
    assert message is not None, f"no {kind} message in the outbox"
    match = pattern.search(message.body)
    assert match, message.body
    return match.group(1)


def _seen(responses, client: Client) -> str:
    """Everything the staff member got: bodies, headers (Location...), and what their session holds."""
    parts = []
    for r in responses:
        parts.append(r.content.decode(errors="replace"))
        parts.extend(f"{k}: {v}" for k, v in r.items())
        for hop in getattr(r, "redirect_chain", []):
            parts.append(str(hop[0]))
    parts.append(json.dumps(dict(client.session.items()), default=str))
    return "\n".join(parts)


def _audit_text() -> str:
    return "\n".join(json.dumps([e.action, e.old, e.new, e.actor_label], default=str, ensure_ascii=False)
                     for e in AuditEntry.objects.all())


def test_the_proposer_cannot_obtain_or_use_the_appointment_token(vw, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    ten = f.in_hours()
    monkeypatch.setattr("django.utils.timezone.now", lambda: ten)  # inside contact hours: the SMS may go now
    c = logged_in(vw.user1)
    form = {"date1": vw.day.isoformat(), "start1": "10:00", "end1": "11:00"}
    responses = [c.post(f"/visits/case/{vw.case1.pk}/propose", form)]
    responses.append(c.post(f"/visits/case/{vw.case1.pk}/propose", form, follow=True))  # again, followed
    for url in (f"/visits/case/{vw.case1.pk}/", f"/cases/{vw.case1.pk}/", "/cases/",
                f"/visits/day/?date={vw.day.isoformat()}"):
        responses.append(c.get(url))
    _row, secret = token_create(user=vw.user1)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    responses += [api.get(f"/api/v1/cases/{vw.case1.pk}"), api.get("/api/v1/cases")]
    token = _token_of("appointment_link", _APPOINTMENT)
    old = OutboxMessage.objects.filter(kind="appointment_link").order_by("pk").first()
    old_token = _APPOINTMENT.search(old.body).group(1)
    assert old_token != token

    seen = _seen(responses, c)
    assert "/visits/a/" not in seen and 'id="customer-link"' not in seen
    assert token not in seen and old_token not in seen
    assert "短信" in responses[1].content.decode()  # told that the customer gets the link by SMS
    assert token not in _audit_text() and token not in caplog.text

    # the superseded link of the first proposal, a tampered one and a guess open nothing
    customer = Client()
    for bad in (token[:-4] + ("abcd" if not token.endswith("abcd") else "wxyz"), "x" * 40,
                "eyJpIjoxLCJuIjoieCIsImUiOjB9:1abcde:" + "A" * 43):
        assert customer.get(f"/visits/a/{bad}/").status_code == 404
        assert customer.post(f"/visits/a/{bad}/confirm", {"window": "0"}).status_code == 404
    assert 'data-status="cancelled"' in customer.get(f"/visits/a/{old_token}/").content.decode()
    assert customer.post(f"/visits/a/{old_token}/confirm", {"window": "0"}).status_code >= 400
    assert not Appointment.objects.filter(case=vw.case1, status=Appointment.Status.CONFIRMED).exists()
    # the customer's own link still works (hard negative)
    assert customer.get(f"/visits/a/{token}/").status_code == 200


def test_the_approver_cannot_obtain_the_plan_acceptance_token(plan_world, caplog):  # noqa: F811
    caplog.set_level(logging.DEBUG)
    w = plan_world
    record_hardship(w)
    p = plan_services.plan_propose(case=w.case, acting_user=w.collector_user, kind="term_extension")
    p = plan_services.plan_endorse(proposal=p, acting_user=w.manager_a)
    p = plan_services.plan_decide(proposal=p, acting_user=w.approver, decision="approve")
    bank = logged_in(w.approver)
    responses = [bank.post(reverse("plans:offer", args=[p.pk]), follow=True)]
    p.refresh_from_db()
    assert p.state == ProposalState.OFFERED
    responses += [bank.get(reverse("plans:detail", args=[p.pk])), bank.get(reverse("plans:queue"))]
    other = logged_in(w.approver2)
    responses.append(other.get(reverse("plans:detail", args=[p.pk])))

    token = _token_of("plan_offer", _PLAN)
    seen = _seen(responses, bank)
    assert "/plans/a/" not in seen and 'id="customer-link"' not in seen and token not in seen
    assert 'id="link-sent"' in responses[1].content.decode()
    assert token not in _audit_text() and token not in caplog.text
    message = OutboxMessage.objects.get(kind="plan_offer")
    assert message.case_id == w.case.pk and message.to == w.case.customer.mobile
    # a tampered token is refused, and so is a genuine token other than the one sent (as the plan page
    # used to mint for the approver); the customer's own link works (hard negative)
    customer = Client()
    assert customer.get(reverse("plans:customer", args=[token[:-3] + "AAA"])).status_code in (400, 410)
    agreement = PlanAgreement.objects.get(proposal=p)
    minted = plan_links.make_link_token(agreement_id=agreement.pk, nonce=agreement.link_nonce,
                                        expires_at=agreement.expires_at + timedelta(seconds=1))
    assert minted != token
    assert customer.get(reverse("plans:customer", args=[minted])).status_code == 400
    assert customer.post(reverse("plans:customer_accept", args=[minted]), {"confirm": "on"}).status_code == 400
    p.refresh_from_db()
    assert p.state == ProposalState.OFFERED
    assert customer.get(reverse("plans:customer", args=[token])).status_code == 200


def test_the_outbox_page_shows_that_a_link_went_but_not_the_link(vw, django_user_model):
    _appointment, token = visit_services.appointment_propose(
        case=vw.case1, acting_user=vw.user1, windows=[(at(vw.day, 10), at(vw.day, 11))], now=f.in_hours())
    admin = django_user_model.objects.create_superuser(username="root-links", password="pw-test-123",
                                                       role=Role.COLLECTIONS_MANAGER)
    c = logged_in(admin)
    message = OutboxMessage.objects.get(kind="appointment_link")
    listing = c.get(reverse("admin:outbox_outboxmessage_changelist")).content.decode()
    change = c.get(reverse("admin:outbox_outboxmessage_change", args=[message.pk])).content.decode()
    assert "appointment_link" in listing  # that a message went is visible
    assert token not in listing and token not in change
    assert "/visits/a/" not in change  # the text is personal data: the admin shows it masked whole

