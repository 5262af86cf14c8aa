"""Writes for repayment plans. Each function is keyword-only, runs in one transaction, locks the rows it
changes (``select_for_update``), checks ``expected_version`` where a user acts on something they saw,
and writes its audit row(s) in the same transaction.

The maker-checker rules are the pure state machine's (:mod:`fieldcollect.plans.authority`): these
services rebuild the pure :class:`~fieldcollect.plans.authority.Proposal` from the stored row, apply the
action, and store the result and its event. Options are always re-priced on the server from the
case's position (a client never supplies amounts).
"""

from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from fieldcollect.audit.models import AuditEntry
from fieldcollect.audit.services import audit_log, snapshot
from fieldcollect.cases.access import require_capability
from fieldcollect.cases.errors import CaseErrorCode
from fieldcollect.cases.lifecycle import CaseStatus, can_transition
from fieldcollect.cases.models import Case, Payment, PromiseToPay, Task
from fieldcollect.cases.services import case_transition
from fieldcollect.core.errors import ApplicationError, ConflictError, PermissionDeniedError
from fieldcollect.core.models import Role, User
from fieldcollect.core.timing import Timings, step
from fieldcollect.outbox.services import outbox_enqueue
from fieldcollect.plans import agreement as agreement_pdf
from fieldcollect.plans import authority as au
from fieldcollect.plans import links
from fieldcollect.plans import promises as pp
from fieldcollect.plans import selectors as sel
from fieldcollect.plans.errors import PlanErrorCode
from fieldcollect.plans.models import (
    OPEN_STATES,
    Hardship,
    HardshipReason,
    PlanAgreement,
    PlanInstalment,
    PlanStatus,
    ProposalEvent,
    ProposalState,
    RestructuringProposal,
)
from fieldcollect.plans.options import LABELS, OptionKind, RestructureOption
from fieldcollect.plans.schedule import Instalment, Method, Schedule
from fieldcollect.visits.links import token_hash
from fieldcollect.visits.services import public_url

_PURE_STATES = frozenset(s.value for s in au.PlanState)
_PURE_ACTIONS = frozenset(a.value for a in au.Action)
PROPOSAL_FIELDS = ["state", "endorser", "escalated_by", "escalated_to", "approver", "approver_role",
                   "offer_expires_at", "plan_status", "broken_on", "version"]

# Rendering an agreement parses a CJK font (1–2 s); tests may swap in a fast renderer.
PdfRenderer = Callable[[agreement_pdf.AgreementData], bytes]
_pdf_renderer: PdfRenderer | None = None


def set_pdf_renderer(renderer: PdfRenderer | None) -> None:
    global _pdf_renderer
    _pdf_renderer = renderer


def _render_pdf(data: agreement_pdf.AgreementData) -> bytes:
    return (_pdf_renderer or agreement_pdf.render_agreement_pdf)(data)


# ---------------------------------------------------------------- helpers


def _now(at: datetime | None) -> datetime:
    return at or timezone.now()


def _transition_error(exc: au.TransitionError) -> ApplicationError:
    codes = exc.codes
    messages = {
        au.ErrorCode.SAME_PERSON: _("The same person cannot make and check a plan."),
        au.ErrorCode.OTHER_AGENCY: _("Only a manager of the collector's agency may endorse this plan."),
        au.ErrorCode.ESCALATION_REQUIRED: _("This plan is beyond your approval limits: escalate it."),
        au.ErrorCode.BEYOND_ALL_AUTHORITY: _("No approver may approve these terms."),
        au.ErrorCode.ROLE_NOT_ALLOWED: _("Your role may not do this."),
        au.ErrorCode.NOT_ESCALATION_TARGET: _("This plan was escalated to a higher authority."),
        au.ErrorCode.INVALID_TRANSITION: _("The plan is no longer in a state that allows this."),
        au.ErrorCode.WITHIN_LIMITS: _("Within your limits: approve or reject instead."),
        au.ErrorCode.OFFER_EXPIRED: _("The offer has expired."),
    }
    first = codes[0] if codes else au.ErrorCode.INVALID_TRANSITION
    status = 403 if first in {au.ErrorCode.SAME_PERSON, au.ErrorCode.OTHER_AGENCY, au.ErrorCode.ROLE_NOT_ALLOWED,
                              au.ErrorCode.NOT_ESCALATION_TARGET} else 400
    return ApplicationError(
        messages.get(first, str(exc)),
        code=PlanErrorCode(f"plan.{first.value}"),
        extra={"violations": [{"code": v.code.value, "message": v.message} for v in exc.violations]},
        status_code=status,
    )


def _terms(p: RestructuringProposal) -> au.ProposalTerms:
    return au.ProposalTerms(kind=p.kind, waiver_fen=int(p.waiver_fen), waiver_share=Decimal(p.waiver_share),
                            term_extension_months=int(p.term_extension_months))


def _customer_key(p: RestructuringProposal) -> str:
    return f"customer:{p.case.customer_id}"


