"""Complaint pages: thin views over selectors and services.

Staff pages need a login (bank staff see all complaints, an agency manager those about the agency);
the customer's page is reached through the signed feedback link (no account) and refuses a tampered
or expired link with the same page as the feedback link.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fieldcollect.agencies.models import Agency
from fieldcollect.cases.errors import CaseErrorCode
from fieldcollect.cases.models import Case, ContactAttempt
from fieldcollect.complaints import forms, selectors, services
from fieldcollect.complaints.errors import ComplaintErrorCode
from fieldcollect.complaints.models import Category, Complaint, Severity, Source, Status
from fieldcollect.core import params
from fieldcollect.core.denials import require_role
from fieldcollect.core.errors import ApplicationError, NotFoundError
from fieldcollect.core.models import Role, User
from fieldcollect.core.pages import page_view, post_view, request_user
from fieldcollect.portfolio.models import Customer
from fieldcollect.visits.models import FeedbackRequest, VisitReport
from fieldcollect.visits.views import behind_feedback_link


def _require_viewer(user: User) -> None:
    require_role(selectors.can_view_complaints(user))


class ListParams(params.QueryForm):
    status = params.TextParam(max_length=32)
    severity = params.TextParam(max_length=32)
    category = params.TextParam(max_length=32)
    source = params.TextParam(max_length=32)
    agency = params.IdParam()
    overdue = params.FlagParam()
    mine = params.FlagParam()
    q = params.TextParam(max_length=100)


class CaseParams(params.QueryForm):
    case = params.IdParam()


class FeedbackParams(params.QueryForm):
    days = params.IntParam(min_value=1, max_value=730)


class AssignParams(params.QueryForm):
    assignee = params.IdParam(required=True)


@page_view
def complaint_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    _require_viewer(user)
    g = ListParams.parse(request.GET)
    filters = selectors.Filters(status=g["status"], severity=g["severity"], category=g["category"],
                                source=g["source"], agency_id=g["agency"], overdue=g["overdue"], mine=g["mine"],
                                q=g["q"])
    return render(request, "complaints/list.html", {
        "rows": selectors.complaint_list(user=user, filters=filters), "f": filters,
        "statuses": Status.choices, "severities": Severity.choices, "categories": Category.choices,
        "sources": Source.choices, "agencies": Agency.objects.order_by("agency_id") if user.is_bank_user else [],
        "breaches": selectors.open_breach_count(user=user), "is_handler": services.is_handler(user)})


@page_view
def work_queue(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    _require_viewer(user)
    rows = selectors.work_queue(user=user)
    return render(request, "complaints/queue.html", {
        "rows": rows, "breaches": sum(1 for _c, s in rows if s.breached), "is_handler": services.is_handler(user)})


@page_view
def intake(request: HttpRequest) -> HttpResponse:
    """Hotline and regulator referrals, entered by the complaints staff."""
    user = request_user(request)
    services.require_handler(user)
    # ``?case=<id>`` (from the case page) fills in the case number
    form = forms.IntakeForm(request.POST or None, initial={"case_id": CaseParams.parse(request.GET)["case"]})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        case = customer = None
        if d["case_id"]:
            case = Case.objects.select_related("customer", "agency", "collector").filter(pk=d["case_id"]).first()
            if case is None:
                raise NotFoundError(_("Case not found."), code=CaseErrorCode.NOT_FOUND)
            customer = case.customer
        else:
            customer = Customer.objects.filter(pk=d["customer_id"]).first()
            if customer is None:
                raise NotFoundError(_("Customer not found."), code=CaseErrorCode.CUSTOMER_NOT_FOUND)
        try:
            c = services.complaint_create(
                source=d["source"], customer=customer, case=case, category=d["category"], severity=d["severity"],
                description=d["description"], contact_phone=d["contact_phone"],
                regulator_reference=d["regulator_reference"], received_at=d["received_at"], acting_user=user)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Complaint %(ref)s recorded.") % {"ref": c.reference})
            if c.is_serious:
                messages.warning(request, _("Serious complaint: collection contact with the customer is paused."))
            return redirect("complaints:detail", complaint_id=c.pk)
    return render(request, "complaints/intake.html", {"form": form})


def _handlers() -> list[User]:
    return list(User.objects.filter(is_active=True, role__in=services.HANDLER_ROLES).order_by("username")[:200])


@page_view
def detail(request: HttpRequest, complaint_id: int) -> HttpResponse:
    user = request_user(request)
    _require_viewer(user)
    c = selectors.access_complaint_by_id(complaint_id, user)
    handler = services.is_handler(user)
    ctx = {
        "c": c, "sla": selectors.sla_of(c), "entries": selectors.complaint_entries(complaint=c),
        "audit": selectors.complaint_audit(complaint=c), "evidence": selectors.linked_evidence(complaint=c),
        "is_handler": handler,
        "is_agency": user.role == Role.AGENCY_MANAGER and user.agency_id == c.agency_id,
    }
    if handler:
        ctx |= {"contacts": selectors.linkable_contacts(complaint=c),
                "reports": selectors.linkable_visit_reports(complaint=c), "handlers": _handlers(),
                "severity_form": forms.SeverityForm(initial={"severity": c.severity}),
                "entry_form": forms.EntryForm(), "resolve_form": forms.ResolveForm(),
                "answer_form": forms.StaffAnswerForm()}
    if ctx["is_agency"]:
        ctx["agency_form"] = forms.AgencyResponseForm(initial={"response": c.agency_response})
    return render(request, "complaints/detail.html", ctx)


def _cleaned(form: Form, message: str, code: ComplaintErrorCode) -> dict[str, Any]:
    """The posted form's values; the refusal ``message`` when it does not validate."""
    if not form.is_valid():
        raise ApplicationError(message, code=code)
    return form.cleaned_data


