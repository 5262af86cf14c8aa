"""Case pages: thin views over access helpers, selectors and services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fieldcollect.agencies.errors import AgencyErrorCode
from fieldcollect.agencies.models import Agency, Collector
from fieldcollect.cases import forms, hub, selectors, services
from fieldcollect.cases.access import access_case_by_id, access_task_by_id, has_capability
from fieldcollect.cases.lifecycle import CaseStatus
from fieldcollect.cases.models import Case, Task
from fieldcollect.cases.results_import import COLUMNS, MAX_BYTES, REASONS, importing_agency, results_import
from fieldcollect.core import params
from fieldcollect.core.bank_time import bank_time_zone_name
from fieldcollect.core.errors import ApplicationError, NotFoundError
from fieldcollect.core.models import User
from fieldcollect.core.pages import page_view, post_view
from fieldcollect.core.pages import request_user as _user
from fieldcollect.privacy.unmask import UnmaskForm, page_customer_view, pii_unmask

BUCKETS = ["M1", "M2", "M3", "M4", "M5", "M6", "M6+"]


class TimelineParams(params.QueryForm):
    timeline = params.IntParam(min_value=1, max_value=hub.TIMELINE_MAX_PAGES)  # the page of the timeline


@page_view
def case_list(request: HttpRequest) -> HttpResponse:
    """Bank: every case with filters; agency manager: its placed cases; collector: its assigned cases.
    Keyset paging ("more" appends the next page through htmx). A bad filter value is a 400 naming it."""
    user = _user(request)
    filters = forms.CaseListParams.filters(request.GET)
    cursor = request.GET.get("after") or None
    # an agency's or a collector's list is bounded by its placements: count it exactly; the bank's
    # list may span 500,000 cases: count up to a cap ("1,000+") so the page stays fast
    page = selectors.case_list(user=user, filters=filters, cursor=cursor, limit=50, with_count=cursor is None,
                               count_cap=None if user.is_agency_user else selectors.COUNT_CAP)
    query = request.GET.copy()
    query.pop("after", None)
    ctx: dict[str, Any] = {
        "page": page,
        "filters": filters,
        "params": request.GET,
        "query": query.urlencode(),
        "buckets": BUCKETS,
        "statuses": CaseStatus.choices,
    }
    if request.htmx and cursor:  # type: ignore[attr-defined]
        return render(request, "cases/_case_rows.html", ctx)
    if user.role == "agency_manager" and user.agency_id is not None:
        ctx["collectors"] = Collector.objects.filter(agency_id=user.agency_id).order_by("collector_id")[:500]
    if user.is_bank_user:
        ctx["agencies"] = Agency.objects.order_by("agency_id").only("agency_id", "name", "name_en")
        ctx["cities"] = selectors.distinct_cities()
    if request.htmx and request.GET.get("partial") == "table":  # type: ignore[attr-defined]
        return render(request, "cases/_case_table.html", ctx)
    return render(request, "cases/case_list.html", ctx)


@page_view
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    user = _user(request)
    case = access_case_by_id(case_id, user)
    today = timezone.localdate()
    ctx: dict[str, Any] = {
        "case": case,
        "pii": (pii := page_customer_view(request, user=user, case=case)),
        "customer": pii.fields,
        "hidden": selectors.hidden_case_fields(user),
        "hub": hub.case_actions(case=case, user=user),
        "timeline": hub.hub_timeline(case=case, user=user, page=TimelineParams.parse(request.GET)["timeline"] or 1),
        "bank_zone": bank_time_zone_name(),
        "debtor_zone": case.customer.timezone or bank_time_zone_name(),
        "history": selectors.loan_history(loan_id=case.loan_id),
        "open_tasks": selectors.open_tasks_for_case(case=case),
        "can": {cap.split(".")[1]: has_capability(user, cap) for cap in (
            "case.assign", "case.contact", "case.promise", "case.note", "case.task", "case.place",
            "case.recall", "case.transition")},
        "contact_form": forms.ContactForm(initial={"version": case.version}),
        "promise_form": forms.PromiseForm(initial={"version": case.version}),
        "note_form": forms.NoteForm(),
        "task_form": forms.TaskForm(initial={"due_on": today}),
        "close_form": forms.CloseForm(initial={"version": case.version}),
        "is_open": case.closed_on is None,
    }
    if case.agency_id is not None and has_capability(user, "case.assign"):
        ctx["collectors"] = [c for c in Collector.objects.filter(agency_id=case.agency_id, active=True)
                             .order_by("collector_id")[:500] if c.qualified_on(today)]
    if case.agency_id is None and has_capability(user, "case.place"):
        ctx["agencies"] = Agency.objects.filter(status=Agency.Status.APPROVED).order_by("agency_id")
    return render(request, "cases/case_detail.html", ctx)


@login_required
@require_POST
def case_unmask(request: HttpRequest, case_id: int) -> HttpResponse:
    """POST ``show`` (fields) + ``purpose``: the case page with those fields in clear (this response only)."""
    user = _user(request)
    try:
        case = access_case_by_id(case_id, user)
        form = UnmaskForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, str(error))
            return redirect(reverse("cases:detail", args=[case_id]))
        view = pii_unmask(user=user, case=case, fields=form.cleaned_data["show"],
                          purpose=form.cleaned_data["purpose"])
    except NotFoundError as exc:
        return render(request, "error.html", {"message": exc.message}, status=404)
    except ApplicationError as exc:
        return render(request, "error.html", {"message": exc.message}, status=exc.status_code)
    request.pii_view = view  # type: ignore[attr-defined]
    response = case_detail(request, case_id)
    response["Cache-Control"] = "no-store"
    return response


def _back(case_id: int) -> HttpResponseRedirect:
    return redirect(reverse("cases:detail", args=[case_id]))


def _act(request: HttpRequest, case_id: int, capability: str,
         form_class: type[Any], do: Callable[[Case, User, Any], str]) -> HttpResponse:
    """Shared POST handling: permission-checked fetch, form validation, service call, message."""
    user = _user(request)
    try:
        case = access_case_by_id(case_id, user, for_write=True, capability=capability)
    except NotFoundError as exc:
        return render(request, "error.html", {"message": exc.message}, status=404)
    except ApplicationError as exc:
        return render(request, "error.html", {"message": exc.message}, status=exc.status_code)
    form = form_class(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for error in errors:
                messages.error(request, f"{label}: {error}" if label else str(error))
        return _back(case_id)
    try:
        messages.success(request, do(case, user, form))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return _back(case_id)


@login_required
@require_POST
def case_contact(request: HttpRequest, case_id: int) -> HttpResponse:
    def do(case: Case, user: User, form: forms.ContactForm) -> str:
        d = form.cleaned_data
        services.contact_record(case=case, acting_user=user, channel=d["channel"], party=d["party"],
                                number=d["number"], connected=d["connected"], conversation=d["conversation"],
                                outcome=d["outcome"], notes=d["notes"], expected_version=d["version"],
                                at=d["at"], path="page")
        return _("Contact recorded.")

    return _act(request, case_id, "case.contact", forms.ContactForm, do)


@login_required
@require_POST
def case_promise(request: HttpRequest, case_id: int) -> HttpResponse:
    def do(case: Case, user: User, form: forms.PromiseForm) -> str:
        services.promise_record(case=case, acting_user=user, amount_fen=form.amount_fen,
                                due_on=form.cleaned_data["due_on"], expected_version=form.cleaned_data["version"])
        return _("Promise recorded.")

    return _act(request, case_id, "case.promise", forms.PromiseForm, do)


@login_required
@require_POST
def case_assign(request: HttpRequest, case_id: int) -> HttpResponse:
    def do(case: Case, user: User, form: forms.AssignForm) -> str:
        collector = Collector.objects.filter(pk=form.cleaned_data["collector"]).first()
        if collector is not None and collector.agency_id != case.agency_id:
            collector = None
        if collector is None:
            raise ApplicationError(_("Collector not found."), code=AgencyErrorCode.COLLECTOR_NOT_FOUND)
        services.case_assign(case=case, collector=collector, acting_user=user,
                             expected_version=form.cleaned_data["version"])
        return _("Case assigned to %(name)s.") % {"name": collector.name}

    return _act(request, case_id, "case.assign", forms.AssignForm, do)


@login_required
@require_POST
def case_note(request: HttpRequest, case_id: int) -> HttpResponse:
    def do(case: Case, user: User, form: forms.NoteForm) -> str:
        services.note_add(case=case, acting_user=user, body=form.cleaned_data["body"])
        return _("Note added.")

    return _act(request, case_id, "case.note", forms.NoteForm, do)


@login_required
@require_POST
def case_task(request: HttpRequest, case_id: int) -> HttpResponse:
    def do(case: Case, user: User, form: forms.TaskForm) -> str:
        d = form.cleaned_data
        services.task_create(case=case, acting_user=user, title=d["title"], due_on=d["due_on"], kind=d["kind"])
        return _("Task created.")

    return _act(request, case_id, "case.task", forms.TaskForm, do)


@login_required
@require_POST
def case_place(request: HttpRequest, case_id: int) -> HttpResponse:
    def do(case: Case, user: User, form: forms.PlaceForm) -> str:
        agency = Agency.objects.filter(pk=form.cleaned_data["agency"]).first()
        if agency is None:
            raise ApplicationError(_("Agency not found."), code=AgencyErrorCode.NOT_FOUND)
        d = form.cleaned_data
        services.case_place(case=case, agency=agency, acting_user=user, days=d["days"],
                            expected_version=d["version"],
                            override_reason=d["override_reason"] if d["override_customer"] else None)
        return _("Case placed with %(name)s.") % {"name": agency.name}

    return _act(request, case_id, "case.place", forms.PlaceForm, do)


@login_required
@require_POST
def case_recall(request: HttpRequest, case_id: int) -> HttpResponse:
    def do(case: Case, user: User, form: forms.RecallForm) -> str:
        services.case_recall(case=case, reason=form.cleaned_data["reason"], acting_user=user,
                             expected_version=form.cleaned_data["version"])
        return _("Case recalled.")

    return _act(request, case_id, "case.recall", forms.RecallForm, do)


@login_required
@require_POST
def case_close(request: HttpRequest, case_id: int) -> HttpResponse:
    def do(case: Case, user: User, form: forms.CloseForm) -> str:
        services.case_transition(case=case, target=CaseStatus.CLOSED, acting_user=user,
                                 close_reason=form.cleaned_data["close_reason"],
                                 expected_version=form.cleaned_data["version"])
        return _("Case closed.")

    return _act(request, case_id, "case.transition", forms.CloseForm, do)


@login_required
def task_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", Task.Status.OPEN)
    if status not in Task.Status.values and status != "":
        status = Task.Status.OPEN
    tasks = selectors.task_list(user=_user(request), status=status)
    return render(request, "cases/task_list.html", {"tasks": tasks, "status": status,
                                                     "statuses": Task.Status.choices,
                                                     "today": timezone.localdate()})


@post_view
def task_complete(request: HttpRequest, task_id: int) -> HttpResponse:
    user = _user(request)
    task = access_task_by_id(task_id, user)
    form = forms.TaskCompleteForm(request.POST)
    result = form.cleaned_data["result"] if form.is_valid() else ""
    try:
        task = services.task_complete(task=task, acting_user=user, result=result)
        messages.success(request, _("Task completed."))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    if request.htmx:  # type: ignore[attr-defined]
        task.refresh_from_db()
        return render(request, "cases/_task_row.html", {"task": task, "today": timezone.localdate()})
    nxt = request.POST.get("next", "")
    if nxt.startswith("/") and not nxt.startswith("//"):
        return redirect(nxt)
    return redirect(reverse("cases:tasks"))


@page_view
def results_import_page(request: HttpRequest) -> HttpResponse:
    """An agency manager uploads the agency's work results (催记): the answer lists the refused rows with
    their row, column and reason; every other user gets 403."""
    user = _user(request)
    agency = importing_agency(user)
    result = None
    form = forms.ResultsUploadForm()
    if request.method == "POST":
        form = forms.ResultsUploadForm(request.POST, request.FILES)
        upload = request.FILES.get("file")
        if form.is_valid() and upload is not None:
            if upload.size is not None and upload.size > MAX_BYTES:
                messages.error(request, _("The file is too large (at most %(mb)d MB).") % {"mb": MAX_BYTES // 2**20})
            else:
                try:
                    result = results_import(agency=agency, data=upload.read(), filename=upload.name or "",
                                            acting_user=user)
                except ApplicationError as exc:
                    messages.error(request, exc.message)
        else:
            messages.error(request, _("Choose a file."))
    rejected = [{**r.as_dict(), "text": REASONS.get(r.reason, r.reason)} for r in result.rejected[:1000]] \
        if result is not None else []
    return render(request, "cases/results_import.html", {
        "form": form, "result": result, "rejected": rejected, "columns": COLUMNS,
        "more_rejected": max(0, len(result.rejected) - len(rejected)) if result is not None else 0,
    }, status=200)