def _as_pure(p: RestructuringProposal) -> au.Proposal:
    """The stored proposal as the authority module's immutable value (history = stored events)."""
    history = tuple(
        au.AuditEvent(
            action=au.Action(e.action), from_state=au.PlanState(e.from_state) if e.from_state else None,
            to_state=au.PlanState(e.to_state), actor_id=e.actor_label, actor_role=e.actor_role, at=e.at,
            note=e.note,
        )
        for e in p.events.all()
        if e.to_state in _PURE_STATES and e.action in _PURE_ACTIONS
    )
    return au.Proposal(
        terms=_terms(p),
        state=au.PlanState(p.state),
        maker=au.Actor(user_id=str(p.maker_id), role=sel.MAKER_ROLE,
                       agency_id=str(p.agency_id) if p.agency_id is not None else None),
        history=history,
        customer_id=_customer_key(p),
        endorser_id=str(p.endorser_id) if p.endorser_id else None,
        approver_id=str(p.approver_id) if p.approver_id else None,
        approver_role=p.approver_role or None,
        escalated_to=tuple(p.escalated_to or ()),
        escalated_by_id=str(p.escalated_by_id) if p.escalated_by_id else None,
        offer_expires_at=p.offer_expires_at,
    )


def _lock(p: RestructuringProposal, expected_version: int | None) -> RestructuringProposal:
    locked = RestructuringProposal.objects.select_for_update().select_related("case").get(pk=p.pk)
    if expected_version is not None and locked.version != expected_version:
        raise ConflictError(
            _("This plan was changed by someone else. Reload it and try again."), code=PlanErrorCode.CONFLICT,
            extra={"expected_version": expected_version, "current_version": locked.version},
        )
    return locked


def _apply(*, p: RestructuringProposal, action: au.Action, actor: au.Actor, user: User | None, at: datetime,
           note: str = "", expires_at: datetime | None = None) -> au.Proposal:
    """Validate and apply ``action`` with the pure state machine; store the state, event and audit row."""
    before = _as_pure(p)
    try:
        after = au.transition(proposal=before, action=action, actor=actor, at=at, matrix=sel.authority_matrix(),
                              note=note, expires_at=expires_at)
    except au.TransitionError as exc:
        raise _transition_error(exc) from None
    old = snapshot(p, PROPOSAL_FIELDS)
    p.state = after.state.value
    p.escalated_to = list(after.escalated_to)
    p.approver_role = after.approver_role or ""
    p.offer_expires_at = after.offer_expires_at
    p.version += 1
    p.save()
    event = after.history[-1]
    ProposalEvent.objects.create(
        proposal=p, action=event.action.value, from_state=event.from_state.value if event.from_state else "",
        to_state=event.to_state.value, actor=user, actor_label=event.actor_id, actor_role=event.actor_role,
        at=event.at, note=note[:500],
    )
    audit_log(actor=user, action=f"plan.{action.value}", object_type="plan", object_id=p.pk, old=old,
              new={**snapshot(p, PROPOSAL_FIELDS), "note": note[:500], "actor_role": actor.role},
              actor_label="" if user is not None else actor.user_id)
    return after


# ---------------------------------------------------------------- hardship and proposals


def hardship_record(*, case: Case, acting_user: User, reason: str, monthly_income_fen: int,
                    monthly_expenses_fen: int, detail: str = "", at: datetime | None = None) -> Hardship:
    """Record the customer's hardship as declared (reason, monthly income and expenses in fen)."""
    require_capability(acting_user, "case.contact")
    if reason not in HardshipReason.values:
        raise ApplicationError(_("Unknown hardship reason."), code=PlanErrorCode.INVALID_REASON, extra={"reason": reason})
    if monthly_income_fen < 0 or monthly_expenses_fen < 0:
        raise ApplicationError(_("Income and expenses cannot be negative."), code=PlanErrorCode.INVALID_AMOUNT)
    if case.closed_on is not None:
        raise ApplicationError(_("The case is closed."), code=CaseErrorCode.CLOSED)
    with transaction.atomic():
        hardship = Hardship.objects.create(
            case=case, reason=reason, detail=detail[:500], monthly_income_fen=monthly_income_fen,
            monthly_expenses_fen=monthly_expenses_fen, recorded_by=acting_user, recorded_at=_now(at),
        )
        audit_log(actor=acting_user, action="plan.hardship", object_type="case", object_id=case.pk,
                  new={"hardship": hardship.pk, "reason": reason, "monthly_income_fen": monthly_income_fen,
                       "monthly_expenses_fen": monthly_expenses_fen})
    return hardship


def _schedule_json(schedule: Schedule) -> list[dict[str, Any]]:
    return [
        {"seq": i.seq, "due_date": i.due_date.isoformat(), "opening_fen": i.opening_fen,
         "principal_fen": i.principal_fen, "interest_fen": i.interest_fen, "payment_fen": i.payment_fen,
         "closing_fen": i.closing_fen, "capitalised_fen": i.capitalised_fen, "period": i.period}
        for i in schedule.instalments
    ]


