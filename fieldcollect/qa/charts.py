"""Plotly figures of the conduct dashboard (built server-side, drawn by the locally served plotly.js
through ``static/fieldcollect/charts.js``, as the other dashboards' figures)."""

from __future__ import annotations

import plotly.graph_objects as go
from django.utils.translation import gettext as _

from fieldcollect.portfolio.charts import LAYOUT
from fieldcollect.qa.selectors import ConductDashboard
from fieldcollect.reports.charts import _empty


def findings_by_agency(data: ConductDashboard) -> go.Figure:
    """Stacked bars: confirmed findings per 1,000 contacts of each agency, split by category."""
    ids = list(data.agencies)
    names = [data.agencies[a] for a in ids]
    fig = go.Figure()
    for category in data.categories:
        fig.add_bar(x=names, y=[data.by_category.get(a, {}).get(category, 0.0) for a in ids], name=category)
    fig.update_layout(title=_("Confirmed findings per 1,000 contacts, by agency and category"), barmode="stack",
                      yaxis_title=_("per 1,000 contacts"), **LAYOUT)
    return fig if data.categories else _empty(fig)


def weekly_trend(data: ConductDashboard) -> go.Figure:
    """One line per agency: confirmed findings per 1,000 contacts week by week (no contacts: a gap)."""
    fig = go.Figure()
    for a, values in data.trend.items():
        fig.add_scatter(x=data.weeks, y=values, mode="lines+markers", name=data.agencies[a], connectgaps=False)
    fig.update_layout(title=_("Confirmed findings per 1,000 contacts, week by week"), xaxis_type="category",
                      yaxis_title=_("per 1,000 contacts"), **LAYOUT)
    has = any(v is not None for values in data.trend.values() for v in values)
    return fig if has else _empty(fig)
