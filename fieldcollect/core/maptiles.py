"""The map tile provider of the pages' Leaflet maps (``MAP_TILES`` in the settings, read from the
environment: ``MAP_TILES_URL``, ``MAP_TILES_ATTRIBUTION``, ``MAP_TILES_SYSTEM``, ``MAP_TILES_SUBDOMAINS``,
``MAP_TILES_MAX_ZOOM``; see the README's settings table).

With no URL configured the pages draw their SVG maps only. The Content-Security-Policy's ``img-src``
is extended with exactly the hosts the URL template names (one per subdomain), nothing wider.
"""

from __future__ import annotations

from typing import Any, TypedDict
from urllib.parse import urlsplit

from django.conf import settings

TILE_SYSTEMS = ("wgs84", "gcj02")
"""The systems a tile provider may use: Web-Mercator tiles in WGS-84 (OpenStreetMap, Tianditu's ``_w``
layers in CGCS2000, which is WGS-84 to a few centimetres) or GCJ-02 (Amap, Tencent). Baidu's tiles use
their own projection and tile numbering, which Leaflet does not draw without a plug-in."""


class TileConfig(TypedDict):
    url: str
    attribution: str
    system: str
    subdomains: str
    maxZoom: int


def validate(raw: dict[str, Any]) -> TileConfig | None:
    """The tile provider described by ``raw`` (the ``MAP_TILES`` setting), or None when no URL is set.
    Raises ``ValueError`` naming the setting that is wrong."""
    url = str(raw.get("url") or "").strip()
    if not url:
        return None
    parts = urlsplit(url.replace("{s}", "a"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"MAP_TILES_URL must be an http(s) URL template, not {url!r}")
    for needed in ("{x}", "{y}", "{z}"):
        if needed not in url:
            raise ValueError(f"MAP_TILES_URL must contain {needed}")
    system = str(raw.get("system") or "wgs84").strip().lower()
    if system not in TILE_SYSTEMS:
        raise ValueError(f"MAP_TILES_SYSTEM must be one of {', '.join(TILE_SYSTEMS)}, not {system!r}")
    subdomains = str(raw.get("subdomains") or "").strip()
    if "{s}" in url and not subdomains:
        subdomains = "abc"
    try:
        max_zoom = int(raw.get("max_zoom") or 18)
    except (TypeError, ValueError):
        raise ValueError("MAP_TILES_MAX_ZOOM must be a whole number") from None
    return TileConfig(url=url, attribution=str(raw.get("attribution") or ""), system=system,
                      subdomains=subdomains, maxZoom=max_zoom)


def tile_config() -> TileConfig | None:
    """The configured tile provider (``settings.MAP_TILES``), or None."""
    return validate(getattr(settings, "MAP_TILES", None) or {})


def tile_origins(config: TileConfig | None) -> list[str]:
    """The origins the tiles are loaded from: ``scheme://host[:port]``, one per subdomain."""
    if config is None:
        return []
    url = config["url"]
    subs = list(config["subdomains"]) if "{s}" in url else [""]
    origins: list[str] = []
    for s in subs:
        parts = urlsplit(url.replace("{s}", s))
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in origins:
            origins.append(origin)
    return origins


def check_map_tiles(app_configs: Any, **kwargs: Any) -> list[Any]:
    """Django system check: a wrong ``MAP_TILES_*`` setting stops the server at start, with its name."""
    from django.core.checks import Error

    try:
        tile_config()
    except ValueError as exc:
        return [Error(str(exc), id="fieldcollect.E_MAP_TILES")]
    return []