def schedule_from_json(p: RestructuringProposal) -> Schedule:
    """The stored schedule of a proposal as a pure :class:`Schedule`."""
    rows = tuple(
        Instalment(seq=int(r["seq"]), due_date=date.fromisoformat(r["due_date"]), opening_fen=int(r["opening_fen"]),
                   principal_fen=int(r["principal_fen"]), interest_fen=int(r["interest_fen"]),
                   payment_fen=int(r["payment_fen"]), closing_fen=int(r["closing_fen"]),
                   capitalised_fen=int(r.get("capitalised_fen", 0)), period=int(r.get("period", 0)))
        for r in p.schedule
    )
    annual_rate = Decimal(0) if p.kind == OptionKind.SETTLEMENT else Decimal(p.annual_rate)
    return Schedule(principal_fen=int(p.new_principal_fen), annual_rate=annual_rate, method=Method.EQUAL_INSTALMENT,
                    start=p.as_of, instalments=rows)


def plan_propose(*, case: Case, acting_user: User, kind: str, as_of: date | None = None, note: str = "",
                 at: datetime | None = None) -> RestructuringProposal:
    """The collector (maker) proposes one option for a case with recorded hardship.

    The option is re-priced here from the case's position on ``as_of`` (default today). One open
    proposal per case.
    """
    if acting_user.role != Role.FIELD_COLLECTOR:
        raise PermissionDeniedError(_("Only the case's collector may propose a plan."), code=PlanErrorCode.ROLE_NOT_ALLOWED)
    try:
        option_kind = OptionKind(kind)
    except ValueError:
        raise ApplicationError(_("Unknown option."), code=PlanErrorCode.INVALID_OPTION, extra={"kind": kind}) from None
    if option_kind is OptionKind.CURRENT:
        raise ApplicationError(_("The current contract is not a restructuring."), code=PlanErrorCode.INVALID_OPTION)
    day = as_of or timezone.localdate()
    moment = _now(at)
    with transaction.atomic():
        locked = Case.objects.select_for_update().select_related("loan", "customer").get(pk=case.pk)
        if locked.closed_on is not None or locked.status == CaseStatus.CLOSED:
            raise ApplicationError(_("The case is closed."), code=CaseErrorCode.CLOSED)
        collector = getattr(acting_user, "collector", None)
        if collector is None or locked.collector_id != collector.pk:
            raise PermissionDeniedError(_("Only the case's collector may propose a plan."),
                                        code=PlanErrorCode.NOT_CASE_COLLECTOR)
        hardship = sel.current_hardship(case=locked)
        if hardship is None:
            raise ApplicationError(_("Record the customer's hardship first."), code=PlanErrorCode.NO_HARDSHIP)
        if RestructuringProposal.objects.filter(case=locked, state__in=[s.value for s in OPEN_STATES]).exists():
            raise ConflictError(_("This case already has a plan in progress."), code=PlanErrorCode.ALREADY_OPEN)
        try:
            position, options = sel.case_options(case=locked, hardship=hardship, as_of=day)
        except ValueError as exc:
            raise ApplicationError(_("No plan can be built for this case: %(why)s") % {"why": exc},
                                   code=PlanErrorCode.NO_POSITION) from None
        option = options.get(option_kind)
        if option is None:
            why = dict(options.infeasible).get(option_kind, "")
            raise ApplicationError(_("This option cannot be offered: %(why)s") % {"why": why},
                                   code=PlanErrorCode.OPTION_NOT_FEASIBLE, extra={"kind": kind})
        try:
            pure = au.propose(terms=au.terms_from_option(option),
                              maker=au.Actor(str(acting_user.pk), sel.MAKER_ROLE, str(locked.agency_id)),
                              at=moment, matrix=sel.authority_matrix(), customer_id=f"customer:{locked.customer_id}",
                              note=note)
        except au.TransitionError as exc:
            raise _transition_error(exc) from None
        p = _store_option(case=locked, hardship=hardship, option=option, position=position, maker=acting_user,
                          at=moment, note=note)
        event = pure.history[-1]
        ProposalEvent.objects.create(proposal=p, action=event.action.value, from_state="", to_state=event.to_state.value,
                                     actor=acting_user, actor_label=str(acting_user.pk), actor_role=event.actor_role,
                                     at=moment, note=note[:500])
        audit_log(actor=acting_user, action="plan.propose", object_type="plan", object_id=p.pk,
                  new={**snapshot(p, PROPOSAL_FIELDS), "case": locked.pk, "kind": p.kind,
                       "waiver_fen": p.waiver_fen, "waiver_share": str(p.waiver_share),
                       "term_extension_months": p.term_extension_months, "bank_loss_pv_fen": p.bank_loss_pv_fen})
    return p


