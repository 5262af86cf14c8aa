"""Visit pages: thin views over access helpers, selectors and services.

Staff pages need a login; the customer's appointment and feedback pages are reached through a signed,
expiring link (no account) and refuse a tampered or expired link with a clear page.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from fieldcollect.agencies.models import Agency, Collector
from fieldcollect.cases.access import access_case_by_id, cases_visible_to
from fieldcollect.cases.selectors import label_case_rows, permitted_fields_of
from fieldcollect.compliance.engine import zone
from fieldcollect.core import params
from fieldcollect.core.bank_time import bank_time_zone_name
from fieldcollect.core.errors import ApplicationError, PermissionDeniedError
from fieldcollect.core.link_pages import behind_link, refused_page
from fieldcollect.core.maptiles import tile_config
from fieldcollect.core.models import Role, User
from fieldcollect.core.pages import errors_as_pages as _errors_as_pages
from fieldcollect.core.pages import page_view, post_view
from fieldcollect.core.pages import request_user as _user
from fieldcollect.privacy.masking import mask_name
from fieldcollect.visits import forms, links, selectors, services
from fieldcollect.visits.errors import VisitErrorCode as E
from fieldcollect.visits.evidence import EvidenceUploadHandler, SealedUpload, body_too_large
from fieldcollect.visits.models import (
    Appointment,
    Evidence,
    FeedbackRequest,
    Met,
    RoutePlan,
    VisitOutcome,
    VisitReport,
)


class DayParams(params.QueryForm):
    date = params.DateParam()
    city = params.TextParam(max_length=64)


class ConfirmParams(params.QueryForm):
    window = params.IntParam(min_value=0, max_value=100)  # the number of the proposed window chosen


def _day(request: HttpRequest) -> date:
    """``?date=YYYY-MM-DD`` (or the form's ``date``), today without one; a bad value is a 400."""
    return DayParams.parse(request.GET)["date"] or DayParams.parse(request.POST)["date"] or timezone.localdate()


def _collector(user: User) -> Collector:
    collector = Collector.objects.filter(user=user).first()
    if collector is None:
        raise PermissionDeniedError(_("Only a field collector can do this."), code=E.NOT_COLLECTOR)
    return collector


def _manager_agency(user: User) -> Agency:
    if user.role != Role.AGENCY_MANAGER or user.agency_id is None:
        raise PermissionDeniedError(_("Only an agency manager can see this page."), code=E.NOT_MANAGER)
    return Agency.objects.get(pk=user.agency_id)


# ---------------------------------------------------------------- collector

@page_view
def day_plan(request: HttpRequest) -> HttpResponse:
    """The collector's day: the team, ordered stops with times, and a map."""
    user = _user(request)
    collector = _collector(user)
    day = _day(request)
    cases = list(cases_visible_to(user).select_related("customer").order_by("-dpd", "pk")[:30])
    label_case_rows(user=user, cases=cases)
    d = selectors.collector_day(user=user, collector=collector, day=day)
    selectors.label_stops(user=user, stops=d.stops)
    permitted = permitted_fields_of(user)
    return render(request, "visits/day_plan.html", {"d": d, "day": day, "cases": cases, "map_tiles": tile_config(),
                                                    "show_district": permitted is None or "district" in permitted})


@page_view
def case_visit(request: HttpRequest, case_id: int) -> HttpResponse:
    """A case's appointments, check-ins and reports, with the forms to propose, check in and report."""
    user = _user(request)
    case = access_case_by_id(case_id, user)
    ctx: dict[str, Any] = {"case": case, **selectors.case_visits(case=case, user=user),
                           "propose_form": forms.ProposeForm(), "start_form": forms.ReportStartForm(),
                           "is_collector": selectors.can_do_field_work(user), "met_choices": Met.choices,
                           "tz": case.customer.timezone}
    return render(request, "visits/case_visit.html", ctx)


@post_view
def propose(request: HttpRequest, case_id: int) -> HttpResponse:
    user = _user(request)
    case = access_case_by_id(case_id, user, for_write=True, capability="case.contact")
    form = forms.ProposeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Check the windows."))
    else:
        try:
            # the customer's token goes to the customer only (outbox SMS): never to the proposer
            services.appointment_propose(
                case=case, acting_user=user, windows=form.windows(case.customer.timezone or bank_time_zone_name()))
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Appointment proposed; the customer gets the link by SMS."))
    return redirect("visits:case", case_id=case.pk)


@post_view
def cancel(request: HttpRequest, appointment_id: int) -> HttpResponse:
    user = _user(request)
    appointment = get_object_or_404(Appointment, pk=appointment_id)
    access_case_by_id(appointment.case_id, user, for_write=True, capability="case.contact")
    plan = services.appointment_cancel(appointment=appointment, acting_user=user,
                                       reason=request.POST.get("reason", ""))
    messages.success(request, _("Appointment cancelled.") + (" " + _("The day was re-planned.") if plan else ""))
    return redirect("visits:case", case_id=appointment.case_id)


@page_view
def checkin(request: HttpRequest, case_id: int) -> HttpResponse:
    """Check-in at the customer's address: the browser's position, or typed in when it is unavailable."""
    user = _user(request)
    case = access_case_by_id(case_id, user, for_write=request.method == "POST", capability="case.contact")
    form = forms.CheckInForm(request.POST or None)
    result = None
    status = 200
    if request.method == "POST" and form.is_valid():
        result = services.checkin_record(case=case, acting_user=user, lat=form.cleaned_data["lat"],
                                         lon=form.cleaned_data["lon"], accuracy_m=form.cleaned_data["accuracy"],
                                         manual=bool(form.cleaned_data.get("manual")),
                                         coord_system=form.cleaned_data["coord_system"])
        if request.htmx:  # type: ignore[attr-defined]
            return render(request, "visits/_checkin_result.html", {"c": result, "fence": services.geofence_m()})
    elif request.method == "POST":
        status = 400  # the form names each field and its reason
        if request.htmx:  # type: ignore[attr-defined]
            return render(request, "visits/_checkin_errors.html", {"form": form}, status=status)
    return render(request, "visits/checkin.html", {"case": case, "form": form, "c": result,
                                                   "fence": services.geofence_m()}, status=status)


@post_view
def report_start(request: HttpRequest, case_id: int) -> HttpResponse:
    user = _user(request)
    case = access_case_by_id(case_id, user, for_write=True, capability="case.contact")
    form = forms.ReportStartForm(request.POST)
    form.is_valid()
    try:
        # recording is not ticked: the app and the collector record the visit, and the report closes
        # only once a recording is attached (missing_evidence); the report's "recording" is that fact
        report = services.report_start(case=case, acting_user=user, recording=True,
                                       met=form.cleaned_data.get("met") or "",
                                       identity_check=form.cleaned_data.get("identity_check") or "")
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("visits:case", case_id=case.pk)
    return redirect("visits:report", report_id=report.pk)


def _report_for(request: HttpRequest, report_id: int, *, write: bool) -> VisitReport:
    user = _user(request)
    report = VisitReport.objects.select_related("case", "appointment", "checkin").filter(pk=report_id).first()
    if report is None or not cases_visible_to(user).filter(pk=report.case_id).exists():
        raise Http404
    if write:
        access_case_by_id(report.case_id, user, for_write=True, capability="case.contact")
    return report


@page_view
def report(request: HttpRequest, report_id: int) -> HttpResponse:
    r = _report_for(request, report_id, write=False)
    return render(request, "visits/report.html", {
        "r": r, "evidence": r.evidence.all(), "evidence_form": forms.EvidenceForm(),
        "close_form": forms.CloseForm(), "missing": services.missing_evidence(report=r),
        "can_write": r.created_by_id == request.user.pk and r.status == VisitReport.Status.OPEN,
    })


@login_required
@require_POST
@csrf_exempt  # the CSRF check runs in _evidence_upload, after the upload handler is installed
@_errors_as_pages
def evidence(request: HttpRequest, report_id: int) -> HttpResponse:
    """Add an evidence file. The body is streamed into an encrypted file as it arrives (no copy in
    clear, in memory or in a temporary file), its kind decided from its content, its size bounded
    before it is read (``Content-Length``) and while it is read."""
    r = _report_for(request, report_id, write=True)
    services.evidence_check_can_add(report=r, acting_user=_user(request))  # before any byte is read
    too_large = body_too_large(request.META.get("CONTENT_LENGTH"))
    if too_large is not None:  # refused before the body is read (nothing changes: no CSRF check needed)
        return render(request, "error.html", {"message": too_large.message}, status=too_large.status_code)
    handler = EvidenceUploadHandler(request)
    request.upload_handlers = [handler]
    try:
        return _evidence_upload(request, r, handler)
    finally:  # refused (CSRF, form, rules): the sealed upload is not kept (once stored, nothing is left here)
        if handler.staged is not None:
            handler.staged.discard()


@csrf_protect
def _evidence_upload(request: HttpRequest, r: VisitReport, handler: EvidenceUploadHandler) -> HttpResponse:
    form = forms.EvidenceForm(request.POST, request.FILES)
    error = ""
    upload = request.FILES.get("file")
    if handler.error is not None:
        error = handler.error.message
    elif form.is_valid() and isinstance(upload, SealedUpload):
        try:
            services.evidence_add_staged(report=r, acting_user=_user(request), staged=upload.staged,
                                         name=upload.name or "")
        except ApplicationError as exc:
            error = exc.message
    else:
        error = _("Choose a file.")
    if request.htmx:  # type: ignore[attr-defined]  # 200: htmx swaps the list with the error in it
        return render(request, "visits/_evidence_list.html", {
            "evidence": r.evidence.all(), "error": error, "missing": services.missing_evidence(report=r)})
    if error:
        messages.error(request, error)
    return redirect("visits:report", report_id=r.pk)


@login_required
def evidence_file(request: HttpRequest, evidence_id: int) -> HttpResponseBase:
    """Download an evidence file: only for a user who may see the case, audited, decrypted as sent."""
    user = _user(request)
    ev = Evidence.objects.select_related("report", "report__case").filter(pk=evidence_id).first()
    if ev is None:
        raise Http404
    try:
        access_case_by_id(ev.report.case_id, user)  # 404 for anyone who may not see the case
        chunks = services.evidence_open(evidence=ev, acting_user=user)
    except ApplicationError as exc:
        return render(request, "error.html", {"message": exc.message}, status=exc.status_code)
    response = StreamingHttpResponse(chunks, content_type=ev.content_type or "application/octet-stream")
    response["Content-Length"] = str(ev.size)
    response["Content-Disposition"] = f'attachment; filename="evidence-{ev.pk}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _hardship_url(case_id: int) -> str | None:
    try:
        return reverse("plans:options", args=[case_id])
    except NoReverseMatch:
        return None


@post_view
def report_close(request: HttpRequest, report_id: int) -> HttpResponse:
    r = _report_for(request, report_id, write=True)
    form = forms.CloseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Check the report."))
        return redirect("visits:report", report_id=r.pk)
    try:
        services.report_close(report=r, acting_user=_user(request), outcome=form.cleaned_data["outcome"],
                              notes=form.cleaned_data["notes"],
                              customer_situation=form.cleaned_data["customer_situation"],
                              promise_amount_fen=form.amount_fen(), promise_due_on=form.cleaned_data["promise_due_on"],
                              new_address=form.cleaned_data["new_address"], new_phone=form.cleaned_data["new_phone"])
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("visits:report", report_id=r.pk)
    messages.success(request, _("Visit report closed; follow-up and feedback request created."))
    if form.cleaned_data["outcome"] == VisitOutcome.HARDSHIP:
        url = _hardship_url(r.case_id)
        if url:
            return redirect(url)
    return redirect("visits:case", case_id=r.case_id)


# ---------------------------------------------------------------- agency manager

@page_view
def teams(request: HttpRequest) -> HttpResponse:
    """The manager's day: shifts, teams (paired automatically or by hand) and route planning."""
    user = _user(request)
    agency = _manager_agency(user)
    day = _day(request)
    collectors = [(c.pk, f"{c.name} · {c.city}") for c in Collector.objects.filter(agency=agency, active=True)
                  .order_by("pk")[:500]]
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "shift":
                f = forms.ShiftForm(request.POST, collectors=collectors)
                if f.is_valid():
                    services.shift_set(collector=Collector.objects.get(pk=f.cleaned_data["collector"], agency=agency),
                                       day=day, start=f.cleaned_data["start"], end=f.cleaned_data["end"],
                                       base=f.cleaned_data["base"], acting_user=user)
                    messages.success(request, _("Shift saved."))
            elif action == "auto":
                made = services.teams_pair_automatically(agency=agency, day=day, acting_user=user)
                messages.success(request, _("%(n)d teams paired.") % {"n": len(made)})
            elif action == "pair":
                f2 = forms.PairForm(request.POST, collectors=collectors)
                if f2.is_valid():
                    services.team_create(
                        member_a=Collector.objects.get(pk=f2.cleaned_data["member_a"], agency=agency),
                        member_b=Collector.objects.get(pk=f2.cleaned_data["member_b"], agency=agency),
                        day=day, acting_user=user)
                    messages.success(request, _("Team created."))
            elif action == "plan":
                cities = sorted({t.city for t in selectors.teams_on(agency_id=agency.pk, day=day)})
                plans = [p for city in cities for p in services.route_plans_build(
                    agency=agency, city=city, day=day, acting_user=user)]
                messages.success(request, _("%(n)d route plans made.") % {"n": len(plans)})
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect(f"{reverse('visits:teams')}?date={day.isoformat()}")
    return render(request, "visits/teams.html", {
        "day": day, "teams": selectors.teams_on(agency_id=agency.pk, day=day),
        "shifts": selectors.shifts_on(agency_id=agency.pk, day=day),
        "shift_form": forms.ShiftForm(collectors=collectors), "pair_form": forms.PairForm(collectors=collectors),
    })


@page_view
def manager_map(request: HttpRequest) -> HttpResponse:
    """The manager's map of the day: every team's route and every check-in, anomalies listed."""
    user = _user(request)
    agency = _manager_agency(user)
    day = _day(request)
    city = DayParams.parse(request.GET)["city"]
    return render(request, "visits/manager_map.html", {
        "day": day, "city": city, "map_tiles": tile_config(),
        **selectors.manager_day(user=user, agency_id=agency.pk, day=day, city=city)})


@login_required
def plan_geojson(request: HttpRequest, plan_id: int) -> HttpResponse:
    user = _user(request)
    plan = get_object_or_404(RoutePlan.objects.select_related("team"), pk=plan_id)
    collector = Collector.objects.filter(user=user).first()
    allowed = user.is_bank_user or (user.role == Role.AGENCY_MANAGER and user.agency_id == plan.team.agency_id) or (
        collector is not None and collector.pk in plan.team.member_ids)
    if not allowed:
        raise Http404
    return JsonResponse(selectors.plan_geojson(plan=plan, user=user))


# ---------------------------------------------------------------- customer (signed links)

def _refused(request: HttpRequest, exc: links.LinkError) -> HttpResponse:
    return refused_page(request, exc, template="visits/link_refused.html", invalid_status=404)


def _feedback_refused(request: HttpRequest, exc: links.LinkError) -> HttpResponse:
    return refused_page(request, exc, template="visits/link_refused.html", invalid_status=404,
                        context={"feedback": True})


_behind_appointment_link = behind_link(services.appointment_from_token, _refused)
# the pages behind a feedback link: the feedback page here and the complaint pages of ``complaints.views``
behind_feedback_link = behind_link(services.feedback_from_token, _feedback_refused)


def _customer_ctx(appointment: Appointment, token: str) -> dict[str, Any]:
    tz = zone(appointment.case.customer.timezone or bank_time_zone_name())
    windows = [(i, s.astimezone(tz), e.astimezone(tz)) for i, (s, e) in
               enumerate(services.appointment_windows(appointment))]
    return {"a": appointment, "token": token, "windows": windows, "tz": tz,
            "masked_name": mask_name(appointment.case.customer.name),
            "chosen_start": appointment.chosen_start.astimezone(tz) if appointment.chosen_start else None,
            "chosen_end": appointment.chosen_end.astimezone(tz) if appointment.chosen_end else None,
            "suggest_form": forms.SuggestForm(), "decline_form": forms.DeclineForm()}


@_behind_appointment_link
def customer(request: HttpRequest, token: str, appointment: Appointment) -> HttpResponse:
    """The customer's page: confirm a proposed time, pick another, or decline."""
    return render(request, "visits/customer.html", _customer_ctx(appointment, token))


@require_POST
@_behind_appointment_link
def customer_answer(request: HttpRequest, token: str, appointment: Appointment, action: str) -> HttpResponse:
    ctx = _customer_ctx(appointment, token)
    try:
        if action == "confirm":
            try:
                window = ConfirmParams.parse(request.POST)["window"]
            except params.InvalidParameters:
                window = None  # not one of the proposed windows: the service says "choose one of them"
            services.appointment_confirm(appointment=appointment, window=-1 if window is None else window)
        elif action == "suggest":
            f = forms.SuggestForm(request.POST)
            if not f.is_valid():
                raise ApplicationError(_("Choose a date and a time."), code=E.APPOINTMENT_INVALID_SUGGESTION)
            start = datetime.combine(f.cleaned_data["date"], f.cleaned_data["start"], tzinfo=ctx["tz"])
            services.appointment_suggest(appointment=appointment, start=start)
        elif action == "decline":
            services.appointment_decline(appointment=appointment, reason=request.POST.get("reason", ""))
        else:
            raise Http404
    except ValueError:
        ctx["error"] = _("Choose one of the proposed times.")
        return render(request, "visits/customer.html", ctx, status=400)
    except ApplicationError as exc:
        ctx["error"] = exc.message
        return render(request, "visits/customer.html", ctx, status=exc.status_code)
    appointment.refresh_from_db()
    return render(request, "visits/customer.html", _customer_ctx(appointment, token))


@behind_feedback_link
def feedback(request: HttpRequest, token: str, fb: FeedbackRequest) -> HttpResponse:
    """The customer's feedback page (phone first). A rating of 1 or "felt threatened" offers a complaint."""
    form = forms.FeedbackForm(request.POST or None)
    error = ""
    status = 200
    if request.method == "POST":
        if not form.is_valid():
            error, status = _("Choose a rating from 1 to 5."), 400
        else:
            try:
                data = form.cleaned_data
                fb = services.feedback_respond(feedback=fb, rating=data["rating"], comment=data["comment"],
                                               polite=data["polite"], clear=data["clear"],
                                               privacy_respected=data["privacy_respected"],
                                               felt_threatened=data["felt_threatened"])
            except ApplicationError as exc:
                error, status = exc.message, exc.status_code
                fb.refresh_from_db()
    try:
        complaint_url = reverse("complaints:customer_file", args=[token])
    except NoReverseMatch:  # the complaints app is not installed
        complaint_url = ""
    return render(request, "visits/feedback.html",
                  {"fb": fb, "form": form, "error": error, "token": token, "complaint_url": complaint_url},
                  status=status)
