"""Agency and collector pages (bank users see every agency; an agency manager its own)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldcollect.agencies import selectors, services
from fieldcollect.agencies.errors import AgencyErrorCode
from fieldcollect.agencies.forms import ContractForm, VersionForm
from fieldcollect.agencies.models import Agency, AgencyContract, AgencyContractVersion
from fieldcollect.cases.access import has_capability
from fieldcollect.core import params
from fieldcollect.core.errors import ApplicationError, NotFoundError, found_or_404
from fieldcollect.core.models import User
from fieldcollect.core.pages import errors_as_messages, page_view, post_view, request_user
from fieldcollect.core.visibility import managed_agency, sees_agency


def _may_see_agency(user: User, agency_id: int) -> bool:
    """The bank's staff who may view agencies, or this agency's manager."""
    return sees_agency(user, agency_id, sees_all=lambda u: has_capability(u, "agency.view"))


@login_required
def agency_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if not has_capability(user, "agency.view"):
        managed = managed_agency(user)
        if managed is not None:
            return agency_detail(request, managed)
        return render(request, "error.html", {"message": ""}, status=404)
    today = timezone.localdate()
    agencies = list(selectors.agency_list_with_load(on=today))
    terms = {a.pk: selectors.contract_terms(agency=a, on=today) for a in agencies}
    rows = [(a, terms[a.pk]) for a in agencies]
    return render(request, "agencies/agency_list.html", {"rows": rows, "today": today})


@login_required
def agency_detail(request: HttpRequest, agency_id: int) -> HttpResponse:
    user = request_user(request)
    agency = Agency.objects.filter(pk=agency_id).first() if _may_see_agency(user, agency_id) else None
    if agency is None:
        return render(request, "error.html", {"message": ""}, status=404)
    today = timezone.localdate()
    return render(request, "agencies/agency_detail.html", {
        "agency": agency,
        "terms": selectors.contract_terms(agency=agency, on=today),
        "contracts": selectors.contracts_with_terms(agency=agency, on=today),
        "can_make": services.may_make(user),
        "collectors": selectors.collectors_of(agency=agency),
        "open_cases": agency.placements.filter(status="active").count(),
        "today": today,
    })


# ---------------------------------------------------------------- contracts (versions, maker-checker)

class DecisionParams(params.QueryForm):
    decision = params.ChoiceParam(choices=[("approve", "approve"), ("reject", "reject"), ("withdraw", "withdraw")],
                                  required=True)
    note = params.TextParam(max_length=500)


def _contract(request: HttpRequest, contract_id: int) -> AgencyContract:
    user = request_user(request)
    contract = AgencyContract.objects.select_related("agency").filter(pk=contract_id).first()
    if contract is None or not _may_see_agency(user, contract.agency_id):
        raise NotFoundError(_("Contract not found."), code=AgencyErrorCode.CONTRACT_NOT_FOUND)
    return contract


def _contract_page(request: HttpRequest, contract: AgencyContract, form: VersionForm | None = None,
                   status: int = 200) -> HttpResponse:
    user = request_user(request)
    today = timezone.localdate()
    base = selectors.version_in_force(contract=contract, on=today) or contract
    if form is None and services.may_make(user):
        form = VersionForm(initial={**VersionForm.initial_from(base), "effective_from": today})
    return render(request, "agencies/contract_detail.html", {
        "contract": contract, "agency": contract.agency, "today": today,
        "terms": selectors.contract_version_terms(contract=contract, on=today),
        "versions": contract.versions.select_related("made_by", "checked_by").order_by("-number"),
        "form": form, "can_make": services.may_make(user), "can_check": services.may_check(user),
        "user_id": user.pk,
    }, status=status)


@page_view
def contract_detail(request: HttpRequest, contract_id: int) -> HttpResponse:
    return _contract_page(request, _contract(request, contract_id))


def _error_on_form(form: Form, exc: ApplicationError) -> None:
    """A write the service refused (400) shown on the form, on the field it names (else on the whole
    form); any other error propagates."""
    if exc.status_code != 400:
        raise exc
    field = exc.extra.get("field")
    form.add_error(field if field in form.fields else None, exc.message)


@post_view
def contract_propose(request: HttpRequest, contract_id: int) -> HttpResponse:
    user = request_user(request)
    contract = _contract(request, contract_id)
    form = VersionForm(request.POST)
    if not form.is_valid():
        return _contract_page(request, contract, form=form, status=400)
    try:
        version = services.contract_version_propose(
            contract=contract, effective_from=form.cleaned_data["effective_from"], changes=form.terms(),
            acting_user=user, note=form.cleaned_data["note"])
    except ApplicationError as exc:
        _error_on_form(form, exc)
        return _contract_page(request, contract, form=form, status=400)
    messages.success(request, _("Version %(n)d proposed: a second person must approve it.") % {"n": version.number})
    return redirect("agencies:contract", contract_id=contract.pk)


@post_view
def version_decide(request: HttpRequest, contract_id: int, version_id: int) -> HttpResponse:
    user = request_user(request)
    contract = _contract(request, contract_id)
    version = found_or_404(AgencyContractVersion.objects.filter(pk=version_id, contract=contract).first(),
                           _("Contract version not found."), code=AgencyErrorCode.CONTRACT_NOT_FOUND)
    form = DecisionParams.parse(request.POST)
    with errors_as_messages(request, 400, 403, 409):
        services.contract_version_decide(version=version, decision=form["decision"], acting_user=user,
                                         note=form["note"])
        messages.success(request, _("Decision recorded."))
    return redirect("agencies:contract", contract_id=contract.pk)


@page_view
def contract_new(request: HttpRequest, agency_id: int) -> HttpResponse:
    user = request_user(request)
    agency = Agency.objects.filter(pk=agency_id).first()
    if agency is None or not _may_see_agency(user, agency_id):
        raise NotFoundError(_("Agency not found."), code=AgencyErrorCode.NOT_FOUND)
    if not services.may_make(user):
        return render(request, "error.html", {"message": _("Your role may not do this.")}, status=403)
    status = 200
    if request.method == "POST":
        form = ContractForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                contract = services.contract_create(agency=agency, reference=d["reference"], starts_on=d["starts_on"],
                                                    ends_on=d["ends_on"], terms=form.terms(), acting_user=user,
                                                    note=d["note"])
            except ApplicationError as exc:
                _error_on_form(form, exc)
            else:
                messages.success(request, _("Contract created as a draft: a second person must approve it."))
                return redirect("agencies:contract", contract_id=contract.pk)
        status = 400
    else:
        form = ContractForm(initial={"placement_days": 60, "max_retentions": 1, "capacity": 0,
                                     "permitted_fields": list(selectors.DEFAULT_PERMITTED_FIELDS)})
    return render(request, "agencies/contract_new.html", {"agency": agency, "form": form}, status=status)
