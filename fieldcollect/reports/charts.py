"""Plotly figures of the dashboards that the portfolio and scorecard pages do not already have.

The portfolio figures (overdue trend, buckets, roll rates, vintages) come from
:mod:`fieldcollect.portfolio.charts`; these follow the same layout. Each figure is built
server-side, rendered in the browser by the locally served plotly.js (``static/fieldcollect/charts.js``)
and, for the PDF report, drawn by :mod:`fieldcollect.reports.static_charts`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
from django.utils.translation import gettext as _

from fieldcollect.portfolio.charts import LAYOUT
from fieldcollect.reports.compute import CurvePoint


def _empty(fig: go.Figure, message: str | None = None) -> go.Figure:
    fig.data = ()
    fig.add_annotation(text=message or _("No data for this period"), showarrow=False, x=0.5, y=0.5,
                       xref="paper", yref="paper", font={"size": 14, "color": "#6b7280"})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def recovery_curves(points: Sequence[CurvePoint]) -> go.Figure:
    fig = go.Figure()
    for cohort in sorted({p.cohort for p in points}):
        part = [p for p in points if p.cohort == cohort]
        fig.add_scatter(x=[p.day for p in part], y=[100 * (p.rate or 0.0) for p in part], mode="lines+markers",
                        name=cohort)
    # xgettext:no-python-format
    fig.update_layout(title=_("Recovery curves by placement cohort (% of overdue at placement)"),
                      xaxis_title=_("days since placement"), yaxis_title="%", **LAYOUT)
    return fig if points else _empty(fig)


def recovery_by_agency_channel(rows: Sequence[dict[str, Any]]) -> go.Figure:
    """Stacked bars: amount recovered (CNY) per agency, split by the last-touch channel."""
    fig = go.Figure()
    agencies = list(dict.fromkeys(r["agency"] for r in rows))
    for channel in dict.fromkeys(r["channel_label"] for r in rows):
        fig.add_bar(x=agencies, y=[sum(r["amount_fen"] for r in rows if r["agency"] == a
                                       and r["channel_label"] == channel) / 100 for a in agencies], name=channel)
    fig.update_layout(title=_("Recovered by agency and channel (CNY)"), barmode="stack", yaxis_title=_("CNY"),
                      **LAYOUT)
    return fig if rows else _empty(fig)


def monthly_lines(series: dict[str, list[tuple[str, float | None]]], *, title: str, yaxis: str,
                  percent: bool = False) -> go.Figure:
    """One line per name over months (``None`` values leave a gap)."""
    fig = go.Figure()
    for name, pts in series.items():
        fig.add_scatter(x=[m for m, _v in pts],
                        y=[None if v is None else (100 * v if percent else v) for _m, v in pts],
                        mode="lines+markers", name=name, connectgaps=False)
    fig.update_layout(title=title, yaxis_title=yaxis, xaxis_type="category", **LAYOUT)
    has_values = any(v is not None for pts in series.values() for _m, v in pts)
    return fig if has_values else _empty(fig)


def leaderboard(rows: Sequence[dict[str, Any]]) -> go.Figure:
    """Scorecard parts per agency, best first: actual ÷ expected, promise kept rate, cost per yuan."""
    names = [f"{r['rank']}. {r['agency']}" for r in rows]
    fig = go.Figure()
    fig.add_bar(y=names, x=[r["ae_index"] for r in rows], orientation="h", name=_("Actual ÷ expected"))
    fig.add_bar(y=names, x=[r["promise_kept_rate"] for r in rows], orientation="h", name=_("Promise kept rate"))
    fig.add_bar(y=names, x=[None if r["cost_per_yuan"] is None else float(r["cost_per_yuan"]) for r in rows],
                orientation="h", name=_("Cost per yuan recovered"))
    fig.update_layout(title=_("Agency leaderboard: scorecard parts"), barmode="group",
                      yaxis_autorange="reversed", **LAYOUT)
    has = any(r[k] is not None for r in rows for k in ("ae_index", "promise_kept_rate", "cost_per_yuan"))
    return fig if has else _empty(fig, _("No finished placements, decided promises or recoveries this month"))


def bars(labels: Sequence[str], values: Sequence[float | None], *, title: str, yaxis: str = "",
         name: str = "") -> go.Figure:
    fig = go.Figure()
    fig.add_bar(x=list(labels), y=list(values), name=name or title)
    fig.update_layout(title=title, yaxis_title=yaxis, xaxis_type="category", **LAYOUT)
    return fig if any(v is not None for v in values) else _empty(fig)


def visits_map(stops: Sequence[dict[str, Any]], checkins: Sequence[dict[str, Any]]) -> go.Figure:
    """Today's planned stops and check-ins on plain axes (no map tiles: the servers have no internet).

    Longitude is scaled by cos(latitude) through the axis ratio so that distances look right.
    """
    fig = go.Figure()
    if stops:
        fig.add_scatter(x=[s["lon"] for s in stops], y=[s["lat"] for s in stops], mode="markers",
                        marker={"size": 9, "color": "#1f6feb", "symbol": "circle-open"}, name=_("Planned visit"),
                        text=[f"{_('Case')} {s['case_id']} · {s['planned']}" for s in stops],
                        hovertemplate="%{text}<extra></extra>")
    ok = [c for c in checkins if c["accepted"] and not c["flags"]]
    bad = [c for c in checkins if not (c["accepted"] and not c["flags"])]
    if ok:
        fig.add_scatter(x=[c["lon"] for c in ok], y=[c["lat"] for c in ok], mode="markers",
                        marker={"size": 8, "color": "#059669"}, name=_("Check-in"),
                        text=[f"{c['at']} {c['collector']} · {_('Case')} {c['case_id']}" for c in ok],
                        hovertemplate="%{text}<extra></extra>")
    if bad:
        fig.add_scatter(x=[c["lon"] for c in bad], y=[c["lat"] for c in bad], mode="markers",
                        marker={"size": 11, "color": "#dc2626", "symbol": "x"}, name=_("Check-in anomaly"),
                        text=[f"{c['at']} {c['collector']} · {', '.join(c['flags']) or _('not accepted')}"
                              for c in bad], hovertemplate="%{text}<extra></extra>")
    lats = [p["lat"] for p in [*stops, *checkins]]
    layout = dict(LAYOUT) | {"height": 420}
    fig.update_layout(title=_("Today's visits and check-in anomalies"), xaxis_title=_("longitude"),
                      yaxis_title=_("latitude"), **layout)
    if lats:
        mean = sum(lats) / len(lats)
        fig.update_yaxes(scaleanchor="x", scaleratio=1 / max(math.cos(math.radians(mean)), 0.1))
        return fig
    return _empty(fig, _("No visits planned and no check-ins today"))


def model_accuracy(cards: Sequence[dict[str, Any]]) -> go.Figure:
    names = [f"{c['name']} {c['version']}".strip() for c in cards]
    fig = go.Figure()
    for key, label in (("auc", "AUC"), ("gini", "Gini"), ("ks", "KS")):
        fig.add_bar(x=names, y=[c.get(key) for c in cards], name=label)
    fig.update_layout(title=_("Model accuracy on validation data"), barmode="group", xaxis_type="category",
                      **LAYOUT)
    return fig if cards else _empty(fig, _("No model in use"))


def model_drift(cards: Sequence[dict[str, Any]]) -> go.Figure:
    """Score PSI of each model over the nightly lists it scored (bars of the latest value when there
    is no history), characteristics' CSI when known, and the 0.10 / 0.25 thresholds."""
    fig = go.Figure()
    with_history = [c for c in cards if any(v is not None for _d, v in c.get("history") or [])]
    for c in with_history:
        fig.add_scatter(x=[d for d, _v in c["history"]], y=[v for _d, v in c["history"]], mode="lines+markers",
                        name=f"{c['name']} {c['version']}".strip())
    rest = [c for c in cards if c not in with_history and c.get("psi") is not None]
    if rest and not with_history:
        fig.add_bar(x=[f"{c['name']} {c['version']}".strip() for c in rest], y=[c["psi"] for c in rest],
                    name=_("Score PSI"))
        fig.update_xaxes(type="category")
    chars = [(f"{c['name']}: {n}", v) for c in cards for n, v in sorted(c.get("characteristics") or [],
                                                                        key=lambda kv: -kv[1])[:8]]
    if chars and not with_history:
        fig.add_bar(x=[n for n, _v in chars], y=[v for _n, v in chars], name=_("Characteristic CSI"))
        fig.update_xaxes(type="category")
    has = bool(with_history or rest or chars)
    if has:
        for level, colour in ((0.10, "#d97706"), (0.25, "#dc2626")):
            fig.add_hline(y=level, line_dash="dash", line_color=colour)
    fig.update_layout(title=_("Model drift: score PSI (0.10 investigate, 0.25 rebuild)"), yaxis_title="PSI",
                      **LAYOUT)
    return fig if has else _empty(fig, _("No drift measured yet"))