@post_view
def act(request: HttpRequest, complaint_id: int, action: str) -> HttpResponse:
    user = request_user(request)
    _require_viewer(user)
    c = selectors.access_complaint_by_id(complaint_id, user)
    p = request.POST
    if action == "agency_response":
        d = _cleaned(forms.AgencyResponseForm(p),
                     _("Write the agency's response."), ComplaintErrorCode.EMPTY_RESPONSE)
        services.complaint_agency_respond(complaint=c, response=d["response"], acting_user=user)
        messages.success(request, _("Response saved."))
        return redirect("complaints:detail", complaint_id=c.pk)
    services.require_handler(user)
    if action == "acknowledge":
        services.complaint_acknowledge(complaint=c, acting_user=user)
        messages.success(request, _("Complaint acknowledged."))
    elif action == "assign":
        assignee = User.objects.filter(pk=AssignParams.parse(p)["assignee"]).first()
        if assignee is None:
            raise ApplicationError(_("Assign the complaint to a member of the complaints staff."),
                                   code=ComplaintErrorCode.ASSIGNEE)
        services.complaint_assign(complaint=c, assignee=assignee, acting_user=user)
        messages.success(request, _("Complaint assigned."))
    elif action == "severity":
        d = _cleaned(forms.SeverityForm(p),
                     _("Choose a severity and give a reason."), ComplaintErrorCode.SEVERITY)
        services.complaint_set_severity(complaint=c, severity=d["severity"], reason=d["reason"], acting_user=user)
        messages.success(request, _("Severity changed."))
    elif action == "entry":
        d = _cleaned(forms.EntryForm(p),
                     _("Write a note or link a contact or a visit."), ComplaintErrorCode.EMPTY_ENTRY)
        contact = ContactAttempt.objects.select_related("case").filter(pk=d["contact"]).first() \
            if d["contact"] else None
        report = VisitReport.objects.select_related("case").filter(pk=d["visit_report"]).first() \
            if d["visit_report"] else None
        services.complaint_add_entry(complaint=c, acting_user=user, note=d["note"], contact=contact,
                                     visit_report=report)
        messages.success(request, _("Investigation step added."))
    elif action == "resolve":
        d = _cleaned(forms.ResolveForm(p),
                     _("Fill in the finding, the root cause and the resolution."), ComplaintErrorCode.RESOLUTION)
        services.complaint_resolve(complaint=c, acting_user=user, **d)
        messages.success(request, _("Complaint resolved; the pause on contact is lifted."))
    elif action == "answer":
        d = _cleaned(forms.StaffAnswerForm(p), _("Choose the customer's answer."), ComplaintErrorCode.ANSWER)
        services.complaint_customer_answer(complaint=c, answer=d["answer"], note=d["note"], acting_user=user)
        messages.success(request, _("The customer's answer is recorded."))
    else:
        raise Http404
    return redirect("complaints:detail", complaint_id=c.pk)


