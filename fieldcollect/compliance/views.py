"""Compliance pages: a case's debtor flags (the bank's roles, and the agency holding the case: add
contact-stopping flags only), and the daily compliance report (bank compliance,
or an agency manager for their own agency)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from fieldcollect.agencies.models import Agency
from fieldcollect.cases.access import access_case_by_id
from fieldcollect.cases.models import Case
from fieldcollect.compliance import forms, selectors, services
from fieldcollect.compliance.engine import zone
from fieldcollect.compliance.errors import ComplianceErrorCode
from fieldcollect.compliance.models import DebtorFlag
from fieldcollect.core.bank_time import bank_time_zone_name
from fieldcollect.core.errors import ApplicationError, CommonErrorCode, NotFoundError, PermissionDeniedError
from fieldcollect.core.models import Role, User
from fieldcollect.core.pages import page_view, post_view
from fieldcollect.core.pages import request_user as _user
from fieldcollect.privacy.masking import mask_mobile
from fieldcollect.visits import selectors as visit_selectors

REPORT_ROLES = frozenset({Role.COMPLIANCE_OFFICER, Role.AUDITOR, Role.COLLECTIONS_MANAGER})


def _flag_case(request: HttpRequest, case_id: int) -> tuple[User, Case]:
    """The case whose flags the user may see: any case they can see (the bank's roles; an agency's
    manager and collectors the cases they hold). What they may change is the service's rule."""
    user = _user(request)
    case = access_case_by_id(case_id, user)
    if not selectors.can_view_case_flags(user):
        raise PermissionDeniedError(_("Your role may not do this."), code=CommonErrorCode.PERMISSION_DENIED)
    return user, case


def _local(value: datetime | None, tz: str) -> datetime | None:
    """A datetime-local input is the debtor's wall clock."""
    if value is None:
        return None
    return value.replace(tzinfo=zone(tz)) if timezone.is_naive(value) else value


@page_view
def case_flags(request: HttpRequest, case_id: int) -> HttpResponse:
    """The debtor's flags (all their cases), the contacts refused on this case, and forms to add/lift."""
    user, case = _flag_case(request, case_id)
    tz = case.customer.timezone or bank_time_zone_name()
    now = timezone.now()
    flags = selectors.customer_flags(customer_id=case.customer_id)
    can_manage = services.can_manage_flags(user)
    rows = [{"flag": f, "active": f.starts_at <= now and (f.ends_at is None or now < f.ends_at),
             "open": f.lifted_at is None and (f.ends_at is None or f.ends_at > now),
             # a third party's number in clear for the bank's roles only
             "phone": f.phone if user.is_bank_user or not f.phone else mask_mobile(f.phone)} for f in flags]
    # an agency sees its own refused contacts, not another agency's
    blocked = selectors.blocked_attempts_for_case(case_id=case.pk, user=user)
    ctx: dict[str, Any] = {
        "case": case, "tz": tz, "rows": rows, "can_manage": can_manage,
        "can_add": services.can_report_flags(user),
        "add_form": forms.FlagAddForm(restrictive_only=not can_manage), "blocked": blocked,
        "lang": services.current_language(),
    }
    return render(request, "compliance/case_flags.html", ctx)


@post_view
def flag_add(request: HttpRequest, case_id: int) -> HttpResponse:
    user, case = _flag_case(request, case_id)
    form = forms.FlagAddForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            for error in errors:
                messages.error(request, f"{form.fields[field].label}: {error}" if field in form.fields else str(error))
        return redirect(reverse("compliance:case_flags", args=[case.pk]))
    tz = case.customer.timezone or bank_time_zone_name()
    d = form.cleaned_data
    try:
        services.flag_add(customer=case.customer, flag=d["flag"], starts_at=_local(d["starts_at"], tz) or timezone.now(),
                          ends_at=_local(d["ends_at"], tz), reason=d["reason"], acting_user=user,
                          phone=d["phone"], source=f"page:case:{case.pk}")
        messages.success(request, _("Flag added."))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect(reverse("compliance:case_flags", args=[case.pk]))


