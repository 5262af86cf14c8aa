"""Case endpoints: thin; every fetch goes through the permission-checked helpers."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router
from ninja.responses import Status

from fieldcollect.api.instance import api
from fieldcollect.api.schemas import (
    ERRORS,
    CaseDetailOut,
    CaseListParams,
    CasePageOut,
    ContactCheckIn,
    ContactCheckOut,
    ContactIn,
    ContactOut,
    PromiseIn,
    PromiseOut,
    TaskCompleteIn,
    TaskOut,
    TaskPageOut,
)
from fieldcollect.cases import selectors, services
from fieldcollect.cases.access import (
    access_case_by_id,
    access_task_by_id,
    require_capability,
    tasks_visible_to,
)
from fieldcollect.cases.errors import CaseErrorCode
from fieldcollect.cases.models import Case, ContactAttempt
from fieldcollect.compliance import services as compliance_services
from fieldcollect.core.errors import NotFoundError
from fieldcollect.core.models import User
from fieldcollect.privacy.masking import mask_address, mask_mobile
from fieldcollect.privacy.unmask import api_customer_view

router = Router(tags=["cases"])
tasks_router = Router(tags=["tasks"])


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined,no-any-return]


def _case_out(case: Case, hidden: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The case as the API gives it; ``hidden`` columns (not in the agency's contract) are null."""
    out = {
        "id": case.pk, "loan_id": case.loan_id, "status": case.status, "bucket": case.bucket, "dpd": case.dpd,
        "max_dpd": case.max_dpd, "overdue_fen": case.overdue_fen,
        "outstanding_principal_fen": case.outstanding_principal_fen, "city": case.city,
        "opened_on": case.opened_on, "closed_on": case.closed_on, "agency_id": case.agency_id,
        "collector_id": case.collector_id, "placed_until": case.placed_until, "version": case.version,
    }
    return out | dict.fromkeys(hidden)


def _contact_out(contact: ContactAttempt, *, number_in_clear: bool) -> dict[str, Any]:
    number = contact.number
    if number and not number_in_clear:
        number = mask_mobile(number) if contact.channel in {"phone", "sms"} else mask_address(number)
    return {"id": contact.pk, "case_id": contact.case_id, "channel": contact.channel, "party": contact.party,
            "number": number, "at": contact.at, "connected": contact.connected,
            "conversation": contact.conversation, "outcome": contact.outcome, "notes": contact.notes,
            "agency_id": contact.agency_id, "collector_id": contact.collector_id}


@router.get("", response={200: CasePageOut, **ERRORS}, summary="List my cases")
def list_cases(request: HttpRequest, params: Query[CaseListParams]) -> HttpResponse:
    """The cases the caller may see (an agency its active placements, a collector its assigned
    cases), most days past due first. Page with ``cursor`` (``next_cursor`` of the previous page) or
    ``offset``; ``count`` is the number of matching cases."""
    filters = selectors.CaseFilters(
        bucket=params.bucket, status=params.status, city=params.city, agency_id=params.agency,
        dpd_min=params.dpd_min, dpd_max=params.dpd_max, overdue_min_fen=params.amount_min_fen,
        overdue_max_fen=params.amount_max_fen, include_closed=params.closed,
    )
    page = selectors.case_list(user=_user(request), filters=filters, cursor=params.cursor,
                               limit=params.limit, offset=params.offset, with_count=True, count_cap=None,
                               related=())
    hidden = selectors.hidden_case_fields(_user(request))
    body = {"items": [_case_out(c, hidden) for c in page.items], "count": page.count or 0,
            "next_cursor": page.next_cursor}
    # rendered as is: _case_out builds exactly CasePageOut's fields (the schema fuzz test checks every
    # answer against the OpenAPI document), and validating 20-200 rows again cost more than the query
    return api.create_response(request, body, status=200)


@router.get("/{case_id}", response={200: CaseDetailOut, **ERRORS}, summary="Case detail")
def get_case(request: HttpRequest, case_id: int) -> dict[str, Any]:
    user = _user(request)
    case = access_case_by_id(case_id, user)
    loan = case.loan
    out = _case_out(case, selectors.hidden_case_fields(user))
    view = api_customer_view(user=user, case=case)
    out.update(
        customer=view.fields,
        loan={"loan_id": loan.pk, "product": loan.product, "principal_fen": loan.principal_fen,
              "annual_rate": str(loan.annual_rate), "term_months": loan.term_months, "method": loan.method,
              "disbursed_on": loan.disbursed_on.isoformat()},
        contacts=[_contact_out(c, number_in_clear=user.is_bank_user or "mobile" in view.clear)
                  for c in case.contacts.all()[:100]],
        promises=list(case.promises.all()[:50]),
        open_tasks=list(tasks_visible_to(user).filter(case=case, status="open")[:50]),
    )
    return out