def _store_option(*, case: Case, hardship: Hardship, option: RestructureOption, position: Any, maker: User,
                  at: datetime, note: str) -> RestructuringProposal:
    sched = option.schedule
    return RestructuringProposal.objects.create(
        case=case, hardship=hardship, agency_id=case.agency_id, kind=option.kind.value,
        parameters={
            "note": option.note,
            "position": {
                "outstanding_principal_fen": position.outstanding_principal_fen,
                "arrears_principal_fen": position.arrears_principal_fen,
                "arrears_interest_fen": position.arrears_interest_fen,
                "arrears_penalty_fen": position.arrears_penalty_fen,
                "remaining_term_months": position.remaining_term_months,
                "annual_rate": str(position.annual_rate),
                "monthly_income_fen": position.monthly_income_fen,
                "monthly_expenses_fen": position.monthly_expenses_fen,
            },
            "policy": {k: str(v) for k, v in vars(sel.restructure_policy()).items()},
        },
        schedule=_schedule_json(sched), as_of=position.as_of, annual_rate=position.annual_rate,
        total_owed_fen=position.total_owed_fen, new_principal_fen=option.new_principal_fen,
        total_cost_fen=option.total_cost_fen, original_cost_fen=option.original_cost_fen,
        first_instalment_fen=option.first_instalment_fen, max_instalment_fen=option.max_instalment_fen,
        term_months=max((i.period for i in sched.instalments), default=0),
        term_extension_months=option.term_extension_months, waiver_fen=option.waiver_fen,
        waiver_share=option.waiver_share, pv_original_fen=option.pv_original_fen, pv_new_fen=option.pv_new_fen,
        bank_loss_pv_fen=option.bank_loss_pv_fen, probability=option.probability,
        expected_recovery_fen=option.expected_recovery_fen, affordable=option.affordable,
        apr=_safe_apr(sched), note=note[:500], maker=maker, proposed_at=at, state=ProposalState.PROPOSED,
    )


def _safe_apr(schedule: Schedule) -> Decimal | None:
    try:
        return schedule.apr
    except ValueError:  # a settlement below the balance has no non-negative IRR
        return None


def plan_endorse(*, proposal: RestructuringProposal, acting_user: User, endorse: bool = True, note: str = "",
                 expected_version: int | None = None, at: datetime | None = None) -> RestructuringProposal:
    """The agency manager of the collector's agency endorses (or rejects) the proposal."""
    moment = _now(at)
    actor = au.Actor(str(acting_user.pk), sel.matrix_role_of(acting_user),
                     str(acting_user.agency_id) if acting_user.agency_id is not None else None)
    with transaction.atomic():
        p = _lock(proposal, expected_version)
        _apply(p=p, action=au.Action.ENDORSE if endorse else au.Action.REJECT, actor=actor, user=acting_user,
               at=moment, note=note)
        if endorse:
            p.endorser = acting_user
            p.endorsed_at = moment
        else:
            p.endorser = acting_user
            p.decided_at = moment
        p.save(update_fields=["endorser", "endorsed_at", "decided_at"])
    proposal.refresh_from_db()
    return p


def plan_decide(*, proposal: RestructuringProposal, acting_user: User, decision: str, note: str = "",
                expected_version: int | None = None, at: datetime | None = None) -> RestructuringProposal:
    """A bank approver approves within their limits, rejects, or escalates beyond them.

    ``decision`` is ``approve``, ``reject`` or ``escalate``.
    """
    try:
        action = {"approve": au.Action.APPROVE, "reject": au.Action.REJECT, "escalate": au.Action.ESCALATE}[decision]
    except KeyError:
        raise ApplicationError(_("Unknown decision."), code=PlanErrorCode.INVALID_DECISION) from None
    level = sel.approver_level(acting_user)
    if level is None:
        raise PermissionDeniedError(_("You have no approval authority."), code=PlanErrorCode.NO_AUTHORITY)
    moment = _now(at)
    with transaction.atomic():
        p = _lock(proposal, expected_version)
        _apply(p=p, action=action, actor=au.Actor(str(acting_user.pk), level), user=acting_user, at=moment,
               note=note)
        if action is au.Action.ESCALATE:
            p.escalated_by = acting_user
            p.save(update_fields=["escalated_by"])
        else:
            p.approver = acting_user
            p.decided_at = moment
            p.save(update_fields=["approver", "decided_at"])
    proposal.refresh_from_db()
    return p


# ---------------------------------------------------------------- offer and acceptance


@dataclass(frozen=True)
class Offer:
    agreement: PlanAgreement
    token: str


def agreement_data(p: RestructuringProposal, *, issued_on: date, agreement_no: str,
                   expires_at: datetime | None) -> agreement_pdf.AgreementData:
    label_zh, label_en = _labels(p.kind)
    return agreement_pdf.AgreementData(
        agreement_no=agreement_no, customer_name=p.case.customer.name, loan_ref=str(p.case.loan_id),
        schedule=schedule_from_json(p), option_zh=label_zh, option_en=label_en, total_owed_fen=int(p.total_owed_fen),
        waiver_fen=int(p.waiver_fen), issued_on=issued_on,
        hardship_reason=f"{p.hardship.get_reason_display()}",
        offer_expires_at=timezone.localtime(expires_at) if expires_at else None,
        note=str(p.parameters.get("note", "")),
    )


def _labels(kind: str) -> tuple[str, str]:
    return LABELS[OptionKind(kind)]


