"""The customer's plan offer (signed link) greets the customer with the masked name (张*三) and shows
no other personal data; the customer's decline reason and the hardship detail are stored encrypted."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from fieldcollect.plans import services
from fieldcollect.plans.models import Hardship, PlanAgreement, ProposalEvent
from fieldcollect.plans.tests.conftest import record_hardship
from fieldcollect.privacy.masking import mask_name

pytestmark = pytest.mark.django_db


def _offered(w):
    record_hardship(w)
    p = services.plan_propose(case=w.case, acting_user=w.collector_user, kind="term_extension")
    p = services.plan_endorse(proposal=p, acting_user=w.manager_a)
    p = services.plan_decide(proposal=p, acting_user=w.approver, decision="approve")
    return p, services.plan_offer(proposal=p, acting_user=w.approver)


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_offer_page_shows_the_masked_name_only(plan_world, lang):
    w = plan_world
    _p, offer = _offered(w)
    c = Client()
    c.cookies["django_language"] = lang
    html = c.get(reverse("plans:customer", args=[offer.token])).content.decode()
    customer = w.case.customer
    assert len(customer.name) >= 3 and mask_name(customer.name) in html
    for value in (customer.name, customer.mobile, customer.id_number, customer.address):
        assert value not in html


def test_decline_reason_and_hardship_detail_are_encrypted(plan_world):
    w = plan_world
    detail = "妻子住院化疗，家中两个孩子上学"
    services.hardship_record(case=w.case, acting_user=w.collector_user, reason="illness", detail=detail,
                             monthly_income_fen=300_000, monthly_expenses_fen=250_000)
    p, offer = _offered(w)
    reason = "下个月我要做手术，暂时无法还款"
    Client().post(reverse("plans:customer_decline", args=[offer.token]), {"reason": reason})
    agreement = PlanAgreement.objects.get(proposal=p)
    assert agreement.decline_reason == reason  # read back in clear
    assert any(e.note == reason for e in ProposalEvent.objects.filter(proposal=p))
    assert any(h.detail == detail for h in Hardship.objects.filter(case=w.case))
    with connection.cursor() as cursor:
        cursor.execute("SELECT decline_reason FROM plans_planagreement WHERE id = %s", [agreement.pk])
        (stored,) = cursor.fetchone()
        cursor.execute("SELECT note FROM plans_proposalevent WHERE proposal_id = %s", [p.pk])
        notes = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT detail FROM plans_hardship WHERE case_id = %s", [w.case.pk])
        details = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT new FROM core_auditentry WHERE action = 'plan.decline'")
        audit = [str(row[0]) for row in cursor.fetchall()]
    assert stored.startswith("fc2$") and reason not in stored
    assert not any(reason in (n or "") for n in notes) and any((n or "").startswith("fc2$") for n in notes)
    assert not any(detail in (d or "") for d in details) and any((d or "").startswith("fc2$") for d in details)
    assert audit and not any(reason in a for a in audit)


def test_stored_agreement_pdf_holds_no_plaintext_name(plan_world):
    w = plan_world
    p, _offer = _offered(w)
    pdf = bytes(PlanAgreement.objects.get(proposal=p).pdf)
    name = w.case.customer.name
    assert pdf.startswith(b"%PDF")
    for encoding in ("utf-8", "utf-16-be", "gb18030"):
        assert name.encode(encoding) not in pdf, encoding
