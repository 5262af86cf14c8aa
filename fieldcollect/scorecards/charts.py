"""Plotly figures for scorecards (server-side; rendered by static/fieldcollect/charts.js)."""

from __future__ import annotations

import plotly.graph_objects as go
from django.utils.translation import gettext as _

from fieldcollect.portfolio.charts import LAYOUT
from fieldcollect.scorecards.selectors import Scorecard


def recovery_vs_expected(card: Scorecard) -> go.Figure:
    names = [b.bucket for b in card.buckets]
    fig = go.Figure()
    fig.add_bar(x=names, y=[100 * (b.rate or 0) for b in card.buckets], name=_("Actual recovery rate"))
    fig.add_bar(x=names, y=[100 * b.expected_rate for b in card.buckets], name=_("Expected for these cases"))
    fig.update_layout(title=_("Recovery rate by bucket: actual vs expected (%)"), barmode="group",
                      yaxis_title="%", **LAYOUT)
    return fig


def trend(cards: list[Scorecard]) -> go.Figure:
    months = [c.month.strftime("%Y-%m") for c in cards]
    fig = go.Figure()
    fig.add_scatter(x=months, y=[c.ae_index for c in cards], mode="lines+markers",
                    name=_("Actual ÷ expected (risk-adjusted)"))
    fig.add_scatter(x=months, y=[c.promise_kept_rate for c in cards], mode="lines+markers",
                    name=_("Promise kept rate"))
    fig.add_scatter(x=months, y=[float(c.cost_per_yuan) if c.cost_per_yuan is not None else None for c in cards],
                    mode="lines+markers", name=_("Cost per yuan recovered"))
    fig.update_layout(title=_("Scorecard trend"), **LAYOUT)
    return fig


def ranking_contributions(rows: list[dict[str, object]], names: list[str]) -> go.Figure:
    """Stacked bars: each criterion's contribution to each candidate's score."""
    fig = go.Figure()
    labels = []
    for r in rows:
        if r["label"] not in labels:
            labels.append(r["label"])
    for label in labels:
        fig.add_bar(x=names, y=[r["contribution"] for r in rows if r["label"] == label], name=_(str(label)))
    fig.update_layout(title=_("Contribution of each criterion to the score"), barmode="stack", **LAYOUT)
    return fig
