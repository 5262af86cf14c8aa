"""Plotly figures drawn as static PNG images with matplotlib, for the PDF report.

Pure module (no Django): it reads a figure's JSON (``fig.to_plotly_json()``) so that the report shows the
same figures as the dashboards without a second set of chart definitions. Plotly's own image export
needs Kaleido ≥ 1 and a browser process per render; matplotlib draws offline, in-process and fast.

Supported (what the dashboards use): bar (vertical/horizontal, grouped/stacked), scatter (lines,
markers), heatmap with cell text, horizontal reference lines, centred paper annotations, log and
reversed axes. Chinese text needs a CJK font: pass its file (``.ttc``/``.otf``) as ``font_path``.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

PALETTE = ("#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692", "#b6e880",
           "#ff97ff", "#fecb52")
SYMBOLS = {"x": "x", "circle-open": "o", "circle": "o", "square": "s", "diamond": "D"}

__all__ = ["figure_png"]


@lru_cache(maxsize=4)
def _font_family(font_path: str | None) -> str | None:
    if not font_path:
        return None
    from matplotlib import font_manager

    font_manager.fontManager.addfont(font_path)
    return font_manager.FontProperties(fname=font_path).get_name()


def _text(node: Any) -> str:
    if isinstance(node, dict):
        return str(node.get("text") or "")
    return "" if node is None else str(node)


def _num(values: Sequence[Any] | None) -> list[float]:
    return [math.nan if v is None else float(v) for v in (values or [])]


def _colour(trace: dict[str, Any], i: int) -> str:
    marker = trace.get("marker") or {}
    c = marker.get("color")
    return c if isinstance(c, str) else PALETTE[i % len(PALETTE)]


def figure_png(fig: Any, *, width_in: float = 7.4, height_in: float = 3.3, dpi: int = 150,
               font_path: str | Path | None = None) -> bytes:
    """PNG bytes of a Plotly figure (a ``go.Figure`` or its JSON dict)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    spec = fig.to_plotly_json() if hasattr(fig, "to_plotly_json") else fig
    data: list[dict[str, Any]] = list(spec.get("data") or [])
    layout: dict[str, Any] = dict(spec.get("layout") or {})
    family = _font_family(str(font_path) if font_path else None)
    rc: dict[str, Any] = {"font.size": 8, "axes.titlesize": 10, "axes.unicode_minus": False}
    if family:
        rc["font.family"] = [family, "DejaVu Sans"]
    with plt.rc_context(rc):  # type: ignore[arg-type]
        f, ax = plt.subplots(figsize=(width_in, height_in), dpi=dpi)
        try:
            _draw(ax, data, layout)
            ax.set_title(_text(layout.get("title")), loc="left")
            xaxis, yaxis = layout.get("xaxis") or {}, layout.get("yaxis") or {}
            ax.set_xlabel(_text(xaxis.get("title")))
            ax.set_ylabel(_text(yaxis.get("title")))
            if yaxis.get("type") == "log":
                ax.set_yscale("log")
            if yaxis.get("autorange") == "reversed":
                ax.invert_yaxis()
            if xaxis.get("visible") is False:
                ax.set_xlabel("")
                ax.set_ylabel("")
                ax.set_xticks([])
                ax.set_yticks([])
                for side in ax.spines.values():
                    side.set_visible(False)
            elif not any(t.get("type") == "heatmap" for t in data):
                ax.grid(True, axis="y", color="#e5e7eb", linewidth=0.6)
                ax.set_axisbelow(True)
            if any(t.get("type") == "scatter" for t in data) and len(ax.get_xticks()) > 10:
                ax.xaxis.set_major_locator(MaxNLocator(8))
            for label in ax.get_xticklabels():
                if len(label.get_text()) > 6:
                    label.set_rotation(20)
                    label.set_horizontalalignment("right")
            for ann in layout.get("annotations") or []:
                ax.text(float(ann.get("x", 0.5)), float(ann.get("y", 0.5)), _text(ann), transform=ax.transAxes,
                        ha="center", va="center", color="#6b7280", fontsize=11)
            for shape in layout.get("shapes") or []:
                if shape.get("type") == "line" and shape.get("y0") == shape.get("y1"):
                    line = shape.get("line") or {}
                    ax.axhline(float(shape["y0"]), color=line.get("color", "#999"), linestyle="--", linewidth=0.8)
            _handles, labels = ax.get_legend_handles_labels()
            if labels and len(labels) > 1:
                ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
            f.tight_layout()
            buf = io.BytesIO()
            f.savefig(buf, format="png", dpi=dpi)
            return buf.getvalue()
        finally:
            plt.close(f)