def plan_offer(*, proposal: RestructuringProposal, acting_user: User | None, valid_days: int | None = None,
               at: datetime | None = None) -> Offer:
    """Send an approved plan to the customer: the bilingual agreement PDF and a signed link that expires.

    ``acting_user`` ``None`` is the system; otherwise a bank user with approval authority.
    """
    moment = _now(at)
    days = int(sel.plans_setting("offer_valid_days", sel.DEFAULT_OFFER_VALID_DAYS)) if valid_days is None else valid_days
    if not 1 <= days <= links.MAX_AGE.days:
        raise ApplicationError(_("An offer is valid for 1 to %(n)d days.") % {"n": links.MAX_AGE.days},
                               code=PlanErrorCode.INVALID_VALIDITY)
    expires_at = moment + timedelta(days=days)
    if acting_user is None:
        actor = au.Actor("system", sel.SYSTEM_ROLE)
    else:
        level = sel.approver_level(acting_user)
        if level is None:
            raise PermissionDeniedError(_("You have no approval authority."), code=PlanErrorCode.NO_AUTHORITY)
        actor = au.Actor(str(acting_user.pk), level)
    with transaction.atomic():
        p = _lock(proposal, None)
        p = RestructuringProposal.objects.select_related("case", "case__customer", "case__loan", "hardship").get(pk=p.pk)
        _apply(p=p, action=au.Action.OFFER, actor=actor, user=acting_user, at=moment, expires_at=expires_at)
        agreement_no = f"RP{timezone.localtime(moment):%Y%m%d}-{p.pk:06d}"
        pdf = _render_pdf(agreement_data(p, issued_on=timezone.localtime(moment).date(), agreement_no=agreement_no,
                                         expires_at=expires_at))
        agreement = PlanAgreement.objects.create(
            proposal=p, agreement_no=agreement_no, pdf=pdf, sha256=hashlib.sha256(pdf).hexdigest(),
            link_nonce=links.new_nonce(), issued_at=moment, expires_at=expires_at,
        )
        p.offered_at = moment
        p.save(update_fields=["offered_at"])
        token = links.make_link_token(agreement_id=agreement.pk, nonce=agreement.link_nonce, expires_at=expires_at)
        agreement.link_token_hash = token_hash(token)  # only the token sent to the customer opens it
        agreement.save(update_fields=["link_token_hash"])
        _offer_sms(p, token=token, expires_at=expires_at)
        audit_log(actor=acting_user, action="plan.agreement", object_type="plan", object_id=p.pk,
                  new={"agreement": agreement.agreement_no, "sha256": agreement.sha256, "bytes": len(pdf),
                       "expires_at": expires_at.isoformat(), "link_sms": "queued"},
                  actor_label="" if acting_user is not None else "system")
    proposal.refresh_from_db()
    return Offer(agreement=agreement, token=token)


def _offer_sms(p: RestructuringProposal, *, token: str, expires_at: datetime) -> None:
    """The customer's link goes to the customer only, through the outbox (never to a staff page)."""
    url = public_url(reverse("plans:customer", args=[token]))
    with translation.override("zh-hans"):
        body = _("The bank offers you a new repayment plan. Read it and answer before %(date)s: %(url)s") % {
            "date": timezone.localtime(expires_at).strftime("%Y-%m-%d %H:%M"), "url": url}
    outbox_enqueue(to=p.case.customer.mobile or "", body=body, kind="plan_offer", case_id=p.case_id)


def agreement_from_token(token: str, *, now: datetime | None = None) -> PlanAgreement:
    """The agreement a customer's link points to.

    Raises
    ------
    links.LinkInvalid
        Tampered link, unknown agreement, or a link superseded by a newer one.
    links.LinkExpired
        The link or the offer has expired.
    """
    moment = _now(now)
    payload = links.read_link_token(token, now=moment)
    agreement = (
        PlanAgreement.objects.select_related("proposal", "proposal__case", "proposal__case__customer")
        .filter(pk=payload.agreement_id).first()
    )
    if agreement is None or agreement.link_nonce != payload.nonce:
        raise links.LinkInvalid("unknown agreement")
    # agreements offered before the hash was kept (empty) accept any token with their nonce
    if agreement.link_token_hash and not hmac.compare_digest(agreement.link_token_hash, token_hash(token)):
        raise links.LinkInvalid("not the link sent to the customer")
    if moment > agreement.expires_at:
        raise links.LinkExpired("the offer has expired")
    return agreement


