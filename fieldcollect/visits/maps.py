"""Maps of routes and points: an inline SVG without tiles (always drawn: it needs no connection, and a
map of stops does not need streets to be read; longitude is scaled by cos(latitude) so that distances
look right), and the same routes and points as JSON for the Leaflet map
(``static/fieldcollect/fieldmap.js``) drawn over it when a tile provider is configured
(:mod:`fieldcollect.core.maptiles`). Positions are WGS-84 here; the browser converts them to the tile
provider's system."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#1f6feb", "#d97706", "#059669", "#9333ea", "#dc2626", "#0891b2", "#4d7c0f", "#be185d")


@dataclass(frozen=True)
class MapPoint:
    lat: float
    lon: float
    label: str = ""
    css: str = "stop"
    title: str = ""
    href: str = ""


@dataclass(frozen=True)
class MapRoute:
    points: tuple[tuple[float, float], ...]  # (lat, lon)
    colour: str = PALETTE[0]
    title: str = ""


def svg_map(*, routes: Sequence[MapRoute], points: Sequence[MapPoint], width: int = 360, height: int = 300,
            pad: int = 18, element_id: str = "route-map") -> SafeString:
    """An SVG of ``routes`` (polylines) and ``points`` (numbered circles) fitted into the box."""
    lats = [p.lat for p in points] + [la for r in routes for la, _ in r.points]
    lons = [p.lon for p in points] + [lo for r in routes for _, lo in r.points]
    if not lats:
        return format_html('<svg id="{}" class="map" viewBox="0 0 {} {}" role="img"></svg>', element_id, width, height)
    kx = math.cos(math.radians(sum(lats) / len(lats)))
    x0, x1 = min(lons) * kx, max(lons) * kx
    y0, y1 = min(lats), max(lats)
    span = max(x1 - x0, y1 - y0, 1e-4)
    scale = min(width - 2 * pad, height - 2 * pad) / span
    ox = (width - (x1 - x0) * scale) / 2
    oy = (height - (y1 - y0) * scale) / 2

    def xy(lat: float, lon: float) -> tuple[float, float]:
        return round(ox + (lon * kx - x0) * scale, 1), round(height - (oy + (lat - y0) * scale), 1)

    lines = format_html_join(
        "", '<polyline class="route" points="{}" stroke="{}"><title>{}</title></polyline>',
        ((" ".join(f"{x},{y}" for x, y in (xy(la, lo) for la, lo in r.points)), r.colour, r.title) for r in routes),
    )
    dots = format_html_join(
        "", '<g class="{}"><circle cx="{}" cy="{}" r="9"><title>{}</title></circle>'
        '<text x="{}" y="{}" text-anchor="middle" dominant-baseline="central">{}</text></g>',
        ((p.css, *xy(p.lat, p.lon), p.title or p.label, *xy(p.lat, p.lon), p.label) for p in points),
    )
    return format_html(
        '<svg id="{}" class="map" viewBox="0 0 {} {}" width="100%" role="img" xmlns="http://www.w3.org/2000/svg">'
        '<rect width="100%" height="100%" class="bg"/>{}{}</svg>',
        element_id, width, height, mark_safe(lines), mark_safe(dots),  # noqa: S308 - built by format_html_join
    )


def map_data(*, routes: Sequence[MapRoute], points: Sequence[MapPoint]) -> dict[str, Any]:
    """``routes`` and ``points`` as the JSON that ``mountMap`` of ``fieldmap.js`` takes (WGS-84)."""
    return {
        "points": [{"lat": p.lat, "lon": p.lon, "label": p.label, "title": p.title or p.label, "css": p.css,
                    "href": p.href} for p in points],
        "routes": [{"points": [[la, lo] for la, lo in r.points], "colour": r.colour, "title": r.title}
                   for r in routes],
    }