def _draw(ax: Any, data: list[dict[str, Any]], layout: dict[str, Any]) -> None:
    import numpy as np

    bars = [t for t in data if t.get("type") == "bar"]
    if bars:
        horizontal = bars[0].get("orientation") == "h"
        cats: list[Any] = []
        for t in bars:
            for c in (t.get("y") if horizontal else t.get("x")) or []:
                if c not in cats:
                    cats.append(c)
        pos = np.arange(len(cats))
        stacked = layout.get("barmode") == "stack"
        width = 0.8 if stacked else 0.8 / max(len(bars), 1)
        base = np.zeros(len(cats))
        for i, t in enumerate(bars):
            keys = (t.get("y") if horizontal else t.get("x")) or []
            vals = _num(t.get("x") if horizontal else t.get("y"))
            v = np.full(len(cats), np.nan)
            for k, val in zip(keys, vals, strict=False):
                v[cats.index(k)] = val
            offset = pos if stacked else pos - 0.4 + width * (i + 0.5)
            draw_v = np.nan_to_num(v)
            bar_kw = {"color": _colour(t, i), "label": t.get("name") or None}
            if horizontal:
                ax.barh(offset, draw_v, height=width, left=base if stacked else None, **bar_kw)
            else:
                ax.bar(offset, draw_v, width=width, bottom=base if stacked else None, **bar_kw)
            if stacked:
                base = base + draw_v
        labels = [str(c) for c in cats]
        if horizontal:
            ax.set_yticks(pos, labels)
        else:
            ax.set_xticks(pos, labels)
    for i, t in enumerate(t for t in data if t.get("type") == "scatter"):
        mode = t.get("mode") or "lines"
        x = list(t.get("x") or [])
        y = _num(t.get("y"))
        marker = t.get("marker") or {}
        kw: dict[str, Any] = {"label": t.get("name") or None, "color": _colour(t, i)}
        if "lines" in mode:
            ax.plot([str(v) if isinstance(v, str) else v for v in x], y, marker="o" if "markers" in mode else None,
                    markersize=3, linewidth=1.4, **kw)
        else:
            sym = SYMBOLS.get(str(marker.get("symbol", "circle")), "o")
            face = "none" if str(marker.get("symbol", "")).endswith("-open") else kw["color"]
            ax.scatter(x, y, s=float(marker.get("size", 8)) ** 2 / 2, marker=sym, facecolors=face,
                       edgecolors=kw["color"], label=kw["label"])
    for t in (t for t in data if t.get("type") == "heatmap"):
        z = np.array([_num(row) for row in t.get("z") or []], dtype=float)
        if z.size == 0:
            continue
        im = ax.imshow(z, cmap="YlOrRd", aspect="auto")
        xs, ys = [str(v) for v in t.get("x") or []], [str(v) for v in t.get("y") or []]
        ax.set_xticks(range(len(xs)), xs)
        ax.set_yticks(range(len(ys)), ys)
        text = t.get("text")
        if text:
            for r, row in enumerate(text):
                for c, cell in enumerate(row):
                    ax.text(c, r, str(cell), ha="center", va="center", fontsize=6)
        ax.figure.colorbar(im, ax=ax, fraction=0.04)
        if (layout.get("yaxis") or {}).get("autorange") == "reversed":
            ax.invert_yaxis()  # imshow already puts row 0 at the top; undo the later inversion
