"""Payment links: signed, per case / instalment / promise, visible cases only; the demo provider's
success (a same-day payment with every effect, a receipt in Chinese and English) and failure."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta

import pytest

from fieldcollect.cases.models import Payment, PromiseToPay
from fieldcollect.core import pdf as core_pdf
from fieldcollect.core.errors import ApplicationError, ConflictError, NotFoundError
from fieldcollect.core.models import Role
from fieldcollect.payments import links
from fieldcollect.payments.models import PaymentLink
from fieldcollect.testing import factories as f
from fieldcollect.testing.clients import logged_in

pytestmark = pytest.mark.django_db


def test_link_is_signed_and_only_for_a_visible_case():
    manager = f.make_user(role=Role.COLLECTIONS_MANAGER)
    case = f.make_case(overdue_fen=88_800)
    link = links.payment_link_create(case=case, acting_user=manager, purpose="case")
    assert link.amount_fen == 88_800 and link.status == "open"
    fields = links.link_check(link.url)
    assert (
        fields["ref"] == link.reference
        and fields["amount_fen"] == "88800"
        and fields["loan"] == str(case.loan_id)
    )
    with pytest.raises(ValueError, match="signature"):
        links.link_check(link.url.replace("amount_fen=88800", "amount_fen=1"))
    assert links.link_qr(link).startswith(b"<svg")
    other = f.make_agency()
    with pytest.raises(NotFoundError):
        links.payment_link_create(
            case=case, acting_user=f.make_user(role=Role.AGENCY_MANAGER, agency=other), purpose="case"
        )
    with pytest.raises(ApplicationError):
        links.payment_link_create(case=case, acting_user=manager, purpose="promise")  # no promise given


def test_paid_link_keeps_the_promise_and_gives_a_bilingual_receipt():
    manager = f.make_user(role=Role.COLLECTIONS_MANAGER)
    case = f.make_case()
    promise = PromiseToPay.objects.create(
        case=case, amount_fen=45_600, due_on=f.today() + timedelta(days=3), promised_on=f.today()
    )
    link = links.payment_link_create(case=case, acting_user=manager, purpose="promise", promise=promise)
    provider = links.DemoProvider()
    paid = provider.simulate(link, succeed=True)
    assert paid.status == "paid" and paid.event is not None
    assert Payment.objects.get(reference=f"demo-pay:{link.reference}").amount_fen == 45_600
    promise.refresh_from_db()
    assert promise.status == PromiseToPay.Status.KEPT
    with pytest.raises(ConflictError):
        provider.simulate(paid, succeed=True)  # paid once
    try:
        core_pdf.find_cjk_font()
    except core_pdf.FontNotFound:
        pytest.skip("no CJK font")
    pdf = links.receipt_pdf(paid.event)
    assert pdf.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
        ).stdout.decode()
        assert "还款凭证" in text and "Payment receipt" in text and "¥456.00" in text
        assert link.reference in text and "催收人员不收取现金" in text


def test_failed_and_expired_links():
    manager = f.make_user(role=Role.COLLECTIONS_MANAGER)
    case = f.make_case()
    provider = links.DemoProvider()
    failed = provider.simulate(
        links.payment_link_create(case=case, acting_user=manager, purpose="case"), succeed=False
    )
    assert (failed.status, failed.failure) == ("failed", "card declined (simulated)")
    assert not Payment.objects.filter(case=case).exists()
    old = links.payment_link_create(
        case=case, acting_user=manager, purpose="case", now=f.in_hours(10) - timedelta(days=30)
    )
    with pytest.raises(ConflictError):
        provider.simulate(old, succeed=True)
    assert PaymentLink.objects.get(pk=old.pk).status == "expired"


def test_instalment_link_pays_the_instalment(plan_world):
    from fieldcollect.plans import services as plan_services
    from fieldcollect.plans.models import PlanInstalment
    from fieldcollect.plans.tests.test_services_plans import _to_offered

    w = plan_world
    p, offer = _to_offered(w, "term_extension")
    with pytest.raises(ApplicationError):  # not accepted yet
        links.payment_link_create(
            case=w.case,
            acting_user=w.approver,
            purpose="instalment",
            instalment=PlanInstalment.objects.filter(proposal=p).first(),
        )
    plan_services.plan_accept(token=offer.token)
    first = PlanInstalment.objects.filter(proposal=p).order_by("seq").first()
    link = links.payment_link_create(
        case=w.case, acting_user=w.approver, purpose="instalment", instalment=first
    )
    assert link.amount_fen == first.payment_fen
    links.DemoProvider().simulate(link, succeed=True)
    first.refresh_from_db()
    assert first.paid_on == f.today()
    with pytest.raises(ApplicationError):  # paid: no second link
        links.payment_link_create(case=w.case, acting_user=w.approver, purpose="instalment", instalment=first)


def test_case_links_page_creates_shows_the_qr_and_the_receipt():

    manager = f.make_user(role=Role.COLLECTIONS_MANAGER)
    case = f.make_case(overdue_fen=50_000)
    client = logged_in(manager)
    url = f"/payments/cases/{case.pk}/links/"
    assert client.post(url, {"purpose": "case"}).status_code == 302
    page = client.get(url)
    assert page.status_code == 200 and "<svg" in page.content.decode()
    link = PaymentLink.objects.get(case=case)
    assert client.get(f"/payments/cases/{case.pk}/receipt.pdf", {"link": link.pk}).status_code == 404  # not paid
    links.DemoProvider().simulate(link, succeed=True)
    try:
        core_pdf.find_cjk_font()
    except core_pdf.FontNotFound:
        pytest.skip("no CJK font")
    receipt = client.get(f"/payments/cases/{case.pk}/receipt.pdf", {"link": link.pk})
    assert receipt.status_code == 200 and receipt.content.startswith(b"%PDF")
    assert client.get(f"/payments/cases/{case.pk}/receipt.pdf", {"link": "x"}).status_code == 400
    outsider = logged_in(f.make_user(role=Role.AGENCY_MANAGER, agency=f.make_agency()))
    assert outsider.get(url).status_code == 404
    assert outsider.post(url, {"purpose": "case"}).status_code == 404
    assert outsider.get(f"/payments/cases/{case.pk}/receipt.pdf", {"link": link.pk}).status_code == 404
    auditor = logged_in(f.make_user(role=Role.AUDITOR))
    assert auditor.post(url, {"purpose": "case"}).status_code == 404  # read-only: sees, creates nothing
    assert PaymentLink.objects.filter(case=case).count() == 1
