"""The auditor's audit-log search page and its CSV export (the export is itself audited)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldcollect.audit.selectors import (
    EXPORT_COLUMNS,
    EXPORT_MAX,
    PAGE_SIZE,
    AuditFilters,
    audit_rows,
    audit_search,
    can_search_audit,
)
from fieldcollect.audit.services import audit_log
from fieldcollect.core import params
from fieldcollect.core.cells import safe_csv_writer
from fieldcollect.core.errors import CommonErrorCode, PermissionDeniedError
from fieldcollect.core.pages import page_view
from fieldcollect.core.pages import request_user as _user

MAX_PAGES = 1_000


class AuditSearchParams(params.QueryForm):
    actor = params.TextParam(max_length=150)
    object_type = params.TextParam(max_length=64)
    object_id = params.TextParam(max_length=64)
    action = params.TextParam(max_length=64)
    since = params.DateParam()
    until = params.DateParam()
    page = params.IntParam(min_value=1, max_value=MAX_PAGES)


def _filters(request: HttpRequest) -> tuple[AuditFilters, int]:
    if not can_search_audit(_user(request)):
        raise PermissionDeniedError(_("Your role may not do this."), code=CommonErrorCode.PERMISSION_DENIED)
    p = AuditSearchParams.parse(request.GET)
    filters = AuditFilters(
        actor=(p["actor"] or "").strip(),
        object_type=(p["object_type"] or "").strip(),
        object_id=(p["object_id"] or "").strip(),
        action=(p["action"] or "").strip(),
        since=p["since"],
        until=p["until"],
    )
    return filters, p["page"] or 1


@page_view
def search(request: HttpRequest) -> HttpResponse:
    """Search the audit log by actor, object, action and days; newest first, a page at a time."""
    filters, page = _filters(request)
    start = (page - 1) * PAGE_SIZE
    entries = list(audit_search(filters).select_related(None)[start : start + PAGE_SIZE + 1])
    more = len(entries) > PAGE_SIZE
    query = urlencode(filters.as_dict())
    return render(
        request,
        "audit/search.html",
        {
            "entries": entries[:PAGE_SIZE],
            "filters": filters,
            "page": page,
            "more": more and page < MAX_PAGES,
            "query": query,
            "export_max": EXPORT_MAX,
        },
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


@page_view
def export_csv(request: HttpRequest) -> StreamingHttpResponse:
    """The matching entries as CSV (at most :data:`EXPORT_MAX`); the export itself is written to the
    audit log (who, which filters, how many rows) before the first byte leaves."""
    filters, _page = _filters(request)
    user = _user(request)
    count = min(audit_search(filters).count(), EXPORT_MAX)
    audit_log(
        actor=user,
        action="audit.export",
        object_type="audit_log",
        object_id="search",
        new={"filters": filters.as_dict(), "rows": count},
    )
    writer = safe_csv_writer(_Echo())

    def chunks() -> Iterator[Any]:
        yield "\ufeff" + writer.writerow(EXPORT_COLUMNS)
        for row in audit_rows(filters, limit=count):
            yield writer.writerow(row)

    resp = StreamingHttpResponse(chunks(), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    resp["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.csv"'
    return resp
