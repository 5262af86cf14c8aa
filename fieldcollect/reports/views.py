"""Dashboard pages and the CSV/XLSX export of each dashboard table (thin: the work is in
:mod:`.dashboards`; exports go through :func:`fieldcollect.privacy.exports.export_table`)."""

from __future__ import annotations

import plotly.graph_objects as go
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldcollect.core import params
from fieldcollect.core.errors import CommonErrorCode, NotFoundError
from fieldcollect.core.pages import page_view, request_user
from fieldcollect.portfolio.charts import to_json
from fieldcollect.privacy.exports import export_table
from fieldcollect.reports import dashboards, selectors

CONTENT_TYPES = {"csv": "text/csv; charset=utf-8",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
PAGE_ROWS = 200


def figure_json(fig: go.Figure) -> str:
    """The figure as JSON safe inside ``<script type="application/json">``: names typed by people
    (agencies, collectors) cannot close the script element."""
    return to_json(fig).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class DashboardParams(params.QueryForm):
    as_of = params.DateParam()
    day = params.DateParam()


def _params(request: HttpRequest) -> dashboards.Params:
    p = DashboardParams.parse(request.GET)
    return dashboards.Params(as_of=p["as_of"] or selectors.business_date(), day=p["day"] or timezone.localdate())


@page_view
def index(request: HttpRequest) -> HttpResponse:
    scope = selectors.scope_for(request_user(request))
    return render(request, "reports/index.html", {"specs": dashboards.specs_for(scope), "scope": scope})


@page_view
def dashboard(request: HttpRequest, key: str) -> HttpResponse:
    scope = selectors.scope_for(request_user(request))
    if dashboards.spec(key, scope) is None:
        raise NotFoundError(_("Page not found."), code=CommonErrorCode.PAGE_NOT_FOUND)
    params = _params(request)
    board = dashboards.build(key, scope=scope, params=params)
    return render(request, "reports/dashboard.html", {
        "board": board, "params": params, "specs": dashboards.specs_for(scope), "page_rows": PAGE_ROWS,
        "figures": {k: figure_json(f) for k, f in board.figures.items()},
        "query": request.GET.urlencode(),
    })


@page_view
def export(request: HttpRequest, key: str, table: str, fmt: str) -> HttpResponse:
    user = request_user(request)
    scope = selectors.scope_for(user)
    if dashboards.spec(key, scope) is None or fmt not in CONTENT_TYPES:
        raise NotFoundError(_("Page not found."), code=CommonErrorCode.PAGE_NOT_FOUND)
    params = _params(request)
    board = dashboards.build(key, scope=scope, params=params)
    found = board.table(table)
    if found is None:
        raise NotFoundError(_("Page not found."), code=CommonErrorCode.PAGE_NOT_FOUND)
    name = f"{key}-{table}-{board.as_of.isoformat()}"
    data = export_table(user=user, purpose=f"dashboard {key}/{table}", name=name, columns=found.keys,
                        rows=found.rows, fmt="xlsx" if fmt == "xlsx" else "csv")
    response = HttpResponse(data, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
