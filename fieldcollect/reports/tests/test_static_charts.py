"""Plotly figures drawn by matplotlib for the PDF: every trace kind the dashboards use gives a picture
with the trace's colour in it."""

from __future__ import annotations

import io
import warnings

import numpy as np
import plotly.graph_objects as go
import pytest
from PIL import Image

from fieldcollect.reports.static_charts import figure_png


def pixels(png: bytes) -> np.ndarray:
    img = Image.open(io.BytesIO(png))
    assert img.format == "PNG"
    return np.asarray(img.convert("RGB"), dtype=np.int16)


def share_of(px: np.ndarray, rgb: tuple[int, int, int], tol: int = 12) -> float:
    return float((np.abs(px - np.array(rgb)).max(axis=2) <= tol).mean())


def cjk_font():
    from fieldcollect.core.pdf import FontNotFound, find_cjk_font

    try:
        return find_cjk_font().path
    except FontNotFound:
        pytest.skip("needs a CJK font (fonts-noto-cjk)")


def test_grouped_and_stacked_bars_draw_each_trace():
    fig = go.Figure()
    fig.add_bar(x=["M1", "M2"], y=[3, 5], name="a", marker_color="#ff0000")
    fig.add_bar(x=["M1", "M2"], y=[2, None], name="b", marker_color="#0000ff")
    for mode in ("group", "stack"):
        fig.update_layout(barmode=mode, title="账龄 buckets")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            px = pixels(figure_png(fig, width_in=4, height_in=3, dpi=60, font_path=cjk_font()))
        assert not [w for w in caught if "missing from font" in str(w.message)]  # the CJK font drew 账龄
        assert px.shape == (180, 240, 3)
        assert share_of(px, (255, 0, 0)) > 0.02 and share_of(px, (0, 0, 255)) > 0.005, mode


def test_horizontal_bars_lines_markers_and_heatmap():
    h = go.Figure(go.Bar(y=["A", "B"], x=[1.2, 0.4], orientation="h", marker_color="#00aa00"))
    assert share_of(pixels(figure_png(h, dpi=50)), (0, 170, 0)) > 0.02
    lines = go.Figure()
    lines.add_scatter(x=["2025-01", "2025-02", "2025-03", "2025-04"], y=[0.1, 0.2, None, 0.3], mode="lines+markers",
                      name="x", marker_color="#ff00ff")
    assert share_of(pixels(figure_png(lines, dpi=80)), (255, 0, 255), tol=40) > 0.0005
    dots = go.Figure()
    dots.add_scatter(x=[121.4, 121.5], y=[31.2, 31.3], mode="markers", name="y",
                     marker={"color": "#00ffff", "size": 20, "symbol": "circle"})
    assert share_of(pixels(figure_png(dots, dpi=50)), (0, 255, 255)) > 0.001
    hm = go.Figure(go.Heatmap(z=[[0, 100], [50, 0]], x=["M0", "settled"], y=["M0", "M1"],
                              text=[["0%", "100%"], ["50%", "0%"]]))
    hm.update_layout(yaxis_autorange="reversed")
    px = pixels(figure_png(hm, dpi=50))
    assert float(((px.max(axis=2) - px.min(axis=2)) > 60).mean()) > 0.2  # the coloured cells


def test_empty_figure_with_a_message_is_mostly_white():
    fig = go.Figure()
    fig.add_annotation(text="No data for this period", x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    px = pixels(figure_png(fig.to_plotly_json(), dpi=50))
    white = float((px.min(axis=2) > 245).mean())
    assert 0.9 < white < 1.0  # some text, no chart


@pytest.mark.parametrize("bad", [{"data": [{"type": "bar", "x": [], "y": []}]}, {}])
def test_degenerate_figures_still_render(bad):
    assert pixels(figure_png(bad, dpi=40)).size > 0
