"""Complaints store the contact phone and the free text encrypted: the search still finds a complaint
by a word of its description (searched after decryption), the SMS goes to the contact phone, and the
audit entries record the length of the free text, never the text."""

from __future__ import annotations

import pytest
from django.db import connection

from fieldcollect.audit.models import AuditEntry
from fieldcollect.complaints import selectors, services
from fieldcollect.complaints.models import Category, Source
from fieldcollect.outbox.models import OutboxMessage

from .conftest import at

pytestmark = pytest.mark.django_db


def test_search_contact_phone_and_audit_with_encrypted_text(w):
    phone = "13911112222"
    c = services.complaint_create(source=Source.HOTLINE, customer=w.case.customer, case=w.case,
                                  category=Category.FEES, description="滞纳金计算错误，多收了三百元",
                                  contact_phone=phone, acting_user=w.officer, received_at=at(w.day, 9),
                                  now=at(w.day, 9))
    other = services.complaint_create(source=Source.HOTLINE, customer=w.case.customer, case=w.case,
                                      category=Category.FEES, description="催收员在晚上十点后打电话",
                                      acting_user=w.officer, received_at=at(w.day, 10), now=at(w.day, 10))
    with connection.cursor() as cursor:
        cursor.execute("SELECT description, contact_phone FROM complaints_complaint WHERE id = %s", [c.pk])
        description, stored_phone = cursor.fetchone()
    assert description.startswith("fc2$") and stored_phone.startswith("fc2$") and phone not in stored_phone
    # the search reads the description in clear (case-insensitive on the reference too)
    hits = selectors.complaint_list(user=w.officer, filters=selectors.Filters(q="滞纳金"), now=at(w.day, 11))
    assert [x.pk for x, _s in hits] == [c.pk]
    hits = selectors.complaint_list(user=w.officer, filters=selectors.Filters(q=other.reference.lower()),
                                    now=at(w.day, 11))
    assert [x.pk for x, _s in hits] == [other.pk]
    assert selectors.complaint_list(user=w.officer, filters=selectors.Filters(q="不存在的词"), now=at(w.day, 11)) == []
    # the acknowledgement SMS goes to the contact phone given, in clear for the sender
    assert OutboxMessage.objects.filter(kind="complaint", case_id=w.case.pk).first() is not None
    assert phone in {m.to for m in OutboxMessage.objects.filter(kind="complaint")}
    # free text in the audit: its length only (the agency's response and the resolution)
    services.complaint_agency_respond(complaint=c, response="已核实，退还多收的三百元", acting_user=w.manager,
                                      now=at(w.day, 12))
    services.complaint_resolve(complaint=c, acting_user=w.officer, finding="upheld", root_cause="system",
                               resolution="退还三百元并致歉", remedy="退还三百元", now=at(w.day, 13))
    entries = AuditEntry.objects.filter(object_type="complaint", object_id=str(c.pk))
    assert entries.exists()
    for e in entries:
        text = f"{e.old} {e.new}"
        assert "三百元" not in text and phone not in text
    response = entries.get(action="complaint.agency_response")
    assert response.new["agency_response_chars"] == len("已核实，退还多收的三百元")
    resolved = entries.get(action="complaint.resolve")
    assert resolved.new["resolution_chars"] == len("退还三百元并致歉") and resolved.new["remedy_chars"] == 5