@post_view
def flag_lift(request: HttpRequest, case_id: int, flag_id: int) -> HttpResponse:
    user, case = _flag_case(request, case_id)
    flag = DebtorFlag.objects.filter(pk=flag_id, customer_id=case.customer_id).first()
    if flag is None:
        raise NotFoundError(_("Flag not found."), code=ComplianceErrorCode.FLAG_NOT_FOUND)
    form = forms.FlagLiftForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason."))
        return redirect(reverse("compliance:case_flags", args=[case.pk]))
    try:
        services.flag_lift(flag=flag, acting_user=user, reason=form.cleaned_data["reason"])
        messages.success(request, _("Flag lifted."))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect(reverse("compliance:case_flags", args=[case.pk]))


def _report_scope(request: HttpRequest) -> tuple[User, Any, int | None]:
    """(user, day, agency id) of a report request; an agency manager is held to their own agency."""
    user = _user(request)
    p = forms.ReportForm.parse(request.GET)
    day = p["day"] or (timezone.localdate() - timedelta(days=1))
    agency_id = p["agency"]
    if user.is_superuser or user.role in REPORT_ROLES:
        return user, day, agency_id
    if user.role == Role.AGENCY_MANAGER and user.agency_id is not None:
        return user, day, user.agency_id
    raise PermissionDeniedError(_("Your role may not see the compliance report."), code=CommonErrorCode.PERMISSION_DENIED)


@page_view
def report(request: HttpRequest) -> HttpResponse:
    """Daily compliance report: blocked attempts by rule, breaches, near misses, suspicious patterns."""
    user, day, agency_id = _report_scope(request)
    data = selectors.daily_report(day=day, agency_id=agency_id)
    agencies = {a.pk: a for a in Agency.objects.filter(pk__in=[int(d.agency_id) for d in data.days
                                                               if d.agency_id.isdigit()] + ([agency_id] if agency_id else []))}
    ctx: dict[str, Any] = {
        "data": data, "day": day, "agency_id": agency_id, "agencies": agencies,
        "all_agencies": Agency.objects.order_by("agency_id").only("agency_id", "name", "name_en")
        if not user.is_agency_user else None,
        "lang": services.current_language(),
        "prev_day": day - timedelta(days=1), "next_day": day + timedelta(days=1),
        "query": request.GET.urlencode(),
        "before_flag": visit_selectors.visits_before_flag(day=day, agency_id=agency_id),
    }
    return render(request, "compliance/report.html", ctx)


@page_view
def report_csv(request: HttpRequest) -> HttpResponse:
    _, day, agency_id = _report_scope(request)
    data = selectors.daily_report(day=day, agency_id=agency_id)
    resp = HttpResponse(data.csv(), content_type="text/csv; charset=utf-8")
    suffix = f"-agency{agency_id}" if agency_id else ""
    resp["Content-Disposition"] = f'attachment; filename="compliance-{day.isoformat()}{suffix}.csv"'
    return resp


@login_required
@require_GET
def rule_packs(request: HttpRequest) -> HttpResponse:
    """The rule packs, read-only: each jurisdiction's versions (the one in force today marked, its
    effective date), every rule with its id, kind, numbers, source and explanation in the reader's
    language. Rules are data (``compliance/packs``): they change by a new version of a file, not here."""
    lang = services.current_language()
    catalogue = []
    for code, versions in selectors.rule_pack_catalogue():
        rows = []
        for v in versions:
            rules = [{"id": r.id, "kind": r.kind, "mark": r.mark, "source": r.source, "enabled": r.enabled,
                      "explanation": r.explain(lang), "channels": sorted(r.channels), "parties": sorted(r.parties)}
                     for r in v.pack.rules]
            rows.append({"view": v, "name": v.pack.name["zh-Hans" if lang.lower().startswith("zh") else "en"],
                         "rules": rules})
        catalogue.append({"code": code, "versions": rows})
    return render(request, "compliance/rule_packs.html", {"catalogue": catalogue})
