"""Coordinates in China: WGS-84 ↔ GCJ-02 ↔ BD-09, and links that open the navigation apps.

Phones report GPS positions in WGS-84, but the map apps of mainland China (Amap/Gaode, Tencent, Apple
Maps inside China) show and report positions in GCJ-02 ("Mars coordinates", an obfuscated datum
mandated by the state surveying bureau), and Baidu Maps in BD-09, a further offset of GCJ-02. In a
Chinese city the offsets are several hundred metres, more than the check-in geofence. fieldcollect
stores WGS-84 only; positions are converted at the edges (what a phone reports, what a map shows).

The algorithm is the published one (the formula circulated since 2011 and used by every open
implementation, e.g. ``eviltransform`` and ``coordtransform``): a forward transform WGS-84 → GCJ-02
and the Baidu offset GCJ-02 → BD-09. Neither has a closed-form inverse, so :func:`to_wgs84` inverts
them by fixed-point iteration to well below a centimetre (the one-step approximation that many copies
use is off by up to a few metres). Outside China (a bounding box, as the published algorithm does) no
offset is applied, so coordinates there are the same in every system.

Why not a PyPI package: ``coordtransform`` (maintained) inverts GCJ-02 in one approximate step;
``eviltransform``, ``coord-convert`` and ``prcoords`` are unmaintained since 2018–2019, and
``prcoords-typed`` needs Python 3.14. ``pyproj`` does not know GCJ-02. The code is short and is tested
against published reference points (``tests/test_coords.py``); the same algorithm is in
``fieldcollect/static/fieldcollect/coords.js`` for the browser, and a browser test checks that both agree.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote, urlencode


class System(StrEnum):
    """A coordinate system (datum) a position may be reported in."""

    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"


SYSTEMS: tuple[str, ...] = tuple(s.value for s in System)

# Krasovsky 1940 ellipsoid, as in the published GCJ-02 formula.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0

# The published algorithm's bounding box of China (degrees); outside it no offset is applied.
CHINA_LON = (73.66, 135.05)
CHINA_LAT = (3.86, 53.55)

_TOLERANCE_DEG = 1e-10  # ≈ 0.01 mm
_MAX_ITERATIONS = 50


def system_of(value: str | System) -> System:
    """The :class:`System` named ``value`` (case-insensitive; "wgs-84", "gcj-02", "bd-09" accepted).

    Raises ``ValueError`` for any other name."""
    if isinstance(value, System):
        return value
    name = str(value).strip().lower().replace("-", "").replace("_", "")
    try:
        return System(name)
    except ValueError:
        raise ValueError(f"unknown coordinate system {value!r}; expected one of {', '.join(SYSTEMS)}") from None


def in_china(lat: float, lon: float) -> bool:
    """Whether the published algorithm offsets this position (a bounding box, not the border)."""
    return CHINA_LON[0] < lon < CHINA_LON[1] and CHINA_LAT[0] < lat < CHINA_LAT[1]


def _delta(lat: float, lon: float) -> tuple[float, float]:
    """The GCJ-02 offset (dlat, dlon) in degrees at a WGS-84 position (inside China)."""
    x, y = lon - 105.0, lat - 35.0
    common = (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x)) + common
    dlat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    dlat += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x)) + common
    dlon += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    dlon += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    rad = lat / 180.0 * math.pi
    magic = 1.0 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = dlat * 180.0 / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlon = dlon * 180.0 / (_A / sqrt_magic * math.cos(rad) * math.pi)
    return dlat, dlon


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    if not in_china(lat, lon):
        return lat, lon
    dlat, dlon = _delta(lat, lon)
    return lat + dlat, lon + dlon


def gcj02_to_bd09(lat: float, lon: float) -> tuple[float, float]:
    z = math.hypot(lon, lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _X_PI)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


def _invert(forward: Callable[[float, float], tuple[float, float]], lat: float, lon: float) -> tuple[float, float]:
    """The point p with forward(p) == (lat, lon), by fixed-point iteration (the offsets vary slowly, so
    each step divides the error by a large factor; three or four steps reach the tolerance)."""
    guess_lat, guess_lon = lat, lon
    for _ in range(_MAX_ITERATIONS):
        f_lat, f_lon = forward(guess_lat, guess_lon)
        err_lat, err_lon = f_lat - lat, f_lon - lon
        guess_lat, guess_lon = guess_lat - err_lat, guess_lon - err_lon
        if abs(err_lat) < _TOLERANCE_DEG and abs(err_lon) < _TOLERANCE_DEG:
            break
    return guess_lat, guess_lon


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    if not in_china(lat, lon):
        return lat, lon
    return _invert(wgs84_to_gcj02, lat, lon)


def bd09_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    return _invert(gcj02_to_bd09, lat, lon)


def from_wgs84(lat: float, lon: float, system: str | System) -> tuple[float, float]:
    """The WGS-84 position (lat, lon) expressed in ``system``."""
    target = system_of(system)
    if target is System.WGS84:
        return lat, lon
    gcj = wgs84_to_gcj02(lat, lon)
    if target is System.GCJ02:
        return gcj
    if not in_china(lat, lon):
        return lat, lon
    return gcj02_to_bd09(*gcj)


def to_wgs84(lat: float, lon: float, system: str | System) -> tuple[float, float]:
    """The position (lat, lon) given in ``system``, in WGS-84."""
    source = system_of(system)
    if source is System.WGS84:
        return lat, lon
    if source is System.GCJ02:
        return gcj02_to_wgs84(lat, lon)
    if not in_china(lat, lon):
        return lat, lon
    return gcj02_to_wgs84(*bd09_to_gcj02(lat, lon))


def convert(lat: float, lon: float, source: str | System, target: str | System) -> tuple[float, float]:
    """The position (lat, lon) given in ``source``, expressed in ``target``."""
    return from_wgs84(*to_wgs84(lat, lon, source), target)


@dataclass(frozen=True)
class NavLinks:
    """Links that open a navigation app on a position, each in the system the app expects."""

    amap: str
    baidu: str
    apple: str

    def as_dict(self) -> dict[str, str]:
        return {"amap": self.amap, "baidu": self.baidu, "apple": self.apple}


NAV_SOURCE = "fieldcollect"
"""The caller name the Amap and Baidu URI APIs ask for (``src``)."""


def _q(params: dict[str, str]) -> str:
    return urlencode(params, quote_via=quote, safe=",")


def nav_urls(lat: float, lon: float, label: str = "") -> NavLinks:
    """Links that open Amap (GCJ-02), Baidu Maps (BD-09, declared with ``coord_type=bd09ll``) and Apple
    Maps (GCJ-02: Apple's map data in mainland China is GCJ-02) on the WGS-84 position (lat, lon),
    with ``label`` as the marker's name. On a phone with the app installed the web link opens it."""
    g_lat, g_lon = from_wgs84(lat, lon, System.GCJ02)
    b_lat, b_lon = from_wgs84(lat, lon, System.BD09)
    amap = "https://uri.amap.com/marker?" + _q({
        "position": f"{g_lon:.6f},{g_lat:.6f}", "name": label, "coordinate": "gaode", "callnative": "1",
        "src": NAV_SOURCE})
    baidu = "https://api.map.baidu.com/marker?" + _q({
        "location": f"{b_lat:.6f},{b_lon:.6f}", "title": label, "content": label, "coord_type": "bd09ll",
        "output": "html", "src": f"webapp.{NAV_SOURCE}"})
    apple = "https://maps.apple.com/?" + _q({"ll": f"{g_lat:.6f},{g_lon:.6f}", "q": label or f"{g_lat:.6f},{g_lon:.6f}"})
    return NavLinks(amap=amap, baidu=baidu, apple=apple)