@router.post("/{case_id}/contacts", response={201: ContactOut, **ERRORS}, summary="Record a contact attempt")
def record_contact(request: HttpRequest, case_id: int, payload: ContactIn) -> Status[dict[str, Any]]:
    """Record a call, text, letter, e-mail or field visit after the compliance check. A refused contact
    is not recorded: 422 ``compliance.blocked`` with the rule ids, their explanations (after
    Accept-Language), ``next_allowed_at`` and the stored ``blocked_attempt_id`` in ``error.extra``. A
    field visit (``channel`` ``visit``) needs ``collectors``, ``recording`` and ``appointment_confirmed``
    as the rule pack requires (CN: two certified collectors, recording on, a confirmed appointment)."""
    user = _user(request)
    # the access check is the service's lock query (visible_to): one read of the case, not two
    require_capability(user, "case.contact")
    case = Case(pk=case_id)
    contact = services.contact_record(visible_to=user,
        case=case, acting_user=user, channel=payload.channel, outcome=payload.outcome, party=payload.party,
        number=payload.number, at=payload.at, connected=payload.connected, conversation=payload.conversation,
        notes=payload.notes, expected_version=payload.version, path="api", collectors=payload.collectors,
        recording=payload.recording, appointment_confirmed=payload.appointment_confirmed,
        collector_id=payload.collector_id,
    )
    # a number the caller sent comes back as sent; the debtor's own mobile, filled in by default,
    # only to the bank (an agency sees it masked, as on the case)
    in_clear = user.is_bank_user or bool((payload.number or "").strip())
    return Status(201, _contact_out(contact, number_in_clear=in_clear))


@router.post("/{case_id}/contact-check", response={200: ContactCheckOut, **ERRORS},
             summary="May I contact this debtor now?")
def contact_check(request: HttpRequest, case_id: int, payload: ContactCheckIn) -> dict[str, Any]:
    """The compliance check a contact would go through, without recording anything: allowed, or
    blocked with the rule ids, their explanations (zh-Hans or English after Accept-Language) and the
    next time the same contact would be allowed. Recording a blocked contact
    (``POST /cases/{id}/contacts``) is refused with 422 ``compliance.blocked`` and the same details
    in ``error.extra``."""
    user = _user(request)
    case = access_case_by_id(case_id, user, for_write=True, capability="case.contact")
    verdict = compliance_services.contact_check(case=case, acting_user=user, channel=payload.channel,
                                                party=payload.party, number=payload.number, at=payload.at)
    return {"allowed": verdict.allowed, "rule_ids": verdict.rule_ids, "explanations": verdict.explanations,
            "next_allowed_at": verdict.next_allowed_at, "pack": verdict.decision.pack}


@router.post("/{case_id}/promises", response={201: PromiseOut, **ERRORS}, summary="Record a promise to pay")
def record_promise(request: HttpRequest, case_id: int, payload: PromiseIn) -> Status[Any]:
    user = _user(request)
    case = access_case_by_id(case_id, user, for_write=True, capability="case.promise")
    contact = None
    if payload.contact_id is not None:
        contact = case.contacts.filter(pk=payload.contact_id).first()
        if contact is None:
            raise NotFoundError("Contact not found.", code=CaseErrorCode.CONTACT_NOT_FOUND, extra={"contact_id": payload.contact_id})
    promise = services.promise_record(case=case, acting_user=user, amount_fen=payload.amount_fen,
                                      due_on=payload.due_on, contact=contact, expected_version=payload.version)
    return Status(201, promise)


@tasks_router.get("", response={200: TaskPageOut, **ERRORS}, summary="List my tasks")
def list_tasks(request: HttpRequest, status: str = "open", due_before: date | None = None,
               limit: int = 100) -> dict[str, Any]:
    qs = tasks_visible_to(_user(request))
    if status:
        qs = qs.filter(status=status)
    if due_before is not None:
        qs = qs.filter(due_on__lte=due_before)
    limit = max(1, min(limit, 500))
    return {"items": list(qs.order_by("due_on", "id")[:limit]), "count": qs.count()}


@tasks_router.post("/{task_id}/complete", response={200: TaskOut, **ERRORS}, summary="Complete a task")
def complete_task(request: HttpRequest, task_id: int, payload: TaskCompleteIn) -> Any:
    user = _user(request)
    task = access_task_by_id(task_id, user)
    return services.task_complete(task=task, acting_user=user, result=payload.result)