def plan_accept(*, token: str, now: datetime | None = None, client_ip: str = "") -> RestructuringProposal:
    """The customer accepts through the signed link: the loan's schedule is amended (plan instalments),
    the case becomes restructured and the plan is watched from now on."""
    moment = _now(now)
    agreement = agreement_from_token(token, now=moment)
    with transaction.atomic():
        p = _lock(agreement.proposal, None)
        p = RestructuringProposal.objects.select_related("case", "case__loan").get(pk=p.pk)
        if p.state != ProposalState.OFFERED:
            raise ApplicationError(_("This offer has already been answered."), code=PlanErrorCode.ALREADY_ANSWERED,
                                   status_code=409)
        _apply(p=p, action=au.Action.ACCEPT, actor=au.Actor(_customer_key(p), sel.CUSTOMER_ROLE), user=None,
               at=moment, note=f"ip={client_ip}" if client_ip else "")
        schedule = schedule_from_json(p)
        PlanInstalment.objects.bulk_create([
            PlanInstalment(proposal=p, case=p.case, loan=p.case.loan, seq=i.seq, due_date=i.due_date,
                           opening_fen=i.opening_fen, principal_fen=i.principal_fen, interest_fen=i.interest_fen,
                           payment_fen=i.payment_fen, closing_fen=i.closing_fen, capitalised_fen=i.capitalised_fen)
            for i in schedule.instalments
        ])
        # an earlier accepted plan of the same loan is superseded (its schedule no longer applies)
        RestructuringProposal.objects.filter(case__loan=p.case.loan, state=ProposalState.ACCEPTED,
                                             plan_status=PlanStatus.PERFORMING).exclude(pk=p.pk).update(
            plan_status=PlanStatus.BROKEN)
        p.accepted_at = moment
        p.plan_status = PlanStatus.PERFORMING
        p.save(update_fields=["accepted_at", "plan_status"])
        PlanAgreement.objects.filter(pk=agreement.pk).update(accepted_at=moment)
        case = p.case
        if case.status != CaseStatus.RESTRUCTURED:
            if not can_transition(case.status, CaseStatus.RESTRUCTURED):
                raise ApplicationError(_("The case can no longer be restructured."), code=CaseErrorCode.INVALID_TRANSITION)
            case_transition(case=case, target=CaseStatus.RESTRUCTURED, acting_user=None,
                            on=timezone.localtime(moment).date())
        # cancel the open promises: the plan replaces them
        PromiseToPay.objects.filter(case=case, status=PromiseToPay.Status.OPEN).update(
            status=PromiseToPay.Status.CANCELLED, resolved_on=timezone.localtime(moment).date())
        audit_log(actor=None, action="plan.amend_schedule", object_type="loan", object_id=case.loan_id,
                  new={"plan": p.pk, "agreement": agreement.agreement_no, "instalments": len(schedule.instalments),
                       "total_fen": schedule.total_payment_fen, "first_due": schedule.instalments[0].due_date.isoformat()
                       if schedule.instalments else None},
                  actor_label=_customer_key(p))
    return p


def plan_decline(*, token: str, reason: str = "", now: datetime | None = None) -> RestructuringProposal:
    """The customer declines the offer through the signed link (the plan ends; the case is worked on)."""
    moment = _now(now)
    agreement = agreement_from_token(token, now=moment)
    with transaction.atomic():
        p = _lock(agreement.proposal, None)
        if p.state != ProposalState.OFFERED:
            raise ApplicationError(_("This offer has already been answered."), code=PlanErrorCode.ALREADY_ANSWERED,
                                   status_code=409)
        old = snapshot(p, PROPOSAL_FIELDS)
        p.state = ProposalState.DECLINED
        p.declined_at = moment
        p.version += 1
        p.save(update_fields=["state", "declined_at", "version"])
        agreement.declined_at = moment
        agreement.decline_reason = reason[:200]  # encrypted, bound to the row: written by saving the instance
        agreement.save(update_fields=["declined_at", "decline_reason"])
        ProposalEvent.objects.create(proposal=p, action="decline", from_state=ProposalState.OFFERED,
                                     to_state=ProposalState.DECLINED, actor=None, actor_label=_customer_key(p),
                                     actor_role=sel.CUSTOMER_ROLE, at=moment, note=reason[:500])
        audit_log(actor=None, action="plan.decline", object_type="plan", object_id=p.pk, old=old,
                  new={**snapshot(p, PROPOSAL_FIELDS), "reason_chars": len(reason[:200])}, actor_label=_customer_key(p))
        _follow_up_task(case=p.case, title=_("The customer declined the plan: call back"),
                        due_on=timezone.localtime(moment).date() + timedelta(days=1), kind=Task.Kind.CALL_BACK)
    return p


def plans_expire(*, now: datetime | None = None) -> int:
    """Expire offers past their expiry (system action). Returns how many."""
    moment = _now(now)
    n = 0
    for pk in RestructuringProposal.objects.filter(state=ProposalState.OFFERED, offer_expires_at__lt=moment).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            p = _lock(RestructuringProposal(pk=pk), None)
            if p.state != ProposalState.OFFERED:
                continue
            _apply(p=p, action=au.Action.EXPIRE, actor=au.Actor("system", sel.SYSTEM_ROLE), user=None, at=moment)
            n += 1
    return n


# ---------------------------------------------------------------- watching plans and promises


def _follow_up_task(*, case: Case, title: str, due_on: date, kind: str = Task.Kind.FOLLOW_UP) -> Task:
    assignee = case.collector.user if case.collector_id is not None and case.collector is not None else None
    task = Task.objects.create(case=case, agency_id=case.agency_id, assignee=assignee, kind=kind, title=title[:200],
                               due_on=due_on, created_by=None)
    audit_log(actor=None, action="task.create", object_type="task", object_id=task.pk,
              new=snapshot(task, ["case", "assignee", "kind", "title", "due_on"]))
    return task


@dataclass(frozen=True)
class WatchResult:
    checked: int
    broken: int
    completed: int
    broken_ids: tuple[int, ...]


