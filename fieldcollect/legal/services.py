"""Writes of the legal app: legal referrals (recall from the agency with its deletion attestation,
hearings, costs, outcome, enforcement), letters (a contact on channel ``letter`` checked by the
compliance engine, delivery tracked) and skip tracing (alternate contacts with source, consent and
verification; the audited clear read; the vendor-file import).

Keyword-only functions; each runs in one transaction and writes its audit row in it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldcollect.audit.services import audit_log, locked_change, snapshot
from fieldcollect.cases import services as case_services
from fieldcollect.cases.access import has_capability, require_capability
from fieldcollect.cases.models import Case, Outcome, Party, Payment, Placement
from fieldcollect.compliance import services as compliance
from fieldcollect.compliance.engine import normalise_phone
from fieldcollect.compliance.selectors import pack_for, third_party_may_discuss_debt
from fieldcollect.core.denials import require_role
from fieldcollect.core.errors import (
    ApplicationError,
    CommonErrorCode,
    ConflictError,
    PermissionDeniedError,
)
from fieldcollect.core.models import Role, User
from fieldcollect.legal.errors import LegalErrorCode as E
from fieldcollect.legal.letters import Itemization, LetterData, render_letter_pdf
from fieldcollect.legal.models import (
    REFERRAL_ACTIVE,
    AltContact,
    Consent,
    ContactKind,
    ContactSource,
    CostKind,
    EnforcementStatus,
    Hearing,
    LegalCost,
    LegalReferral,
    Letter,
    LetterKind,
    LetterStatus,
    ReferralKind,
    ReferralOutcome,
    ReferralStatus,
    Verification,
)
from fieldcollect.privacy.fields import blind_index
from fieldcollect.privacy.unmask import unmask_request

REFERRAL_FIELDS = [
    "case",
    "kind",
    "status",
    "law_firm",
    "forum",
    "forum_case_number",
    "claim_fen",
    "referred_on",
    "filed_on",
    "outcome",
    "outcome_on",
    "judgement_fen",
    "enforcement",
    "enforcement_case_number",
    "closed_on",
    "placement",
]
RECALL_REASON = "legal referral"
VALIDATION_DAYS = 35  # 30 days from receipt, received (assumed) 5 days after mailing: 12 CFR 1006.34(b)(5)


# ---------------------------------------------------------------- who may do what


def can_view_legal(user: User | None) -> bool:
    """Bank staff read referrals, letters and the legal dashboard."""
    return user is not None and user.is_authenticated and (user.is_superuser or user.is_bank_user)


def can_manage_legal(user: User | None) -> bool:
    """The collections manager refers cases, records their costs and sends lawyer's letters."""
    return (
        user is not None
        and user.is_authenticated
        and (user.is_superuser or user.role == Role.COLLECTIONS_MANAGER)
    )


def require_view_legal(user: User) -> None:
    """Refuse (403) a user who may not see legal matters (:func:`can_view_legal`)."""
    if not can_view_legal(user):
        raise PermissionDeniedError(
            _("Only bank staff may see legal matters."), code=CommonErrorCode.PERMISSION_DENIED
        )


def _require_manage(user: User | None) -> None:
    require_role(can_manage_legal(user), {"capability": "legal.manage"})


def _fen(value: Any, field_name: str, *, positive: bool = True) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApplicationError(_("Amounts are whole fen."), code=E.AMOUNT, extra={"field": field_name})
    if value < 0 or (positive and value == 0):
        raise ApplicationError(_("The amount must be positive."), code=E.AMOUNT, extra={"field": field_name})
    return value


# ---------------------------------------------------------------- referrals


