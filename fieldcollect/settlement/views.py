"""Settlement pages: statements per agency and month, lines, reconciliation, disputes, exports.
Bank roles see all statements (the collections manager builds and issues them); an agency manager
sees and disputes its own only."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldcollect.agencies.models import Agency
from fieldcollect.core import params
from fieldcollect.core.errors import ApplicationError, CommonErrorCode, NotFoundError, found_or_404
from fieldcollect.core.pages import errors_as_messages, month_param, page_view, post_view, request_user
from fieldcollect.core.visibility import managed_agency
from fieldcollect.privacy.exports import export_table
from fieldcollect.scorecards.access import is_manager, require_manager
from fieldcollect.settlement import claims, exports, selectors, services
from fieldcollect.settlement.errors import SettlementErrorCode
from fieldcollect.settlement.models import ClaimReconciliation, Invoice, Statement, StatementLine


class ExportParams(params.QueryForm):
    lang = params.ChoiceParam(choices=[("zh-hans", "中文"), ("en", "English")])


class InvoiceParams(params.QueryForm):
    action = params.ChoiceParam(choices=[("issue", "issue"), ("dispute", "dispute"), ("reissue", "reissue"),
                                         ("pay", "pay")], required=True)
    reason = params.TextParam(max_length=300)
    paid_on = params.DateParam()
    payment_reference = params.TextParam(max_length=64)


class LineParams(params.QueryForm):
    action = params.ChoiceParam(choices=[("dispute", "dispute"), ("resolve", "resolve"), ("reverse", "reverse")])
    reason = params.TextParam(max_length=300)
    reversed_on = params.DateParam()


class GenerateParams(params.QueryForm):
    agency = params.IdListParam()  # the agencies to build, or "all" (or none given): every agency


def _lang(request: HttpRequest) -> str:
    return ExportParams.parse(request.GET)["lang"] or "zh-hans"


def _statement(request: HttpRequest, statement_id: int) -> Statement:
    st = found_or_404(selectors.statements_visible_to(request_user(request)).filter(pk=statement_id).first(),
                      _("Statement not found."), code=SettlementErrorCode.STATEMENT_NOT_FOUND)
    return st


@page_view
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


@post_view
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


@page_view
def statement_detail(request: HttpRequest, statement_id: int) -> HttpResponse:
    user = request_user(request)
    st = _statement(request, statement_id)
    own_agency = managed_agency(user) == st.agency_id
    return render(request, "settlement/statement_detail.html", {
        "st": st, "lines": selectors.statement_lines(statement=st), "rec": selectors.reconcile(statement=st),
        "adjustments": selectors.statement_adjustments(statement=st),
        "invoice": Invoice.objects.filter(statement=st).first(),
        "claims": st.claim_reconciliations.all()[:20],
        "can_edit": is_manager(user),
        "can_dispute": is_manager(user) or own_agency,
        "can_reverse": user.role == "collections_manager" or user.is_superuser,
    })


@post_view
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


@post_view
def line_action(request: HttpRequest, statement_id: int, line_id: int) -> HttpResponse:
    user = request_user(request)
    st = _statement(request, statement_id)
    line = found_or_404(StatementLine.objects.filter(pk=line_id, statement=st).first(),
                        _("Line not found."), code=SettlementErrorCode.STATEMENT_LINE_NOT_FOUND)
    form = LineParams.parse(request.POST)
    with errors_as_messages(request, 400):
        if form["action"] == "resolve":
            services.line_resolve(line=line, acting_user=user, note=form["reason"])
        elif form["action"] == "reverse":
            services.payment_reverse(payment=line.payment, reversed_on=form["reversed_on"] or timezone.localdate(),
                                     reason=form["reason"], acting_user=user)
            messages.success(request, _("Payment reversal recorded: its commission is clawed back on the "
                                        "agency's next statement."))
        else:
            services.line_dispute(line=line, reason=form["reason"], acting_user=user)
    return redirect("settlement:detail", statement_id=st.pk)


@page_view
def statement_csv(request: HttpRequest, statement_id: int) -> HttpResponse:
    st = _statement(request, statement_id)
    lang = _lang(request)
    columns, rows = exports.statement_table(st, lang=lang)
    data = export_table(user=request_user(request), purpose="commission statement",
                        name=exports.statement_title(st, lang=lang), columns=columns, rows=rows, fmt="csv")
    resp = HttpResponse(data, content_type="text/csv; charset=utf-8")
    resp["Content-Disposition"] = f'attachment; filename="statement-{st.agency_id}-{st.month:%Y-%m}-{lang}.csv"'
    return resp


@page_view
def statement_pdf(request: HttpRequest, statement_id: int) -> HttpResponse:
    st = _statement(request, statement_id)
    lang = _lang(request)
    resp = HttpResponse(exports.statement_pdf(st, lang=lang), content_type="application/pdf")
    resp["Content-Disposition"] = f'attachment; filename="statement-{st.agency_id}-{st.month:%Y-%m}-{lang}.pdf"'
    return resp


@post_view
def invoice_action(request: HttpRequest, statement_id: int) -> HttpResponse:
    """Issue the statement's invoice, dispute it, re-issue it or record it paid (each by its role)."""
    user = request_user(request)
    st = _statement(request, statement_id)
    form = InvoiceParams.parse(request.POST)
    try:
        if form["action"] == "issue":
            services.invoice_issue(statement=st, acting_user=user)
        else:
            invoice = found_or_404(Invoice.objects.filter(statement=st).first(),
                                   _("Invoice not found."), code=SettlementErrorCode.INVOICE_NOT_FOUND)
            services.invoice_transition(invoice=invoice, action=form["action"], acting_user=user,
                                        reason=form["reason"], paid_on=form["paid_on"],
                                        payment_reference=form["payment_reference"])
        messages.success(request, _("Invoice updated."))
    except ApplicationError as exc:
        if exc.status_code == 404:
            raise
        messages.error(request, exc.message)
    return redirect("settlement:detail", statement_id=st.pk)


@post_view
def claim_upload(request: HttpRequest, statement_id: int) -> HttpResponse:
    """Upload the agency's claim file: compared with the statement line by line."""
    user = request_user(request)
    st = _statement(request, statement_id)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose a claim file (CSV or XLSX)."))
        return redirect("settlement:detail", statement_id=st.pk)
    if upload.size is not None and upload.size > claims.MAX_BYTES:
        messages.error(request, _("%(file)s: the file is too large.") % {"file": upload.name})
        return redirect("settlement:detail", statement_id=st.pk)
    try:
        rec = services.claim_file_reconcile(statement=st, file_name=upload.name or "claim.csv", data=upload.read(),
                                            acting_user=user)
    except ApplicationError as exc:
        if exc.status_code not in (400,):
            raise
        messages.error(request, exc.message)
        return redirect("settlement:detail", statement_id=st.pk)
    return redirect("settlement:claim", statement_id=st.pk, claim_id=rec.pk)


@page_view
def claim_detail(request: HttpRequest, statement_id: int, claim_id: int) -> HttpResponse:
    st = _statement(request, statement_id)
    rec = found_or_404(ClaimReconciliation.objects.filter(pk=claim_id, statement=st).first(),
                       _("Claim file not found."), code=SettlementErrorCode.CLAIM_NOT_FOUND)
    return render(request, "settlement/claim_detail.html", {"st": st, "rec": rec})
