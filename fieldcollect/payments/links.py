"""Payment links: a signed link to the bank's repayment page per case, plan instalment or promise, its
QR code, and the receipt (PDF, Chinese and English) once paid. Collectors never take cash: the link
goes to the bank's designated channel only.

A provider (:class:`PaymentLinkProvider`) builds the link; :class:`DemoProvider` stands for the bank's
repayment page: its links are signed (``sig``, Django's signer with the link's own salt: reference,
loan and amount cannot be changed) and it simulates the customer paying (success: the payment comes
back as a same-day payment of the provider's channel, :func:`fieldcollect.payments.services.payments_post`,
with the link's reference, so every same-day effect follows; failure: the link records the reason).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol
from urllib.parse import parse_qs, urlencode, urlsplit

from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldcollect.audit.services import audit_log
from fieldcollect.cases.access import access_case_by_id
from fieldcollect.cases.models import Case, PromiseToPay
from fieldcollect.core.bank_time import bank_time_zone
from fieldcollect.core.errors import ApplicationError, ConflictError
from fieldcollect.core.models import User
from fieldcollect.core.pdf import cjk_document, find_cjk_font
from fieldcollect.core.qr import qr_svg
from fieldcollect.payments.channels import channel_add
from fieldcollect.payments.errors import PaymentErrorCode
from fieldcollect.payments.models import PaymentEvent, PaymentLink
from fieldcollect.payments.services import payments_post
from fieldcollect.plans.models import PlanInstalment, PlanStatus, ProposalState

SALT = "fieldcollect.payments.link"
VALID_DAYS = 7


class PaymentLinkProvider(Protocol):
    name: str
    channel: str  # the payment channel its payments come back through

    def link_url(self, *, reference: str, loan_id: int, amount_fen: int, expires_at: datetime) -> str: ...


def _signed_query(*, reference: str, loan_id: int, amount_fen: int, expires_at: datetime) -> dict[str, str]:
    fields = {
        "ref": reference,
        "loan": str(loan_id),
        "amount_fen": str(amount_fen),
        "exp": str(int(expires_at.timestamp())),
    }
    return fields | {"sig": signing.Signer(salt=SALT).signature("|".join(fields[k] for k in sorted(fields)))}


def link_check(url: str) -> dict[str, str]:
    """What the bank's repayment page checks: the link's fields and their signature (``ValueError``
    when changed or forged)."""
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    sig = query.pop("sig", "")
    expected = signing.Signer(salt=SALT).signature("|".join(query.get(k, "") for k in sorted(query)))
    if (
        not sig
        or set(query) != {"ref", "loan", "amount_fen", "exp"}
        or not secrets.compare_digest(sig, expected)
    ):
        raise ValueError("the link's signature does not match")
    return query


@dataclass
class DemoProvider:
    """The bank's repayment page, simulated."""

    base: str = "https://pay.demo.invalid/repay"
    name: str = "demo"
    channel: str = "demo-pay"

    def link_url(self, *, reference: str, loan_id: int, amount_fen: int, expires_at: datetime) -> str:
        query = _signed_query(
            reference=reference, loan_id=loan_id, amount_fen=amount_fen, expires_at=expires_at
        )
        return f"{self.base}?{urlencode(query)}"

    def simulate(self, link: PaymentLink, *, succeed: bool, now: datetime | None = None) -> PaymentLink:
        """The customer pays (``succeed``) or the payment fails (declined card)."""
        now = now or timezone.now()
        if link.status != PaymentLink.Status.OPEN:
            raise ConflictError(_("The payment link is no longer open."), code=PaymentErrorCode.PAYMENT_LINK_NOT_OPEN)
        fields = link_check(link.url)
        if int(fields["exp"]) < now.timestamp():
            PaymentLink.objects.filter(pk=link.pk).update(status=PaymentLink.Status.EXPIRED)
            raise ConflictError(_("The payment link has expired."), code=PaymentErrorCode.PAYMENT_LINK_EXPIRED)
        if not succeed:
            with transaction.atomic():
                PaymentLink.objects.filter(pk=link.pk).update(
                    status=PaymentLink.Status.FAILED, failure="card declined (simulated)"
                )
                audit_log(
                    actor=None,
                    actor_label=f"provider:{self.name}",
                    action="payment_link.failed",
                    object_type="case",
                    object_id=link.case_id,
                    new={"link": link.reference},
                )
            link.refresh_from_db()
            return link
        channel_add(name=self.channel)
        line = {
            "reference": link.reference,
            "loan_id": int(fields["loan"]),
            "amount_fen": int(fields["amount_fen"]),
            "paid_at": now.isoformat(),
            "channel": self.channel,
        }
        result = payments_post(
            lines=[(1, line)], channel=self.channel, actor_label=f"provider:{self.name}", now=now
        )
        if result.rejected:
            raise ApplicationError(result.rejected[0]["reason"], code=PaymentErrorCode.PAYMENT_LINK_REFUSED)
        event = PaymentEvent.objects.get(channel=self.channel, reference=link.reference)
        PaymentLink.objects.filter(pk=link.pk).update(status=PaymentLink.Status.PAID, event=event)
        link.refresh_from_db()
        return link