def _instalments_mark_paid(rows: list[PlanInstalment], pays: list[pp.Payment], *, start: date, as_of: date) -> int:
    """Store the day each instalment was paid (:func:`fieldcollect.plans.promises.instalments_paid_on`);
    returns how many instalments changed."""
    paid_on = pp.instalments_paid_on(instalments=rows, payments=pays, start=start, as_of=as_of)
    changed = [r for r in rows if r.paid_on != paid_on.get(r.seq)]
    for r in changed:
        r.paid_on = paid_on.get(r.seq)
    if changed:
        PlanInstalment.objects.bulk_update(changed, ["paid_on"])
    return len(changed)


def plans_watch(*, as_of: date, grace_days: int | None = None, case_ids: Iterable[int] | None = None,
                may_break: bool = True) -> WatchResult:
    """Check every performing plan (of ``case_ids`` when given) against the loan's payments on business
    date ``as_of``; each instalment gets the day it was paid.

    The first instalment not met after its grace period breaks the plan (unless ``may_break`` is false:
    a same-day payment only pays instalments and completes plans; breaking stays with the nightly
    watch): the plan is marked broken, the case goes back to "in progress" and the collector gets a
    follow-up task. Fully paid plans complete.
    """
    grace = int(sel.plans_setting("plan_grace_days", sel.DEFAULT_PLAN_GRACE_DAYS)) if grace_days is None else grace_days
    checked = broken = completed = 0
    broken_ids: list[int] = []
    plans = list(sel.plans_to_watch(case_ids))
    # three reads for all the plans (instalments, payments), not two per plan
    instalments: dict[int, list[PlanInstalment]] = defaultdict(list)
    for row in PlanInstalment.objects.filter(proposal__in=[p.pk for p in plans]).order_by("proposal_id", "seq"):
        instalments[row.proposal_id].append(row)
    start_of = {p.pk: timezone.localtime(p.accepted_at).date() if p.accepted_at else p.as_of for p in plans}
    paid: dict[int, list[tuple[date, int]]] = defaultdict(list)
    if plans:
        for loan_id, d, a in (Payment.objects.filter(loan_id__in={p.case.loan_id for p in plans},
                                                     paid_on__gte=min(start_of.values()), paid_on__lte=as_of)
                              .order_by("loan_id", "paid_on", "pk").values_list("loan_id", "paid_on", "amount_fen")):
            paid[loan_id].append((d, int(a)))
    performing: list[int] = []
    for plan in plans:
        checked += 1
        start = start_of[plan.pk]
        rows = instalments[plan.pk]
        pays = [pp.Payment(paid_on=d, amount_fen=a) for d, a in paid[plan.case.loan_id] if d >= start]
        _instalments_mark_paid(rows, pays, start=start, as_of=as_of)
        watch = pp.watch_plan(instalments=rows, payments=pays, as_of=as_of, grace_days=grace, start=start)
        if watch.status is pp.PlanStatus.PERFORMING or (watch.status is pp.PlanStatus.BROKEN and not may_break):
            performing.append(plan.pk)
            continue
        with transaction.atomic():
            p = _lock(plan, None)
            if p.plan_status != PlanStatus.PERFORMING:
                continue
            old = snapshot(p, PROPOSAL_FIELDS)
            p.plan_checked_on = as_of
            p.version += 1
            if watch.status is pp.PlanStatus.BROKEN:
                p.plan_status = PlanStatus.BROKEN
                p.broken_on = watch.broken_on
                p.broken_seq = watch.first_missed_seq
                p.save(update_fields=["plan_status", "plan_checked_on", "broken_on", "broken_seq", "version"])
                audit_log(actor=None, action="plan.broken", object_type="plan", object_id=p.pk, old=old,
                          new={**snapshot(p, PROPOSAL_FIELDS), "first_missed_seq": watch.first_missed_seq,
                               "first_missed_due": str(watch.first_missed_due), "paid_fen": watch.paid_fen,
                               "due_fen": watch.due_fen, "as_of": as_of.isoformat()})
                case = Case.objects.select_related("collector", "collector__user").get(pk=p.case_id)
                if case.status == CaseStatus.RESTRUCTURED:
                    case_transition(case=case, target=CaseStatus.IN_PROGRESS, acting_user=None, on=as_of)
                _follow_up_task(
                    case=case,
                    title=_("Plan broken: instalment %(seq)s due %(due)s was missed")
                    % {"seq": watch.first_missed_seq, "due": watch.first_missed_due},
                    due_on=as_of + timedelta(days=1),
                )
                broken += 1
                broken_ids.append(p.pk)
            else:
                p.plan_status = PlanStatus.COMPLETED
                p.save(update_fields=["plan_status", "plan_checked_on", "version"])
                audit_log(actor=None, action="plan.completed", object_type="plan", object_id=p.pk, old=old,
                          new={**snapshot(p, PROPOSAL_FIELDS), "paid_fen": watch.paid_fen, "as_of": as_of.isoformat()})
                completed += 1
    for chunk in range(0, len(performing), 5_000):
        RestructuringProposal.objects.filter(pk__in=performing[chunk:chunk + 5_000],
                                             plan_status=PlanStatus.PERFORMING).update(plan_checked_on=as_of)
    return WatchResult(checked=checked, broken=broken, completed=completed, broken_ids=tuple(broken_ids))


