"""Plotly figures of the model cards, the warning list and the experiments (rendered by the local plotly.js)."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from django.utils import translation
from django.utils.translation import gettext as _

from fieldcollect.portfolio.charts import LAYOUT, to_json
from fieldcollect.scoring.stability import MODERATE_THRESHOLD, SIGNIFICANT_THRESHOLD


def calibration(curve: list[dict[str, Any]]) -> go.Figure:
    fig = go.Figure()
    top = max([0.0, *[max(p["mean_predicted"], p["observed_rate"]) for p in curve]]) * 100 or 1.0
    fig.add_scatter(x=[0, top], y=[0, top], mode="lines", name=_("perfect calibration"),
                    line={"dash": "dot", "color": "#999"})
    fig.add_scatter(x=[100 * p["mean_predicted"] for p in curve], y=[100 * p["observed_rate"] for p in curve],
                    mode="lines+markers", name=_("validation deciles"),
                    text=[str(p["n"]) for p in curve], hovertemplate="%{x:.2f}% → %{y:.2f}% (n=%{text})<extra></extra>")
    fig.update_layout(title=_("Calibration: predicted vs observed (held-out rows)"),
                      xaxis_title=_("mean predicted probability (%)"), yaxis_title=_("observed rate (%)"), **LAYOUT)
    return fig


def drift(points: list[dict[str, Any]]) -> go.Figure:
    fig = go.Figure()
    xs = [p["as_of"] for p in points]
    values = [p["score_psi"] for p in points]
    fig.add_scatter(x=xs, y=values, mode="lines+markers", name=_("score PSI"),
                    text=[p["model_version"] for p in points], hovertemplate="%{x}: %{y:.4f} (%{text})<extra></extra>")
    for level, name, colour in ((MODERATE_THRESHOLD, _("moderate shift"), "#e0a800"),
                                (SIGNIFICANT_THRESHOLD, _("significant shift"), "#c0392b")):
        fig.add_hline(y=level, line={"dash": "dash", "color": colour}, annotation_text=name,
                      annotation_position="top left")
    top = max([SIGNIFICANT_THRESHOLD * 1.2, *[v * 1.1 for v in values if v is not None]])
    fig.update_layout(title=_("Drift: population stability of the score, night by night"),
                      xaxis_title=_("business date"), xaxis_type="category", yaxis_title="PSI",
                      yaxis_range=[0, top], showlegend=False, **LAYOUT)
    return fig


def characteristics(chars: list[dict[str, Any]], labels: dict[str, str]) -> go.Figure:
    chars = chars[:15]
    fig = go.Figure(go.Bar(x=[c["csi"] for c in chars], y=[labels.get(c["name"], c["name"]) for c in chars],
                           orientation="h", name="CSI"))
    fig.update_layout(title=_("Characteristic stability (CSI), latest night"), yaxis_autorange="reversed",
                      xaxis_title="CSI", **(LAYOUT | {"margin": {"l": 220, "r": 20, "t": 50, "b": 50}}))
    return fig


def score_histogram(hist: list[dict[str, Any]]) -> go.Figure:
    fig = go.Figure(go.Bar(x=[100 * (h["low"] + h["high"]) / 2 for h in hist], y=[h["loans"] for h in hist],
                           name=_("Loans")))
    fig.update_layout(title=_("Current loans by probability of reaching 30+ dpd within 3 months"),
                      xaxis_title=_("probability (%)"), yaxis_title=_("Loans"), yaxis_type="log", **LAYOUT)
    return fig


def uplift(arms: list[dict[str, Any]]) -> go.Figure:
    names = [a["name"] for a in arms]
    ups = [a["uplift_cny"] or 0.0 for a in arms]
    fig = go.Figure(go.Bar(
        x=names, y=ups, name=_("net recovery uplift over the champion (CNY)"),
        error_y={"type": "data", "symmetric": False,
                 "array": [(a["ci_high"] or 0.0) - (a["uplift_cny"] or 0.0) for a in arms],
                 "arrayminus": [(a["uplift_cny"] or 0.0) - (a["ci_low"] or 0.0) for a in arms]}))
    # xgettext:no-python-format
    fig.update_layout(title=_("Uplift over the champion with 95% confidence interval"),
                      yaxis_title=_("CNY per cohort"), **LAYOUT)
    return fig


def treatment_mix(mix: dict[str, int]) -> go.Figure:
    from fieldcollect.optimisation.strategy import TREATMENT_LABELS_ZH

    zh = (translation.get_language() or "").lower().startswith("zh")
    names = [TREATMENT_LABELS_ZH.get(t, t) if zh else t for t in mix]
    fig = go.Figure(go.Bar(x=names, y=list(mix.values()), name=_("Cases")))
    fig.update_layout(title=_("Treatment chosen per case"), yaxis_title=_("Cases"), **LAYOUT)
    return fig


__all__ = ["calibration", "characteristics", "drift", "score_histogram", "to_json", "treatment_mix", "uplift"]