@page_view
def feedback_summary(request: HttpRequest) -> HttpResponse:
    """Customer feedback per agency and per collector over the last N days."""
    user = request_user(request)
    _require_viewer(user)
    days = FeedbackParams.parse(request.GET)["days"] or 90
    end = timezone.localdate()
    start = end - timedelta(days=days - 1)
    agency = None if user.is_bank_user else user.agency_id
    return render(request, "complaints/feedback.html", {
        "days": days, "start": start, "end": end,
        "by_agency": selectors.feedback_summary(start=start, end=end, by="agency", agency=agency),
        "by_collector": selectors.feedback_summary(start=start, end=end, by="collector", agency=agency)})


# ---------------------------------------------------------------- the customer's page (signed link)

def _customer_page(request: HttpRequest, token: str, complaint: Complaint | None, *, form: Form, answer_form: Form,
                   error: str, status: int) -> HttpResponse:
    return render(request, "complaints/customer.html",
                  {"c": complaint, "form": form, "answer_form": answer_form, "token": token, "error": error},
                  status=status)


@behind_feedback_link
def customer_file(request: HttpRequest, token: str, fb: FeedbackRequest) -> HttpResponse:
    """File a complaint through the feedback link (once), then follow it and answer its resolution."""
    complaint = Complaint.objects.filter(feedback=fb).first()
    form = forms.CustomerComplaintForm(request.POST or None)
    error, status = "", 200
    if request.method == "POST":
        if complaint is not None:
            error, status = _("A complaint was already filed from this link."), 409
        elif form.is_valid():
            try:
                services.complaint_file_from_feedback(feedback=fb, category=form.cleaned_data["category"],
                                                      description=form.cleaned_data["description"])
            except ApplicationError as exc:
                error, status = exc.message, exc.status_code
            else:
                return redirect("complaints:customer_file", token=token)
        else:
            error, status = _("Choose what happened and tell us more."), 400
        complaint = Complaint.objects.filter(feedback=fb).first()
    return _customer_page(request, token, complaint, form=form, answer_form=forms.CustomerAnswerForm(),
                          error=error, status=status)


@require_POST
@behind_feedback_link
def customer_answer(request: HttpRequest, token: str, fb: FeedbackRequest) -> HttpResponse:
    complaint = Complaint.objects.filter(feedback=fb).first()
    if complaint is None:
        return redirect("complaints:customer_file", token=token)
    f = forms.CustomerAnswerForm(request.POST)
    error, status = "", 200
    if f.is_valid():
        try:
            services.complaint_customer_answer(complaint=complaint, answer=f.cleaned_data["answer"],
                                               note=f.cleaned_data["note"], acting_user=None)
        except ApplicationError as exc:
            error, status = exc.message, exc.status_code
        else:
            return redirect("complaints:customer_file", token=token)
    else:
        error, status = _("Choose your answer."), 400
    complaint.refresh_from_db()
    return _customer_page(request, token, complaint, form=forms.CustomerComplaintForm(), answer_form=f,
                          error=error, status=status)