def promises_watch(*, as_of: date, grace_days: int | None = None, case_ids: Iterable[int] | None = None,
                   may_break: bool = True) -> dict[str, int]:
    """Decide open promises to pay (of ``case_ids`` when given) from the payments (with a grace period)
    on business date ``as_of``.

    Kept: the payments from the day of the promise reach the amount by the promised date + grace.
    Partial or nothing paid after the grace period: broken (unless ``may_break`` is false: a same-day
    payment keeps promises, breaking stays with the nightly watch); the case leaves "promise to pay"
    and the collector gets a follow-up task. Pending promises are left open.
    """
    grace = int(sel.plans_setting("promise_grace_days", sel.DEFAULT_PROMISE_GRACE_DAYS)) if grace_days is None else grace_days
    counts = {"kept": 0, "broken": 0, "pending": 0}
    outcomes = sel.open_promise_outcomes(as_of=as_of, grace_days=grace, case_ids=case_ids)
    decided = [(p, o) for p, o in outcomes if o.is_resolved and (may_break or not o.is_broken)]
    counts["pending"] = len(outcomes) - len(decided)
    # kept promises change nothing but themselves: decided together (a same-day file keeps thousands at
    # once), a statement and an audit row each
    counts["kept"] = _promises_kept([(p, o) for p, o in decided if o.status is pp.PromiseStatus.KEPT], as_of=as_of)
    for promise, outcome in decided:
        if outcome.status is pp.PromiseStatus.KEPT:
            continue
        status = PromiseToPay.Status.BROKEN
        with transaction.atomic():
            updated = PromiseToPay.objects.filter(pk=promise.pk, status=PromiseToPay.Status.OPEN).update(
                status=status, paid_fen=outcome.paid_fen, resolved_on=outcome.resolved_on)
            if not updated:
                continue
            audit_log(actor=None, action=f"promise.{status}", object_type="case", object_id=promise.case_id,
                      new=_promise_audit(promise, outcome, as_of))
            case = Case.objects.select_related("collector", "collector__user").get(pk=promise.case_id)
            if case.status == CaseStatus.PROMISE:
                case_transition(case=case, target=CaseStatus.IN_PROGRESS, acting_user=None, on=as_of)
            _follow_up_task(
                case=case,
                title=_("Promise of %(date)s not kept: follow up") % {"date": promise.due_on.isoformat()},
                due_on=as_of + timedelta(days=1),
            )
        counts["broken"] += 1
    return counts


def _promise_audit(promise: PromiseToPay, outcome: pp.PromiseOutcome, as_of: date) -> dict[str, Any]:
    return {"promise": promise.pk, "outcome": outcome.status.value, "paid_fen": outcome.paid_fen,
            "amount_fen": promise.amount_fen, "deadline": outcome.deadline.isoformat(), "as_of": as_of.isoformat()}


def _promises_kept(decided: list[tuple[PromiseToPay, pp.PromiseOutcome]], *, as_of: date, chunk: int = 2_000) -> int:
    """Mark ``decided`` promises kept (those still open, rows locked), with their audit rows; how many."""
    done = 0
    for start in range(0, len(decided), chunk):
        part = {p.pk: (p, o) for p, o in decided[start:start + chunk]}
        with transaction.atomic():
            still_open = list(PromiseToPay.objects.select_for_update()
                              .filter(pk__in=part, status=PromiseToPay.Status.OPEN).order_by("pk"))
            for promise in still_open:
                outcome = part[promise.pk][1]
                promise.status, promise.paid_fen = PromiseToPay.Status.KEPT, outcome.paid_fen
                promise.resolved_on = outcome.resolved_on
            PromiseToPay.objects.bulk_update(still_open, ["status", "paid_fen", "resolved_on"])
            AuditEntry.objects.bulk_create([
                AuditEntry(actor=None, actor_label="system", action=f"promise.{PromiseToPay.Status.KEPT}",
                           object_type="case", object_id=str(p.case_id),
                           new=_promise_audit(part[p.pk][0], part[p.pk][1], as_of))
                for p in still_open])
        done += len(still_open)
    return done


def plans_after_nightly(*, as_of: date, now: datetime | None = None, timings: Timings | None = None) -> dict[str, int]:
    """What the plans app does after each nightly cycle for business date ``as_of``: expire unanswered
    offers, watch accepted plans, decide open promises to pay (with the grace period); each step's
    time in ``timings`` when given."""
    with step(timings, "offers_expired_s"):
        counts = {"offers_expired": plans_expire(now=now)}
    with step(timings, "plans_watch_s"):
        watch = plans_watch(as_of=as_of)
    counts.update({"plans_checked": watch.checked, "plans_broken": watch.broken, "plans_completed": watch.completed})
    with step(timings, "promises_watch_s"):
        counts.update({f"promises_{k}": v for k, v in promises_watch(as_of=as_of).items()})
    return counts
