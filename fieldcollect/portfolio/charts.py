"""Plotly figures of the portfolio (built server-side, rendered by the locally served plotly.js)."""

from __future__ import annotations

import json
from typing import Any

import plotly.graph_objects as go
import polars as pl
from django.utils.translation import gettext as _

LAYOUT: dict[str, Any] = {"margin": {"l": 60, "r": 20, "t": 50, "b": 50}, "height": 340,
                          "font": {"family": "system-ui, 'Noto Sans CJK SC', sans-serif"}}


def to_json(fig: go.Figure) -> str:
    return json.dumps(fig.to_plotly_json(), default=str)


def bucket_distribution(buckets: list[dict[str, Any]]) -> go.Figure:
    names = [b["bucket"] for b in buckets]
    fig = go.Figure()
    fig.add_bar(x=names, y=[b["balance_fen"] / 100 for b in buckets], name=_("Outstanding principal (CNY)"))
    fig.add_bar(x=names, y=[b["overdue_fen"] / 100 for b in buckets], name=_("Overdue (CNY)"))
    fig.update_layout(title=_("Balance by delinquency bucket"), barmode="group", yaxis_type="log", **LAYOUT)
    return fig


def roll_rate_heatmap(roll: pl.DataFrame, order: list[str]) -> go.Figure:
    to_order = [*order, "settled"]
    grid = [[0.0] * len(to_order) for _ in order]
    for r in roll.iter_rows(named=True):
        if r["from_bucket"] in order and r["to_bucket"] in to_order:
            grid[order.index(r["from_bucket"])][to_order.index(r["to_bucket"])] = round(100 * r["share_loans"], 2)
    fig = go.Figure(go.Heatmap(z=grid, x=[_("settled") if b == "settled" else b for b in to_order], y=order,
                               colorscale="YlOrRd", text=[[f"{v:.1f}%" for v in row] for row in grid],
                               texttemplate="%{text}", hovertemplate="%{y} → %{x}: %{z:.2f}%<extra></extra>"))
    fig.update_layout(title=_("Roll rates, previous month → today (share of loans)"), yaxis_autorange="reversed",
                      xaxis_title=_("bucket today"), yaxis_title=_("bucket a month ago"), **LAYOUT)
    return fig


def vintage_curves(vint: pl.DataFrame, *, max_cohorts: int = 12) -> go.Figure:
    fig = go.Figure()
    cohorts = sorted(vint["cohort"].unique().to_list())
    # quarterly cohorts keep the chart readable
    quarterly = [c for c in cohorts if int(c[5:7]) in (1, 4, 7, 10)][-max_cohorts:]
    for cohort in quarterly:
        part = vint.filter(pl.col("cohort") == cohort).sort("mob")
        fig.add_scatter(x=part["mob"].to_list(), y=(part["bad_rate_balance"] * 100).to_list(), mode="lines",
                        name=cohort)
    fig.update_layout(title=_("Vintages: share of principal ever 30+ days past due"),
                      xaxis_title=_("months on book"), yaxis_title="%", **LAYOUT)
    return fig


def overdue_trend(points: list[dict[str, Any]]) -> go.Figure:
    fig = go.Figure()
    fig.add_scatter(x=[p["as_of"] for p in points], y=[100 * p["share"] for p in points], mode="lines+markers",
                    name=_("30+ dpd share of balance"))
    fig.update_layout(title=_("30+ days past due, share of outstanding principal"), yaxis_title="%", **LAYOUT)
    return fig