def referral_create(
    *,
    case: Case,
    kind: str,
    forum: str,
    claim_fen: int,
    acting_user: User | None,
    law_firm: str = "",
    forum_case_number: str = "",
    referred_on: date | None = None,
    filed_on: date | None = None,
) -> LegalReferral:
    """Refer ``case`` to litigation, arbitration or mediation (诉讼/仲裁/调解) before ``forum`` (a court,
    an arbitration commission, a mediation institution).

    A case held by an agency is recalled at once (:func:`fieldcollect.cases.services.case_recall`: the
    agency loses access, its field work ends and it owes a deletion attestation); while the referral is
    active the placement screen keeps the debtor from every agency. One active referral per case.
    """
    if acting_user is not None:
        _require_manage(acting_user)
    if kind not in ReferralKind.values:
        raise ApplicationError(
            _("Choose litigation, arbitration or mediation."),
            code=E.REFERRAL_INVALID,
            extra={"field": "kind"},
        )
    forum = (forum or "").strip()
    if not forum:
        raise ApplicationError(
            _("Name the court or institution."), code=E.REFERRAL_INVALID, extra={"field": "forum"}
        )
    claim_fen = _fen(claim_fen, "claim_fen")
    day = referred_on or timezone.localdate()
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if locked.closed_on is not None:
            raise ApplicationError(_("The case is closed."), code=E.REFERRAL_INVALID, extra={"field": "case"})
        if LegalReferral.objects.filter(case=locked, status__in=REFERRAL_ACTIVE).exists():
            raise ConflictError(_("The case already has an active legal referral."), code=E.REFERRAL_OPEN)
        placement: Placement | None = None
        if Placement.objects.filter(case=locked, status=Placement.Status.ACTIVE).exists():
            placement = case_services.case_recall(
                case=locked, reason=RECALL_REASON, acting_user=acting_user, on=day
            )
        referral = LegalReferral.objects.create(
            case=locked,
            customer_id=locked.customer_id,
            kind=kind,
            forum=forum[:200],
            law_firm=law_firm.strip()[:200],
            forum_case_number=forum_case_number.strip()[:100],
            claim_fen=claim_fen,
            referred_on=day,
            filed_on=filed_on,
            placement=placement,
            created_by=acting_user,
        )
        audit_log(
            actor=acting_user,
            action="legal.refer",
            object_type="legal_referral",
            object_id=referral.pk,
            new={
                **snapshot(referral, REFERRAL_FIELDS),
                "recalled_placement": placement.pk if placement else None,
            },
        )
    case.refresh_from_db()
    return referral


def _locked_referral(referral: LegalReferral) -> LegalReferral:
    locked = LegalReferral.objects.select_for_update().get(pk=referral.pk)
    if locked.status == ReferralStatus.CLOSED:
        raise ConflictError(_("The legal referral is closed."), code=E.REFERRAL_CLOSED)
    return locked


_Row = TypeVar("_Row", Hearing, LegalCost)


def _add_to_referral(
    referral: LegalReferral,
    model: type[_Row],
    *,
    lock: Callable[[LegalReferral], LegalReferral],
    action: str,
    acting_user: User | None,
    facts: Callable[[_Row], dict[str, Any]],
    **values: Any,
) -> _Row:
    """Add a row (a hearing, a cost) to the referral locked by ``lock``, audited on the referral with
    ``facts`` of the new row, in one transaction."""
    with transaction.atomic():
        locked = lock(referral)
        row = model.objects.create(referral=locked, **values)
        audit_log(
            actor=acting_user, action=action, object_type="legal_referral", object_id=locked.pk, new=facts(row)
        )
    return row


