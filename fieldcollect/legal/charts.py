"""Plotly figure of the legal dashboard (built server-side, drawn by the locally served plotly.js)."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from django.utils.translation import gettext as _

from fieldcollect.portfolio.charts import LAYOUT


def cost_vs_recovered(rows: list[Any]) -> go.Figure:
    """Legal cost against amounts recovered by kind of matter (CNY)."""
    names = [r.label for r in rows]
    fig = go.Figure()
    fig.add_bar(x=names, y=[r.cost_fen / 100 for r in rows], name=_("Legal cost (CNY)"))
    fig.add_bar(x=names, y=[r.recovered_fen / 100 for r in rows], name=_("Recovered (CNY)"))
    fig.update_layout(title=_("Legal cost against amounts recovered"), barmode="group", **LAYOUT)
    return fig
