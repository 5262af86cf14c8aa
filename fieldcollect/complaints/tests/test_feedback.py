"""Feedback through the signed link: made nightly for conversations (once), answered once with a
rating and the four categories, refused when expired, tampered or re-issued; a threatened customer
is offered a complaint, which is filed once per link."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fieldcollect.audit.models import AuditEntry
from fieldcollect.complaints.models import Complaint, Severity, Source
from fieldcollect.complaints.services import complaints_after_nightly
from fieldcollect.core.errors import ConflictError
from fieldcollect.outbox.models import OutboxMessage
from fieldcollect.visits import links, services
from fieldcollect.visits.models import FeedbackRequest

from .conftest import at

pytestmark = pytest.mark.django_db


def _token_from_sms(case_id: int) -> str:
    body = OutboxMessage.objects.filter(kind="feedback", case_id=case_id).latest("id").body
    return body.rsplit("/f/", 1)[1].strip().rstrip("/")


def test_nightly_asks_once_per_conversation_and_attaches_collector_and_agency(w):
    conv = w.call(10)
    w.call(11, conversation=False, outcome="no_answer")
    assert services.feedback_requests_for_conversations(as_of=w.day, now=at(w.day, 23)) == 1
    fb = FeedbackRequest.objects.get()
    assert fb.contact_id == conv.pk and fb.channel == "phone" and fb.report_id is None
    assert fb.collector_id == w.collector.pk and fb.agency_id == w.agency.pk
    sms = OutboxMessage.objects.get(kind="feedback")
    assert sms.to == w.case.customer.mobile and "/visits/f/" in sms.body and "您" in sms.body  # zh-Hans first
    # the nightly step again: no second request for the same conversation or the same customer
    assert services.feedback_requests_for_conversations(as_of=w.day, now=at(w.day, 23, 30)) == 0
    counts = complaints_after_nightly(as_of=w.day)
    assert counts["feedback_requests"] == 0
    assert FeedbackRequest.objects.count() == 1


def test_link_answer_categories_then_repeated_link_is_refused(w, client):
    w.call(10)
    services.feedback_requests_for_conversations(as_of=w.day, now=at(w.day, 23))
    token = _token_from_sms(w.case.pk)
    page = client.get(f"/visits/f/{token}/")
    assert page.status_code == 200 and "您对本次沟通满意吗" in page.content.decode()  # zh-Hans by default
    r = client.post(f"/visits/f/{token}/", {"rating": "2", "polite": "yes", "clear": "no",
                                             "privacy_respected": "yes", "felt_threatened": "no",
                                             "comment": "说话太快"})
    assert r.status_code == 200 and 'id="thanks"' in r.content.decode()
    fb = FeedbackRequest.objects.get()
    assert (fb.rating, fb.polite, fb.clear, fb.privacy_respected, fb.felt_threatened) == (2, True, False, True, False)
    assert not fb.offers_complaint  # a 2 without threat is not offered a complaint (only a link)
    # the same link again: refused with 409, the first answer stays
    again = client.post(f"/visits/f/{token}/", {"rating": "5", "felt_threatened": "no"})
    assert again.status_code == 409
    fb.refresh_from_db()
    assert fb.rating == 2
    with pytest.raises(ConflictError):
        services.feedback_respond(feedback=fb, rating=5)
    assert AuditEntry.objects.filter(action="feedback.respond", object_id=str(fb.pk)).count() == 1


def test_expired_link_is_refused(w, client):
    w.call(10)
    services.feedback_requests_for_conversations(as_of=w.day, now=at(w.day, 23))
    token = _token_from_sms(w.case.pk)
    fb = FeedbackRequest.objects.get()
    with pytest.raises(links.LinkExpired):
        services.feedback_from_token(token, now=fb.expires_at + timedelta(seconds=1))
    # a link whose signed expiry has passed is refused by both customer pages (410)
    old = links.make_token(purpose="feedback", object_id=fb.pk, nonce=fb.nonce,
                           expires_at=at(w.day, 23) - timedelta(hours=1))
    fb.token_hash = links.token_hash(old)
    fb.save(update_fields=["token_hash"])
    r = client.get(f"/visits/f/{old}/")
    assert r.status_code == 410 and 'data-reason="expired"' in r.content.decode()
    r = client.get(f"/complaints/c/{old}/")
    assert r.status_code == 410


def test_tampered_or_foreign_or_reissued_link_is_refused(w, client):
    w.call(10)
    services.feedback_requests_for_conversations(as_of=w.day, now=at(w.day, 23))
    token = _token_from_sms(w.case.pk)
    fb = FeedbackRequest.objects.get()
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for bad in (tampered, token[: len(token) // 2]):
        r = client.get(f"/visits/f/{bad}/")
        assert r.status_code == 404 and 'data-reason="invalid"' in r.content.decode()
        assert client.post(f"/complaints/c/{bad}/", {"category": "threats", "description": "x"}).status_code == 404
    # an appointment-purpose token with the same id and nonce does not open the feedback page
    foreign = links.make_token(purpose="appointment", object_id=fb.pk, nonce=fb.nonce, expires_at=fb.expires_at)
    assert client.get(f"/visits/f/{foreign}/").status_code == 404
    # a signed token whose nonce is not the current one (a re-issued link) is refused
    stale = links.make_token(purpose="feedback", object_id=fb.pk, nonce="old-nonce", expires_at=fb.expires_at)
    with pytest.raises(links.LinkInvalid):
        services.feedback_from_token(stale)
    assert Complaint.objects.count() == 0 and FeedbackRequest.objects.get().responded_at is None


def test_threatened_customer_is_offered_a_complaint_filed_once(w, client):
    w.call(10)
    services.feedback_requests_for_conversations(as_of=w.day, now=at(w.day, 23))
    token = _token_from_sms(w.case.pk)
    r = client.post(f"/visits/f/{token}/", {"rating": "3", "felt_threatened": "yes"})
    body = r.content.decode()
    assert 'id="complaint-offer"' in body and f"/complaints/c/{token}/" in body
    r = client.post(f"/complaints/c/{token}/", {"category": "threats", "description": "催收员说要去我单位闹"})
    assert r.status_code == 302
    c = Complaint.objects.get()
    assert c.source == Source.CUSTOMER_LINK and c.feedback.pk == FeedbackRequest.objects.get().pk
    assert c.agency_id == w.agency.pk and c.collector_id == w.collector.pk and c.case_id == w.case.pk
    assert c.severity == Severity.HIGH and c.pause_flag_id is not None  # serious: contact paused
    page = client.get(f"/complaints/c/{token}/").content.decode()
    assert c.reference in page and 'id="paused"' in page
    # the same link again cannot file a second complaint
    again = client.post(f"/complaints/c/{token}/", {"category": "fees", "description": "again"})
    assert again.status_code == 409 and Complaint.objects.count() == 1


def test_resolution_sends_a_fresh_link_and_the_old_one_stops_working(w, client):
    from fieldcollect.complaints import services as complaint_services

    w.call(10)
    services.feedback_requests_for_conversations(as_of=w.day, now=at(w.day, 23))
    token = _token_from_sms(w.case.pk)
    client.post(f"/complaints/c/{token}/", {"category": "fees", "description": "让我交手续费"})
    c = Complaint.objects.get()
    assert c.severity == Severity.LOW and c.pause_flag_id is None  # not serious: no pause
    fb = FeedbackRequest.objects.get()
    resolved_at = fb.expires_at - timedelta(hours=1)
    complaint_services.complaint_resolve(complaint=c, acting_user=w.officer, finding="partly_upheld",
                                         root_cause="agency_process", resolution="已退还", now=resolved_at)
    sms = OutboxMessage.objects.filter(kind="complaint").latest("id").body
    new = sms.rsplit("/c/", 1)[1].strip().rstrip("/")
    fb.refresh_from_db()
    assert fb.expires_at >= resolved_at + timedelta(days=14)
    assert client.get(f"/complaints/c/{token}/").status_code == 404
    page = client.get(f"/complaints/c/{new}/")
    assert page.status_code == 200 and "已退还" in page.content.decode()
    assert client.post(f"/complaints/c/{new}/answer", {"answer": "rejected", "note": "没收到"}).status_code == 302
    c.refresh_from_db()
    assert c.status == "investigating" and c.customer_answer == "rejected" and c.customer_answer_note == "没收到"