def referral_update(*, referral: LegalReferral, acting_user: User | None, **changes: Any) -> LegalReferral:
    """Record progress: ``forum_case_number``, ``law_firm``, ``filed_on``, the ``outcome`` (with
    ``outcome_on`` and ``judgement_fen``), ``enforcement`` (with ``enforcement_case_number``), or
    ``status="closed"``. The status follows: an outcome decides it, enforcement enforces it."""
    if acting_user is not None:
        _require_manage(acting_user)
    allowed = {
        "forum_case_number",
        "law_firm",
        "filed_on",
        "outcome",
        "outcome_on",
        "judgement_fen",
        "enforcement",
        "enforcement_case_number",
        "status",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise ApplicationError(
            _("Unknown field."), code=E.REFERRAL_INVALID, extra={"field": sorted(unknown)[0]}
        )
    if "outcome" in changes and changes["outcome"] not in ReferralOutcome.values:
        raise ApplicationError(_("Unknown outcome."), code=E.REFERRAL_INVALID, extra={"field": "outcome"})
    if "enforcement" in changes and changes["enforcement"] not in EnforcementStatus.values:
        raise ApplicationError(
            _("Unknown enforcement status."), code=E.REFERRAL_INVALID, extra={"field": "enforcement"}
        )
    if "status" in changes and changes["status"] != ReferralStatus.CLOSED:
        raise ApplicationError(
            _("A referral can only be closed by hand."), code=E.REFERRAL_INVALID, extra={"field": "status"}
        )
    if changes.get("judgement_fen") is not None:
        changes["judgement_fen"] = _fen(changes["judgement_fen"], "judgement_fen", positive=False)
    with locked_change(
        referral, REFERRAL_FIELDS, actor=acting_user, action="legal.update", object_type="legal_referral",
        lock=_locked_referral,
    ) as locked:
        for name, value in changes.items():
            if isinstance(value, str) and name not in {"outcome", "enforcement", "status"}:
                value = value.strip()[:200]
            setattr(locked, name, value)
        if changes.get("outcome"):
            locked.outcome_on = locked.outcome_on or timezone.localdate()
            if locked.status == ReferralStatus.OPEN:
                locked.status = ReferralStatus.DECIDED
        if changes.get("enforcement") in {EnforcementStatus.APPLIED, EnforcementStatus.IN_PROGRESS}:
            locked.status = ReferralStatus.ENFORCING
        if changes.get("status") == ReferralStatus.CLOSED:
            locked.closed_on = timezone.localdate()
        locked.save()
    return locked


def hearing_add(
    *,
    referral: LegalReferral,
    at: datetime,
    acting_user: User | None,
    place: str = "",
    notes: str = "",
    result: str = "",
) -> Hearing:
    if acting_user is not None:
        _require_manage(acting_user)
    if timezone.is_naive(at):
        raise ApplicationError(
            _("Times must carry a time zone."), code=E.HEARING_INVALID, extra={"field": "at"}
        )
    return _add_to_referral(
        referral,
        Hearing,
        lock=_locked_referral,
        action="legal.hearing",
        acting_user=acting_user,
        facts=lambda h: {"hearing": h.pk, "at": at.isoformat(), "place": h.place},
        at=at,
        place=place.strip()[:200],
        notes=notes.strip()[:500],
        result=result.strip()[:500],
        created_by=acting_user,
    )


def cost_add(
    *,
    referral: LegalReferral,
    kind: str,
    amount_fen: int,
    acting_user: User | None,
    incurred_on: date | None = None,
    note: str = "",
) -> LegalCost:
    if acting_user is not None:
        _require_manage(acting_user)
    if kind not in CostKind.values:
        raise ApplicationError(_("Unknown cost."), code=E.REFERRAL_INVALID, extra={"field": "kind"})
    amount_fen = _fen(amount_fen, "amount_fen")
    # a cost may still come in after the referral closed: locked without the closed check
    return _add_to_referral(
        referral,
        LegalCost,
        lock=lambda r: LegalReferral.objects.select_for_update().get(pk=r.pk),
        action="legal.cost",
        acting_user=acting_user,
        facts=lambda c: {"cost": c.pk, "kind": kind, "amount_fen": amount_fen},
        kind=kind,
        amount_fen=amount_fen,
        incurred_on=incurred_on or timezone.localdate(),
        note=note.strip()[:300],
        recorded_by=acting_user,
    )


# ---------------------------------------------------------------- letters


def letter_reference(on: date) -> str:
    return f"L{on:%Y%m%d}-{secrets.token_hex(4).upper()}"


def _itemization(case: Case, on: date, given: dict[str, Any] | None) -> Itemization:
    """Regulation F itemization: the bank's figures when given, else from the case (itemization date
    the case's opening, payments since from the payment records, no interest or fees added)."""
    if given:
        try:
            day = given["itemization_date"]
            day = date.fromisoformat(day) if isinstance(day, str) else day
            if not isinstance(day, date):
                raise TypeError("itemization_date")
            it = Itemization(
                itemization_date=day,
                amount_on_itemization_fen=_fen(
                    given["amount_on_itemization_fen"], "amount_on_itemization_fen"
                ),
                interest_fen=_fen(given.get("interest_fen", 0), "interest_fen", positive=False),
                fees_fen=_fen(given.get("fees_fen", 0), "fees_fen", positive=False),
                payments_credits_fen=_fen(
                    given.get("payments_credits_fen", 0), "payments_credits_fen", positive=False
                ),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ApplicationError(
                _("The itemization needs a date and the amount on it."),
                code=E.LETTER_INVALID,
                extra={"field": "itemization"},
            ) from exc
        if it.itemization_date > on:
            raise ApplicationError(
                _("The itemization date is in the future."),
                code=E.LETTER_INVALID,
                extra={"field": "itemization_date"},
            )
        return it
    paid = sum(
        Payment.objects.filter(case=case, paid_on__gte=case.opened_on, paid_on__lte=on).values_list(
            "amount_fen", flat=True
        )
    )
    return Itemization(
        itemization_date=case.opened_on,
        amount_on_itemization_fen=case.overdue_fen + paid,
        payments_credits_fen=paid,
    )


def letter_data(
    *,
    case: Case,
    kind: str,
    reference: str,
    on: date,
    law_firm: str = "",
    lawyer: str = "",
    itemization: Itemization | None = None,
    addressee: str = "",
    address: str = "",
) -> LetterData:
    customer = case.customer
    return LetterData(
        kind=kind,
        reference=reference,
        letter_date=on,
        addressee=addressee or customer.name,
        address=address or customer.address,
        loan_ref=str(case.loan.loan_id),
        overdue_fen=case.overdue_fen,
        dpd=case.dpd,
        pay_by=on + timedelta(days=15),
        law_firm=law_firm,
        lawyer=lawyer,
        itemization=itemization,
        validation_ends=on + timedelta(days=VALIDATION_DAYS) if kind == LetterKind.VALIDATION else None,
    )


def letter_send(
    *,
    case: Case,
    kind: str,
    acting_user: User,
    law_firm: str = "",
    lawyer: str = "",
    at: datetime | None = None,
    tracking_number: str = "",
    itemization: dict[str, Any] | None = None,
) -> Letter:
    """Send a letter to ``case``'s debtor at their address: the contact (channel ``letter``, outcome
    ``letter_sent``) goes through the compliance check first (contact hours in the debtor's local time,
    pauses, caps: a refusal is stored as a blocked attempt and raised, HTTP 422) and is counted in the
    debtor's ledger; the PDF is rendered and its hash kept.

    A lawyer's letter is signed by the bank's partner ``law_firm`` and sent by the collections manager;
    the validation notice is for loans under the US pack and carries Regulation F's itemization
    (``itemization``: the bank's figures, or the case's).
    """
    require_capability(acting_user, "case.contact")
    if kind not in LetterKind.values:
        raise ApplicationError(_("Unknown letter."), code=E.LETTER_INVALID, extra={"field": "kind"})
    law_firm = (law_firm or "").strip()[:200]
    if kind == LetterKind.LAWYER:
        _require_manage(acting_user)
        if not law_firm:
            raise ApplicationError(
                _("A lawyer's letter is signed by the partner law firm: name it."),
                code=E.LETTER_INVALID,
                extra={"field": "law_firm"},
            )
    case = Case.objects.select_related("customer", "loan").get(pk=case.pk)
    if case.closed_on is not None:
        raise ApplicationError(_("The case is closed."), code=E.LETTER_INVALID, extra={"field": "case"})
    jurisdiction = (case.loan.jurisdiction or "CN").upper()
    if kind == LetterKind.VALIDATION and jurisdiction != "US":
        raise ApplicationError(
            _("The validation notice is for loans under the US pack."),
            code=E.LETTER_INVALID,
            extra={"field": "kind", "jurisdiction": jurisdiction},
        )
    when = at or timezone.now()
    if timezone.is_naive(when):
        raise ApplicationError(
            _("Times must carry a time zone."), code=E.LETTER_INVALID, extra={"field": "at"}
        )
    address = case.customer.address or ""
    # checked before anything is written: a refusal is stored (blocked attempt) and raised
    compliance.contact_guard(
        case=case,
        acting_user=acting_user,
        channel="letter",
        party="debtor",
        number=address[:32],
        at=when,
        path="letter",
    )
    on = timezone.localdate(when)
    items = _itemization(case, on, itemization) if kind == LetterKind.VALIDATION else None
    reference = letter_reference(on)
    data = letter_data(
        case=case,
        kind=kind,
        reference=reference,
        on=on,
        law_firm=law_firm,
        lawyer=lawyer.strip()[:100],
        itemization=items,
    )
    pdf = render_letter_pdf(data)
    facts: dict[str, Any] = {
        "overdue_fen": data.overdue_fen,
        "dpd": data.dpd,
        "pay_by": data.pay_by.isoformat(),
        "loan_ref": data.loan_ref,
        "letter_date": on.isoformat(),
    }
    if items is not None:
        facts["itemization"] = items.as_facts()
        assert data.validation_ends is not None
        facts["validation_ends"] = data.validation_ends.isoformat()
    with transaction.atomic():
        contact = case_services.contact_record(
            case=case,
            acting_user=acting_user,
            channel="letter",
            outcome=Outcome.LETTER_SENT,
            party=Party.DEBTOR,
            number=address[:32],
            at=when,
            notes=reference,
            path="letter",
            prechecked=True,
        )
        letter = Letter.objects.create(
            case=case,
            contact=contact,
            kind=kind,
            reference=reference,
            addressee=data.addressee,
            address=address,
            law_firm=law_firm,
            lawyer=data.lawyer,
            facts=facts,
            sha256=hashlib.sha256(pdf).hexdigest(),
            tracking_number=tracking_number.strip()[:64],
            sent_at=when,
            created_by=acting_user,
        )
        audit_log(
            actor=acting_user,
            action="letter.send",
            object_type="letter",
            object_id=letter.pk,
            new={
                "case": case.pk,
                "kind": kind,
                "reference": reference,
                "contact": contact.pk,
                "sha256": letter.sha256,
                "law_firm": law_firm,
            },
        )
    return letter


def letter_pdf(*, letter: Letter, user: User) -> bytes:
    """The letter's PDF (it carries the debtor's name and address in clear): bank staff only, audited."""
    if not can_view_legal(user):
        raise PermissionDeniedError(
            _("Only bank staff may open letters."), code=CommonErrorCode.PERMISSION_DENIED
        )
    case = Case.objects.select_related("customer", "loan").get(pk=letter.case_id)
    items = None
    if letter.kind == LetterKind.VALIDATION:
        f = letter.facts["itemization"]
        items = Itemization(
            itemization_date=date.fromisoformat(f["itemization_date"]),
            amount_on_itemization_fen=f["amount_on_itemization_fen"],
            interest_fen=f["interest_fen"],
            fees_fen=f["fees_fen"],
            payments_credits_fen=f["payments_credits_fen"],
        )
    on = date.fromisoformat(letter.facts["letter_date"])
    data = LetterData(
        kind=letter.kind,
        reference=letter.reference,
        letter_date=on,
        addressee=letter.addressee,
        address=letter.address,
        loan_ref=letter.facts["loan_ref"],
        overdue_fen=letter.facts["overdue_fen"],
        dpd=letter.facts["dpd"],
        pay_by=date.fromisoformat(letter.facts["pay_by"]),
        law_firm=letter.law_firm,
        lawyer=letter.lawyer,
        itemization=items,
        validation_ends=(
            date.fromisoformat(letter.facts["validation_ends"]) if "validation_ends" in letter.facts else None
        ),
    )
    pdf = render_letter_pdf(data)
    with transaction.atomic():
        audit_log(
            actor=user,
            action="pii.unmask",
            object_type="Customer",
            object_id=case.customer_id,
            new={"case_id": case.pk, "purpose": "letter", "letter": letter.pk, "fields": ["address", "name"]},
        )
    return pdf


LETTER_NEXT = {LetterStatus.SENT: {LetterStatus.DELIVERED, LetterStatus.RETURNED}}


def letter_track(
    *, letter: Letter, status: str, acting_user: User | None, at: datetime | None = None, reason: str = ""
) -> Letter:
    """Record the delivery of a letter: delivered, or returned (with the reason; a returned letter puts
    the case in the contact-repair queue)."""
    require_role(acting_user is None or has_capability(acting_user, "case.contact"))
    if status not in {LetterStatus.DELIVERED, LetterStatus.RETURNED}:
        raise ApplicationError(
            _("A letter is delivered or returned."), code=E.LETTER_STATUS, extra={"field": "status"}
        )
    if status == LetterStatus.RETURNED and not reason.strip():
        raise ApplicationError(
            _("Give the reason the letter came back."), code=E.LETTER_STATUS, extra={"field": "reason"}
        )
    when = at or timezone.now()
    with transaction.atomic():
        locked = Letter.objects.select_for_update().get(pk=letter.pk)
        if status not in LETTER_NEXT.get(LetterStatus(locked.status), set()):
            raise ConflictError(
                _("The letter's delivery is already recorded."),
                code=E.LETTER_STATUS,
                extra={"status": locked.status},
            )
        old = {"status": locked.status}
        locked.status = status
        if status == LetterStatus.DELIVERED:
            locked.delivered_at = when
        else:
            locked.returned_at = when
            locked.return_reason = reason.strip()[:200]
        locked.save(update_fields=["status", "delivered_at", "returned_at", "return_reason"])
        audit_log(
            actor=acting_user,
            action="letter.track",
            object_type="letter",
            object_id=locked.pk,
            old=old,
            new={"status": status, "at": when.isoformat(), "reason": locked.return_reason},
        )
    letter.refresh_from_db()
    return locked


# ---------------------------------------------------------------- skip tracing (失联修复)

CONTACT_FIELDS = [
    "customer",
    "case",
    "kind",
    "party",
    "label",
    "source",
    "source_ref",
    "consent",
    "verification",
]


def _clean_value(kind: str, value: str) -> str:
    value = (value or "").strip()
    if kind == ContactKind.PHONE:
        phone = normalise_phone(value) or ""
        digits = "".join(ch for ch in phone if ch.isdigit())
        if not 7 <= len(digits) <= 15:
            raise ApplicationError(_("Not a phone number."), code=E.CONTACT_INVALID, extra={"field": "value"})
        return phone[:32]
    if len(value) < 4:
        raise ApplicationError(
            _("Too short to be an address or an employer."), code=E.CONTACT_INVALID, extra={"field": "value"}
        )
    return value[:300]


def alt_contact_add(
    *,
    case: Case,
    kind: str,
    value: str,
    source: str,
    acting_user: User | None,
    party: str = Party.DEBTOR,
    label: str = "",
    consent: str = Consent.UNKNOWN,
    source_ref: str = "",
) -> AltContact:
    """Record an alternate contact of ``case``'s debtor. A third party's number or address (a relative,
    an employer) serves only to locate the debtor: contact with it goes through the pack's third-party
    rules (:func:`alt_contact_check`). The same value twice for a debtor is a conflict (409) naming the
    contact already on file."""
    if acting_user is not None:
        require_capability(acting_user, "case.contact")
    if kind not in ContactKind.values:
        raise ApplicationError(
            _("Choose a phone, an address or an employer."), code=E.CONTACT_INVALID, extra={"field": "kind"}
        )
    if source not in ContactSource.values:
        raise ApplicationError(
            _("Say where the contact came from."), code=E.CONTACT_INVALID, extra={"field": "source"}
        )
    if party not in Party.values:
        raise ApplicationError(_("Unknown party."), code=E.CONTACT_INVALID, extra={"field": "party"})
    if consent not in Consent.values:
        raise ApplicationError(_("Unknown consent."), code=E.CONTACT_INVALID, extra={"field": "consent"})
    clean = _clean_value(kind, value)
    try:
        with transaction.atomic():
            row = AltContact.objects.create(
                customer_id=case.customer_id,
                case=case,
                kind=kind,
                party=party,
                value=clean,
                label=label.strip()[:100],
                source=source,
                source_ref=source_ref[:200],
                consent=consent,
                created_by=acting_user,
            )
            audit_log(
                actor=acting_user,
                action="skiptrace.add",
                object_type="alt_contact",
                object_id=row.pk,
                new=snapshot(row, CONTACT_FIELDS),
            )
    except IntegrityError as exc:
        same = AltContact.objects.filter(
            customer_id=case.customer_id, kind=kind, value_bidx=blind_index(clean)
        ).first()
        raise ConflictError(
            _("This contact is already on file."),
            code=E.CONTACT_INVALID,
            extra={"field": "value", "contact_id": same.pk if same else None},
        ) from exc
    return row


def alt_contact_verify(
    *, contact: AltContact, verification: str, acting_user: User, consent: str | None = None
) -> AltContact:
    require_capability(acting_user, "case.contact")
    if verification not in Verification.values:
        raise ApplicationError(
            _("Unknown verification status."), code=E.CONTACT_INVALID, extra={"field": "verification"}
        )
    if consent is not None and consent not in Consent.values:
        raise ApplicationError(_("Unknown consent."), code=E.CONTACT_INVALID, extra={"field": "consent"})
    with locked_change(
        contact, CONTACT_FIELDS, actor=acting_user, action="skiptrace.verify", object_type="alt_contact"
    ) as locked:
        locked.verification = verification
        locked.verified_at = timezone.now()
        locked.verified_by = acting_user
        if consent is not None:
            locked.consent = consent
        locked.save(update_fields=["verification", "verified_at", "verified_by", "consent"])
    return locked


def alt_contact_reveal(*, contact: AltContact, user: User, purpose: str) -> str:
    """The contact's value in clear for a bank user who states a purpose (the rule of
    :func:`fieldcollect.privacy.unmask.unmask_request`), audited as ``pii.unmask``."""
    _fields, purpose = unmask_request(user=user, fields=["mobile"], purpose=purpose)
    with transaction.atomic():
        audit_log(
            actor=user,
            action="pii.unmask",
            object_type="Customer",
            object_id=contact.customer_id,
            new={
                "case_id": contact.case_id,
                "purpose": purpose,
                "fields": ["alt_contact"],
                "alt_contact": contact.pk,
            },
        )
    return str(contact.value)


@dataclass(frozen=True)
class ContactAdvice:
    """May this alternate contact be used now, and what may be said."""

    allowed: bool
    rule_ids: list[str]
    explanations: list[str]
    third_party: bool
    may_discuss_debt: bool
    purpose: str  # "collect" (the debtor) or "locate" (a third party: only to find the debtor)


def alt_contact_check(*, contact: AltContact, at: datetime | None = None) -> ContactAdvice:
    """Check a contact through this alternate contact against the pack of the loan's jurisdiction: a
    third party only when the pack's third-party rules allow it (CN: the debtor is unreachable), only to
    locate the debtor, and the debt is discussed with them only where the pack allows."""
    case = Case.objects.select_related("customer", "loan").get(pk=contact.case_id)
    channel = "phone" if contact.kind == ContactKind.PHONE else "visit"
    third = contact.party != Party.DEBTOR
    verdict = compliance.contact_decision(
        case=case,
        channel=channel,
        party=contact.party,
        number=str(contact.value)[:32],
        at=at,
        request_id="skiptrace",
    )
    pack = pack_for(case.loan.jurisdiction)
    return ContactAdvice(
        allowed=verdict.allowed
        and contact.verification != Verification.INVALID
        and contact.consent != Consent.REFUSED,
        rule_ids=verdict.rule_ids,
        explanations=verdict.explanations,
        third_party=third,
        may_discuss_debt=not third or third_party_may_discuss_debt(pack),
        purpose="locate" if third else "collect",
    )


# ---------------------------------------------------------------- vendor file import

VENDOR_COLUMNS = ("loan_id", "kind", "value", "party", "label", "consent", "lawful_basis")


@dataclass
class VendorImportReport:
    file: str
    rows: int = 0
    added: int = 0
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "rows": self.rows,
            "added": self.added,
            "duplicates": self.duplicates,
            "errors": self.errors,
        }


def vendor_import(*, content: bytes, name: str, acting_user: User | None) -> VendorImportReport:
    """Import a lawful vendor's contact file (CSV, UTF-8, header ``loan_id,kind,value,party,label,consent,
    lawful_basis``). Every row is validated first; any error refuses the whole file (nothing is
    imported, every error named by file, row, field and reason) so the corrected file can be sent again.
    A valid file is imported in one transaction; a value already on file is reported as a duplicate
    (with the contact it matches), never dropped silently: ``rows == added + len(duplicates)``."""
    if acting_user is not None:
        _require_manage(acting_user)
    report = VendorImportReport(file=name)

    def err(row: int, field_name: str, reason: str) -> None:
        report.errors.append({"file": name, "row": row, "field": field_name, "reason": reason})

    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        err(0, "", _("The file is not UTF-8 text."))
        return report
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in VENDOR_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        err(1, ",".join(missing), _("Missing column."))
        return report
    parsed: list[tuple[int, Case, dict[str, str], str]] = []
    loan_ids: dict[int, int] = {}
    rows = list(reader)
    for k, row in enumerate(rows, start=2):
        raw = (row.get("loan_id") or "").strip()
        if raw.isdigit():
            loan_ids[k] = int(raw)
    cases = {
        c.loan.loan_id: c
        for c in Case.objects.filter(
            loan__loan_id__in=set(loan_ids.values()), closed_on__isnull=True
        ).select_related("loan")
    }
    for k, row in enumerate(rows, start=2):
        report.rows += 1
        row = {key: (v or "").strip() for key, v in row.items() if key}
        case = cases.get(loan_ids.get(k, -1))
        if k not in loan_ids:
            err(k, "loan_id", _("Not a loan number."))
        elif case is None:
            err(k, "loan_id", _("No open case for this loan."))
        kind = row.get("kind", "")
        if kind not in ContactKind.values:
            err(k, "kind", _("Must be phone, address or employer."))
        party = row.get("party") or Party.DEBTOR
        if party not in Party.values:
            err(k, "party", _("Unknown party."))
        consent = row.get("consent") or Consent.UNKNOWN
        if consent not in Consent.values:
            err(k, "consent", _("Must be unknown, given or refused."))
        if not row.get("lawful_basis"):
            err(k, "lawful_basis", _("State the lawful basis of the vendor's data."))
        clean = ""
        if kind in ContactKind.values:
            try:
                clean = _clean_value(kind, row.get("value", ""))
            except ApplicationError as exc:
                err(k, "value", exc.message)
        if case is not None and clean and not report.errors:
            parsed.append((k, case, {**row, "party": party, "consent": consent}, clean))
    if report.errors:
        return report
    with transaction.atomic():
        for k, case, row, clean in parsed:
            same = AltContact.objects.filter(
                customer_id=case.customer_id, kind=row["kind"], value_bidx=blind_index(clean)
            ).first()
            if same is not None:
                report.duplicates.append({"file": name, "row": k, "field": "value", "contact_id": same.pk})
                continue
            AltContact.objects.create(
                customer_id=case.customer_id,
                case=case,
                kind=row["kind"],
                party=row["party"],
                value=clean,
                label=row.get("label", "")[:100],
                source=ContactSource.VENDOR,
                source_ref=f"vendor:{name}#{k}; {row['lawful_basis']}"[:200],
                consent=row["consent"],
                created_by=acting_user,
            )
            report.added += 1
        audit_log(
            actor=acting_user,
            action="skiptrace.vendor_import",
            object_type="vendor_file",
            object_id=name[:64],
            new={"rows": report.rows, "added": report.added, "duplicates": len(report.duplicates)},
        )
    return report
