"""Agency and collector pages (bank users see every agency; an agency manager its own)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from fieldcollect.agencies import selectors
from fieldcollect.agencies.models import Agency
from fieldcollect.cases.access import has_capability
from fieldcollect.core.models import Role, User


@login_required
def agency_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not has_capability(user, "agency.view"):
        if user.role == Role.AGENCY_MANAGER and user.agency_id is not None:
            return agency_detail(request, user.agency_id)
        return render(request, "error.html", {"message": ""}, status=404)
    today = timezone.localdate()
    agencies = list(selectors.agency_list_with_load(on=today))
    terms = {a.pk: selectors.contract_terms(agency=a, on=today) for a in agencies}
    rows = [(a, terms[a.pk]) for a in agencies]
    return render(request, "agencies/agency_list.html", {"rows": rows, "today": today})


@login_required
def agency_detail(request: HttpRequest, agency_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    allowed = has_capability(user, "agency.view") or (
        user.role == Role.AGENCY_MANAGER and user.agency_id == agency_id
    )
    agency = Agency.objects.filter(pk=agency_id).first() if allowed else None
    if agency is None:
        return render(request, "error.html", {"message": ""}, status=404)
    today = timezone.localdate()
    return render(request, "agencies/agency_detail.html", {
        "agency": agency,
        "terms": selectors.contract_terms(agency=agency, on=today),
        "contracts": agency.contracts.all(),
        "collectors": selectors.collectors_of(agency=agency),
        "open_cases": agency.placements.filter(status="active").count(),
        "today": today,
    })
