"""Settlement pages: statements per agency and month, lines, reconciliation, disputes, exports.
Bank roles see all statements (the collections manager builds and issues them); an agency manager
sees and disputes its own only."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fieldcollect.agencies.models import Agency
from fieldcollect.core import params
from fieldcollect.core.errors import ApplicationError, CommonErrorCode, NotFoundError
from fieldcollect.core.pages import errors_as_pages, month_param, request_user
from fieldcollect.privacy.exports import export_table
from fieldcollect.scorecards.access import is_manager, require_manager
from fieldcollect.settlement import exports, selectors, services
from fieldcollect.settlement.errors import SettlementErrorCode
from fieldcollect.settlement.models import Statement, StatementLine


class ExportParams(params.QueryForm):
    lang = params.ChoiceParam(choices=[("zh-hans", "中文"), ("en", "English")])


class GenerateParams(params.QueryForm):
    agency = params.IdListParam()  # the agencies to build, or "all" (or none given): every agency


def _lang(request: HttpRequest) -> str:
    return ExportParams.parse(request.GET)["lang"] or "zh-hans"


def _statement(request: HttpRequest, statement_id: int) -> Statement:
    st = selectors.statements_visible_to(request_user(request)).filter(pk=statement_id).first()
    if st is None:
        raise NotFoundError(_("Statement not found."), code=SettlementErrorCode.STATEMENT_NOT_FOUND)
    return st


@login_required
@errors_as_pages
def statement_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if not (user.is_bank_user or user.agency_id is not None):
        raise NotFoundError(_("Page not found."), code=CommonErrorCode.PAGE_NOT_FOUND)
    month = month_param(request)
    statements = selectors.statements_visible_to(user).order_by("-month", "agency_id")[:200]
    return render(request, "settlement/statement_list.html", {
        "statements": statements, "month": month, "can_edit": is_manager(user),
        "agencies": Agency.objects.exclude(status=Agency.Status.CANDIDATE).order_by("agency_id")
        if is_manager(user) else [],
    })


@login_required
@require_POST
@errors_as_pages
def statement_generate(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    require_manager(user)
    month = month_param(request)
    ids = GenerateParams.parse(request.POST)["agency"]
    agencies = Agency.objects.filter(pk__in=ids) if ids is not None \
        else Agency.objects.exclude(status=Agency.Status.CANDIDATE)
    made = 0
    for agency in agencies:
        try:
            services.statement_generate(agency=agency, month=month, acting_user=user)
            made += 1
        except ApplicationError as exc:
            messages.error(request, f"{agency.name}: {exc.message}")
    messages.success(request, _("%(n)d statements built.") % {"n": made})
    return redirect(f"{reverse('settlement:list')}?month={month:%Y-%m}")


@login_required
@errors_as_pages
def statement_detail(request: HttpRequest, statement_id: int) -> HttpResponse:
    user = request_user(request)
    st = _statement(request, statement_id)
    return render(request, "settlement/statement_detail.html", {
        "st": st, "lines": selectors.statement_lines(statement=st), "rec": selectors.reconcile(statement=st),
        "can_edit": is_manager(user),
        "can_dispute": is_manager(user) or (user.role == "agency_manager" and user.agency_id == st.agency_id),
    })


@login_required
@require_POST
@errors_as_pages
def statement_issue(request: HttpRequest, statement_id: int) -> HttpResponse:
    user = request_user(request)
    require_manager(user)
    st = _statement(request, statement_id)
    try:
        services.statement_issue(statement=st, acting_user=user)
        messages.success(request, _("Statement issued."))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("settlement:detail", statement_id=st.pk)


@login_required
@require_POST
@errors_as_pages
def line_action(request: HttpRequest, statement_id: int, line_id: int) -> HttpResponse:
    user = request_user(request)
    st = _statement(request, statement_id)
    line = StatementLine.objects.filter(pk=line_id, statement=st).first()
    if line is None:
        raise NotFoundError(_("Line not found."), code=SettlementErrorCode.STATEMENT_LINE_NOT_FOUND)
    try:
        if request.POST.get("action") == "resolve":
            services.line_resolve(line=line, acting_user=user, note=request.POST.get("reason", ""))
        else:
            services.line_dispute(line=line, reason=request.POST.get("reason", ""), acting_user=user)
    except ApplicationError as exc:
        if exc.status_code != 400:
            raise
        messages.error(request, exc.message)
    return redirect("settlement:detail", statement_id=st.pk)


@login_required
@errors_as_pages
def statement_csv(request: HttpRequest, statement_id: int) -> HttpResponse:
    st = _statement(request, statement_id)
    lang = _lang(request)
    columns, rows = exports.statement_table(st, lang=lang)
    data = export_table(user=request_user(request), purpose="commission statement",
                        name=exports.statement_title(st, lang=lang), columns=columns, rows=rows, fmt="csv")
    resp = HttpResponse(data, content_type="text/csv; charset=utf-8")
    resp["Content-Disposition"] = f'attachment; filename="statement-{st.agency_id}-{st.month:%Y-%m}-{lang}.csv"'
    return resp


@login_required
@errors_as_pages
def statement_pdf(request: HttpRequest, statement_id: int) -> HttpResponse:
    st = _statement(request, statement_id)
    lang = _lang(request)
    resp = HttpResponse(exports.statement_pdf(st, lang=lang), content_type="application/pdf")
    resp["Content-Disposition"] = f'attachment; filename="statement-{st.agency_id}-{st.month:%Y-%m}-{lang}.pdf"'
    return resp
