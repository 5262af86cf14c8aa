"""Data-sharing pages: deletion attestations (agency managers attest, the bank watches the overdue),
sub-processors per agency, the register of exports, and the watermarked case export."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from fieldcollect.agencies.selectors import DEFAULT_PERMITTED_FIELDS
from fieldcollect.core.errors import ApplicationError, CommonErrorCode, NotFoundError
from fieldcollect.core.models import Role
from fieldcollect.core.pages import errors_as_pages, page_view, post_view, request_user
from fieldcollect.privacy import selectors, services
from fieldcollect.privacy.case_export import case_export
from fieldcollect.privacy.errors import PrivacyErrorCode
from fieldcollect.privacy.models import DeletionAttestation
from fieldcollect.privacy.unmask import field_label


@page_view
def attestation_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    today = timezone.localdate()
    overdue = request.GET.get("overdue") == "1"
    rows = (selectors.attestations_overdue(user=user, today=today) if overdue
            else selectors.attestations_visible_to(user))
    if not (user.is_bank_user or user.role == Role.AGENCY_MANAGER):
        raise NotFoundError("", code=CommonErrorCode.NOT_FOUND)
    return render(request, "privacy/attestation_list.html", {
        "rows": rows, "overdue": overdue, "today": today,
        "overdue_count": selectors.attestations_overdue(user=user, today=today).count()})


@page_view
def attestation_detail(request: HttpRequest, attestation_id: int) -> HttpResponse:
    user = request_user(request)
    att = selectors.access_attestation_by_id(attestation_id, user)
    error = ""
    if request.method == "POST":
        services.deletion_attest(attestation=att, acting_user=user, statement=request.POST.get("statement", ""))
        return redirect("privacy:attestation", attestation_id=att.pk)
    can_attest = (att.status == DeletionAttestation.Status.OPEN and user.role == Role.AGENCY_MANAGER
                  and user.agency_id == att.agency_id)
    return render(request, "privacy/attestation_detail.html", {
        "att": att, "items": att.items.all(), "can_attest": can_attest, "error": error,
        "today": timezone.localdate()})


@page_view
def sub_processor_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if not (user.is_bank_user or user.role == Role.AGENCY_MANAGER):
        raise NotFoundError("", code=CommonErrorCode.NOT_FOUND)
    if request.method == "POST":
        services.sub_processor_register(
            acting_user=user, name=request.POST.get("name", ""), service=request.POST.get("service", ""),
            location=request.POST.get("location", ""),
            data_categories=[c for c in request.POST.getlist("data_categories") if c in DEFAULT_PERMITTED_FIELDS
                             or c == "id_number"])
        return redirect("privacy:sub_processors")
    return render(request, "privacy/sub_processor_list.html", {
        "rows": selectors.sub_processors_visible_to(user),
        "can_register": user.role == Role.AGENCY_MANAGER and user.agency_id is not None,
        "categories": [*DEFAULT_PERMITTED_FIELDS, "id_number"]})


@post_view
def sub_processor_end(request: HttpRequest, sub_processor_id: int) -> HttpResponse:
    services.sub_processor_end(sub_processor_id=sub_processor_id, acting_user=request_user(request))
    return redirect("privacy:sub_processors")


@page_view
def export_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    return render(request, "privacy/export_list.html", {
        "rows": selectors.export_records_visible_to(user)[:500], "can_unmask": user.is_bank_user,
        "clear_choices": [(f, field_label(f)) for f in ("name", "mobile", "address")]})


@login_required
@require_http_methods(["GET", "POST"])
@errors_as_pages
def export_cases(request: HttpRequest, fmt: str) -> HttpResponseBase:
    """The open cases the user may see, as a watermarked, fingerprinted CSV or XLSX, streamed.

    ``purpose`` (required) and, for bank staff, ``show`` (fields in clear; POST from the export
    register's form only, with a purpose of at least 10 characters). Customer values are masked as on
    the pages (see :mod:`fieldcollect.privacy.case_export`)."""
    user = request_user(request)
    if fmt not in ("csv", "xlsx"):
        raise NotFoundError("", code=CommonErrorCode.NOT_FOUND)
    params = request.POST if request.method == "POST" else request.GET
    show = params.getlist("show")
    if show and request.method != "POST":
        raise ApplicationError(_("Data in clear is exported only with the form on the export register."),
                               code=PrivacyErrorCode.EXPORT_UNMASK_POST)
    _record, chunks = case_export(user=user, purpose=params.get("purpose", ""), show=show,
                                  fmt="csv" if fmt == "csv" else "xlsx")
    content_type = ("text/csv; charset=utf-8" if fmt == "csv"
                    else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    resp = StreamingHttpResponse(chunks, content_type=content_type)
    resp["Content-Disposition"] = f'attachment; filename="cases-{timezone.localdate():%Y%m%d}.{fmt}"'
    resp["Cache-Control"] = "no-store"
    return resp