def default_provider() -> DemoProvider:
    return DemoProvider()


def payment_link_create(
    *,
    case: Case,
    acting_user: User,
    purpose: str,
    instalment: PlanInstalment | None = None,
    promise: PromiseToPay | None = None,
    provider: Any = None,
    now: datetime | None = None,
) -> PaymentLink:
    """A signed repayment link for the case's overdue amount, one instalment of its accepted plan, or
    one of its open promises; the user must see the case (404 otherwise)."""
    now = now or timezone.now()
    used = provider or default_provider()
    case = access_case_by_id(case.pk, acting_user, capability="case.promise")
    if purpose == PaymentLink.Purpose.CASE:
        amount = int(case.overdue_fen)
    elif purpose == PaymentLink.Purpose.INSTALMENT:
        if (
            instalment is None
            or instalment.case_id != case.pk
            or instalment.paid_on is not None
            or instalment.proposal.state != ProposalState.ACCEPTED
            or instalment.proposal.plan_status != PlanStatus.PERFORMING
        ):
            raise ApplicationError(
                _("Not an unpaid instalment of this case's plan."), code=PaymentErrorCode.PAYMENT_LINK_INVALID
            )
        amount = int(instalment.payment_fen)
    elif purpose == PaymentLink.Purpose.PROMISE:
        if promise is None or promise.case_id != case.pk or promise.status != PromiseToPay.Status.OPEN:
            raise ApplicationError(_("Not an open promise of this case."), code=PaymentErrorCode.PAYMENT_LINK_INVALID)
        amount = int(promise.amount_fen)
    else:
        raise ApplicationError(_("Unknown purpose."), code=PaymentErrorCode.PAYMENT_LINK_INVALID)
    if amount <= 0:
        raise ApplicationError(_("Nothing to pay."), code=PaymentErrorCode.PAYMENT_LINK_INVALID)
    reference = f"L{secrets.token_hex(8)}"
    expires = now + timedelta(days=VALID_DAYS)
    url = used.link_url(reference=reference, loan_id=case.loan_id, amount_fen=amount, expires_at=expires)
    with transaction.atomic():
        link = PaymentLink.objects.create(
            reference=reference,
            case=case,
            purpose=purpose,
            instalment=instalment,
            promise=promise,
            amount_fen=amount,
            provider=used.name,
            url=url,
            expires_at=expires,
            created_by=acting_user,
        )
        audit_log(
            actor=acting_user,
            action="payment_link.create",
            object_type="case",
            object_id=case.pk,
            new={"link": reference, "purpose": purpose, "amount_fen": amount, "provider": used.name},
        )
    return link


def link_qr(link: PaymentLink) -> bytes:
    """The link's QR code (SVG)."""
    return qr_svg(link.url)


def _yuan(fen: int) -> str:
    return f"¥{Decimal(fen) / 100:,.2f}"


def receipt_pdf(event: PaymentEvent) -> bytes:
    """The receipt of a payment, in Chinese and English, with the project's CJK font."""
    font = find_cjk_font()
    paid = timezone.localtime(event.paid_at, bank_time_zone())
    pdf = cjk_document(
        title=f"还款凭证 Payment receipt {event.channel}:{event.reference}",
        created=paid.replace(tzinfo=None),
        margins=18,
        page_break_margin=15,
        font=font,
        footer=lambda page: "本凭证由系统生成 · Generated by the system",
    )
    bold = "B" if font.bold_path is not None else ""
    pdf.add_page()
    pdf.set_font("cjk", bold, 16)
    pdf.cell(pdf.epw, 9, "还款凭证", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", bold, 12)
    pdf.cell(pdf.epw, 7, "Payment receipt", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("cjk", "", 10)
    rows = [
        ("凭证编号 Receipt no.", f"R{event.pk:010d}"),
        ("还款参考号 Reference", f"{event.channel}:{event.reference}"),
        ("贷款编号 Loan", str(event.loan_id)),
        ("金额 Amount", _yuan(event.amount_fen)),
        ("还款时间 Paid at", paid.strftime("%Y-%m-%d %H:%M:%S %z")),
        ("渠道 Channel", f"{event.channel}（银行指定渠道 the bank's designated channel）"),
    ]
    for label, value in rows:
        pdf.cell(60, 8, label, border="B")
        pdf.cell(pdf.epw - 60, 8, value, border="B", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.multi_cell(
        pdf.epw,
        6,
        "催收人员不收取现金；请仅通过银行指定渠道还款。\n"
        "Collectors never take cash; pay only through the bank's designated channels.",
    )
    return bytes(pdf.output())
